/* SPDX-License-Identifier: MIT */
/*
 * Receive path: backend -> guest (virtio 1.2 5.1.6.3-5.1.6.4).
 *
 * A frame is read from the backend only once the guest has posted room for
 * it, straight into the guest's buffers (no copy, no read-and-drop):
 *   - without MRG_RXBUF one chain takes one frame;
 *   - with MRG_RXBUF chains are popped until they hold the next frame:
 *     its exact length when the backend can peek it (socket), else the
 *     largest frame the negotiated features allow (tap). If the guest has
 *     handed us its whole ring and it is still smaller, we read anyway.
 * Popped chains stay "held" until a frame fills them; they are the guest's
 * posted buffers, merely remembered here.
 *
 * When buffers run out, kicks are turned on and HVD_EV_IN off: the frames
 * wait in the backend's queue (the tap's or the socket's) and reading
 * resumes on the receive queue's notify.
 *
 * A frame larger than the buffers (a guest that posts less than the spec's
 * minimum) spills into a scratch area behind them and is dropped whole, so
 * the guest never sees a truncated frame.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

bool net_filter_accepts(const struct net *net, const uint8_t *dst)
{
	const struct net_filter *f = &net->filter;
	static const uint8_t broadcast[6] = {0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff};
	if (f->promisc || memcmp(dst, broadcast, 6) == 0)
		return true;
	if (dst[0] & 1) {
		if (f->allmulti || f->multi_overflow)
			return true;
		for (unsigned i = 0; i < f->multi_num; i++)
			if (memcmp(dst, f->multi[i], 6) == 0)
				return true;
		return false;
	}
	if (memcmp(dst, net->mac, 6) == 0 || f->uni_overflow)
		return true;
	for (unsigned i = 0; i < f->uni_num; i++)
		if (memcmp(dst, f->uni[i], 6) == 0)
			return true;
	return false;
}

/* ---- Held chains --------------------------------------------------------- */

static int hold(struct net_pair *pair, struct hvd_chain *chain)
{
	if (pair->rx_held_num == pair->rx_held_cap) {
		unsigned cap = pair->rx_held_cap ? 2 * pair->rx_held_cap : 64;
		struct hvd_chain **held =
			realloc(pair->rx_held, cap * sizeof *held);
		if (!held)
			return -ENOMEM;
		pair->rx_held = held;
		pair->rx_held_cap = cap;
	}
	pair->rx_held[pair->rx_held_num++] = chain;
	pair->rx_held_bytes += chain->in_bytes;
	pair->rx_held_iov += chain->num_in;
	return 0;
}

enum pop_result { POP_GOT, POP_EMPTY, POP_FULL, POP_BROKEN };

static enum pop_result pop_one(struct net_pair *pair)
{
	struct net *net = pair->net;
	struct hvd_chain *c = net->host->vq_pop(pair->rxq);
	if (!c)
		return POP_EMPTY;
	if (c->in_bytes < NET_HDR_LEN) {
		/* 5.1.6.3.1: every receive buffer holds at least a header. */
		net->host->vq_push(c, 0);
		net->host->needs_reset(
			net->dev, "receive buffer smaller than the header");
		return POP_BROKEN;
	}
	/* readv takes NET_MAX_IOV iovecs, one of them the scratch area. */
	if (pair->rx_held_num > 0 &&
	    pair->rx_held_iov + c->num_in > NET_MAX_IOV - 1) {
		net->host->vq_unpop(c);
		return POP_FULL;
	}
	if (hold(pair, c)) {
		net->host->vq_unpop(c);
		return POP_FULL;
	}
	return POP_GOT;
}

/* Enough buffers held for a frame of `need` bytes (header included)? */
static bool have_room(struct net_pair *pair, uint64_t need)
{
	bool mrg = net_has(pair->net, VIRTIO_NET_F_MRG_RXBUF);
	for (;;) {
		if (mrg ? pair->rx_held_bytes >= need : pair->rx_held_num >= 1)
			return true;
		switch (pop_one(pair)) {
		case POP_GOT:
			continue;
		case POP_FULL:
			return pair->rx_held_num > 0;
		case POP_BROKEN:
			return false;
		case POP_EMPTY:
			break;
		}
		/* The guest cannot post more than its ring: once we hold all
		 * of it, use what it gave. Each chain takes at least one
		 * descriptor (indirect: exactly one) and a direct chain at
		 * least one per iovec, so either count reaching the ring
		 * size means the ring is exhausted. */
		uint16_t size = pair->net->host->vq_size(pair->rxq);
		return mrg && pair->rx_held_num > 0 &&
		       (pair->rx_held_num >= size || pair->rx_held_iov >= size);
	}
}

/* Bytes a frame may need: its exact size if the backend can tell, else the
 * largest the negotiated features allow. -EAGAIN: nothing to read. */
static ssize_t frame_need(struct net_pair *pair)
{
	struct net *net = pair->net;
	if (net->backend->peek_len)
		return net->backend->peek_len(pair);
	bool gso = net_has(net, VIRTIO_NET_F_GUEST_TSO4) ||
		   net_has(net, VIRTIO_NET_F_GUEST_TSO6) ||
		   net_has(net, VIRTIO_NET_F_GUEST_UFO);
	return NET_HDR_LEN +
	       (gso ? NET_MAX_GSO_FRAME
		    : net->opt.mtu + NET_ETH_HLEN + NET_VLAN_HLEN);
}

/* iovecs of the held chains' writable buffers, then the scratch area. */
static int build_iov(struct net_pair *pair, unsigned *num)
{
	unsigned n = pair->rx_held_iov + 1;
	if (n > pair->rx_iov_cap) {
		struct iovec *iov = realloc(pair->rx_iov, n * sizeof *iov);
		if (!iov)
			return -ENOMEM;
		pair->rx_iov = iov;
		pair->rx_iov_cap = n;
	}
	unsigned k = 0;
	for (unsigned i = 0; i < pair->rx_held_num; i++) {
		const struct hvd_chain *c = pair->rx_held[i];
		memcpy(&pair->rx_iov[k], &c->iov[c->num_out],
		       c->num_in * sizeof(struct iovec));
		k += c->num_in;
	}
	if (k < NET_MAX_IOV) {
		pair->rx_iov[k].iov_base = pair->net->rx_scratch;
		pair->rx_iov[k].iov_len = NET_RX_SCRATCH;
		k++;
	}
	*num = k;
	return 0;
}

/* The header as the negotiated features allow the guest to see it; false
 * when the frame cannot be given to this guest (5.1.6.4.1). The header comes
 * from the far end of the backend (on the socket backend another guest's
 * device, or anything else that can send to our socket), so the fields
 * that point into the frame must point into it. */
static bool fix_header(const struct net *net, struct virtio_net_hdr_v1 *h,
		       size_t frame_len)
{
	bool csum = net_has(net, VIRTIO_NET_F_GUEST_CSUM);
	if (h->flags &
	    ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !csum)
		return false; /* a partial checksum we cannot complete */
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 >
		    frame_len)
		return false;
	if (!csum)
		h->flags = 0; /* DATA_VALID too needs GUEST_CSUM */
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE &&
	    (h->gso_size == 0 || le16toh(h->hdr_len) > frame_len))
		return false;
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return net_has(net, VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return net_has(net, VIRTIO_NET_F_GUEST_TSO6);
	case VIRTIO_NET_HDR_GSO_UDP:
		return net_has(net, VIRTIO_NET_F_GUEST_UFO);
	default:
		return false; /* ECN and others are not offered */
	}
}

/* Forget the first k held chains (already pushed: only pointers left). */
static void consume(struct net_pair *pair, unsigned k)
{
	pair->rx_held_num -= k;
	memmove(pair->rx_held, pair->rx_held + k,
		pair->rx_held_num * sizeof *pair->rx_held);
}

/* A frame of n bytes sits in the held chains: hand it to the guest. */
static void deliver(struct net_pair *pair, unsigned num_iov, size_t n)
{
	struct net *net = pair->net;
	struct virtio_net_hdr_v1 hdr;
	uint8_t dst[6];
	hvd_iov_read(pair->rx_iov, num_iov, 0, &hdr, sizeof hdr);
	hvd_iov_read(pair->rx_iov, num_iov, NET_HDR_LEN, dst, 6);
	if (!fix_header(net, &hdr, n - NET_HDR_LEN)) {
		pair->rx_invalid++;
		return;
	}
	/* 5.1.6.4.1: with MTU negotiated, no plain frame above it. */
	if (hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
	    net_has(net, VIRTIO_NET_F_MTU) &&
	    n - NET_HDR_LEN >
		    (size_t)net->opt.mtu + NET_ETH_HLEN + NET_VLAN_HLEN) {
		pair->rx_oversize++;
		return;
	}
	if (!net_filter_accepts(net, dst)) {
		pair->rx_filtered++;
		return;
	}
	unsigned k = 0;
	for (size_t left = n; left > 0; k++) {
		uint32_t cap = pair->rx_held[k]->in_bytes;
		left -= left < cap ? left : cap;
	}
	/* num_buffers is 1 without MRG_RXBUF: one chain per frame. */
	hdr.num_buffers = htole16((uint16_t)k);
	hvd_iov_write(pair->rx_iov, num_iov, 0, &hdr, sizeof hdr);
	size_t left = n;
	for (unsigned i = 0; i < k; i++) {
		uint32_t cap = pair->rx_held[i]->in_bytes;
		uint32_t w = left < cap ? (uint32_t)left : cap;
		pair->rx_held_bytes -= cap;
		pair->rx_held_iov -= pair->rx_held[i]->num_in;
		net->host->vq_push(pair->rx_held[i], w);
		left -= w;
	}
	consume(pair, k);
	pair->rx_frames++;
}

void net_rx_drain(struct net_pair *pair, unsigned budget)
{
	struct net *net = pair->net;
	if (!pair->enabled || !pair->rxq)
		return;
	net->host->vq_kick_enable(pair->rxq, 0);
	bool want_in = true;
	for (; budget > 0; budget--) {
		ssize_t need = frame_need(pair);
		if (need == -EAGAIN)
			break;
		if (need < 0)
			continue; /* an error report the backend consumed */
		if (!have_room(pair, (uint64_t)need)) {
			/* Re-check after enabling kicks: a buffer added in
			 * between would otherwise go unnoticed. */
			net->host->vq_kick_enable(pair->rxq, 1);
			if (!have_room(pair, (uint64_t)need)) {
				want_in = false;
				break;
			}
			net->host->vq_kick_enable(pair->rxq, 0);
		}
		unsigned num_iov;
		if (build_iov(pair, &num_iov))
			break;
		bool truncated = false;
		ssize_t n = net->backend->recv(pair, pair->rx_iov, num_iov,
					       &truncated);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			/* A reported error is consumed; a dead fd would stay
			 * readable-with-error forever: stop watching it. */
			if (net->backend->error(pair) < 0) {
				net_pair_fail(pair);
				return;
			}
			continue;
		}
		if (truncated || (uint64_t)n > pair->rx_held_bytes) {
			pair->rx_oversize++;
			continue;
		}
		if ((size_t)n < NET_HDR_LEN + NET_ETH_HLEN) {
			pair->rx_invalid++;
			continue;
		}
		deliver(pair, num_iov, (size_t)n);
	}
	net->host->vq_notify(pair->rxq);
	pair->rx_want_in = want_in;
	net_pair_update_watch(pair);
}

void net_rx_forget(struct net_pair *pair)
{
	struct net *net = pair->net;
	if (pair->rx_held_num == 0)
		return;
	unsigned need = net->stale_num + pair->rx_held_num;
	if (need > net->stale_cap) {
		struct hvd_chain **s = realloc(net->stale, need * sizeof *s);
		if (!s) {
			/* Pushing now writes a zero-length used entry into
			 * rings being reset: harmless, and frees them. */
			for (unsigned i = 0; i < pair->rx_held_num; i++)
				net->host->vq_push(pair->rx_held[i], 0);
			pair->rx_held_num = 0;
			pair->rx_held_bytes = 0;
			pair->rx_held_iov = 0;
			return;
		}
		net->stale = s;
		net->stale_cap = need;
	}
	memcpy(net->stale + net->stale_num, pair->rx_held,
	       pair->rx_held_num * sizeof *pair->rx_held);
	net->stale_num = need;
	pair->rx_held_num = 0;
	pair->rx_held_bytes = 0;
	pair->rx_held_iov = 0;
}

void net_rx_free_stale(struct net *net)
{
	/* The host has reset the rings since: pushing only frees them. */
	for (unsigned i = 0; i < net->stale_num; i++)
		net->host->vq_push(net->stale[i], 0);
	net->stale_num = 0;
}

void net_rx_pair_free(struct net_pair *pair)
{
	for (unsigned i = 0; i < pair->rx_held_num; i++)
		pair->net->host->vq_push(pair->rx_held[i], 0);
	free(pair->rx_held);
	free(pair->rx_iov);
	pair->rx_held = NULL;
	pair->rx_iov = NULL;
	pair->rx_held_num = pair->rx_held_cap = pair->rx_iov_cap = 0;
	pair->rx_held_iov = 0;
}
