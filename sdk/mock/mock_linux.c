/* SPDX-License-Identifier: MIT */
/*
 * What Linux 6.1 negotiates, per device type: the feature table of its
 * driver plus the transport bits its virtio_ring keeps. Read from Linux
 * v6.1 (tag v6.1, commit 830b3c68c1fb): drivers/block/virtio_blk.c
 * features[], drivers/net/virtio_net.c VIRTIO_NET_FEATURES,
 * drivers/char/virtio_console.c features[], drivers/char/hw_random/
 * virtio-rng.c (no table), drivers/virtio/virtio_ring.c
 * vring_transport_features. The real-guest rig checks the outcome: a stock
 * 6.1 guest negotiates every bit our plugins offer except console
 * EMERG_WRITE (docs/real-guest-rig.md), which is what these tables give.
 */
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "mock_internal.h"

#define B(bit) (UINT64_C(1) << (bit))

/* RING_PACKED (34) is kept by Linux too, but this driver has split rings
 * only; a device offering it would be driven split here. */
static const uint64_t transport =
	B(VIRTIO_RING_F_INDIRECT_DESC) | B(VIRTIO_RING_F_EVENT_IDX) |
	B(VIRTIO_F_VERSION_1) | B(VIRTIO_F_ACCESS_PLATFORM) |
	B(VIRTIO_F_ORDER_PLATFORM) | B(VIRTIO_F_SR_IOV) |
	B(VIRTIO_F_RING_RESET);

static const uint64_t blk =
	B(VIRTIO_BLK_F_SEG_MAX) | B(VIRTIO_BLK_F_SIZE_MAX) |
	B(VIRTIO_BLK_F_GEOMETRY) | B(VIRTIO_BLK_F_RO) |
	B(VIRTIO_BLK_F_BLK_SIZE) | B(VIRTIO_BLK_F_FLUSH) |
	B(VIRTIO_BLK_F_TOPOLOGY) | B(VIRTIO_BLK_F_CONFIG_WCE) |
	B(VIRTIO_BLK_F_MQ) | B(VIRTIO_BLK_F_DISCARD) |
	B(VIRTIO_BLK_F_WRITE_ZEROES) | B(VIRTIO_BLK_F_SECURE_ERASE);

static const uint64_t net =
	B(VIRTIO_NET_F_CSUM) | B(VIRTIO_NET_F_GUEST_CSUM) |
	B(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | B(VIRTIO_NET_F_MTU) |
	B(VIRTIO_NET_F_MAC) | B(VIRTIO_NET_F_GUEST_TSO4) |
	B(VIRTIO_NET_F_GUEST_TSO6) | B(VIRTIO_NET_F_GUEST_ECN) |
	B(VIRTIO_NET_F_GUEST_UFO) | B(VIRTIO_NET_F_HOST_TSO4) |
	B(VIRTIO_NET_F_HOST_TSO6) | B(VIRTIO_NET_F_HOST_ECN) |
	B(VIRTIO_NET_F_HOST_UFO) | B(VIRTIO_NET_F_MRG_RXBUF) |
	B(VIRTIO_NET_F_STATUS) | B(VIRTIO_NET_F_CTRL_VQ) |
	B(VIRTIO_NET_F_CTRL_RX) | B(VIRTIO_NET_F_CTRL_VLAN) |
	B(VIRTIO_NET_F_GUEST_ANNOUNCE) | B(VIRTIO_NET_F_MQ) |
	B(VIRTIO_NET_F_CTRL_MAC_ADDR) | B(VIRTIO_NET_F_NOTF_COAL) |
	B(VIRTIO_NET_F_HASH_REPORT) | B(VIRTIO_NET_F_RSS) |
	B(VIRTIO_NET_F_STANDBY) | B(VIRTIO_NET_F_SPEED_DUPLEX);

/* No EMERG_WRITE: Linux's virtio_console does not know it. */
static const uint64_t console =
	B(VIRTIO_CONSOLE_F_SIZE) | B(VIRTIO_CONSOLE_F_MULTIPORT);

HVD_API uint64_t hvd_guest_linux_features(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_BLOCK:
		return transport | blk;
	case VIRTIO_ID_NET:
		return transport | net;
	case VIRTIO_ID_CONSOLE:
		return transport | console;
	default:
		return transport; /* e.g. rng: no device bits */
	}
}
