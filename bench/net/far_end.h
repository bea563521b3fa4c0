/* SPDX-License-Identifier: MIT */
/*
 * bench_net's far end of a path: the thread that sends frames into it
 * (datagram or packet socket) and the one that reads them out (datagrams
 * by recvmmsg, frames on an interface by a pkt_ring), and the reference
 * run of the same frames between two fds with no device in between.
 */
#ifndef BENCH_NET_FAR_END_H
#define BENCH_NET_FAR_END_H

#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pkt_ring.h"

#define HDR     ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define WAIT_MS 2000

/* ---- The far end: a datagram socket or a packet socket ------------------ */

struct far {
	int fd;
	bool with_hdr;         /* datagrams carry the virtio-net header */
	uint32_t len;          /* frame bytes */
	unsigned n;            /* frames to move */
	unsigned done;         /* frames moved by the thread */
	uint64_t end_ns;       /* when the last one moved */
	unsigned pace_pps;     /* sender: this rate, 0 = flat out */
	struct pkt_ring *ring; /* receiver on an interface, else fd */
	unsigned drops; /* receiver: frames its own ring had no room for */
	/* sender: at most `window` frames beyond *acked (what the far side
	 * took so far, updated atomically by its reader), 0 = no limit. */
	const unsigned *acked;
	unsigned window;
	/* Set (atomically) by the far side when it stops taking frames (its
	 * failure guard ran out): a windowed sender then stops waiting. */
	bool stop;
};

/* What one run moved: frames read of `sent`, frames its reader dropped,
 * time from the first send to the last frame read, daemon CPU ticks. */
struct run {
	unsigned frames, sent, drops;
	uint64_t ns;
	long ticks;
};

/* Broadcast frames of the local experimental ethertype from 02:77:...,
 * behind a zeroed virtio-net header. */
extern uint8_t frame_template[HDR + 1514];
void make_template(void);
/* Thread body: sends f->n frames (paced at f->pace_pps if set, within
 * f->window of *f->acked if set). */
void *far_send(void *arg);
/* Starts the receiver `f` (its ring emptied first); `*t0` is taken after
 * that, just before the first frame can be sent. */
void far_recv_start(struct far *f, pthread_t *t, uint64_t *t0);
void run_add(struct run *sum, struct run r);
/* Frames per second, or 0 when the reader dropped (then the figure would
 * be the reader's, not the path's). */
double run_pps(struct run r);
/* `rx.n` frames from `tx.fd` to `rx` (fd or ring). */
struct run reference_run(struct far tx, struct far rx);

#endif
