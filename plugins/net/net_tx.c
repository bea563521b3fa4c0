/* SPDX-License-Identifier: MIT */
/*
 * Transmit path: guest -> backend (virtio 1.2 5.1.6.2).
 *
 * Each chain is one frame, [virtio_net_hdr_v1][frame], sent as it lies in
 * guest memory (the backend takes the readable iovecs directly). Sends are
 * non-blocking: when the backend has no room the chain is given back to
 * the ring (vq_unpop) and the pair watches HVD_EV_OUT; kicks stay off
 * meanwhile, since nothing can be sent before the fd is writable. Frames
 * are therefore never dropped for lack of room, and the dispatch thread
 * never waits.
 *
 * A drain stops after its budget (NET_BUDGET on the event loop,
 * NET_NOTIFY_BUDGET from queue_notify) and continues on HVD_EV_OUT (the
 * fd is writable, so that comes on the event loop's next turn): a guest
 * that keeps its ring full cannot hold the calling thread.
 *
 * The header is the exception to "as it lies": it is copied once, checked
 * against the negotiated features (5.1.6.2.1) and the copy is what goes
 * out. The socket backend's far end is another guest's device, and no
 * kernel checks the header on that way; sending the guest's own bytes
 * would let it change them between our check and the send.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "net.h"

/* Why a frame may not leave, or NULL. `frame_len` excludes the header. */
static const char *tx_header_fault(const struct net *net,
				   const struct virtio_net_hdr_v1 *h,
				   uint32_t frame_len)
{
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return "unknown header flags";
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t end = (uint32_t)le16toh(h->csum_start) +
			       le16toh(h->csum_offset) + 2;
		if (!net_has(net, VIRTIO_NET_F_CSUM))
			return "partial checksum without CSUM";
		if (end > frame_len)
			return "checksum field outside the frame";
	}
	bool gso = h->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!net_has(net, VIRTIO_NET_F_HOST_TSO4))
			return "TSO4 not negotiated";
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!net_has(net, VIRTIO_NET_F_HOST_TSO6))
			return "TSO6 not negotiated";
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		if (!net_has(net, VIRTIO_NET_F_HOST_UFO))
			return "UFO not negotiated";
		break;
	default:
		return "unknown GSO type";
	}
	if (gso && (h->gso_size == 0 || le16toh(h->hdr_len) > frame_len))
		return "GSO header fields outside the frame";
	if (frame_len > NET_MAX_GSO_FRAME)
		return "frame larger than any GSO frame";
	if (!gso && net_has(net, VIRTIO_NET_F_MTU) &&
	    frame_len > (uint32_t)net->opt.mtu + NET_ETH_HLEN + NET_VLAN_HLEN)
		return "frame larger than the MTU";
	return NULL;
}

/* Send chain c with our checked copy of its header in front of the frame.
 * Returns the backend's result, or -EINVAL for a frame that may not go. */
static ssize_t tx_send(struct net_pair *pair, const struct hvd_chain *c)
{
	struct net *net = pair->net;
	struct virtio_net_hdr_v1 hdr;
	hvd_chain_read(c, 0, &hdr, sizeof hdr);
	/* 5.1.6.2: num_buffers is the device's field; the driver sets 0. */
	hdr.num_buffers = 0;
	const char *fault =
		tx_header_fault(net, &hdr, c->out_bytes - NET_HDR_LEN);
	if (fault) {
		net->host->log(net->dev, HVD_LOG_DEBUG,
			       "pair %u: frame dropped: %s", pair->index,
			       fault);
		return -EINVAL;
	}
	/* The header plus at most every readable iovec of the chain. */
	struct iovec iov[1 + NET_MAX_IOV];
	iov[0] = (struct iovec){&hdr, sizeof hdr};
	unsigned n = 1 + hvd_iov_slice(c->iov, c->num_out, NET_HDR_LEN,
				       SIZE_MAX, iov + 1, NET_MAX_IOV);
	return net->backend->send(pair, iov, n);
}

void net_tx_drain(struct net_pair *pair, unsigned budget)
{
	struct net *net = pair->net;
	const struct hvd_host_services *host = net->host;
	if (!pair->enabled || !pair->txq)
		return;
	host->vq_kick_enable(pair->txq, 0);
	bool want_out = false;
	for (;; budget--) {
		if (budget == 0) {
			want_out = true;
			break;
		}
		struct hvd_chain *c = host->vq_pop(pair->txq);
		if (!c) {
			/* Re-check after enabling kicks (see vq_kick_enable).
			 */
			host->vq_kick_enable(pair->txq, 1);
			if (!host->vq_has_work(pair->txq))
				break;
			host->vq_kick_enable(pair->txq, 0);
			continue;
		}
		if (c->out_bytes < NET_HDR_LEN) {
			host->vq_push(c, 0);
			host->needs_reset(net->dev,
					  "transmit chain shorter "
					  "than the virtio-net header");
			break;
		}
		ssize_t r = tx_send(pair, c);
		if (r == -EAGAIN) {
			host->vq_unpop(c);
			pair->tx_eagain++;
			want_out = true;
			break;
		}
		/* Other errors (a peer not there, a header the kernel refuses)
		 * lose this frame only, as a cable would. */
		if (r < 0)
			pair->tx_errors++;
		else
			pair->tx_frames++;
		host->vq_push(c, 0);
	}
	host->vq_notify(pair->txq);
	pair->tx_want_out = want_out;
	net_pair_update_watch(pair);
}
