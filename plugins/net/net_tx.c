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
 * A drain stops after NET_BUDGET frames and continues on HVD_EV_OUT (the
 * fd is writable, so that comes on the event loop's next turn): a guest
 * that keeps its ring full cannot hold the calling thread.
 */
#include <errno.h>

#include "net.h"

void net_tx_drain(struct net_pair *pair)
{
	struct net *net = pair->net;
	const struct hvd_host_services *host = net->host;
	if (!pair->enabled || !pair->txq)
		return;
	host->vq_kick_enable(pair->txq, 0);
	bool want_out = false;
	for (unsigned budget = NET_BUDGET;; budget--) {
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
		ssize_t r = net->backend->send(pair, c->iov, c->num_out);
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
