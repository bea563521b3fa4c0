/* SPDX-License-Identifier: MIT */
/*
 * The mock port: the same operations as /dev/hvisor, spoken to the mock
 * hypervisor (sdk/mock) over a UNIX SOCK_SEQPACKET connection. Protocol in
 * interface/hvisor/mock_wire.h: one request, one reply of the same op, file
 * descriptors as SCM_RIGHTS. A reply is never trusted: wrong op, wrong
 * sizes, missing or extra fds or a short memfd give -EPROTO, not a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvisor/fd_passing.h"
#include "hvisor/mock_wire.h"
#include "port_impl.h"

#define MOCK_MAX_FDS 4 /* room to notice (and close) surplus fds */

struct mock_call {
	struct hvisor_mock_msg req;
	const void *payload; /* request payload (req.payload_len bytes) */
	int send_fd;         /* -1: none */
	struct hvisor_mock_msg rep;
	void *rep_payload; /* where reply payload goes */
	size_t rep_cap;
	int fds[MOCK_MAX_FDS];
	unsigned nfds;
};

static void close_fds(struct mock_call *c)
{
	for (unsigned i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
}

static int mock_send(struct port *port, struct mock_call *c)
{
	struct iovec iov[2] = {
		{.iov_base = &c->req, .iov_len = sizeof(c->req)},
		{.iov_base = (void *)c->payload, .iov_len = c->req.payload_len},
	};
	FDPASS_CONTROL(ctl, 1);
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	fdpass_attach(&mh, ctl.buf, sizeof ctl.buf, &c->send_fd,
		      c->send_fd >= 0);
	ssize_t n;
	do {
		n = sendmsg(port->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(c->req) + c->req.payload_len)
		return -EPROTO;
	return 0;
}

static int mock_recv(struct port *port, struct mock_call *c)
{
	struct iovec iov[2] = {
		{.iov_base = &c->rep, .iov_len = sizeof(c->rep)},
		{.iov_base = c->rep_payload, .iov_len = c->rep_cap},
	};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * MOCK_MAX_FDS)];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = {
		.msg_iov = iov,
		.msg_iovlen = c->rep_cap ? 2 : 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;
	do {
		n = recvmsg(port->fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET; /* the mock went away */
	c->nfds = fdpass_take(&mh, c->fds, MOCK_MAX_FDS);
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)n < sizeof(c->rep) || c->rep.op != c->req.op ||
	    c->rep.payload_len != (size_t)n - sizeof(c->rep)) {
		close_fds(c);
		return -EPROTO;
	}
	return 0;
}

/* One round trip. On success returns rep.result (0/-errno, or a count),
 * with the reply's fds in c->fds; on failure closes any fds received. */
static int mock_call(struct port *port, struct mock_call *c)
{
	c->nfds = 0;
	pthread_mutex_lock(&port->lock);
	int rc = mock_send(port, c);
	if (rc == 0)
		rc = mock_recv(port, c);
	pthread_mutex_unlock(&port->lock);
	if (rc < 0)
		return rc;
	if (c->rep.result < 0 && c->rep.result >= -4095) {
		close_fds(c);
		return c->rep.result;
	}
	if (c->rep.result < 0) {
		close_fds(c);
		return -EPROTO;
	}
	return c->rep.result;
}

static void call_init(struct mock_call *c, uint32_t op)
{
	memset(c, 0, sizeof(*c));
	c->req.op = op;
	c->send_fd = -1;
}

/* The reply must carry exactly `want` fds. */
static int expect_fds(struct mock_call *c, unsigned want)
{
	if (c->nfds != want) {
		close_fds(c);
		return -EPROTO;
	}
	return 0;
}

/* A memfd must really hold [off, off + len): touching a mapping beyond
 * the end of the file would raise SIGBUS in the daemon. */
static int check_file_range(int fd, uint64_t off, uint64_t len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || off + len < off ||
	    off + len > (uint64_t)st.st_size)
		return -EPROTO;
	return 0;
}

static int mock_init_virtio(struct port *port, struct hvisor_bridge **bridge)
{
	struct mock_call c;
	call_init(&c, HVISOR_MOCK_INIT_VIRTIO);
	int rc = mock_call(port, &c);
	if (rc < 0)
		return rc;
	if ((rc = expect_fds(&c, 2)) < 0)
		return rc;
	size_t len = 4096;
	rc = check_file_range(c.fds[0], 0, len);
	if (rc < 0) {
		close_fds(&c);
		return rc;
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, c.fds[0],
		       0);
	if (p == MAP_FAILED) {
		rc = -errno;
		close_fds(&c);
		return rc;
	}
	close(c.fds[0]);
	if (port->finish_efd >= 0)
		close(port->finish_efd);
	port->finish_efd = c.fds[1];
	port->bridge = p;
	port->bridge_len = len;
	*bridge = p;
	return 0;
}

static int mock_set_eventfd(struct port *port, int efd)
{
	struct mock_call c;
	call_init(&c, HVISOR_MOCK_SET_EVENTFD);
	c.send_fd = efd;
	int rc = mock_call(port, &c);
	close_fds(&c);
	return rc < 0 ? rc : 0;
}

static void *mock_map_guest(struct port *port, uint64_t zone0_ipa,
			    uint64_t size)
{
	struct mock_call c;
	call_init(&c, HVISOR_MOCK_MAP);
	c.req.arg0 = zone0_ipa;
	c.req.arg1 = size;
	int rc = mock_call(port, &c);
	if (rc >= 0)
		rc = expect_fds(&c, 1);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	int fd = c.fds[0];
	uint64_t off = c.rep.arg0;
	uint64_t pg = port_page_size();
	uint64_t delta = off & (pg - 1);
	void *base = MAP_FAILED;
	rc = check_file_range(fd, off, size);
	if (rc == 0 && off - delta > (uint64_t)INT64_MAX)
		rc = -EPROTO;
	if (rc == 0) {
		base = mmap(NULL, (size_t)(size + delta),
			    PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    (off_t)(off - delta));
		if (base == MAP_FAILED)
			rc = -errno;
	}
	if (rc == 0) {
		/* The record keeps the memfd: vhost-user backends map it. */
		void *hva = (uint8_t *)base + delta;
		rc = port_map_record(port, hva, base, (size_t)(size + delta),
				     fd, off);
		if (rc == 0)
			return hva;
		munmap(base, (size_t)(size + delta));
	}
	close(fd);
	errno = -rc;
	return NULL;
}

static int mock_finish_req(struct port *port)
{
	int efd = port->finish_efd;
	if (efd < 0)
		return -ENOTCONN; /* INIT_VIRTIO has not happened */
	uint64_t one = 1;
	ssize_t n;
	do {
		n = write(efd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(one) ? 0 : -EIO;
}

/* One request with two arguments and a u64 in the reply's arg0. */
static int mock_simple(struct port *port, uint32_t op, uint64_t a0, uint64_t a1,
		       uint64_t *out)
{
	struct mock_call c;
	call_init(&c, op);
	c.req.arg0 = a0;
	c.req.arg1 = a1;
	int rc = mock_call(port, &c);
	close_fds(&c);
	if (rc < 0)
		return rc;
	if (out)
		*out = c.rep.arg0;
	return 0;
}

static int mock_config_check(struct port *port, uint64_t *version)
{
	return mock_simple(port, HVISOR_MOCK_CONFIG_CHECK, 0, 0, version);
}

static int mock_zone_start(struct port *port, const void *cfg, size_t len)
{
	if (len > HVISOR_MOCK_MAX_PAYLOAD)
		return -E2BIG;
	struct mock_call c;
	call_init(&c, HVISOR_MOCK_ZONE_START);
	c.req.payload_len = (uint32_t)len;
	c.payload = cfg;
	int rc = mock_call(port, &c);
	close_fds(&c);
	return rc < 0 ? rc : 0;
}

static int mock_zone_shutdown(struct port *port, uint64_t zone_id)
{
	return mock_simple(port, HVISOR_MOCK_ZONE_SHUTDOWN, zone_id, 0, NULL);
}

static int mock_zone_list(struct port *port, struct port_zone_info *out,
			  uint64_t cnt)
{
	struct mock_call c;
	call_init(&c, HVISOR_MOCK_ZONE_LIST);
	c.req.arg0 = cnt;
	c.rep_payload = out;
	c.rep_cap = cnt * sizeof(*out);
	int rc = mock_call(port, &c);
	close_fds(&c);
	if (rc < 0)
		return rc;
	if ((uint64_t)rc > cnt ||
	    c.rep.payload_len != (uint64_t)rc * sizeof(*out))
		return -EPROTO;
	return rc;
}

static int mock_load_image(struct port *port, const void *image, uint64_t size,
			   uint64_t load_paddr)
{
	const uint8_t *p = image;
	uint64_t done = 0;
	do { /* a zero-sized image is still one message */
		uint64_t chunk = size - done;
		if (chunk > HVISOR_MOCK_MAX_PAYLOAD)
			chunk = HVISOR_MOCK_MAX_PAYLOAD;
		struct mock_call c;
		call_init(&c, HVISOR_MOCK_LOAD_IMAGE);
		c.req.arg0 = load_paddr + done;
		c.req.arg1 = size;
		c.req.payload_len = (uint32_t)chunk;
		c.payload = p ? p + done : NULL;
		int rc = mock_call(port, &c);
		close_fds(&c);
		if (rc < 0)
			return rc;
		done += chunk;
	} while (done < size);
	return 0;
}

static int mock_get_ecam_base(struct port *port, uint64_t *base)
{
	return mock_simple(port, HVISOR_MOCK_GET_ECAM_BASE, 0, 0, base);
}

static int mock_set_boot_mode(struct port *port,
			      const struct hvisor_boot_mode *mode)
{
	struct mock_call c;
	call_init(&c, HVISOR_MOCK_SET_BOOT_MODE);
	c.req.payload_len = sizeof(*mode);
	c.payload = mode;
	int rc = mock_call(port, &c);
	close_fds(&c);
	return rc < 0 ? rc : 0;
}

static int mock_irq_model(struct port *port, enum port_irq_model *model)
{
	uint64_t v = 0;
	int rc = mock_simple(port, HVISOR_MOCK_IRQ_MODEL, 0, 0, &v);
	if (rc < 0)
		return rc;
	if (v > PORT_IRQ_LOONGARCH_LINE)
		return -EPROTO;
	*model = (enum port_irq_model)v;
	return 0;
}

static int mock_clear_inject_irq(struct port *port)
{
	return mock_simple(port, HVISOR_MOCK_CLEAR_INJECT_IRQ, 0, 0, NULL);
}

static int mock_deassert_irq(struct port *port, uint32_t zone, uint32_t irq)
{
	return mock_simple(port, HVISOR_MOCK_DEASSERT_IRQ, zone, irq, NULL);
}

static int mock_scmi(struct port *port, unsigned which, void *arg, uint32_t len)
{
	struct mock_call c;
	call_init(&c, HVISOR_MOCK_SCMI);
	c.req.arg0 = which;
	c.req.payload_len = len;
	c.payload = arg;
	c.rep_payload = arg;
	c.rep_cap = len;
	int rc = mock_call(port, &c);
	close_fds(&c);
	if (rc < 0)
		return rc;
	return c.rep.payload_len == len ? 0 : -EPROTO;
}

static const struct port_ops mock_ops = {
	.close = NULL,
	.init_virtio = mock_init_virtio,
	.set_eventfd = mock_set_eventfd,
	.map_guest = mock_map_guest,
	.finish_req = mock_finish_req,
	.config_check = mock_config_check,
	.zone_start = mock_zone_start,
	.zone_shutdown = mock_zone_shutdown,
	.zone_list = mock_zone_list,
	.load_image = mock_load_image,
	.get_ecam_base = mock_get_ecam_base,
	.set_boot_mode = mock_set_boot_mode,
	.irq_model = mock_irq_model,
	.clear_inject_irq = mock_clear_inject_irq,
	.deassert_irq = mock_deassert_irq,
	.scmi = mock_scmi,
};

struct port *port_open_mock_fd(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);
	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET) {
		int e = errno == ENOTSOCK || type != SOCK_SEQPACKET ? EINVAL
								    : errno;
		close(fd);
		errno = e;
		return NULL;
	}
	struct port *port = port_alloc(&mock_ops, PORT_KIND_MOCK, fd);
	if (!port) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	snprintf(port->desc, sizeof(port->desc), "mock hypervisor (fd %d)", fd);
	return port;
}

struct port *port_open_mock(const char *socket_path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!socket_path || !*socket_path) {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	int rc;
	do {
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	struct port *port = port_open_mock_fd(fd);
	if (port)
		snprintf(port->desc, sizeof(port->desc),
			 "mock hypervisor at %.100s", socket_path);
	return port;
}
