/* SPDX-License-Identifier: MIT */
/*
 * Shared guest-side helpers of the net suites: an in-process daemon with one
 * net device (zone 1, 0xa003c00, irq 80), a guest driver for it, and a
 * socket "wire" the test holds as the far end of the socket backend.
 *
 * Every wait has a timeout that only guards against a hang.
 */
#ifndef TESTS_NET_NET_HARNESS_H
#define TESTS_NET_NET_HARNESS_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../daemon_fixture.h"

#define NET_BASE 0xa003c00ull
#define NET_IRQ  80u
#define NET_HDR  ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define BIT(b)   (1ull << (b))

/* A guest-side buffer pool slot. */
struct gbuf {
	uint8_t *p;
	uint64_t gpa;
	uint32_t len;
};

struct net_harness {
	struct fixture fx;
	struct hvd_guest_dev *gd;
	char dir[64];        /* temp dir holding the sockets */
	char dev_path[128];  /* the device binds this (+ ".k") */
	char peer_path[128]; /* the test binds this (+ ".k") */
	int peer_fd[4];      /* our end of each pair's wire, or -1 */
	struct hvd_guest_vq *rxq[4], *txq[4], *ctrlq;
	unsigned pairs;
	uint64_t features; /* negotiated */
};

/* Start the daemon with a socket-backed net device; `extra` is appended to
 * the device's JSON (", \"mtu\": 9000"). pairs = num_queue_pairs. */
int nh_start(struct net_harness *h, unsigned pairs, const char *extra);
/* Start with a raw device JSON (for tap tests and config errors): returns
 * fixture_start()'s result. */
int nh_start_json(struct net_harness *h, const char *device_json);
void nh_stop(struct net_harness *h);

/* Negotiate `want` (VERSION_1 added), set up every queue with `qsize`
 * entries, DRIVER_OK. Returns 0 or -1. */
int nh_bring_up(struct net_harness *h, uint64_t want, uint16_t qsize);

/* Guest memory for a buffer of len bytes. */
struct gbuf nh_alloc(struct net_harness *h, uint32_t len);

/* Post one writable rx buffer on pair `q` (token = the gbuf pointer). */
int nh_post_rx(struct net_harness *h, unsigned q, struct gbuf *b);
/* Transmit [hdr][frame] from `b` (already filled, len bytes) on pair q and
 * wait for its used entry. */
int nh_tx(struct net_harness *h, unsigned q, struct gbuf *b, uint32_t len);
/* Queue a tx chain without waiting (token = b). */
int nh_tx_add(struct net_harness *h, unsigned q, struct gbuf *b, uint32_t len);

/* Control command: class, cmd, data; returns the ack byte or -1. */
int nh_ctrl(struct net_harness *h, uint8_t cls, uint8_t cmd, const void *data,
	    uint32_t len);

/* The wire: send a datagram to the device on pair q / receive one (poll
 * with timeout). Return bytes or -1. */
ssize_t nh_wire_send(struct net_harness *h, unsigned q, const void *buf,
		     size_t len);
ssize_t nh_wire_recv(struct net_harness *h, unsigned q, void *buf, size_t len,
		     int timeout_ms);

/* Register round trip: the dispatch thread has taken earlier requests.
 * Not a barrier for buffers: while it polls rings (net sets
 * HVD_DEVICE_F_POLL_RINGS) the driver skips kicks and the buffers are seen
 * at its next look, maybe after this. Wait for their effect instead. */
void nh_sync(struct net_harness *h);
/* Wait on `vq` (by interrupt; the timeout only guards) until the device
 * reports NEEDS_RESET, taking any completions before it (a refused chain
 * may come back used first). True if it did. */
bool nh_wait_needs_reset(struct net_harness *h, struct hvd_guest_vq *vq);

/* Deterministic frame contents: frame `seq` of `len` bytes, Ethernet
 * destination `dst` (NULL: broadcast). */
void nh_fill_frame(uint8_t *frame, uint32_t len, uint32_t seq,
		   const uint8_t *dst);
bool nh_check_frame(const uint8_t *frame, uint32_t len, uint32_t seq);

/* Tiny deterministic PRNG for sizes. */
uint32_t nh_rand(uint32_t *state);

#endif
