/* SPDX-License-Identifier: MIT */
/*
 * vhost-user connection I/O. The socket has SO_SNDTIMEO/SO_RCVTIMEO set,
 * so no call here waits longer than timeout_ms per system call, and a dead
 * backend (closed socket) fails the next call at once.
 */
#include "vu_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Room to receive (and close) fds the backend should not have sent. */
#define VU_MAX_FDS_IN 8

const char *vu_request_name(uint32_t request)
{
	switch (request) {
	case VU_GET_FEATURES:
		return "GET_FEATURES";
	case VU_SET_FEATURES:
		return "SET_FEATURES";
	case VU_SET_OWNER:
		return "SET_OWNER";
	case VU_SET_MEM_TABLE:
		return "SET_MEM_TABLE";
	case VU_SET_VRING_NUM:
		return "SET_VRING_NUM";
	case VU_SET_VRING_ADDR:
		return "SET_VRING_ADDR";
	case VU_SET_VRING_BASE:
		return "SET_VRING_BASE";
	case VU_GET_VRING_BASE:
		return "GET_VRING_BASE";
	case VU_SET_VRING_KICK:
		return "SET_VRING_KICK";
	case VU_SET_VRING_CALL:
		return "SET_VRING_CALL";
	case VU_SET_VRING_ERR:
		return "SET_VRING_ERR";
	case VU_GET_PROTOCOL_FEATURES:
		return "GET_PROTOCOL_FEATURES";
	case VU_SET_PROTOCOL_FEATURES:
		return "SET_PROTOCOL_FEATURES";
	case VU_GET_QUEUE_NUM:
		return "GET_QUEUE_NUM";
	case VU_SET_VRING_ENABLE:
		return "SET_VRING_ENABLE";
	case VU_GET_CONFIG:
		return "GET_CONFIG";
	case VU_SET_CONFIG:
		return "SET_CONFIG";
	case VU_RESET_DEVICE:
		return "RESET_DEVICE";
	default:
		return "unknown request";
	}
}

static void vlog(struct vu_conn *c, enum hvd_log_level level, const char *what,
		 uint32_t request, const char *detail)
{
	hvd_host(c->dev)->log(c->dev, level, "vhost-user %s: %s %s (%u): %s",
			      c->path, what, vu_request_name(request), request,
			      detail);
}

int vu_connect(struct vu_conn *c, enum hvd_log_level level)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(c->path) >= sizeof sa.sun_path) {
		hvd_host(c->dev)->log(c->dev, HVD_LOG_ERROR,
				      "socket: path too long: %s", c->path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, c->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = {.tv_sec = c->timeout_ms / 1000,
			     .tv_usec = (c->timeout_ms % 1000) * 1000};
	int err = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		err = errno;
	if (err) {
		close(fd);
		hvd_host(c->dev)->log(c->dev, level, "socket: %s: %s", c->path,
				      strerror(err));
		return -err;
	}
	c->fd = fd;
	c->protocol = 0;
	return 0;
}

void vu_disconnect(struct vu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->protocol = 0;
}

static int io_errno(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK ? -ETIMEDOUT : -err;
}

static int send_msg(struct vu_conn *c, uint32_t request, uint32_t flags,
		    const void *payload, uint32_t size, const int *fds,
		    unsigned nfds)
{
	struct vu_hdr hdr = {
		.request = request, .flags = VU_VERSION | flags, .size = size};
	struct iovec iov[2] = {{&hdr, sizeof hdr}, {(void *)payload, size}};
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = size ? 2 : 1};
	if (nfds) {
		memset(&ctl, 0, sizeof ctl);
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	size_t total = sizeof hdr + size;
	ssize_t n;
	do {
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int rc = io_errno(errno);
		vlog(c, HVD_LOG_ERROR, "sending", request, strerror(-rc));
		return rc;
	}
	if ((size_t)n != total) {
		/* The socket buffer holds far more than our largest
		 * message (SET_MEM_TABLE, 268 bytes); a short send means
		 * the backend stopped reading. */
		vlog(c, HVD_LOG_ERROR, "sending", request, "short write");
		return -EIO;
	}
	return 0;
}

/* Read exactly len bytes (no fds expected after the header). */
static int read_full(struct vu_conn *c, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = recv(c->fd, (char *)buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_errno(errno);
		if (n == 0)
			return -ECONNRESET;
		done += (size_t)n;
	}
	return 0;
}

static void close_fds(struct msghdr *mh, unsigned *count)
{
	*count = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
	     cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (unsigned i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
			close(fd);
			(*count)++;
		}
	}
}

/* Receive one header; fds that came with it are closed and refused. */
static int recv_hdr(struct vu_conn *c, struct vu_hdr *hdr)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS_IN)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {hdr, sizeof *hdr};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof ctl.buf};
	ssize_t n;
	do {
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return io_errno(errno);
	if (n == 0)
		return -ECONNRESET;
	unsigned nfds;
	close_fds(&mh, &nfds);
	if (nfds || (mh.msg_flags & MSG_CTRUNC))
		return -EBADMSG;
	if ((size_t)n < sizeof *hdr)
		return read_full(c, (char *)hdr + n, sizeof *hdr - (size_t)n);
	return 0;
}

static const char *reply_error(int rc)
{
	switch (rc) {
	case -EBADMSG:
		return "reply carried file descriptors";
	case -ECONNRESET:
		return "backend closed the connection";
	case -ETIMEDOUT:
		return "no reply in time";
	default:
		return strerror(-rc);
	}
}

static int recv_reply(struct vu_conn *c, uint32_t request, void *reply,
		      uint32_t want_min, uint32_t want, uint32_t *got)
{
	struct vu_hdr hdr;
	int rc = recv_hdr(c, &hdr);
	if (rc < 0) {
		vlog(c, HVD_LOG_ERROR, "reply to", request, reply_error(rc));
		return rc;
	}
	char why[96];
	if (hdr.request != request ||
	    (hdr.flags & (VU_FLAG_VERSION | VU_FLAG_REPLY)) !=
		    (VU_VERSION | VU_FLAG_REPLY)) {
		snprintf(why, sizeof why,
			 "got request %u flags 0x%x instead of the reply",
			 hdr.request, hdr.flags);
		vlog(c, HVD_LOG_ERROR, "reply to", request, why);
		return -EPROTO;
	}
	if (hdr.size < want_min || hdr.size > want) {
		snprintf(why, sizeof why,
			 "payload of %u bytes (expected %u..%u)", hdr.size,
			 want_min, want);
		vlog(c, HVD_LOG_ERROR, "reply to", request, why);
		return -EPROTO;
	}
	rc = read_full(c, reply, hdr.size);
	if (rc < 0) {
		vlog(c, HVD_LOG_ERROR, "reply to", request, reply_error(rc));
		return rc;
	}
	if (got)
		*got = hdr.size;
	return 0;
}

int vu_call(struct vu_conn *c, uint32_t request, const void *payload,
	    uint32_t size, void *reply, uint32_t want_min, uint32_t want,
	    uint32_t *got)
{
	if (c->fd < 0)
		return -ENOTCONN;
	int rc = send_msg(c, request, 0, payload, size, NULL, 0);
	if (rc < 0)
		return rc;
	return recv_reply(c, request, reply, want_min, want, got);
}

int vu_get_u64(struct vu_conn *c, uint32_t request, uint64_t *value)
{
	return vu_call(c, request, NULL, 0, value, sizeof *value, sizeof *value,
		       NULL);
}

int vu_send_cmd(struct vu_conn *c, uint32_t request, const void *payload,
		uint32_t size, const int *fds, unsigned nfds)
{
	if (c->fd < 0)
		return -ENOTCONN;
	bool ack = c->protocol & (1ull << VU_PF_REPLY_ACK);
	int rc = send_msg(c, request, ack ? VU_FLAG_NEED_REPLY : 0, payload,
			  size, fds, nfds);
	if (rc < 0 || !ack)
		return rc;
	uint64_t status = 0;
	rc = recv_reply(c, request, &status, sizeof status, sizeof status,
			NULL);
	if (rc == 0 && status != 0) {
		vlog(c, HVD_LOG_ERROR, "", request, "backend refused it");
		rc = -EREMOTEIO;
	}
	return rc;
}

int vu_unsolicited(struct vu_conn *c)
{
	struct vu_hdr hdr;
	int rc = recv_hdr(c, &hdr);
	const struct hvd_host_services *host = hvd_host(c->dev);
	if (rc == 0) {
		host->log(c->dev, HVD_LOG_ERROR,
			  "vhost-user %s: unexpected message %u (flags 0x%x, "
			  "%u bytes) from the backend",
			  c->path, hdr.request, hdr.flags, hdr.size);
		return -EPROTO;
	}
	host->log(c->dev, HVD_LOG_ERROR, "vhost-user %s: %s", c->path,
		  reply_error(rc));
	return rc;
}
