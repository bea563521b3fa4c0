/* SPDX-License-Identifier: MIT */
/*
 * Guest memory and split virtqueue unit tests. No daemon: a buffer plays the
 * guest's RAM, the test writes rings into it as a driver would, and counting
 * callbacks stand in for the device owner.
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "cunit_main.h"
#include "guestmem.h"
#include "virtqueue.h"

/* ---- Fake guest ---------------------------------------------------------- */

#define RAM_GPA   0x40000000ull
#define RAM_SIZE  (1u << 20)
#define DESC_OFF  0x0000u /* up to 2048 entries: 32 KiB */
#define AVAIL_OFF 0x8000u
#define USED_OFF  0xA000u
#define IND_OFF   0x10000u /* indirect tables */
#define BUF_OFF   0x20000u /* data buffers */
#define QMAX      2048u

static struct {
	uint8_t *ram;
	struct guest_mem gm;
	struct virtqueue vq;
	uint16_t num;
	uint16_t aidx; /* the driver's avail->idx shadow */
	unsigned fails, irqs, irq_bad;
	const char *why;
	bool lock_free_in_cb;
} F;

static uint64_t gpa(uint64_t off)
{
	return RAM_GPA + off;
}

static struct vring_desc *dtab(void)
{
	return (struct vring_desc *)(F.ram + DESC_OFF);
}

static struct vring_avail *avail(void)
{
	return (struct vring_avail *)(F.ram + AVAIL_OFF);
}

static struct vring_used *used(void)
{
	return (struct vring_used *)(F.ram + USED_OFF);
}

static uint16_t *used_event(void)
{
	return &avail()->ring[F.num];
}

static uint16_t *avail_event(void)
{
	return (uint16_t *)&used()->ring[F.num];
}

/* Is the queue lock free? Proves a callback runs without it. */
static bool lock_is_free(void)
{
	if (pthread_mutex_trylock(&F.vq.lock) != 0)
		return false;
	pthread_mutex_unlock(&F.vq.lock);
	return true;
}

static void on_fail(void *owner, const char *why)
{
	CU_ASSERT_PTR_EQUAL(owner, &F);
	F.fails++;
	F.why = why;
	F.lock_free_in_cb = lock_is_free();
	/* Calling back into the queue must work (and see it broken). */
	if (F.lock_free_in_cb)
		CU_ASSERT_EQUAL(vq_has_work(&F.vq), 0);
}

/* May run on another thread (test_threaded): no CUnit calls here, the
 * findings are checked in teardown(). */
static void on_irq(void *owner)
{
	if (owner != &F || !lock_is_free())
		F.irq_bad++;
	F.irqs++;
}

static void set_desc(struct vring_desc *t, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].next = next;
}

/* Driver: publish head in the avail ring. */
static void drv_add(uint16_t head)
{
	avail()->ring[F.aidx % F.num] = head;
	F.aidx++;
	__atomic_store_n(&avail()->idx, F.aidx, __ATOMIC_RELEASE);
}

/* Program the queue registers as the driver would, then start. */
static int configure(uint16_t num, bool event_idx, bool indirect,
		     const char **why)
{
	F.num = num;
	F.aidx = 0;
	memset(F.ram, 0, BUF_OFF); /* fresh rings */
	F.vq.num = num;
	F.vq.desc_gpa = gpa(DESC_OFF);
	F.vq.avail_gpa = gpa(AVAIL_OFF);
	F.vq.used_gpa = gpa(USED_OFF);
	F.vq.ready = true;
	return vq_start(&F.vq, &F.gm, event_idx, indirect, why);
}

static void setup(uint16_t num, bool event_idx, bool indirect)
{
	memset(&F, 0, sizeof(F));
	F.ram = aligned_alloc(4096, RAM_SIZE);
	CU_ASSERT_FATAL(F.ram != NULL);
	memset(F.ram, 0, RAM_SIZE);
	CU_ASSERT_FATAL(guest_mem_add(&F.gm, RAM_GPA, RAM_SIZE, F.ram) == 0);
	vq_init(&F.vq, 0, QMAX, &F, on_fail, on_irq);
	const char *why = NULL;
	CU_ASSERT_FATAL(configure(num, event_idx, indirect, &why) == 0);
	CU_ASSERT_FATAL(F.vq.started);
}

static void teardown(void)
{
	CU_ASSERT_EQUAL(F.irq_bad, 0);
	vq_destroy(&F.vq);
	guest_mem_clear(&F.gm);
	free(F.ram);
	memset(&F, 0, sizeof(F));
}

/* Pop, expecting a violation whose reason contains `expect`. */
static void expect_violation(const char *expect)
{
	struct hvd_chain *c = vq_pop(&F.vq);

	CU_ASSERT_PTR_NULL(c);
	if (c)
		vq_push(c, 0);
	CU_ASSERT_EQUAL(F.fails, 1);
	CU_ASSERT_TRUE(F.vq.broken);
	CU_ASSERT_TRUE(F.lock_free_in_cb);
	CU_ASSERT_EQUAL(F.vq.last_avail, 0);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(F.why);
	CU_ASSERT_PTR_NOT_NULL(strstr(F.why, expect));
}

/* ---- guestmem ------------------------------------------------------------ */

static void test_guestmem_add(void)
{
	struct guest_mem gm = {0};
	static uint8_t a[64];

	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x1000, 0, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, UINT64_MAX, 2, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 2, UINT64_MAX, a), -EINVAL);
	CU_ASSERT_EQUAL(gm.count, 0);

	/* Added out of order, kept sorted. */
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x3000, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x1000, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x5000, 0x1000, a), 0);
	CU_ASSERT_EQUAL(gm.count, 3);
	CU_ASSERT_EQUAL(gm.regions[0].gpa, 0x1000);
	CU_ASSERT_EQUAL(gm.regions[1].gpa, 0x3000);
	CU_ASSERT_EQUAL(gm.regions[2].gpa, 0x5000);

	/* Overlaps: same, left edge, right edge, containing, contained. */
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x3000, 0x1000, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x2800, 0x1000, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x3fff, 0x10, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x0, 0x10000, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x3100, 0x10, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x1fff, 0x1002, a), -EINVAL);
	CU_ASSERT_EQUAL(gm.count, 3);

	/* Exactly adjacent is fine, and so is a region ending at 2^64-1. */
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x2000, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, UINT64_MAX - 0xfff, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, UINT64_MAX, 1, a), -EINVAL);
	CU_ASSERT_EQUAL(gm.count, 6);
	for (unsigned i = 1; i < gm.count; i++)
		CU_ASSERT_TRUE(gm.regions[i - 1].gpa < gm.regions[i].gpa);

	guest_mem_clear(&gm);
	CU_ASSERT_EQUAL(gm.count, 0);
	CU_ASSERT_PTR_NULL(gm.regions);
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x1000, 1));
}

static void test_guestmem_ptr(void)
{
	struct guest_mem gm = {0};
	static uint8_t a[0x1000], b[0x1000], top[0x100];

	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x10000, sizeof(a), a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x11000, sizeof(b), b), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, UINT64_MAX - 0xff, 0x100, top), 0);

	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, 0x10000, 0x1000), a);
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, 0x10010, 16), a + 0x10);
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, 0x11ff0, 16), b + 0xff0);
	/* Past the end, below the start, spanning two (adjacent) regions. */
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x11ff0, 17));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0xffff, 1));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x0, 1));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x10ff0, 0x20));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x12000, 1));
	/* len 0 is treated as 1. */
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, 0x11fff, 0), b + 0xfff);
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x12000, 0));
	/* Overflow: none of these may wrap into a region. */
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, UINT64_MAX - 1, 4));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, UINT64_MAX, 2));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x10000, UINT64_MAX));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x10, UINT64_MAX - 0x8));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0, UINT64_MAX));
	/* The top region works up to its last byte. */
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, UINT64_MAX, 1), top + 0xff);
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, UINT64_MAX - 0xff, 0x100), top);
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, UINT64_MAX - 0x100, 0x100));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(NULL, 0x10000, 1));
	guest_mem_clear(&gm);
}

/* Many regions added in a scrambled order; every lookup lands right. */
static void test_guestmem_many(void)
{
	enum { N = 257 };
	struct guest_mem gm = {0};
	static uint8_t backing[N][64];

	for (unsigned k = 0; k < N; k++) {
		unsigned i = (k * 101) % N; /* 101 is prime to 257 */
		CU_ASSERT_EQUAL_FATAL(guest_mem_add(&gm,
						    0x100000ull + i * 0x100, 64,
						    backing[i]),
				      0);
	}
	CU_ASSERT_EQUAL(gm.count, N);
	unsigned bad = 0;
	for (unsigned i = 0; i < N; i++) {
		uint64_t base = 0x100000ull + i * 0x100;
		if (guest_mem_ptr(&gm, base, 64) != backing[i])
			bad++;
		if (guest_mem_ptr(&gm, base + 63, 1) != &backing[i][63])
			bad++;
		if (guest_mem_ptr(&gm, base + 64, 1) != NULL) /* the gap */
			bad++;
		if (guest_mem_ptr(&gm, base + 60, 8) != NULL)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	guest_mem_clear(&gm);
}

/* ---- vq_start ------------------------------------------------------------ */

static void expect_start_fail(void)
{
	const char *why = NULL;

	CU_ASSERT_EQUAL(vq_start(&F.vq, &F.gm, false, false, &why), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(why);
	CU_ASSERT_FALSE(F.vq.started);
	CU_ASSERT_PTR_NULL(vq_pop(&F.vq));
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 0);
}

static void test_start_validation(void)
{
	const char *why = NULL;

	setup(8, false, false);
	vq_reset(&F.vq);

	/* Not ready: nothing to start, not an error. */
	F.vq.num = 8;
	F.vq.desc_gpa = gpa(DESC_OFF);
	F.vq.avail_gpa = gpa(AVAIL_OFF);
	F.vq.used_gpa = gpa(USED_OFF);
	CU_ASSERT_EQUAL(vq_start(&F.vq, &F.gm, false, false, &why), 0);
	CU_ASSERT_FALSE(F.vq.started);
	F.vq.ready = true;

	F.vq.num = 0;
	expect_start_fail();
	F.vq.num = QMAX * 2;
	expect_start_fail();
	F.vq.num = 12;
	expect_start_fail();
	F.vq.num = 8;

	F.vq.desc_gpa = gpa(DESC_OFF + 8);
	expect_start_fail();
	F.vq.desc_gpa = gpa(DESC_OFF);
	F.vq.avail_gpa = gpa(AVAIL_OFF + 1);
	expect_start_fail();
	F.vq.avail_gpa = gpa(AVAIL_OFF);
	F.vq.used_gpa = gpa(USED_OFF + 2);
	expect_start_fail();

	/* Rings outside RAM, or running off its end. */
	F.vq.used_gpa = gpa(USED_OFF);
	F.vq.desc_gpa = RAM_GPA - 0x1000;
	expect_start_fail();
	F.vq.desc_gpa = gpa(RAM_SIZE - 0x40); /* 128 bytes needed */
	expect_start_fail();
	F.vq.desc_gpa = gpa(DESC_OFF);
	F.vq.avail_gpa = gpa(RAM_SIZE - 20); /* 22 bytes with used_event */
	expect_start_fail();
	F.vq.avail_gpa = gpa(AVAIL_OFF);
	F.vq.used_gpa = gpa(RAM_SIZE - 68); /* 70 bytes with avail_event */
	expect_start_fail();
	F.vq.used_gpa = UINT64_MAX - 3;
	expect_start_fail();
	F.vq.used_gpa = gpa(USED_OFF);

	/* Largest allowed size, and a 1-entry queue, both start. */
	F.vq.num = QMAX;
	CU_ASSERT_EQUAL(vq_start(&F.vq, &F.gm, true, true, &why), 0);
	CU_ASSERT_TRUE(F.vq.started && F.vq.event_idx && F.vq.indirect);
	CU_ASSERT_PTR_EQUAL(F.vq.desc, F.ram + DESC_OFF);
	CU_ASSERT_PTR_EQUAL(F.vq.avail, F.ram + AVAIL_OFF);
	CU_ASSERT_PTR_EQUAL(F.vq.used, F.ram + USED_OFF);
	CU_ASSERT_TRUE(F.vq.kick_enabled);
	vq_reset(&F.vq);
	CU_ASSERT_EQUAL(configure(1, false, false, &why), 0);
	set_desc(dtab(), 0, gpa(BUF_OFF), 4, 0, 0);
	for (unsigned i = 0; i < 3; i++) {
		drv_add(0);
		struct hvd_chain *c = vq_pop(&F.vq);
		CU_ASSERT_PTR_NOT_NULL(c);
		vq_push(c, 0);
	}
	CU_ASSERT_EQUAL(used()->idx, 3);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

/* ---- Well-formed chains -------------------------------------------------- */

static void test_empty_and_not_started(void)
{
	setup(8, false, false);
	CU_ASSERT_PTR_NULL(vq_pop(&F.vq));
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 0);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	drv_add(0);
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 1);
	vq_reset(&F.vq);
	CU_ASSERT_FALSE(F.vq.ready);
	CU_ASSERT_EQUAL(F.vq.num, 0);
	CU_ASSERT_PTR_NULL(F.vq.avail);
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 0);
	CU_ASSERT_PTR_NULL(vq_pop(&F.vq));
	vq_notify(&F.vq);
	vq_kick_enable(&F.vq, 1);
	CU_ASSERT_EQUAL(F.irqs, 0);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

static void test_direct_chain(void)
{
	setup(8, false, false);
	uint8_t *out0 = F.ram + BUF_OFF, *out1 = F.ram + BUF_OFF + 0x100;
	uint8_t *in0 = F.ram + BUF_OFF + 0x200;
	memcpy(out0, "hello ", 6);
	memcpy(out1, "world", 5);
	/* head 5 -> 2 -> 7 */
	set_desc(dtab(), 5, gpa(BUF_OFF), 6, VRING_DESC_F_NEXT, 2);
	set_desc(dtab(), 2, gpa(BUF_OFF + 0x100), 5, VRING_DESC_F_NEXT, 7);
	set_desc(dtab(), 7, gpa(BUF_OFF + 0x200), 64, VRING_DESC_F_WRITE, 0);
	drv_add(5);

	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_EQUAL(c->vq, (struct hvd_vq *)&F.vq);
	CU_ASSERT_EQUAL(c->head, 5);
	CU_ASSERT_EQUAL(c->num_out, 2);
	CU_ASSERT_EQUAL(c->num_in, 1);
	CU_ASSERT_EQUAL(c->out_bytes, 11);
	CU_ASSERT_EQUAL(c->in_bytes, 64);
	CU_ASSERT_PTR_EQUAL(c->iov[0].iov_base, out0);
	CU_ASSERT_EQUAL(c->iov[0].iov_len, 6);
	CU_ASSERT_PTR_EQUAL(c->iov[1].iov_base, out1);
	CU_ASSERT_EQUAL(c->iov[1].iov_len, 5);
	CU_ASSERT_PTR_EQUAL(c->iov[2].iov_base, in0);
	CU_ASSERT_EQUAL(c->iov[2].iov_len, 64);
	CU_ASSERT_EQUAL(memcmp(c->iov[1].iov_base, "world", 5), 0);
	CU_ASSERT_EQUAL(F.vq.inflight, 1);
	CU_ASSERT_EQUAL(F.vq.last_avail, 1);
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 0);
	CU_ASSERT_PTR_NULL(vq_pop(&F.vq));

	memcpy(c->iov[2].iov_base, "ok", 2);
	vq_push(c, 2);
	CU_ASSERT_EQUAL(used()->idx, 1);
	CU_ASSERT_EQUAL(used()->ring[0].id, 5);
	CU_ASSERT_EQUAL(used()->ring[0].len, 2);
	CU_ASSERT_EQUAL(memcmp(in0, "ok", 2), 0);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	CU_ASSERT_EQUAL(F.vq.used_idx, 1);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

/* A zero-length descriptor is accepted, gives no iovec, and its address is
 * never checked (nothing is accessed through it). */
static void test_zero_length_descriptor(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 10, VRING_DESC_F_NEXT, 1);
	set_desc(dtab(), 1, 0xdead0000ull, 0, VRING_DESC_F_NEXT, 2);
	set_desc(dtab(), 2, gpa(BUF_OFF + 0x100), 20, VRING_DESC_F_WRITE, 0);
	drv_add(0);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->num_out, 1);
	CU_ASSERT_EQUAL(c->num_in, 1);
	CU_ASSERT_EQUAL(c->out_bytes, 10);
	CU_ASSERT_EQUAL(c->in_bytes, 20);
	CU_ASSERT_PTR_EQUAL(c->iov[1].iov_base, F.ram + BUF_OFF + 0x100);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

static void build_indirect_table(struct vring_desc *t)
{
	/* Entries linked 0 -> 2 -> 1, not in table order. */
	set_desc(t, 0, gpa(BUF_OFF), 10, VRING_DESC_F_NEXT, 2);
	set_desc(t, 2, gpa(BUF_OFF + 0x100), 20, VRING_DESC_F_NEXT, 1);
	set_desc(t, 1, gpa(BUF_OFF + 0x200), 30, VRING_DESC_F_WRITE, 0);
}

static void check_indirect_chain(struct hvd_chain *c)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->num_out, 2);
	CU_ASSERT_EQUAL(c->num_in, 1);
	CU_ASSERT_EQUAL(c->out_bytes, 30);
	CU_ASSERT_EQUAL(c->in_bytes, 30);
	CU_ASSERT_PTR_EQUAL(c->iov[0].iov_base, F.ram + BUF_OFF);
	CU_ASSERT_EQUAL(c->iov[0].iov_len, 10);
	CU_ASSERT_PTR_EQUAL(c->iov[1].iov_base, F.ram + BUF_OFF + 0x100);
	CU_ASSERT_EQUAL(c->iov[1].iov_len, 20);
	CU_ASSERT_PTR_EQUAL(c->iov[2].iov_base, F.ram + BUF_OFF + 0x200);
	CU_ASSERT_EQUAL(c->iov[2].iov_len, 30);
}

static void test_indirect_chain(void)
{
	setup(8, false, true);
	build_indirect_table((struct vring_desc *)(F.ram + IND_OFF));
	/* The WRITE flag on the pointing descriptor must be ignored. */
	set_desc(dtab(), 3, gpa(IND_OFF), 3 * 16,
		 VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	drv_add(3);
	struct hvd_chain *c = vq_pop(&F.vq);
	check_indirect_chain(c);
	CU_ASSERT_EQUAL(c->head, 3);
	vq_push(c, 7);
	CU_ASSERT_EQUAL(used()->ring[0].id, 3);
	CU_ASSERT_EQUAL(used()->ring[0].len, 7);

	/* A table at an unaligned address is read correctly too. */
	uint8_t tmp[3 * 16];
	build_indirect_table((struct vring_desc *)(F.ram + IND_OFF));
	memcpy(tmp, F.ram + IND_OFF, sizeof(tmp));
	memcpy(F.ram + IND_OFF + 0x1003, tmp, sizeof(tmp));
	set_desc(dtab(), 4, gpa(IND_OFF + 0x1003), 3 * 16,
		 VRING_DESC_F_INDIRECT, 0);
	drv_add(4);
	c = vq_pop(&F.vq);
	check_indirect_chain(c);

	/* A direct readable buffer may precede the indirect descriptor. */
	set_desc(dtab(), 0, gpa(BUF_OFF + 0x300), 5, VRING_DESC_F_NEXT, 1);
	set_desc(dtab(), 1, gpa(IND_OFF), 3 * 16, VRING_DESC_F_INDIRECT, 0);
	drv_add(0);
	struct hvd_chain *c2 = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	CU_ASSERT_EQUAL(c2->num_out, 3);
	CU_ASSERT_EQUAL(c2->num_in, 1);
	CU_ASSERT_EQUAL(c2->out_bytes, 35);
	CU_ASSERT_PTR_EQUAL(c2->iov[0].iov_base, F.ram + BUF_OFF + 0x300);
	vq_push(c2, 0);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(used()->idx, 3);
	CU_ASSERT_EQUAL(used()->ring[1].id, 0);
	CU_ASSERT_EQUAL(used()->ring[2].id, 4);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

/* Chains of exactly VQ_MAX_CHAIN buffers pass, direct or indirect. */
static void test_max_chain(void)
{
	setup(QMAX, false, true);
	for (unsigned i = 0; i < VQ_MAX_CHAIN; i++)
		set_desc(dtab(), i, gpa(BUF_OFF + i * 16), 16,
			 i + 1 < VQ_MAX_CHAIN ? VRING_DESC_F_NEXT : 0, i + 1);
	drv_add(0);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->num_out, VQ_MAX_CHAIN);
	CU_ASSERT_EQUAL(c->out_bytes, VQ_MAX_CHAIN * 16);
	CU_ASSERT_PTR_EQUAL(c->iov[VQ_MAX_CHAIN - 1].iov_base,
			    F.ram + BUF_OFF + (VQ_MAX_CHAIN - 1) * 16);
	vq_push(c, 0);

	struct vring_desc *t = (struct vring_desc *)(F.ram + IND_OFF);
	for (unsigned i = 0; i < VQ_MAX_CHAIN; i++)
		set_desc(t, i, gpa(BUF_OFF + i * 16), 16,
			 i + 1 < VQ_MAX_CHAIN ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(dtab(), 1500, gpa(IND_OFF), VQ_MAX_CHAIN * 16,
		 VRING_DESC_F_INDIRECT, 0);
	drv_add(1500);
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->num_out, VQ_MAX_CHAIN);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

/* ---- Violations ---------------------------------------------------------- */

static void test_indirect_not_negotiated(void)
{
	setup(8, false, false);
	build_indirect_table((struct vring_desc *)(F.ram + IND_OFF));
	set_desc(dtab(), 0, gpa(IND_OFF), 3 * 16, VRING_DESC_F_INDIRECT, 0);
	drv_add(0);
	expect_violation("not negotiated");
	teardown();
}

static void test_direct_loop(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 1);
	set_desc(dtab(), 1, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 2);
	set_desc(dtab(), 2, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 1);
	drv_add(0);
	expect_violation("loop");
	teardown();

	setup(8, false, false); /* a descriptor pointing at itself */
	set_desc(dtab(), 4, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 4);
	drv_add(4);
	expect_violation("loop");
	teardown();
}

static void test_indirect_loop(void)
{
	setup(8, false, true);
	struct vring_desc *t = (struct vring_desc *)(F.ram + IND_OFF);
	set_desc(t, 0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 1);
	set_desc(t, 1, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 2);
	set_desc(t, 2, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 0);
	set_desc(dtab(), 0, gpa(IND_OFF), 3 * 16, VRING_DESC_F_INDIRECT, 0);
	drv_add(0);
	expect_violation("loop in an indirect table");
	teardown();
}

static void test_buffer_out_of_range(void)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{0x1000, 16},                     /* below RAM */
		{RAM_GPA + RAM_SIZE, 1},          /* just past the end */
		{RAM_GPA + RAM_SIZE - 8, 16},     /* runs off the end */
		{UINT64_MAX - 1, 4},              /* wraps */
		{RAM_GPA - 1, 2},                 /* starts before */
		{RAM_GPA + BUF_OFF, 0xffffffffu}, /* far too long */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup(8, false, false);
		set_desc(dtab(), 0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 1);
		set_desc(dtab(), 1, bad[i].addr, bad[i].len, VRING_DESC_F_WRITE,
			 0);
		drv_add(0);
		expect_violation("outside guest RAM");
		teardown();
	}
	/* An indirect table outside RAM. */
	setup(8, false, true);
	set_desc(dtab(), 0, RAM_GPA + RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT,
		 0);
	drv_add(0);
	expect_violation("indirect table outside guest RAM");
	teardown();
}

static void test_head_out_of_range(void)
{
	setup(8, false, false);
	drv_add(8);
	expect_violation("head out of range");
	teardown();
}

static void test_next_out_of_range(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 8);
	drv_add(0);
	expect_violation("next index out of range");
	teardown();

	setup(8, false, true); /* next beyond the indirect table's end */
	struct vring_desc *t = (struct vring_desc *)(F.ram + IND_OFF);
	set_desc(t, 0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 2);
	set_desc(t, 2, gpa(BUF_OFF), 8, 0, 0); /* exists, but outside len */
	set_desc(dtab(), 0, gpa(IND_OFF), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	drv_add(0);
	expect_violation("next index out of range");
	teardown();
}

static void test_avail_idx_jump(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	avail()->idx = 9; /* 9 new entries in an 8-entry ring */
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 1);
	expect_violation("available index");
	teardown();

	/* Exactly num pending is legal. */
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	for (unsigned i = 0; i < 8; i++)
		drv_add(0);
	unsigned popped = 0;
	struct hvd_chain *c;
	while ((c = vq_pop(&F.vq)) != NULL) {
		vq_push(c, 0);
		popped++;
	}
	CU_ASSERT_EQUAL(popped, 8);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

static void test_readable_after_writable(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8,
		 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(dtab(), 1, gpa(BUF_OFF + 8), 8, 0, 0);
	drv_add(0);
	expect_violation("readable descriptor after a writable");
	teardown();

	setup(8, false, true); /* same inside an indirect table */
	struct vring_desc *t = (struct vring_desc *)(F.ram + IND_OFF);
	set_desc(t, 0, gpa(BUF_OFF), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		 1);
	set_desc(t, 1, gpa(BUF_OFF + 8), 8, 0, 0);
	set_desc(dtab(), 0, gpa(IND_OFF), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	drv_add(0);
	expect_violation("readable descriptor after a writable");
	teardown();
}

static void test_indirect_in_indirect(void)
{
	setup(8, false, true);
	struct vring_desc *t = (struct vring_desc *)(F.ram + IND_OFF);
	set_desc(t, 0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 1);
	set_desc(t, 1, gpa(IND_OFF), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(dtab(), 0, gpa(IND_OFF), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	drv_add(0);
	expect_violation("indirect descriptor in an indirect table");
	teardown();
}

static void test_indirect_bad_descriptor(void)
{
	static const struct {
		uint32_t len;
		uint16_t flags;
		const char *why;
	} bad[] = {
		{0, VRING_DESC_F_INDIRECT, "bad indirect table length"},
		{24, VRING_DESC_F_INDIRECT, "bad indirect table length"},
		{(VQ_MAX_CHAIN + 1) * 16, VRING_DESC_F_INDIRECT,
		 "bad indirect table length"},
		{32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
		 "indirect descriptor with NEXT"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup(8, false, true);
		struct vring_desc *t = (struct vring_desc *)(F.ram + IND_OFF);
		set_desc(t, 0, gpa(BUF_OFF), 8, 0, 0);
		set_desc(dtab(), 0, gpa(IND_OFF), bad[i].len, bad[i].flags, 1);
		set_desc(dtab(), 1, gpa(BUF_OFF), 8, 0, 0);
		drv_add(0);
		expect_violation(bad[i].why);
		teardown();
	}
}

static void test_chain_too_long(void)
{
	/* VQ_MAX_CHAIN + 1 distinct direct descriptors in a bigger queue. */
	setup(QMAX, false, true);
	for (unsigned i = 0; i <= VQ_MAX_CHAIN; i++)
		set_desc(dtab(), i, gpa(BUF_OFF + i * 16), 16,
			 i < VQ_MAX_CHAIN ? VRING_DESC_F_NEXT : 0, i + 1);
	drv_add(0);
	expect_violation("overlong chain");
	teardown();

	/* One direct buffer plus a full indirect table: 1025 buffers. */
	setup(QMAX, false, true);
	struct vring_desc *t = (struct vring_desc *)(F.ram + IND_OFF);
	for (unsigned i = 0; i < VQ_MAX_CHAIN; i++)
		set_desc(t, i, gpa(BUF_OFF + i * 16), 16,
			 i + 1 < VQ_MAX_CHAIN ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(dtab(), 0, gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 1);
	set_desc(dtab(), 1, gpa(IND_OFF), VQ_MAX_CHAIN * 16,
		 VRING_DESC_F_INDIRECT, 0);
	drv_add(0);
	expect_violation("descriptor chain too long");
	teardown();
}

/* The byte total must fit the uint32 fields of struct hvd_chain. A reserved,
 * inaccessible 4 GiB region lets the buffers pass the RAM check; nothing is
 * ever accessed through them. */
static void test_bytes_overflow(void)
{
	const uint64_t big_gpa = 0x100000000ull, big_size = (1ull << 32) + 4096;
	void *big = mmap(NULL, big_size, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CU_ASSERT_FATAL(big != MAP_FAILED);

	setup(8, false, false);
	CU_ASSERT_EQUAL_FATAL(guest_mem_add(&F.gm, big_gpa, big_size, big), 0);
	set_desc(dtab(), 0, big_gpa, 0xfffffffeu, VRING_DESC_F_NEXT, 1);
	set_desc(dtab(), 1, big_gpa, 1, VRING_DESC_F_WRITE, 0);
	drv_add(0);
	struct hvd_chain *c = vq_pop(&F.vq); /* 2^32 - 1 bytes: fits */
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->out_bytes, 0xfffffffeu);
	CU_ASSERT_EQUAL(c->in_bytes, 1);
	vq_push(c, 0);

	set_desc(dtab(), 2, big_gpa, 0xffffffffu, VRING_DESC_F_NEXT, 3);
	set_desc(dtab(), 3, big_gpa, 1, VRING_DESC_F_WRITE, 0);
	drv_add(2);
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(F.fails, 1);
	CU_ASSERT_PTR_NOT_NULL(F.why ? strstr(F.why, "4 GiB") : NULL);
	teardown();
	munmap(big, big_size);
}

static void test_broken_until_reset(void)
{
	setup(8, false, false);
	drv_add(9);
	expect_violation("head out of range");

	/* Now offer a perfectly good chain: the queue still refuses. */
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	avail()->ring[0] = 0;
	drv_add(0);
	CU_ASSERT_PTR_NULL(vq_pop(&F.vq));
	CU_ASSERT_PTR_NULL(vq_pop(&F.vq));
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 0);
	CU_ASSERT_EQUAL(F.fails, 1); /* reported once */

	vq_reset(&F.vq);
	CU_ASSERT_FALSE(F.vq.broken);
	const char *why = NULL;
	CU_ASSERT_EQUAL_FATAL(configure(8, false, false, &why), 0);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	drv_add(0);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL(c);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(used()->idx, 1);
	CU_ASSERT_EQUAL(F.fails, 1);
	teardown();
}

/* ---- Reset, push, notify ------------------------------------------------- */

static void test_stale_chain_after_reset(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, VRING_DESC_F_WRITE, 0);
	set_desc(dtab(), 1, gpa(BUF_OFF + 8), 8, VRING_DESC_F_WRITE, 0);
	drv_add(0);
	drv_add(1);
	struct hvd_chain *a = vq_pop(&F.vq), *b = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	uint32_t gen = F.vq.generation;

	vq_reset(&F.vq);
	CU_ASSERT_NOT_EQUAL(F.vq.generation, gen);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	CU_ASSERT_PTR_NULL(F.vq.last_popped);
	vq_push(a, 8); /* not started: only freed */

	/* The driver sets the queue up again; the stale push must not
	 * touch the new used ring. */
	const char *why = NULL;
	CU_ASSERT_EQUAL_FATAL(configure(8, false, false, &why), 0);
	memset(used(), 0xee, 6 + 8 * 8);
	used()->idx = 0;
	uint8_t snap[6 + 8 * 8];
	memcpy(snap, used(), sizeof(snap));
	vq_push(b, 8);
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(memcmp(snap, used(), sizeof(snap)), 0);
	CU_ASSERT_EQUAL(F.vq.used_idx, 0);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	CU_ASSERT_EQUAL(F.irqs, 0);

	/* The new generation works. */
	set_desc(dtab(), 2, gpa(BUF_OFF), 8, VRING_DESC_F_WRITE, 0);
	drv_add(2);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	vq_push(c, 4);
	CU_ASSERT_EQUAL(used()->idx, 1);
	CU_ASSERT_EQUAL(used()->ring[0].id, 2);
	CU_ASSERT_EQUAL(used()->ring[0].len, 4);
	teardown();
}

/* More than 65536 pop/push cycles on a 4-entry queue: both 16-bit indices
 * wrap and ids keep matching. */
static void test_used_idx_wraparound(void)
{
	setup(4, false, false);
	for (unsigned i = 0; i < 4; i++)
		set_desc(dtab(), i, gpa(BUF_OFF + i * 64), 64,
			 VRING_DESC_F_WRITE, 0);
	unsigned bad = 0;
	for (uint32_t i = 0; i < 70000; i++) {
		uint16_t head = (uint16_t)((i * 3) % 4);
		drv_add(head);
		struct hvd_chain *c = vq_pop(&F.vq);
		if (!c || c->head != head) {
			bad++;
			if (c)
				vq_push(c, 0);
			continue;
		}
		vq_push(c, i % 64);
		uint16_t want = (uint16_t)(i + 1);
		if (used()->idx != want || used()->ring[i % 4].id != head ||
		    used()->ring[i % 4].len != i % 64)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(used()->idx, (uint16_t)70000);
	CU_ASSERT_EQUAL(F.vq.last_avail, (uint16_t)70000);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

static void pop_push(uint16_t head, uint32_t written)
{
	set_desc(dtab(), head, gpa(BUF_OFF + head * 64), 64, VRING_DESC_F_WRITE,
		 0);
	drv_add(head);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	vq_push(c, written);
}

static void test_no_interrupt_flag(void)
{
	setup(8, false, false);
	vq_notify(&F.vq); /* nothing pushed yet */
	CU_ASSERT_EQUAL(F.irqs, 0);
	pop_push(0, 1);
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 1);
	vq_notify(&F.vq); /* nothing new */
	CU_ASSERT_EQUAL(F.irqs, 1);

	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	pop_push(1, 1);
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 1);

	avail()->flags = 0;
	vq_notify(&F.vq); /* the suppressed push is not re-signalled */
	CU_ASSERT_EQUAL(F.irqs, 1);
	pop_push(2, 1);
	pop_push(3, 1);
	vq_notify(&F.vq); /* one interrupt per batch */
	CU_ASSERT_EQUAL(F.irqs, 2);
	teardown();
}

static void test_event_idx_suppression(void)
{
	setup(8, true, false);
	*used_event() = 0;
	pop_push(0, 1); /* used idx 1 */
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 1);
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 1);

	/* Driver wants an interrupt once entry 2 is used (idx 2 -> 3). */
	*used_event() = 2;
	pop_push(1, 1); /* used idx 2: not yet */
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 1);
	pop_push(2, 1); /* used idx 3: crossed */
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 2);
	pop_push(3, 1); /* used idx 4: event already passed */
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 2);

	/* A batch that jumps over the event still interrupts, once. */
	*used_event() = 5;
	pop_push(4, 1);
	pop_push(5, 1);
	pop_push(6, 1); /* used idx 4 -> 7 passes 5 */
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 3);

	/* NO_INTERRUPT is ignored with EVENT_IDX: only used_event counts. */
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	*used_event() = 7;
	pop_push(7, 1); /* used idx 8 */
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 4);
	teardown();
}

/* The first notify after a start honours used_event too. */
static void test_event_idx_first_notify(void)
{
	setup(8, true, false);
	*used_event() = 2; /* wants an interrupt once idx goes 2 -> 3 */
	pop_push(0, 1);    /* used idx 1 */
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 0);
	pop_push(1, 1);
	pop_push(2, 1); /* used idx 3 */
	vq_notify(&F.vq);
	CU_ASSERT_EQUAL(F.irqs, 1);
	teardown();
}

static void test_kick_enable(void)
{
	setup(8, false, false);
	CU_ASSERT_EQUAL(used()->flags, 0);
	vq_kick_enable(&F.vq, 0);
	CU_ASSERT_EQUAL(used()->flags, VRING_USED_F_NO_NOTIFY);
	CU_ASSERT_FALSE(F.vq.kick_enabled);
	vq_kick_enable(&F.vq, 1);
	CU_ASSERT_EQUAL(used()->flags, 0);
	CU_ASSERT_TRUE(F.vq.kick_enabled);
	CU_ASSERT_EQUAL(*avail_event(), 0); /* untouched without EVENT_IDX */
	teardown();

	setup(8, true, false);
	for (uint16_t i = 0; i < 4; i++) {
		set_desc(dtab(), i, gpa(BUF_OFF), 8, 0, 0);
		drv_add(i);
	}
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_EQUAL(*avail_event(), 1); /* pop keeps the driver kicking */
	vq_push(c, 0);
	vq_kick_enable(&F.vq, 0);
	CU_ASSERT_EQUAL(used()->flags, 0); /* flags unused with EVENT_IDX */
	c = vq_pop(&F.vq);
	CU_ASSERT_EQUAL(*avail_event(), 1); /* kicks off: not advanced */
	vq_push(c, 0);
	c = vq_pop(&F.vq);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(*avail_event(), 1);
	vq_kick_enable(&F.vq, 1);
	CU_ASSERT_EQUAL(*avail_event(), 3);
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 1); /* the caller's re-check */
	c = vq_pop(&F.vq);
	CU_ASSERT_EQUAL(*avail_event(), 4);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 0);
	teardown();
}

static void test_written_clamped(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 1);
	set_desc(dtab(), 1, gpa(BUF_OFF + 0x100), 100, VRING_DESC_F_WRITE, 0);
	set_desc(dtab(), 2, gpa(BUF_OFF), 16, 0, 0);
	drv_add(0);
	drv_add(2);
	drv_add(0);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	vq_push(c, 1000);
	CU_ASSERT_EQUAL(used()->ring[0].len, 100);

	c = vq_pop(&F.vq); /* no writable buffer at all */
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	vq_push(c, 50);
	CU_ASSERT_EQUAL(used()->ring[1].len, 0);

	/* A plugin scribbling on the public chain cannot lie either. */
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	c->in_bytes = 5000;
	c->head = 6;
	vq_push(c, 5000);
	CU_ASSERT_EQUAL(used()->ring[2].len, 100);
	CU_ASSERT_EQUAL(used()->ring[2].id, 0);
	CU_ASSERT_EQUAL(used()->idx, 3);
	teardown();
}

static void test_unpop(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	set_desc(dtab(), 1, gpa(BUF_OFF), 8, 0, 0);
	drv_add(0);
	drv_add(1);

	struct hvd_chain *a = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	vq_unpop(a);
	CU_ASSERT_EQUAL(F.vq.last_avail, 0);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	CU_ASSERT_EQUAL(vq_has_work(&F.vq), 1);

	a = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->head, 0);
	struct hvd_chain *b = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b->head, 1);

	vq_unpop(b); /* the latest: given back */
	CU_ASSERT_EQUAL(F.vq.last_avail, 1);
	CU_ASSERT_EQUAL(F.vq.inflight, 1);
	vq_unpop(a); /* not the latest any more: only freed */
	CU_ASSERT_EQUAL(F.vq.last_avail, 1);
	CU_ASSERT_EQUAL(F.vq.inflight, 1);

	b = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b->head, 1);
	vq_push(b, 0);
	vq_unpop(vq_pop(&F.vq)); /* NULL is ignored */
	CU_ASSERT_EQUAL(used()->idx, 1);
	CU_ASSERT_EQUAL(used()->ring[0].id, 1);

	/* After a reset an unpop does not rewind anything. */
	set_desc(dtab(), 2, gpa(BUF_OFF), 8, 0, 0);
	drv_add(2);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	vq_reset(&F.vq);
	vq_unpop(c);
	CU_ASSERT_EQUAL(F.vq.last_avail, 0);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

/* Restarting without a reset also makes older chains stale. */
static void test_restart_without_reset(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	drv_add(0);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	const char *why = NULL;
	CU_ASSERT_EQUAL_FATAL(configure(8, false, false, &why), 0);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(used()->idx, 0);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	teardown();
}

/* ---- Two threads ---------------------------------------------------------
 * A driver thread adds buffers and reaps used entries while a device thread
 * pops, fills and pushes them: every buffer comes back once, with its data.
 */
#define MT_NUM        64u
#define MT_TOTAL      200000u
#define MT_DEADLINE_S 120 /* failure guard: give up instead of hanging */

static time_t mt_deadline;

static bool mt_expired(void)
{
	return time(NULL) > mt_deadline;
}

static void *mt_device(void *arg)
{
	unsigned *pushed = arg;

	while (*pushed < MT_TOTAL && !mt_expired()) {
		struct hvd_chain *c = vq_pop(&F.vq);
		if (!c) {
			/* The other thread may be descheduled on a busy
			 * machine: let it run. */
			sched_yield();
			continue;
		}
		uint32_t tag = c->head;
		if (c->num_in == 1 && c->iov[0].iov_len >= sizeof(tag))
			memcpy(c->iov[0].iov_base, &tag, sizeof(tag));
		vq_push(c, sizeof(tag));
		vq_notify(&F.vq);
		(*pushed)++;
	}
	return NULL;
}

static void test_threaded(void)
{
	setup(MT_NUM, true, false);
	uint16_t free_heads[MT_NUM];
	unsigned nfree = MT_NUM, added = 0, reaped = 0, bad = 0, pushed = 0;
	uint16_t seen_used = 0;
	pthread_t dev;

	for (unsigned i = 0; i < MT_NUM; i++)
		free_heads[i] = (uint16_t)i;
	/* Interrupt whenever anything is used. */
	__atomic_store_n(used_event(), 0xffff, __ATOMIC_RELAXED);
	mt_deadline = time(NULL) + MT_DEADLINE_S;
	CU_ASSERT_FATAL(pthread_create(&dev, NULL, mt_device, &pushed) == 0);

	while (reaped < MT_TOTAL && !mt_expired()) {
		if (seen_used ==
			    __atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE) &&
		    nfree == 0)
			sched_yield();
		while (nfree > 0 && added < MT_TOTAL) {
			uint16_t h = free_heads[--nfree];
			set_desc(dtab(), h, gpa(BUF_OFF + h * 8u), 8,
				 VRING_DESC_F_WRITE, 0);
			memset(F.ram + BUF_OFF + h * 8u, 0xff, 8);
			avail()->ring[F.aidx % MT_NUM] = h;
			F.aidx++;
			__atomic_store_n(&avail()->idx, F.aidx,
					 __ATOMIC_RELEASE);
			added++;
		}
		uint16_t uidx = __atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE);
		for (; seen_used != uidx; seen_used++, reaped++) {
			struct vring_used_elem *e =
				&used()->ring[seen_used % MT_NUM];
			uint32_t tag;
			memcpy(&tag, F.ram + BUF_OFF + e->id * 8u, sizeof(tag));
			if (e->id >= MT_NUM || e->len != 4 || tag != e->id)
				bad++;
			if (e->id < MT_NUM && nfree < MT_NUM)
				free_heads[nfree++] = (uint16_t)e->id;
		}
		__atomic_store_n(used_event(), seen_used, __ATOMIC_RELAXED);
	}
	pthread_join(dev, NULL);
	CU_ASSERT_EQUAL(reaped, MT_TOTAL);
	CU_ASSERT_EQUAL(pushed, MT_TOTAL);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(F.fails, 0);
	CU_ASSERT_EQUAL(F.vq.inflight, 0);
	CU_ASSERT_TRUE(F.irqs > 0 && F.irqs <= MT_TOTAL);
	teardown();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"guestmem_add", test_guestmem_add},
		{"guestmem_ptr", test_guestmem_ptr},
		{"guestmem_many", test_guestmem_many},
		{"start_validation", test_start_validation},
		{"empty_and_not_started", test_empty_and_not_started},
		{"direct_chain", test_direct_chain},
		{"zero_length_descriptor", test_zero_length_descriptor},
		{"indirect_chain", test_indirect_chain},
		{"max_chain", test_max_chain},
		{"indirect_not_negotiated", test_indirect_not_negotiated},
		{"direct_loop", test_direct_loop},
		{"indirect_loop", test_indirect_loop},
		{"buffer_out_of_range", test_buffer_out_of_range},
		{"head_out_of_range", test_head_out_of_range},
		{"next_out_of_range", test_next_out_of_range},
		{"avail_idx_jump", test_avail_idx_jump},
		{"readable_after_writable", test_readable_after_writable},
		{"indirect_in_indirect", test_indirect_in_indirect},
		{"indirect_bad_descriptor", test_indirect_bad_descriptor},
		{"chain_too_long", test_chain_too_long},
		{"bytes_overflow", test_bytes_overflow},
		{"broken_until_reset", test_broken_until_reset},
		{"stale_chain_after_reset", test_stale_chain_after_reset},
		{"used_idx_wraparound", test_used_idx_wraparound},
		{"no_interrupt_flag", test_no_interrupt_flag},
		{"event_idx_suppression", test_event_idx_suppression},
		{"event_idx_first_notify", test_event_idx_first_notify},
		{"kick_enable", test_kick_enable},
		{"written_clamped", test_written_clamped},
		{"unpop", test_unpop},
		{"restart_without_reset", test_restart_without_reset},
		{"threaded", test_threaded},
		{NULL, NULL},
	};
	return cunit_run("virtqueue", tests);
}
