/* SPDX-License-Identifier: MIT */
/*
 * The mock's stand-in for /dev/hvisor: a UNIX SOCK_SEQPACKET server thread
 * answering the daemon's port (interface/hvisor/mock_wire.h). Every message
 * gets exactly one reply; a malformed one gets -EPROTO, never a crash.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hvisor/fd_passing.h"
#include "mock_internal.h"

#define MAX_RX_FDS 4
/* ---- Socket setup -------------------------------------------------------- */

int mock_server_start(struct hvd_mock *m)
{
	const char *tmp = getenv("TMPDIR");
	/* room for "/hvd-mock-XXXXXX/hvisor.sock" in sun_path */
	if (!tmp || !*tmp || strlen(tmp) > sizeof(m->sock_path) - 32)
		tmp = "/tmp";
	snprintf(m->dir, sizeof(m->dir), "%s/hvd-mock-XXXXXX", tmp);
	if (!mkdtemp(m->dir)) {
		m->dir[0] = '\0';
		return -errno;
	}
	static const char name[] = "/hvisor.sock";
	size_t dlen = strlen(m->dir);
	if (dlen + sizeof(name) > sizeof(m->sock_path))
		return -ENAMETOOLONG;
	memcpy(m->sock_path, m->dir, dlen);
	memcpy(m->sock_path + dlen, name, sizeof(name));
	m->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (m->listen_fd < 0)
		return -errno;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, m->sock_path, strlen(m->sock_path) + 1);
	if (bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(m->listen_fd, 8) < 0)
		return -errno;
	return 0;
}

void mock_server_close(struct hvd_mock *m)
{
	for (unsigned i = 0; i < m->conn_count; i++)
		close(m->conns[i]);
	m->conn_count = 0;
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	m->listen_fd = -1;
	if (m->sock_path[0])
		unlink(m->sock_path);
	if (m->dir[0])
		rmdir(m->dir);
}

static int add_conn(struct hvd_mock *m, int fd)
{
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	if (m->conn_count < MOCK_MAX_CONNS)
		m->conns[m->conn_count++] = fd;
	else
		rc = -EMFILE;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static void drop_conn(struct hvd_mock *m, int fd)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->conn_count; i++) {
		if (m->conns[i] == fd) {
			m->conns[i] = m->conns[--m->conn_count];
			mock_scmi_forget_locked(m, fd); /* before fd reuse */
			close(fd);
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

HVD_API int hvd_mock_connect_fd(struct hvd_mock *m)
{
	if (!m)
		return -EINVAL;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	int rc = add_conn(m, sv[0]);
	if (rc < 0) {
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	uint64_t one = 1;
	if (write(m->kick_efd, &one, sizeof(one)) < 0)
		perror("hvd_mock_connect_fd: kick");
	return sv[1];
}

/* ---- Requests ------------------------------------------------------------ */

struct reply {
	struct hvisor_mock_msg msg;
	const void *payload;
	int fds[2];
	unsigned nfds;
	int close_fd;                  /* closed after sending, or -1 */
	_Alignas(8) uint8_t scmi[128]; /* SCMI: the argument struct back */
};

static void do_init_virtio(struct hvd_mock *m, struct reply *rep)
{
	int fd = mock_memfd("hvd-mock-bridge", MOCK_BRIDGE_SIZE);
	if (fd < 0) {
		rep->msg.result = fd;
		return;
	}
	void *p = MAP_FAILED;
	struct mock_bridge *node = calloc(1, sizeof(*node));
	if (node)
		p = mmap(NULL, MOCK_BRIDGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rep->msg.result = node ? -errno : -ENOMEM;
		free(node);
		close(fd);
		return;
	}
	/* A new page per INIT_VIRTIO, like the kernel module; older pages
	 * stay mapped (a vCPU may still spin on one) until hvd_mock_free. */
	node->page = p;
	pthread_mutex_lock(&m->ring_lock);
	pthread_mutex_lock(&m->lock);
	node->next = m->bridges;
	m->bridges = node;
	/* Atomic: owned_bridge (mock_irq.c) reads it without the lock. */
	__atomic_store_n(&m->bridge, p, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_unlock(&m->ring_lock);
	rep->fds[0] = fd;
	rep->fds[1] = m->finish_efd;
	rep->nfds = 2;
	rep->close_fd = fd;
}

static void do_set_eventfd(struct hvd_mock *m, struct reply *rep, int *fds,
			   unsigned nfds)
{
	if (nfds != 1) {
		rep->msg.result = -EBADF;
		return;
	}
	int efd = fds[0];
	fds[0] = -1; /* kept */
	pthread_mutex_lock(&m->ring_lock);
	int old = m->wake_efd;
	m->wake_efd = efd;
	pthread_mutex_lock(&m->lock);
	m->eventfd_set = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_unlock(&m->ring_lock);
	if (old >= 0)
		close(old);
}

static void do_map(struct hvd_mock *m, const struct hvisor_mock_msg *req,
		   struct reply *rep)
{
	pthread_mutex_lock(&m->lock);
	const struct mock_ram *r = mock_ram_by_zone0(m, req->arg0, req->arg1);
	if (r) {
		/* RAM regions live until hvd_mock_free, which joins this
		 * thread first: the memfd stays valid after unlocking. */
		rep->fds[0] = r->memfd;
		rep->nfds = 1;
		rep->msg.arg0 = r->fd_offset + (req->arg0 - r->zone0_ipa);
	} else {
		rep->msg.result = -EPERM;
	}
	pthread_mutex_unlock(&m->lock);
}

/* Images land in mock RAM when the address is one of ours; anything else
 * is accepted and dropped (the mock has no other physical memory). */
static void do_load_image(struct hvd_mock *m, uint64_t paddr,
			  const uint8_t *data, uint32_t len)
{
	if (len == 0)
		return;
	pthread_mutex_lock(&m->lock);
	const struct mock_ram *r = mock_ram_by_zone0(m, paddr, len);
	if (r)
		memcpy(r->hva + (paddr - r->zone0_ipa), data, len);
	pthread_mutex_unlock(&m->lock);
}

/* The requests that only read one value of the mock's state. */
static uint64_t mock_query(struct hvd_mock *m, uint32_t op)
{
	pthread_mutex_lock(&m->lock);
	uint64_t v = op == HVISOR_MOCK_CONFIG_CHECK ? m->config_version
		     : op == HVISOR_MOCK_IRQ_MODEL  ? (uint64_t)m->irq_model
						    : m->ecam_base;
	pthread_mutex_unlock(&m->lock);
	return v;
}

/* One request of connection `conn` (its fd). */
static void dispatch(struct hvd_mock *m, int conn,
		     const struct hvisor_mock_msg *req, const uint8_t *payload,
		     int *fds, unsigned nfds, struct reply *rep,
		     struct mock_zone_info *zbuf)
{
	int rc = 0;
	switch (req->op) {
	case HVISOR_MOCK_INIT_VIRTIO:
		do_init_virtio(m, rep);
		return;
	case HVISOR_MOCK_SET_EVENTFD:
		do_set_eventfd(m, rep, fds, nfds);
		return;
	case HVISOR_MOCK_MAP:
		do_map(m, req, rep);
		return;
	case HVISOR_MOCK_CONFIG_CHECK:
	case HVISOR_MOCK_IRQ_MODEL:
	case HVISOR_MOCK_GET_ECAM_BASE:
		rep->msg.arg0 = mock_query(m, req->op);
		break;
	case HVISOR_MOCK_ZONE_START:
		rc = mock_zone_start(m, payload, req->payload_len);
		break;
	case HVISOR_MOCK_ZONE_SHUTDOWN:
		rc = mock_zone_shutdown(m, req->arg0);
		break;
	case HVISOR_MOCK_ZONE_LIST:
		rc = mock_zone_list(m, req->arg0, zbuf);
		rep->payload = zbuf;
		rep->msg.payload_len = (uint32_t)rc * sizeof(*zbuf);
		break;
	case HVISOR_MOCK_LOAD_IMAGE:
		do_load_image(m, req->arg0, payload, req->payload_len);
		break;
	case HVISOR_MOCK_CLEAR_INJECT_IRQ:
		rc = mock_clear_inject_irq(m);
		break;
	case HVISOR_MOCK_DEASSERT_IRQ:
		rc = mock_deassert_irq(m, req->arg0, req->arg1);
		break;
	case HVISOR_MOCK_SET_BOOT_MODE:
		rc = mock_set_boot_mode(m, payload, req->payload_len);
		break;
	case HVISOR_MOCK_SCMI:
		if (req->payload_len > sizeof rep->scmi) {
			rc = -EINVAL;
			break;
		}
		memcpy(rep->scmi, payload, req->payload_len);
		rc = mock_scmi_request(m, conn, req->arg0, rep->scmi,
				       req->payload_len);
		rep->payload = rep->scmi;
		rep->msg.payload_len = req->payload_len;
		break;
	default:
		rc = -EOPNOTSUPP;
		break;
	}
	rep->msg.result = rc;
}

static int send_reply(int fd, struct reply *rep)
{
	struct iovec iov[2] = {
		{.iov_base = &rep->msg, .iov_len = sizeof(rep->msg)},
		{.iov_base = (void *)rep->payload,
		 .iov_len = rep->msg.payload_len},
	};
	FDPASS_CONTROL(ctl, 2);
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	fdpass_attach(&mh, ctl.buf, sizeof ctl.buf, rep->fds, rep->nfds);
	ssize_t n;
	do {
		/* A peer that does not read its replies is dropped rather
		 * than allowed to block the server. */
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/* Reads and answers one message. Returns -1 when the connection is done. */
static int serve_one(struct hvd_mock *m, int fd, uint8_t *buf)
{
	struct hvisor_mock_msg req = {0};
	struct iovec iov = {
		.iov_base = buf,
		.iov_len = sizeof(req) + HVISOR_MOCK_MAX_PAYLOAD,
	};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * MAX_RX_FDS)];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	int fds[MAX_RX_FDS];
	unsigned nfds = fdpass_take(&mh, fds, MAX_RX_FDS);
	memcpy(&req, buf, (size_t)n < sizeof(req) ? (size_t)n : sizeof(req));
	struct mock_zone_info zbuf[MOCK_MAX_ZONES];
	struct reply rep = {.msg = {.op = req.op}, .close_fd = -1};
	if ((size_t)n < sizeof(req) ||
	    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    req.payload_len != (size_t)n - sizeof(req))
		rep.msg.result = -EPROTO;
	else
		dispatch(m, fd, &req, buf + sizeof(req), fds, nfds, &rep, zbuf);
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	int rc = send_reply(fd, &rep);
	if (rep.close_fd >= 0)
		close(rep.close_fd);
	return rc < 0 ? -1 : 0;
}

void *mock_server_main(void *arg)
{
	struct hvd_mock *m = arg;
	uint8_t *buf = malloc(sizeof(struct hvisor_mock_msg) +
			      HVISOR_MOCK_MAX_PAYLOAD);
	if (!buf) {
		perror("hvd_mock: server buffer");
		return NULL;
	}
	for (;;) {
		struct pollfd pfd[3 + MOCK_MAX_CONNS];
		unsigned n = 0;
		pfd[n++] = (struct pollfd){.fd = m->stop_efd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = m->kick_efd, .events = POLLIN};
		pfd[n++] =
			(struct pollfd){.fd = m->listen_fd, .events = POLLIN};
		pthread_mutex_lock(&m->lock);
		for (unsigned i = 0; i < m->conn_count; i++)
			pfd[n++] = (struct pollfd){.fd = m->conns[i],
						   .events = POLLIN};
		pthread_mutex_unlock(&m->lock);
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("hvd_mock: server poll");
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN) {
			uint64_t v;
			if (read(m->kick_efd, &v, sizeof(v)) < 0 &&
			    errno != EAGAIN)
				perror("hvd_mock: kick");
		}
		if (pfd[2].revents & POLLIN) {
			int c = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0 && add_conn(m, c) < 0) {
				fprintf(stderr, "hvd_mock: too many daemon "
						"connections, refusing one\n");
				close(c);
			}
		}
		for (unsigned i = 3; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			bool done = false;
			if (pfd[i].revents & POLLIN)
				done = serve_one(m, pfd[i].fd, buf) < 0;
			else if (pfd[i].revents &
				 (POLLHUP | POLLERR | POLLNVAL))
				done = true;
			if (done)
				drop_conn(m, pfd[i].fd);
		}
	}
	free(buf);
	return NULL;
}
