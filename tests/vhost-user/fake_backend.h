/* SPDX-License-Identifier: MIT */
/*
 * A scripted vhost-user backend on a thread of the test, for what real
 * backends never do: it answers the handshake like a well-behaved backend
 * (VERSION_1, protocol features with REPLY_ACK), then misbehaves on one
 * chosen request: fds with the reply, an oversized reply, garbage, or no
 * reply at all.
 */
#ifndef TESTS_VU_FAKE_BACKEND_H
#define TESTS_VU_FAKE_BACKEND_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vu_backends.h"

enum fake_fault {
	FAKE_FDS,      /* the reply carries an eventfd */
	FAKE_OVERSIZE, /* the reply claims 1 MiB of payload */
	FAKE_GARBAGE,  /* 64 random bytes instead of the reply */
	FAKE_HANG,     /* never answer */
	FAKE_RING_ERR, /* answer, then signal the fd of SET_VRING_ERR */
};

struct fake_backend {
	int lfd;
	enum fake_fault fault;
	uint32_t on_request; /* misbehave on this request */
	pthread_t thread;
	int hang_fd;        /* closed by fake_stop to end a hang */
	bool hit;           /* on_request arrived (atomic: the test reads it) */
	unsigned get_bases; /* GET_VRING_BASE requests answered */
};

struct fake_hdr {
	uint32_t request, flags, size;
};

static inline int fake_read(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = recv(fd, (char *)buf + done, len - done, 0);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Receive one message; its first fd goes to *keep (if not NULL, else
 * closed, as are any others). */
static inline int fake_recv(int fd, struct fake_hdr *h, uint8_t *payload,
			    int *keep)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = {h, sizeof *h};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof ctl};
	ssize_t n = recvmsg(fd, &mh, MSG_WAITALL);
	if (n != (ssize_t)sizeof *h)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		int *fds = (int *)CMSG_DATA(cm);
		for (size_t i = 0;
		     i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			if (keep && *keep < 0)
				*keep = fds[i];
			else
				close(fds[i]);
		}
	}
	if (h->size > 512)
		return -1;
	return fake_read(fd, payload, h->size);
}

static inline void fake_reply(int fd, uint32_t request, const void *p,
			      uint32_t size, int pass_fd)
{
	struct fake_hdr h = {request, 0x1 | 0x4, size};
	struct iovec iov[2] = {{&h, sizeof h}, {(void *)p, size}};
	char ctl[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	if (pass_fd >= 0) {
		memset(ctl, 0, sizeof ctl);
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof ctl;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) {
		/* The frontend hung up: the serve loop sees it next. */
	}
}

static inline void fake_misbehave(struct fake_backend *fb, int fd,
				  uint32_t request)
{
	uint64_t zero = 0;
	switch (fb->fault) {
	case FAKE_FDS: {
		int efd = eventfd(0, 0);
		fake_reply(fd, request, &zero, sizeof zero, efd);
		close(efd);
		break;
	}
	case FAKE_OVERSIZE: {
		struct fake_hdr h = {request, 0x5, 1u << 20};
		if (send(fd, &h, sizeof h, MSG_NOSIGNAL) < 0) {
		}
		break;
	}
	case FAKE_GARBAGE: {
		uint8_t junk[64];
		for (unsigned i = 0; i < sizeof junk; i++)
			junk[i] = (uint8_t)(i * 37 + 11);
		if (send(fd, junk, sizeof junk, MSG_NOSIGNAL) < 0) {
		}
		break;
	}
	case FAKE_HANG:
	case FAKE_RING_ERR:
		break;
	}
}

static inline void *fake_serve(void *arg)
{
	struct fake_backend *fb = arg;
	int fd = accept(fb->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	struct fake_hdr h;
	uint8_t payload[512];
	int keep = -1;
	while (fake_recv(fd, &h, payload, &keep) == 0) {
		if (keep >= 0 && !(fb->fault == FAKE_RING_ERR &&
				   h.request == fb->on_request)) {
			close(keep);
			keep = -1;
		}
		/* Release, paired with the test's acquire load of hit after
		 * it saw NEEDS_RESET: the socket and the daemon in between
		 * carry no ordering TSan can see. */
		if (h.request == fb->on_request &&
		    !__atomic_load_n(&fb->hit, __ATOMIC_RELAXED)) {
			__atomic_store_n(&fb->hit, true, __ATOMIC_RELEASE);
			if (fb->fault != FAKE_RING_ERR) {
				fake_misbehave(fb, fd, h.request);
				/* Wait for the frontend to drop us. */
				while (fake_recv(fd, &h, payload, NULL) == 0) {
				}
				break;
			}
			uint64_t one = 1;
			if (keep < 0 || write(keep, &one, sizeof one) < 0)
				break; /* the test sees no NEEDS_RESET */
		}
		uint64_t v = 0;
		if (h.request == 1) /* GET_FEATURES */
			v = (1ull << 32) | (1ull << 30);
		else if (h.request == 15) /* GET_PROTOCOL_FEATURES */
			v = 1ull << 3;    /* REPLY_ACK */
		else if (!(h.flags & 0x8) && h.request != 11)
			continue;    /* no reply wanted */
		if (h.request == 11) /* GET_VRING_BASE: {index, num} */
			__atomic_add_fetch(&fb->get_bases, 1, __ATOMIC_SEQ_CST);
		fake_reply(fd, h.request, &v, sizeof v, -1);
	}
	if (keep >= 0)
		close(keep);
	close(fd);
	return NULL;
}

static inline int fake_start(struct fake_backend *fb, const char *path,
			     enum fake_fault fault, uint32_t on_request)
{
	memset(fb, 0, sizeof *fb);
	fb->fault = fault;
	fb->on_request = on_request;
	fb->lfd = vut_listen(path);
	if (fb->lfd < 0)
		return -1;
	return pthread_create(&fb->thread, NULL, fake_serve, fb) ? -1 : 0;
}

/* After the daemon stopped (its socket is closed): join and clean up. */
static inline void fake_stop(struct fake_backend *fb)
{
	pthread_join(fb->thread, NULL);
	close(fb->lfd);
}

#endif
