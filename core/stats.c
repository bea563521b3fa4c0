/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <time.h>

bool stats_on = true;

void stats_set_enabled(bool on)
{
	__atomic_store_n(&stats_on, on, __ATOMIC_RELAXED);
}

uint64_t stats_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void stats_latency(struct vq_stats *s, uint64_t ns)
{
	unsigned b = ns ? 64u - (unsigned)__builtin_clzll(ns) : 0;
	if (b >= STATS_LAT_BUCKETS)
		b = STATS_LAT_BUCKETS - 1;
	stats_add(&s->lat[b], 1);
}

void stats_snapshot(const struct vq_stats *s, struct vq_stats *out)
{
	out->requests = stats_get(&s->requests);
	out->bytes_out = stats_get(&s->bytes_out);
	out->bytes_in = stats_get(&s->bytes_in);
	out->errors = stats_get(&s->errors);
	out->kicks = stats_get(&s->kicks);
	out->interrupts = stats_get(&s->interrupts);
	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++)
		out->lat[i] = stats_get(&s->lat[i]);
}

uint64_t stats_quantile_ns(const uint64_t *lat, double q)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++)
		total += lat[i];
	if (!total)
		return 0;
	/* The smallest bucket whose cumulative count reaches q of the total
	 * (rank rounded up, so p99 of 100 samples is the 99th). */
	uint64_t rank = (uint64_t)(q * (double)total);
	if ((double)rank < q * (double)total)
		rank++;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++) {
		seen += lat[i];
		if (seen >= rank)
			return i ? 1ull << i : 0;
	}
	return 1ull << (STATS_LAT_BUCKETS - 1);
}

void stats_sum(struct vq_stats *dst, const struct vq_stats *src)
{
	dst->requests += src->requests;
	dst->bytes_out += src->bytes_out;
	dst->bytes_in += src->bytes_in;
	dst->errors += src->errors;
	dst->kicks += src->kicks;
	dst->interrupts += src->interrupts;
	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++)
		dst->lat[i] += src->lat[i];
}
