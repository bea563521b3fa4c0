/* SPDX-License-Identifier: MIT */
/*
 * socket backend: frames over UNIX datagram sockets, so two zones (or a
 * test) can be wired together without privileges.
 *
 * Wire format: one datagram = one frame, and every datagram starts with the
 * 12-byte struct virtio_net_hdr_v1 (little-endian, num_buffers ignored),
 * followed by the Ethernet frame. The header carries checksum and GSO
 * metadata through unchanged, so all offloads are offered; the receiving
 * side drops a frame whose header its guest did not negotiate (net_rx.c),
 * which is why the peer of a socket should negotiate the same offloads.
 *
 * Addresses: pair 0 binds "path" and connects to "peer"; pair k > 0 uses
 * "path.k" and "peer.k". A connected datagram socket accepts frames only
 * from its peer and reports EAGAIN / EPOLLOUT from the peer's queue, which
 * is the flow control the transmit path relies on. The peer may come and
 * go: we connect on the first send and again after it went away; a frame
 * sent while nobody listens is lost, as on an unplugged cable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net.h"

#define BIT(b) (1ull << (b))

/* Large enough for a few 64 KiB frames in flight. */
#define SOCKET_BUF_BYTES (4 << 20)

struct socket_pair {
	struct sockaddr_un self, peer;
	bool connected;
};

struct socket_backend {
	struct socket_pair pair[NET_MAX_PAIRS];
};

static int make_addr(struct net *net, const char *base, unsigned index,
		     struct sockaddr_un *addr)
{
	addr->sun_family = AF_UNIX;
	int n = index == 0 ? snprintf(addr->sun_path, sizeof addr->sun_path,
				      "%s", base)
			   : snprintf(addr->sun_path, sizeof addr->sun_path,
				      "%s.%u", base, index);
	if (n < 0 || (size_t)n >= sizeof addr->sun_path) {
		net->host->log(net->dev, HVD_LOG_ERROR,
			       "socket path '%s' is too long", base);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* A socket file left by an earlier run is replaced; any other file is
 * left alone (bind then fails and says why). */
static void remove_stale_socket(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
}

static void socket_close(struct net *net)
{
	struct socket_backend *sb = net->backend_state;
	for (unsigned i = 0; i < net->opt.pairs; i++) {
		if (net->pairs[i].fd < 0)
			continue;
		close(net->pairs[i].fd);
		net->pairs[i].fd = -1;
		if (sb)
			unlink(sb->pair[i].self.sun_path);
	}
	free(sb);
	net->backend_state = NULL;
}

static int socket_open(struct net *net)
{
	struct socket_backend *sb = calloc(1, sizeof *sb);
	if (!sb)
		return -ENOMEM;
	net->backend_state = sb;
	for (unsigned i = 0; i < net->opt.pairs; i++) {
		struct socket_pair *sp = &sb->pair[i];
		int r = make_addr(net, net->opt.path, i, &sp->self);
		if (!r)
			r = make_addr(net, net->opt.peer, i, &sp->peer);
		if (r) {
			socket_close(net);
			return r;
		}
		int fd = socket(AF_UNIX,
				SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			r = -errno;
			socket_close(net);
			return r;
		}
		int size = SOCKET_BUF_BYTES;
		/* Best effort: the kernel caps it at wmem_max/rmem_max. */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
		remove_stale_socket(sp->self.sun_path);
		if (bind(fd, (struct sockaddr *)&sp->self, sizeof sp->self)) {
			r = -errno;
			net->host->log(net->dev, HVD_LOG_ERROR,
				       "socket: bind %s: %s", sp->self.sun_path,
				       strerror(-r));
			close(fd);
			socket_close(net);
			return r;
		}
		net->pairs[i].fd = fd;
	}
	return 0;
}

static uint64_t socket_offloads(struct net *net)
{
	(void)net;
	return BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) |
	       BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_UFO) |
	       BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) |
	       BIT(VIRTIO_NET_F_GUEST_TSO6) | BIT(VIRTIO_NET_F_GUEST_UFO);
}

static int socket_activate(struct net *net, uint64_t features)
{
	(void)net;
	(void)features;
	return 0;
}

static ssize_t socket_peek_len(struct net_pair *pair)
{
	ssize_t n = recv(pair->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	return n < 0 ? -errno : n;
}

static ssize_t socket_recv(struct net_pair *pair, const struct iovec *iov,
			   unsigned num, bool *truncated)
{
	struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = num};
	ssize_t n = recvmsg(pair->fd, &msg, 0);
	if (n < 0)
		return -errno;
	*truncated = msg.msg_flags & MSG_TRUNC;
	return n;
}

static int peer_connect(struct net_pair *pair, struct socket_pair *sp)
{
	if (connect(pair->fd, (struct sockaddr *)&sp->peer, sizeof sp->peer))
		return -errno;
	sp->connected = true;
	return 0;
}

static ssize_t socket_send(struct net_pair *pair, const struct iovec *iov,
			   unsigned num)
{
	struct socket_backend *sb = pair->net->backend_state;
	struct socket_pair *sp = &sb->pair[pair->index];
	struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = num};
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!sp->connected) {
			int r = peer_connect(pair, sp);
			if (r)
				return r;
		}
		ssize_t n = sendmsg(pair->fd, &msg, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		int err = errno;
		/* The peer closed (and perhaps came back): reconnect once. */
		if (err != ECONNREFUSED && err != ENOTCONN && err != ECONNRESET)
			return -err;
		sp->connected = false;
		struct sockaddr unspec = {.sa_family = AF_UNSPEC};
		connect(pair->fd, &unspec, sizeof unspec);
	}
	return -ECONNREFUSED;
}

/* A pending socket error (the peer went away) is reported once: reading it
 * clears it. */
static int socket_error(struct net_pair *pair)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(pair->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return 0;
}

const struct net_backend_ops net_backend_socket = {
	.name = "socket",
	.offloads = socket_offloads,
	.open = socket_open,
	.close = socket_close,
	.activate = socket_activate,
	.peek_len = socket_peek_len,
	.recv = socket_recv,
	.send = socket_send,
	.error = socket_error,
};
