/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk load both blk benchmarks drive (bench_blk: the blk
 * plugin; bench_vu: the same beside a vhost-user-blk backend): an access
 * pattern, the direct preadv/pwritev reference, and the guest driver
 * keeping `depth` requests in flight. The includer defines IMG_SIZE and
 * SECTOR first.
 */
#ifndef BENCH_BLK_LOAD_H
#define BENCH_BLK_LOAD_H

#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../bench_util.h"
#include "hvd/mock.h"

struct workload {
	const char *name;
	bool write;
	bool sequential;
	uint32_t block;
	unsigned depth;
	unsigned
		ref_threads; /* threads of the direct reference (0 or 1: one) */
	const char *target;  /* issue 16, ratio to that reference */
	bool get_id; /* GET_ID requests (20 bytes, no file I/O) instead */
};

struct slot {
	struct virtio_blk_outhdr *hdr;
	uint8_t *data, *status;
	uint64_t hdr_gpa, data_gpa, status_gpa;
	/* INDIRECT_DESC negotiated: Linux uses it for every chain of more
	 * than one buffer, so the benchmarks do too. */
	bool indirect;
};

/* n request slots in guest RAM (header, `data_len` bytes of data, status
 * byte); 0 or -1 when the RAM is full. */
static inline int slots_alloc(struct hvd_guest_dev *gd, struct slot *slots,
			      unsigned n, uint32_t data_len, bool indirect)
{
	for (unsigned i = 0; i < n; i++) {
		struct slot *s = &slots[i];
		void *p;
		s->hdr_gpa = hvd_guest_alloc(gd, 16, 16, &p);
		s->hdr = p;
		s->data_gpa = hvd_guest_alloc(gd, data_len, 4096, &p);
		s->data = p;
		s->status_gpa = hvd_guest_alloc(gd, 1, 1, &p);
		s->status = p;
		s->indirect = indirect;
		if (!s->hdr_gpa || !s->data_gpa || !s->status_gpa)
			return -1;
	}
	return 0;
}

/* CPU time of this process: the guest driver and the mock hypervisor
 * (its server thread), i.e. the harness's share of the path. */
static inline double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* Next offset of the pattern, in bytes. */
static inline uint64_t next_offset(const struct workload *w, uint64_t *cursor,
				   unsigned *seed)
{
	uint64_t blocks = IMG_SIZE / w->block;
	uint64_t b;
	if (w->sequential) {
		b = *cursor % blocks;
		(*cursor)++;
	} else {
		b = ((uint64_t)rand_r(seed) << 16 ^ (uint64_t)rand_r(seed)) %
		    blocks;
	}
	return b * w->block;
}

/* Reference: the same pattern with preadv/pwritev, one thread, reading into
 * or writing from the data buffers of the guest's request slots `first`,
 * `first + step`, ... below w->depth, in turn: the memory the path copies
 * to or from for the same workload, which no daemon can choose. It used
 * one hot buffer before; 4K random pwritev from 32 buffers 132 KiB apart
 * costs 6.97 us against 6.55 from one (a loop alone, 12 runs of each), and
 * bench_blk's randwrite QD32 reference went 146k -> 144k IOPS (medians of
 * 8 alternated runs). Returns the operations done; *elapsed gets the time
 * they took. The path must be idle meanwhile (path_run drains). */
static inline uint64_t direct_run(int fd, const struct workload *w,
				  double seconds, const struct slot *slots,
				  unsigned first, unsigned step, unsigned *seed,
				  uint64_t *cursor, double *elapsed)
{
	uint64_t ops = 0;
	unsigned k = first;
	double start = now_s(), end = start + seconds, t = start;
	while (t < end) {
		for (int i = 0; i < 64; i++) {
			struct iovec iov = {slots[k].data, w->block};
			off_t off = (off_t)next_offset(w, cursor, seed);
			ssize_t n = w->write ? pwritev(fd, &iov, 1, off)
					     : preadv(fd, &iov, 1, off);
			if (n != (ssize_t)w->block) {
				perror("bench_blk: direct I/O");
				exit(1);
			}
			ops++;
			k += step;
			if (k >= w->depth)
				k = first;
		}
		t = now_s();
	}
	*elapsed = t - start;
	return ops;
}

struct direct_arg {
	int fd;
	const struct workload *w;
	double seconds, elapsed;
	const struct slot *slots;
	unsigned first, seed;
	uint64_t cursor, ops;
};

static inline void *direct_thread(void *p)
{
	struct direct_arg *a = p;
	a->ops = direct_run(a->fd, a->w, a->seconds, a->slots, a->first, 2,
			    &a->seed, &a->cursor, &a->elapsed);
	return NULL;
}

/* The reference with w->ref_threads threads (each its own pattern, and
 * every other one of the slots' buffers); the operations of all,
 * *elapsed the longest thread's time. */
static inline uint64_t direct_runs(int fd, const struct workload *w,
				   double seconds, const struct slot *slots,
				   unsigned *seed, uint64_t *cursor,
				   double *elapsed)
{
	if (w->ref_threads <= 1)
		return direct_run(fd, w, seconds, slots, 0, 1, seed, cursor,
				  elapsed);
	struct direct_arg a[2];
	pthread_t t[2];
	for (unsigned i = 0; i < 2; i++) {
		a[i] = (struct direct_arg){.fd = fd,
					   .w = w,
					   .seconds = seconds,
					   .slots = slots,
					   .first = i,
					   .seed = *seed + i * 7919u,
					   .cursor = *cursor};
		pthread_create(&t[i], NULL, direct_thread, &a[i]);
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	*seed = a[0].seed;
	*cursor = a[0].cursor;
	*elapsed = a[0].elapsed > a[1].elapsed ? a[0].elapsed : a[1].elapsed;
	return a[0].ops + a[1].ops;
}

static inline int submit(struct hvd_guest_vq *vq, struct slot *s,
			 const struct workload *w, uint64_t offset)
{
	uint32_t type = w->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	s->hdr->type = htole32(w->get_id ? VIRTIO_BLK_T_GET_ID : type);
	s->hdr->sector = htole64(offset / SECTOR);
	*s->status = 0xff;
	struct hvd_guest_buf bufs[3] = {
		{s->hdr_gpa, sizeof *s->hdr, false},
		{s->data_gpa, w->get_id ? VIRTIO_BLK_ID_BYTES : w->block,
		 !w->write},
		{s->status_gpa, 1, true},
	};
	return hvd_guest_vq_add(vq, bufs, 3, s->indirect, s);
}

/* Full path: keep `depth` requests outstanding for `seconds`, then let
 * them drain. Returns the operations done; *elapsed as above. */
static inline uint64_t path_run(struct hvd_guest_vq *vq, struct slot *slots,
				const struct workload *w, double seconds,
				unsigned *seed, uint64_t *cursor,
				double *elapsed)
{
	uint64_t ops = 0;
	for (unsigned i = 0; i < w->depth; i++)
		if (submit(vq, &slots[i], w, next_offset(w, cursor, seed)) < 0)
			exit(1);
	hvd_guest_vq_kick(vq);
	unsigned outstanding = w->depth;
	double start = now_s(), end = start + seconds, t = start;
	bool stopping = false;
	while (outstanding > 0) {
		void *token;
		uint32_t len;
		if (hvd_guest_vq_wait_used(vq, &token, &len, 5000)) {
			fprintf(stderr, "bench_blk: a request timed out\n");
			exit(1);
		}
		/* Take everything completed so far, then kick once. */
		unsigned resubmitted = 0;
		do {
			struct slot *s = token;
			if (*s->status != VIRTIO_BLK_S_OK) {
				fprintf(stderr, "bench_blk: status %u\n",
					*s->status);
				exit(1);
			}
			ops++;
			outstanding--;
			if (!stopping) {
				submit(vq, s, w, next_offset(w, cursor, seed));
				outstanding++;
				resubmitted++;
			}
		} while (hvd_guest_vq_get_used(vq, &token, &len) == 1);
		if (resubmitted)
			hvd_guest_vq_kick(vq);
		t = now_s();
		stopping = t >= end;
	}
	*elapsed = t - start;
	return ops;
}

/* The image at `path`, IMG_SIZE bytes written with data (no holes) so
 * reads are served from page cache exactly like written pages. Returns
 * an fd open for the direct reference, or -1. */
static inline int bench_make_image(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	static uint8_t chunk[1 << 20];
	memset(chunk, 0x5a, sizeof chunk);
	for (uint64_t off = 0; fd >= 0 && off < IMG_SIZE; off += sizeof chunk)
		if (pwrite(fd, chunk, sizeof chunk, (off_t)off) !=
		    (ssize_t)sizeof chunk) {
			close(fd);
			return -1;
		}
	return fd;
}

#endif
