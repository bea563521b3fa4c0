/* SPDX-License-Identifier: MIT */
/*
 * The bench's own reader of frames on an interface: an AF_PACKET socket
 * with a TPACKET_V3 receive ring (the kernel writes frames into shared
 * memory; the reader sleeps once per filled block, not once per frame),
 * which ignores frames the host itself sends on that interface. Used
 * alike for the veth reference and for the daemon's tap, so that a ratio
 * compares two paths read the same way. Frames the ring had no room for
 * are counted by the kernel (PACKET_STATISTICS) and reported: a run whose
 * reader dropped says so instead of giving a figure.
 */
#ifndef BENCH_PKT_RING_H
#define BENCH_PKT_RING_H

#include <stdbool.h>
#include <stdint.h>

struct pkt_ring {
	int fd;
	uint8_t *map;
	unsigned nblocks, block_size;
	unsigned cur; /* next block to look at */
};

/* Frames that match: `len` bytes with our source address. */
struct pkt_count {
	uint32_t len;
	unsigned want;   /* stop after this many */
	unsigned got;    /* matching frames read */
	uint64_t end_ns; /* CLOCK_MONOTONIC time the kernel took the last */
	unsigned drops;  /* frames the ring had no room for */
};

/* Opens the ring on interface `ifname`; 0 or -errno. */
int pkt_ring_open(struct pkt_ring *r, const char *ifname);
void pkt_ring_close(struct pkt_ring *r);
/* Empties the ring and zeroes the kernel's drop count, before a run. */
void pkt_ring_reset(struct pkt_ring *r);
/* Reads until c->want frames matched or nothing came for `wait_ms`. */
void pkt_ring_read(struct pkt_ring *r, struct pkt_count *c, int wait_ms);
/* A socket that only sends on `ifname` (it receives nothing), or -errno. */
int pkt_sender(const char *ifname);
/* Sets interface `name` up with IPv6 off on it (IPv6 would send its own
 * frames on the link); 0 or -1. */
int pkt_if_up(const char *name);

#endif
