/* SPDX-License-Identifier: MIT */
/*
 * File descriptors over UNIX sockets (SCM_RIGHTS), as the mock wire
 * protocol and QEMU's proxy and ivshmem protocols pass them. One copy for
 * the daemon's mock port, the mock hypervisor and the real-guest rig.
 */
#ifndef HVISOR_FD_PASSING_H
#define HVISOR_FD_PASSING_H

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Control buffer big enough for `n` descriptors, suitably aligned. */
#define FDPASS_CONTROL(name, n)                          \
	union {                                          \
		struct cmsghdr align;                    \
		char buf[CMSG_SPACE(sizeof(int) * (n))]; \
	} name

/* Attach fds[0..n) to mh using the control buffer ctl (of ctl_size bytes,
 * at least CMSG_SPACE(n * sizeof(int))). n == 0 attaches nothing. */
static inline void fdpass_attach(struct msghdr *mh, void *ctl, size_t ctl_size,
				 const int *fds, unsigned n)
{
	if (n == 0)
		return;
	memset(ctl, 0, ctl_size);
	mh->msg_control = ctl;
	mh->msg_controllen = CMSG_SPACE(sizeof(int) * n);
	struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
}

/* The descriptors a received message carried: up to `max` go to fds
 * (their count is returned), any beyond are closed so that none leaks. */
static inline unsigned fdpass_take(struct msghdr *mh, int *fds, unsigned max)
{
	unsigned n = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
	     cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

#endif
