/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2 section 5.1): shared state of the plugin's parts.
 *
 *   net_device.c   descriptor, create/destroy, features, config space,
 *                  activate/reset, queue routing, the per-pair fd watch
 *   net_config.c   the device's JSON keys
 *   net_rx.c       backend -> guest (receive queues)
 *   net_tx.c       guest -> backend (transmit queues)
 *   net_ctrl.c     the control queue (rx mode, MAC filter, announce, MQ)
 *   backend_tap.c, backend_socket.c   where frames go
 *
 * Queues: receiveq1, transmitq1, ..., receiveqN, transmitqN, controlq
 * (indices 2k, 2k+1 and 2N). Every callback of a device runs under its
 * callback lock (hvd/plugin.h), so this state needs no lock of its own.
 *
 * Every frame on the wire of both backends is preceded by the 12-byte
 * struct virtio_net_hdr_v1, exactly as the guest sees it.
 */
#ifndef PLUGINS_NET_NET_H
#define PLUGINS_NET_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include "hvd/iov.h"
#include "hvd/plugin.h"

#define NET_HDR_LEN       ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define NET_MAX_PAIRS     16u
#define NET_DEFAULT_MTU   1500u
#define NET_DEFAULT_QSIZE 256u
#define NET_ETH_HLEN      14u
#define NET_VLAN_HLEN     4u
/* Largest frame a GSO-capable guest may be handed (virtio 1.2 5.1.6.3.1:
 * buffers of 65562 bytes including the header). */
#define NET_MAX_GSO_FRAME 65550u
/* Room past the guest's buffers that catches frames too big for them, so
 * an oversized frame is detected and dropped instead of truncated. */
#define NET_RX_SCRATCH (65536u + 1024u)
/* Frames handled per call before yielding the thread. The watch is
 * level-triggered, so unfinished work resumes on the next loop turn. */
#define NET_BUDGET 64u
/* The same from queue_notify, on the dispatch thread, which also answers
 * the guest's register accesses and makes them wait while it sends (64
 * small frames: ~50 us). Past this the drain asks for its fd's readiness,
 * which is there at once, and the event loop goes on in parallel.
 * bench_net guest->tap 64 B, alternating rounds of one build with this as
 * a knob: 8 gave 0.98-1.05 and 0.89-1.05 of the veth reference where 64
 * gave 0.61-0.95 and 0.90-0.97 (6 and 5 rounds; 4 and 16 in between);
 * 1500 B and tap->guest level. Sending it all on the dispatch thread in
 * bursts of 8, without the event loop, fell to 0.70-0.92. */
#define NET_NOTIFY_BUDGET 8u
/* readv/sendmsg take at most this many iovecs (UIO_MAXIOV). */
#define NET_MAX_IOV       1024u
#define NET_MAC_TABLE_MAX 64u

enum net_backend_kind {
	NET_BACKEND_TAP,
	NET_BACKEND_SOCKET,
};

struct net;

/* One receive/transmit pair and its backend fd. */
struct net_pair {
	struct net *net;
	unsigned index;
	int fd; /* backend fd of this pair, non-blocking */
	struct hvd_vq *rxq, *txq;
	struct hvd_watch *watch;
	uint32_t watch_events; /* what the watch asks for now */
	bool enabled;          /* within the active pairs, after activate */
	bool rx_want_in;       /* buffers posted: read when readable */
	bool tx_want_out;      /* a frame waits for room, or work remains */

	/* Receive chains popped but not filled yet (they stay the guest's
	 * posted buffers; see net_rx.c). */
	struct hvd_chain **rx_held;
	unsigned rx_held_num, rx_held_cap;
	uint64_t rx_held_bytes; /* writable bytes of rx_held */
	unsigned rx_held_iov;   /* writable iovecs of rx_held */
	struct iovec *rx_iov;
	unsigned rx_iov_cap;

	/* Counters, for logs and tests. */
	uint64_t rx_frames, rx_oversize, rx_filtered, rx_invalid;
	uint64_t tx_frames, tx_errors, tx_eagain;
};

/* The guest's receive filter (CTRL_RX / CTRL_MAC). */
struct net_filter {
	bool promisc, allmulti;
	bool uni_overflow, multi_overflow; /* tables too long: accept all */
	unsigned uni_num, multi_num;
	uint8_t uni[NET_MAC_TABLE_MAX][6];
	uint8_t multi[NET_MAC_TABLE_MAX][6];
};

struct net_backend_ops;

/* JSON options (net_config.c). */
struct net_options {
	enum net_backend_kind backend;
	const char *tap;  /* tap: interface name */
	const char *path; /* socket: our address */
	const char *peer; /* socket: where frames go */
	uint8_t mac[6];
	uint16_t mtu;
	bool mtu_given; /* "mtu" was in the JSON */
	unsigned pairs;
	uint16_t queue_size;
};

struct net {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	struct net_options opt;
	const struct net_backend_ops *backend;
	void *backend_state;

	uint64_t offered;  /* device features offered */
	uint64_t features; /* negotiated (valid while active) */
	bool active;       /* between activate() and reset() */
	unsigned active_pairs;

	/* Config space values (host byte order). */
	uint8_t mac[6];
	uint16_t status;

	struct net_filter filter;
	struct net_pair pairs[NET_MAX_PAIRS];

	/* Receive chains held when a reset came: pushed (which only frees
	 * stale chains) after the host has forgotten the rings. */
	struct hvd_chain **stale;
	unsigned stale_num, stale_cap;

	uint8_t *rx_scratch; /* NET_RX_SCRATCH bytes, shared by the pairs */
	/* Control commands left for the event loop after a full batch. */
	struct hvd_timer *ctrl_more;
};

/* A backend: opens one fd per pair; frames are [virtio_net_hdr_v1][frame]
 * on both directions. net_rx.c checks every received header against the
 * negotiated GUEST_* features whatever the backend. recv/send return bytes or
 * -errno (-EAGAIN: try when the fd is ready). */
struct net_backend_ops {
	const char *name;
	/* Offload features (VIRTIO_NET_F_*) this backend carries honestly. */
	uint64_t (*offloads)(struct net *net);
	int (*open)(struct net *net);
	void (*close)(struct net *net);
	/* Negotiated features known (activate): pass the guest's offloads. */
	int (*activate)(struct net *net, uint64_t features);
	/* MQ: only the first `num` pairs take frames from the backend. */
	int (*set_active_pairs)(struct net *net, unsigned num);
	/* Length of the next frame (header included) without taking it,
	 * -EAGAIN if none; NULL when the backend cannot tell. */
	ssize_t (*peek_len)(struct net_pair *pair);
	/* *truncated: the frame did not fit iov (dropped by the kernel). */
	ssize_t (*recv)(struct net_pair *pair, const struct iovec *iov,
			unsigned num, bool *truncated);
	ssize_t (*send)(struct net_pair *pair, const struct iovec *iov,
			unsigned num);
	/* EV_ERR/EV_HUP seen: 0 if cleared (go on), <0 if the fd is dead. */
	int (*error)(struct net_pair *pair);
};

extern const struct net_backend_ops net_backend_tap;
extern const struct net_backend_ops net_backend_socket;

/* net_config.c */
int net_parse_options(struct net *net);
int net_parse_mac(const char *text, uint8_t mac[6]);

/* net_device.c */
void net_pair_update_watch(struct net_pair *pair);
/* The pair's fd is dead: stop watching it, link down. */
void net_pair_fail(struct net_pair *pair);
void net_set_link(struct net *net, bool up);
/* Move to `num` active pairs (VQ_PAIRS_SET; activate). */
int net_set_active_pairs(struct net *net, unsigned num);
static inline bool net_has(const struct net *net, unsigned bit)
{
	return net->features & (1ull << bit);
}

/* net_rx.c */
/* Deliver up to `budget` frames, then leave the rest to the event loop. */
void net_rx_drain(struct net_pair *pair, unsigned budget);
/* Hand every held chain to net->stale (reset) / push the stale ones. */
void net_rx_forget(struct net_pair *pair);
void net_rx_free_stale(struct net *net);
void net_rx_pair_free(struct net_pair *pair);
bool net_filter_accepts(const struct net *net, const uint8_t *dst);

/* net_tx.c: send up to `budget` frames, the rest on HVD_EV_OUT. */
void net_tx_drain(struct net_pair *pair, unsigned budget);

/* net_ctrl.c */
void net_ctrl_notify(struct net *net, struct hvd_vq *vq);
/* Forget control work left for later (device reset). */
void net_ctrl_reset(struct net *net);
void net_filter_reset(struct net_filter *filter);

#endif
