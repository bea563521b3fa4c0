/* SPDX-License-Identifier: MIT */
/*
 * Per-queue and per-device counters for `hvisor virtio stats`.
 *
 * Every counter has one writer at a time: the per-queue request counters
 * are written under the queue's lock (vq_pop/vq_push/vq_notify), kicks by
 * the dispatch thread only, NEEDS_RESET events with an atomic add. Writers
 * use relaxed load + store (no locked instruction on the data path);
 * readers (the control socket) use relaxed loads and may see a snapshot a
 * few requests old, never a torn value.
 *
 * Latency is popped-to-pushed time of sampled requests (STATS_LAT_SAMPLE),
 * kept in a fixed log2 histogram: bucket
 * i holds latencies in [2^(i-1), 2^i) ns (bucket 0: 0 ns), so quantiles
 * are reported as a bucket's upper bound, within a factor of two.
 */
#ifndef CORE_STATS_H
#define CORE_STATS_H

#include <stdbool.h>
#include <stdint.h>

#define STATS_LAT_BUCKETS 40 /* up to 2^39 ns, about 9 minutes */
/* One request in this many is timed (the first one of a queue always):
 * the counts stay exact, the quantiles come from a 1/16 sample. */
#define STATS_LAT_SAMPLE 16u

struct vq_stats {
	uint64_t requests;  /* chains completed (pushed) */
	uint64_t bytes_out; /* driver -> device (readable bytes popped) */
	uint64_t bytes_in;  /* device -> driver (bytes written on push) */
	uint64_t errors;    /* ring violations found on this queue */
	uint64_t kicks;     /* QueueNotify writes (dispatch thread) */
	uint64_t interrupts;
	uint64_t lat[STATS_LAT_BUCKETS];
};

/* Counting on/off for the whole process (default on). Off, the data path
 * skips the clock reads and counter stores; the benchmark toggles it to
 * measure what counting costs. */
void stats_set_enabled(bool on);
static inline bool stats_enabled(void)
{
	extern bool stats_on;
	return __atomic_load_n(&stats_on, __ATOMIC_RELAXED);
}

uint64_t stats_now_ns(void);

/* Single-writer increment: relaxed load + store, no locked instruction. */
static inline void stats_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Record one latency in the histogram (single writer). */
void stats_latency(struct vq_stats *s, uint64_t ns);

/* A relaxed snapshot of s into out. */
void stats_snapshot(const struct vq_stats *s, struct vq_stats *out);

/* Quantile q (0..1) of a histogram as the upper bound of its bucket in ns;
 * 0 when empty. */
uint64_t stats_quantile_ns(const uint64_t *lat, double q);

/* Add src's counters into dst (plain, on snapshots). */
void stats_sum(struct vq_stats *dst, const struct vq_stats *src);

#endif
