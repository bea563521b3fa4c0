/* SPDX-License-Identifier: MIT */
/*
 * tap backend: /dev/net/tun with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (plus
 * IFF_MULTI_QUEUE for several pairs, one fd per pair). The kernel reads and
 * writes the same 12-byte virtio_net_hdr_v1 as the guest (TUNSETVNETHDRSZ),
 * so frames pass without a copy and offloads pass through:
 *   guest -> tap: the kernel accepts checksum-partial and TSO/UFO frames,
 *     hence CSUM, HOST_TSO4/6 and HOST_UFO;
 *   tap -> guest: TUNSETOFFLOAD allows only what the guest negotiated
 *     (GUEST_CSUM, GUEST_TSO4/6). GUEST_UFO is not offered: kernels since
 *     4.14 no longer produce UFO frames for tap.
 * The interface is created if it does not exist (that needs CAP_NET_ADMIN),
 * and its queue is made long enough to hold frames across a short pause
 * of the guest (tune_interface).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"

#define BIT(b) (1ull << (b))

struct tap {
	bool attached[NET_MAX_PAIRS];
};

static int tap_open_queue(struct net *net, int *fd_out)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		net->host->log(net->dev, HVD_LOG_ERROR,
			       "tap: cannot open /dev/net/tun: %s",
			       strerror(err));
		return -err;
	}
	struct ifreq ifr = {0};
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (net->opt.pairs > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	strncpy(ifr.ifr_name, net->opt.tap, IFNAMSIZ - 1);
	int hdr = (int)NET_HDR_LEN;
	const char *what = NULL;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		what = "TUNSETIFF";
	else if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		what = "TUNSETVNETHDRSZ";
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	/* VERSION_1 headers are little-endian whatever the host. */
	else if (ioctl(fd, TUNSETVNETLE, &(int){1}) < 0)
		what = "TUNSETVNETLE";
#endif
	else if (ioctl(fd, TUNSETOFFLOAD, 0ul) < 0)
		what = "TUNSETOFFLOAD";
	if (what) {
		int err = errno;
		net->host->log(net->dev, HVD_LOG_ERROR, "tap %s: %s: %s",
			       net->opt.tap, what, strerror(err));
		close(fd);
		return -err;
	}
	*fd_out = fd;
	return 0;
}

/* Frames wait in the tap's queue while the guest has no receive buffers;
 * tun's default of 500 frames covers only 50 ms at 10k frames/s, so a
 * short queue is lengthened (a longer one set by the administrator is
 * kept). An "mtu" in the JSON is the tap's MTU too, so the host side
 * sends nothing larger than the guest was told. Both best effort. */
#define TAP_MIN_QUEUE_LEN 4096

static void tune_interface(struct net *net)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	struct ifreq ifr = {0};
	strncpy(ifr.ifr_name, net->opt.tap, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFTXQLEN, &ifr) == 0 &&
	    ifr.ifr_qlen < TAP_MIN_QUEUE_LEN) {
		ifr.ifr_qlen = TAP_MIN_QUEUE_LEN;
		if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
			net->host->log(net->dev, HVD_LOG_INFO,
				       "tap %s: queue length stays short: %s",
				       net->opt.tap, strerror(errno));
	}
	if (net->opt.mtu_given) {
		ifr.ifr_mtu = net->opt.mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			net->host->log(net->dev, HVD_LOG_WARN,
				       "tap %s: cannot set MTU %u: %s",
				       net->opt.tap, net->opt.mtu,
				       strerror(errno));
	}
	close(s);
}

static void tap_close(struct net *net)
{
	for (unsigned i = 0; i < net->opt.pairs; i++) {
		if (net->pairs[i].fd >= 0)
			close(net->pairs[i].fd);
		net->pairs[i].fd = -1;
	}
	free(net->backend_state);
	net->backend_state = NULL;
}

static int tap_open(struct net *net)
{
	struct tap *tap = calloc(1, sizeof *tap);
	if (!tap)
		return -ENOMEM;
	net->backend_state = tap;
	for (unsigned i = 0; i < net->opt.pairs; i++) {
		int r = tap_open_queue(net, &net->pairs[i].fd);
		if (r) {
			tap_close(net);
			return r;
		}
		tap->attached[i] = true;
	}
	tune_interface(net);
	return 0;
}

static uint64_t tap_offloads(struct net *net)
{
	(void)net;
	return BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) |
	       BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_UFO) |
	       BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) |
	       BIT(VIRTIO_NET_F_GUEST_TSO6);
}

static int tap_activate(struct net *net, uint64_t f)
{
	unsigned long off = 0;
	if (f & BIT(VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (f & BIT(VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & BIT(VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
	}
	/* The offloads belong to the interface; any queue's fd sets them. */
	if (ioctl(net->pairs[0].fd, TUNSETOFFLOAD, off) < 0) {
		net->host->log(net->dev, HVD_LOG_ERROR,
			       "tap %s: TUNSETOFFLOAD 0x%lx: %s", net->opt.tap,
			       off, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Detached queues get no frames from the kernel's steering, so frames do
 * not wait in a queue the driver is not using. */
static int tap_set_active_pairs(struct net *net, unsigned num)
{
	struct tap *tap = net->backend_state;
	if (net->opt.pairs == 1)
		return 0;
	for (unsigned i = 0; i < net->opt.pairs; i++) {
		bool want = i < num;
		if (tap->attached[i] == want)
			continue;
		struct ifreq ifr = {0};
		ifr.ifr_flags = want ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		if (ioctl(net->pairs[i].fd, TUNSETQUEUE, &ifr) < 0) {
			net->host->log(net->dev, HVD_LOG_ERROR,
				       "tap %s: TUNSETQUEUE %u: %s",
				       net->opt.tap, i, strerror(errno));
			return -EIO;
		}
		tap->attached[i] = want;
	}
	return 0;
}

static ssize_t tap_recv(struct net_pair *pair, const struct iovec *iov,
			unsigned num, bool *truncated)
{
	*truncated = false; /* the scratch area makes room for any frame */
	ssize_t n = readv(pair->fd, iov, (int)num);
	return n < 0 ? -errno : n;
}

static ssize_t tap_send(struct net_pair *pair, const struct iovec *iov,
			unsigned num)
{
	ssize_t n = writev(pair->fd, iov, (int)num);
	return n < 0 ? -errno : n;
}

/* tun reports EPOLLERR, and reads fail with EBADFD, only once the
 * interface is gone; any other read error is a one-off. */
static int tap_error(struct net_pair *pair)
{
	char probe;
	ssize_t n = read(pair->fd, &probe, 0);
	return n < 0 && errno == EBADFD ? -EIO : 0;
}

const struct net_backend_ops net_backend_tap = {
	.name = "tap",
	.offloads = tap_offloads,
	.open = tap_open,
	.close = tap_close,
	.activate = tap_activate,
	.set_active_pairs = tap_set_active_pairs,
	.recv = tap_recv,
	.send = tap_send,
	.error = tap_error,
};
