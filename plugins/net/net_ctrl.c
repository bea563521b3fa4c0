/* SPDX-License-Identifier: MIT */
/*
 * Control queue (virtio 1.2 5.1.6.5). A command is one chain:
 *   readable: u8 class, u8 command, command-specific data
 *   writable: u8 ack (VIRTIO_NET_OK / VIRTIO_NET_ERR), the last byte
 * A command that is unknown, not negotiated or of the wrong length is
 * answered with VIRTIO_NET_ERR; a chain with no room for the answer or no
 * class/command is broken and the device needs a reset.
 */
#include <endian.h>
#include <string.h>

#include "net.h"

/* Longest command accepted: two full MAC tables. */
#define CTRL_MAX_DATA (2 * (4 + 6 * NET_MAC_TABLE_MAX) + 64)

void net_filter_reset(struct net_filter *f)
{
	memset(f, 0, sizeof *f);
	/* Until the driver sets a mode, deliver everything (as a bridge
	 * port would): drivers without CTRL_RX then still see their frames. */
	f->promisc = true;
	f->allmulti = true;
}

static int rx_mode(struct net *net, uint8_t cmd, const uint8_t *d, size_t len)
{
	if (!net_has(net, VIRTIO_NET_F_CTRL_RX) || len != 1 || d[0] > 1)
		return VIRTIO_NET_ERR;
	switch (cmd) {
	case VIRTIO_NET_CTRL_RX_PROMISC:
		net->filter.promisc = d[0];
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_RX_ALLMULTI:
		net->filter.allmulti = d[0];
		return VIRTIO_NET_OK;
	default:
		return VIRTIO_NET_ERR; /* CTRL_RX_EXTRA is not offered */
	}
}

/* One table: le32 entries, then entries * 6 bytes. Returns bytes used or
 * 0 when malformed. */
static size_t mac_table(const uint8_t *d, size_t len, unsigned *num,
			uint8_t (*out)[6], bool *overflow)
{
	uint32_t entries;
	if (len < 4)
		return 0;
	memcpy(&entries, d, 4);
	entries = le32toh(entries);
	if (entries > (len - 4) / 6)
		return 0;
	*overflow = entries > NET_MAC_TABLE_MAX;
	*num = *overflow ? 0 : entries;
	if (!*overflow)
		memcpy(out, d + 4, 6 * (size_t)entries);
	return 4 + 6 * (size_t)entries;
}

static int mac_cmd(struct net *net, uint8_t cmd, const uint8_t *d, size_t len)
{
	if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if (!net_has(net, VIRTIO_NET_F_CTRL_MAC_ADDR) || len != 6 ||
		    (d[0] & 1))
			return VIRTIO_NET_ERR;
		memcpy(net->mac, d, 6);
		return VIRTIO_NET_OK;
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET ||
	    !net_has(net, VIRTIO_NET_F_CTRL_RX))
		return VIRTIO_NET_ERR;
	/* Parse into a copy: a malformed command changes nothing. */
	struct net_filter f = net->filter;
	size_t uni = mac_table(d, len, &f.uni_num, f.uni, &f.uni_overflow);
	if (!uni)
		return VIRTIO_NET_ERR;
	size_t multi = mac_table(d + uni, len - uni, &f.multi_num, f.multi,
				 &f.multi_overflow);
	if (!multi || uni + multi != len)
		return VIRTIO_NET_ERR;
	net->filter = f;
	return VIRTIO_NET_OK;
}

static int announce_cmd(struct net *net, uint8_t cmd, size_t len)
{
	if (!net_has(net, VIRTIO_NET_F_GUEST_ANNOUNCE) ||
	    cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK || len != 0)
		return VIRTIO_NET_ERR;
	net->status &= (uint16_t)~VIRTIO_NET_S_ANNOUNCE;
	return VIRTIO_NET_OK;
}

static int mq_cmd(struct net *net, uint8_t cmd, const uint8_t *d, size_t len)
{
	uint16_t pairs;
	if (!net_has(net, VIRTIO_NET_F_MQ) ||
	    cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || len != 2)
		return VIRTIO_NET_ERR;
	memcpy(&pairs, d, 2);
	pairs = le16toh(pairs);
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > net->opt.pairs)
		return VIRTIO_NET_ERR;
	return net_set_active_pairs(net, pairs) ? VIRTIO_NET_ERR
						: VIRTIO_NET_OK;
}

static int run_command(struct net *net, const uint8_t *cmd, size_t len)
{
	const uint8_t *d = cmd + 2;
	len -= 2;
	switch (cmd[0]) {
	case VIRTIO_NET_CTRL_RX:
		return rx_mode(net, cmd[1], d, len);
	case VIRTIO_NET_CTRL_MAC:
		return mac_cmd(net, cmd[1], d, len);
	case VIRTIO_NET_CTRL_ANNOUNCE:
		return announce_cmd(net, cmd[1], len);
	case VIRTIO_NET_CTRL_MQ:
		return mq_cmd(net, cmd[1], d, len);
	default:
		return VIRTIO_NET_ERR;
	}
}

/* Commands run per pass: a guest that keeps refilling the control queue
 * must not keep the dispatch thread (every device's register accesses) to
 * itself; the rest runs from the event loop. */
#define CTRL_BATCH 32u

void net_ctrl_reset(struct net *net)
{
	if (net->ctrl_more)
		net->host->timer_cancel(net->ctrl_more);
	net->ctrl_more = NULL;
}

static void ctrl_more_fired(void *opaque)
{
	struct net *net = opaque;
	net_ctrl_reset(net);
	net_ctrl_notify(net, net->host->vq_get(net->dev, net->opt.pairs * 2));
}

void net_ctrl_notify(struct net *net, struct hvd_vq *vq)
{
	const struct hvd_host_services *host = net->host;
	uint8_t buf[2 + CTRL_MAX_DATA]; /* per call: devices run in parallel */
	unsigned handled;
	for (handled = 0; handled < CTRL_BATCH; handled++) {
		struct hvd_chain *c = host->vq_pop(vq);
		if (!c)
			break;
		if (c->out_bytes < 2 || c->in_bytes < 1) {
			host->vq_push(c, 0);
			host->needs_reset(net->dev, "control command without "
						    "header or ack byte");
			return;
		}
		uint8_t ack = VIRTIO_NET_ERR;
		if (c->out_bytes <= sizeof buf) {
			size_t len = hvd_chain_read(c, 0, buf, c->out_bytes);
			ack = (uint8_t)run_command(net, buf, len);
		}
		/* The ack is the last writable byte. */
		hvd_chain_write(c, c->in_bytes - 1, &ack, 1);
		host->vq_push(c, c->in_bytes);
	}
	host->vq_notify(vq);
	if (handled == CTRL_BATCH && !net->ctrl_more && host->vq_has_work(vq))
		net->ctrl_more =
			host->timer_add(net->dev, 1, 0, ctrl_more_fired, net);
}
