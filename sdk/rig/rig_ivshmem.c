/* SPDX-License-Identifier: MIT */
/*
 * Interrupts into a TCG guest. The proxy's INTx eventfds are only wired
 * with KVM, so the rig is the server of an ivshmem-doorbell device instead:
 * QEMU connects, we hand it its peer id, a small shared-memory file and one
 * eventfd as the interrupt input of its MSI-X vector 0. Writing that
 * eventfd raises the vector; the guest module routes it to every
 * virtio-mmio device (they share the irq, like devices on one hvisor line).
 *
 * Server messages (QEMU docs/specs/ivshmem-spec): each a plain int64 in its
 * own sendmsg, optionally with one fd: the protocol version (0), the
 * client's id, -1 with the shared memory, then "peer id + eventfd" per
 * vector of that peer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvisor/fd_passing.h"
#include "rig.h"

#define IVSHMEM_PROTOCOL_VERSION 0
#define IVSHMEM_GUEST_ID         1
#define IVSHMEM_SHM_SIZE         (1u << 20) /* unused by the rig; a power of 2 */

struct rig_ivshmem {
	int listen_fd, conn_fd, shm_fd, doorbell_fd, stop_fd;
	pthread_t thread;
	bool connected; /* atomic */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int send_int64(int fd, int64_t value, int attach)
{
	struct iovec iov = {.iov_base = &value, .iov_len = sizeof(value)};
	FDPASS_CONTROL(ctl, 1);
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	fdpass_attach(&mh, ctl.buf, sizeof ctl.buf, &attach, attach >= 0);
	ssize_t n;
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(value) ? 0 : -1;
}

static int greet(struct rig_ivshmem *s, int c)
{
	if (send_int64(c, IVSHMEM_PROTOCOL_VERSION, -1) ||
	    send_int64(c, IVSHMEM_GUEST_ID, -1) ||
	    send_int64(c, -1, s->shm_fd) ||
	    send_int64(c, IVSHMEM_GUEST_ID, s->doorbell_fd)) {
		perror("hvisor-rig: ivshmem setup");
		return -1;
	}
	return 0;
}

/* Accepts QEMU, greets it, then holds the connection open (QEMU treats a
 * closed server as a departed peer) until QEMU leaves or we stop. */
static void *ivshmem_main(void *arg)
{
	struct rig_ivshmem *s = arg;
	for (;;) {
		struct pollfd pfd[2] = {
			{.fd = s->stop_fd, .events = POLLIN},
			{.fd = s->conn_fd >= 0 ? s->conn_fd : s->listen_fd,
			 .events = POLLIN},
		};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("hvisor-rig: ivshmem poll");
			break;
		}
		if (pfd[0].revents)
			break;
		if (!pfd[1].revents)
			continue;
		if (s->conn_fd < 0) {
			int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			/* Marked before the greeting: QEMU goes on (and may
			 * share RAM) as soon as it has read it. */
			__atomic_store_n(&s->connected, true, __ATOMIC_RELEASE);
			if (greet(s, c) < 0) {
				__atomic_store_n(&s->connected, false,
						 __ATOMIC_RELEASE);
				close(c);
				continue;
			}
			s->conn_fd = c;
			continue;
		}
		/* QEMU never sends anything: readable means it hung up. */
		char b;
		if (read(s->conn_fd, &b, 1) <= 0) {
			close(s->conn_fd);
			s->conn_fd = -1;
			__atomic_store_n(&s->connected, false,
					 __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

struct rig_ivshmem *rig_ivshmem_start(const char *path)
{
	struct rig_ivshmem *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->conn_fd = -1;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	s->shm_fd = memfd_create("hvisor-rig-ivshmem", MFD_CLOEXEC);
	s->doorbell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	bool ok = s->listen_fd >= 0 && s->shm_fd >= 0 && s->doorbell_fd >= 0 &&
		  s->stop_fd >= 0 && strlen(path) < sizeof(sa.sun_path) &&
		  ftruncate(s->shm_fd, IVSHMEM_SHM_SIZE) == 0;
	if (ok) {
		snprintf(s->path, sizeof(s->path), "%s", path);
		memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
		ok = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ==
			     0 &&
		     listen(s->listen_fd, 1) == 0 &&
		     pthread_create(&s->thread, NULL, ivshmem_main, s) == 0;
	}
	if (!ok) {
		perror("hvisor-rig: ivshmem server");
		int fds[] = {s->listen_fd, s->shm_fd, s->doorbell_fd,
			     s->stop_fd};
		for (unsigned i = 0; i < 4; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		if (s->path[0])
			unlink(s->path);
		free(s);
		return NULL;
	}
	return s;
}

void rig_ivshmem_ring(struct rig_ivshmem *s)
{
	uint64_t one = 1;
	/* Non-blocking; an eventfd only refuses at a count near 2^64. */
	if (write(s->doorbell_fd, &one, sizeof(one)) != sizeof(one))
		perror("hvisor-rig: doorbell");
}

bool rig_ivshmem_connected(struct rig_ivshmem *s)
{
	return __atomic_load_n(&s->connected, __ATOMIC_ACQUIRE);
}

void rig_ivshmem_stop(struct rig_ivshmem *s)
{
	if (!s)
		return;
	uint64_t one = 1;
	if (write(s->stop_fd, &one, sizeof(one)) < 0)
		perror("hvisor-rig: ivshmem stop");
	pthread_join(s->thread, NULL);
	int fds[] = {s->listen_fd, s->conn_fd, s->shm_fd, s->doorbell_fd,
		     s->stop_fd};
	for (unsigned i = 0; i < 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	unlink(s->path);
	free(s);
}
