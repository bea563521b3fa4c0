/* SPDX-License-Identifier: MIT */
/*
 * bench_vq_stats: what request counting (hvisor virtio stats) costs per
 * request in the virtqueue code itself, on one thread, without the rest of
 * the path around it: a driver puts a two-descriptor request (16-byte
 * header out, 4 KiB in) on the ring, the device side pops, pushes and
 * notifies. Counting on and off alternate in short slices of the same run.
 * bench_blk --stats-overhead gives the same comparison through the whole
 * path. Prints figures; asserts nothing.
 *
 * Usage: bench_vq_stats [slices [requests-per-slice]]
 */
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "stats.h"
#include "virtqueue.h"

#define RAM_GPA   0x40000000ull
#define RAM_SIZE  (1u << 20)
#define QSIZE     256u
#define AVAIL_OFF 0x8000u
#define USED_OFF  0xA000u
#define BUF_OFF   0x20000u

static unsigned irqs;

static void on_fail(void *owner, const char *why)
{
	fprintf(stderr, "bench_vq_stats: ring violation: %s\n", why);
	exit(1);
}

static void on_irq(void *owner)
{
	irqs++;
}

/* One request through the queue, as driver and device in turn. */
static void one(struct virtqueue *vq, uint8_t *ram, uint16_t *aidx)
{
	struct vring_desc *d = (struct vring_desc *)ram;
	struct vring_avail *av = (struct vring_avail *)(ram + AVAIL_OFF);
	uint16_t head = (uint16_t)((*aidx * 2u) % QSIZE);
	d[head] = (struct vring_desc){RAM_GPA + BUF_OFF, 16, VRING_DESC_F_NEXT,
				      (uint16_t)(head + 1)};
	d[head + 1] = (struct vring_desc){RAM_GPA + BUF_OFF + 4096, 4096,
					  VRING_DESC_F_WRITE, 0};
	av->ring[*aidx % QSIZE] = head;
	__atomic_store_n(&av->idx, ++*aidx, __ATOMIC_RELEASE);
	struct hvd_chain *c = vq_pop(vq);
	if (!c)
		exit(1);
	vq_push(c, 4096);
	vq_notify(vq);
}

int main(int argc, char **argv)
{
	unsigned slices = argc > 1 ? (unsigned)atoi(argv[1]) : 40;
	unsigned per = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
	uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
	struct guest_mem gm = {0};
	static struct virtqueue vq;
	if (!ram || guest_mem_add(&gm, RAM_GPA, RAM_SIZE, ram))
		return 1;
	memset(ram, 0, RAM_SIZE);
	vq_init(&vq, 0, QSIZE, NULL, on_fail, on_irq);
	vq.num = QSIZE;
	vq.desc_gpa = RAM_GPA;
	vq.avail_gpa = RAM_GPA + AVAIL_OFF;
	vq.used_gpa = RAM_GPA + USED_OFF;
	vq.ready = true;
	const char *why;
	if (vq_start(&vq, &gm, false, false, &why))
		return 1;
	uint16_t aidx = 0;
	double ns[2] = {0, 0}; /* [0] counting, [1] off */
	for (unsigned s = 0; s < slices; s++)
		for (unsigned k = 0; k < 2; k++) {
			unsigned off = (s + k) & 1;
			stats_set_enabled(!off);
			uint64_t t0 = now_ns();
			for (unsigned i = 0; i < per; i++)
				one(&vq, ram, &aidx);
			ns[off] += (double)(now_ns() - t0);
		}
	double total = (double)slices * per;
	printf("bench_vq_stats: %u slices of %u requests each way, one "
	       "thread\n",
	       slices, per);
	printf("  counting on:  %7.1f ns per request (pop + push + notify)\n",
	       ns[0] / total);
	printf("  counting off: %7.1f ns per request\n", ns[1] / total);
	printf("  cost:         %7.1f ns per request\n",
	       (ns[0] - ns[1]) / total);
	printf("  (counted %llu requests, %u interrupts)\n",
	       (unsigned long long)vq.stats.requests, irqs);
	vq_destroy(&vq);
	guest_mem_clear(&gm);
	free(ram);
	return 0;
}
