/* SPDX-License-Identifier: MIT */
/*
 * Hostile guests, end to end (ring_fixture.h): malformed chains written by
 * hand and ring addresses outside guest RAM. Each must end in
 * DEVICE_NEEDS_RESET + a configuration interrupt while the daemon and the
 * other device keep serving, and a driver reset must recover the testdev.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>

#include "ring_fixture.h"

static void put_desc(struct vring_desc *t, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].next = next;
}

/* Publish `head` with the raw API and check it landed where it should. */
static void publish(struct hvd_guest_vq *vq, uint16_t head)
{
	struct vring_avail *av = hvd_guest_vq_avail(vq);
	uint16_t idx = avail_idx(vq);
	hvd_guest_vq_publish_raw(vq, head);
	CU_ASSERT_EQUAL(avail_idx(vq), (uint16_t)(idx + 1));
	CU_ASSERT_EQUAL(av->ring[idx & (hvd_guest_vq_size(vq) - 1)], head);
}

/* ---- Malformed chains (INDIRECT_DESC not negotiated among them) -------- */

/* Scratch buffers inside guest RAM for hand-written descriptors. */
static uint64_t scratch(uint64_t size)
{
	uint64_t gpa;
	alloc(size, 16, &gpa);
	return gpa;
}

/* (a) desc 0 -> 1 -> 0 with NEXT. */
static void mk_loop(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t a = scratch(32);
	put_desc(d, 0, a, 16, VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, a + 16, 16, VRING_DESC_F_NEXT, 0);
	publish(vq, 0);
}

/* (b) a readable buffer straddling the end of guest RAM. */
static void mk_outside_ram(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t a = scratch(16);
	put_desc(d, 0, a, 16, VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, RAM_END - 8, 16, 0, 0);
	publish(vq, 0);
}

/* (b') a writable buffer wholly below guest RAM. */
static void mk_writable_outside_ram(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t a = scratch(16);
	put_desc(d, 0, a, 16, VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, 0x1000, 16, VRING_DESC_F_WRITE, 0);
	publish(vq, 0);
}

/* (c) addr + len wraps past 2^64 (and would land inside RAM if truncated). */
static void mk_addr_wrap(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	put_desc(d, 0, 0xfffffffffffff000ull, 0x50002000u, 0, 0);
	publish(vq, 0);
}

/* (d) head index == queue size in the avail ring. */
static void mk_head_out_of_range(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	put_desc(d, 0, scratch(16), 16, 0, 0);
	publish(vq, hvd_guest_vq_size(vq));
}

/* (e) avail idx moved by queue size + 1 in one go. */
static void mk_avail_jump(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	struct vring_avail *av = hvd_guest_vq_avail(vq);
	uint64_t a = scratch(16);
	uint16_t n = hvd_guest_vq_size(vq);
	put_desc(d, 0, a, 16, 0, 0);
	for (unsigned i = 0; i < n; i++)
		av->ring[i] = 0; /* every entry a valid head */
	__atomic_store_n(&av->idx, (uint16_t)(n + 1), __ATOMIC_RELEASE);
}

/* (f) an indirect descriptor inside an indirect table. */
static void mk_nested_indirect(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t t1, t2;
	struct vring_desc *tab1 = alloc(32, 16, &t1);
	struct vring_desc *tab2 = alloc(16, 16, &t2);
	put_desc(tab2, 0, scratch(16), 16, 0, 0);
	put_desc(tab1, 0, t2, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(tab1, 1, scratch(16), 16, VRING_DESC_F_WRITE, 0);
	put_desc(d, 0, t1, 32, VRING_DESC_F_INDIRECT, 0);
	publish(vq, 0);
}

/* (g) a 32-entry indirect table (twice the queue size) whose chain runs
 * through every entry and loops back to the first. */
static void mk_indirect_loop(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t t;
	struct vring_desc *tab = alloc(32 * 16, 16, &t);
	uint64_t a = scratch(8);
	for (unsigned i = 0; i < 32; i++)
		put_desc(tab, i, a, 8, VRING_DESC_F_NEXT,
			 (uint16_t)((i + 1) % 32));
	put_desc(d, 0, t, 32 * 16, VRING_DESC_F_INDIRECT, 0);
	publish(vq, 0);
}

/* (h) a readable descriptor after a writable one. */
static void mk_read_after_write(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t a = scratch(32);
	put_desc(d, 0, a, 16, VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, a + 16, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	put_desc(d, 2, a + 24, 8, 0, 0);
	publish(vq, 0);
}

/* (i) an indirect table of 24 bytes. */
static void mk_indirect_len(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t t;
	struct vring_desc *tab = alloc(32, 16, &t);
	put_desc(tab, 0, scratch(16), 16, 0, 0);
	put_desc(d, 0, t, 24, VRING_DESC_F_INDIRECT, 0);
	publish(vq, 0);
}

/* (j) next index beyond the table. */
static void mk_next_out_of_range(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	put_desc(d, 0, scratch(16), 16, VRING_DESC_F_NEXT,
		 hvd_guest_vq_size(vq));
	publish(vq, 0);
}

/* (k) an indirect table outside guest RAM. */
static void mk_indirect_outside(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	put_desc(d, 0, RAM_END - 16, 32, VRING_DESC_F_INDIRECT, 0);
	publish(vq, 0);
}

/* (l) an indirect descriptor with NEXT set. */
static void mk_indirect_next(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t t;
	struct vring_desc *tab = alloc(16, 16, &t);
	put_desc(tab, 0, scratch(16), 16, VRING_DESC_F_WRITE, 0);
	put_desc(d, 0, t, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, scratch(16), 16, VRING_DESC_F_WRITE, 0);
	publish(vq, 0);
}

/* A well-formed indirect chain, for when INDIRECT_DESC was not offered
 * by the driver: the descriptor flag itself is the violation. */
static void mk_indirect_plain(struct hvd_guest_vq *vq)
{
	struct vring_desc *d = hvd_guest_vq_desc(vq);
	uint64_t t;
	struct vring_desc *tab = alloc(32, 16, &t);
	uint64_t a = scratch(32);
	put_desc(tab, 0, a, 16, VRING_DESC_F_NEXT, 1);
	put_desc(tab, 1, a + 16, 16, VRING_DESC_F_WRITE, 0);
	put_desc(d, 0, t, 32, VRING_DESC_F_INDIRECT, 0);
	publish(vq, 0);
}

struct bad_case {
	const char *name;
	uint64_t features;
	void (*make)(struct hvd_guest_vq *vq);
};

/*
 * Bring the testdev up with `c->features`, let `c->make` write a bad chain
 * with the raw API, kick. Expect NEEDS_RESET, exactly one configuration
 * interrupt, nothing used, the daemon and the rng still serving; then a
 * driver reset recovers the testdev.
 */
static void run_bad_case(const struct bad_case *c)
{
	struct hvd_guest_vq *vq = bring_up(c->features, NULL);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	uint32_t gen = reg(VIRTIO_MMIO_CONFIG_GENERATION);
	irq_fence();
	uint64_t irqs = hvd_guest_irq_count(gd);

	c->make(vq);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	uint32_t st = reg(VIRTIO_MMIO_STATUS); /* after the kick: handled */
	if (!(st & S_RESET))
		fprintf(stderr,
			"\n  malformed case '%s': no NEEDS_RESET "
			"(status 0x%x)\n",
			c->name, st);
	CU_ASSERT(st & S_RESET);
	CU_ASSERT(st & VIRTIO_CONFIG_S_DRIVER_OK);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), DEVICE_INT_CONFIG);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	CU_ASSERT_EQUAL(used_idx(vq), 0);
	CU_ASSERT(VQ_FIELD(0, broken));

	/* The other device serves right away; then the count is exact: one
	 * configuration interrupt and no used-buffer one. */
	CU_ASSERT(rng_serves());
	irq_fence();
	CU_ASSERT_EQUAL(hvd_guest_irq_count(gd), irqs + 1);

	/* Further kicks are ignored, not fatal. */
	wreg(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CU_ASSERT_EQUAL(used_idx(vq), 0);
	CU_ASSERT(reg(VIRTIO_MMIO_STATUS) & S_RESET);

	/* Recovery through the driver. */
	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_STATUS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	vq = bring_up(c->features, NULL);
	CU_ASSERT_FALSE(VQ_FIELD(0, broken));
	CU_ASSERT_EQUAL(echo_once(vq, "recovered", false), 0);
	if (c->features & F_INDIRECT)
		CU_ASSERT_EQUAL(echo_once(vq, "recovered, indirect", true), 0);
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & S_RESET);
}

#define F_BAD (F_V1 | F_INDIRECT)

static const struct bad_case bad_cases[] = {
	{"descriptor loop", F_BAD, mk_loop},
	{"buffer outside RAM", F_BAD, mk_outside_ram},
	{"writable buffer outside RAM", F_BAD, mk_writable_outside_ram},
	{"addr+len wraps", F_BAD, mk_addr_wrap},
	{"head out of range", F_BAD, mk_head_out_of_range},
	{"avail idx jump", F_BAD, mk_avail_jump},
	{"nested indirect", F_BAD, mk_nested_indirect},
	{"indirect loop", F_BAD, mk_indirect_loop},
	{"readable after writable", F_BAD, mk_read_after_write},
	{"indirect length", F_BAD, mk_indirect_len},
	{"next out of range", F_BAD, mk_next_out_of_range},
	{"indirect table outside RAM", F_BAD, mk_indirect_outside},
	{"indirect with NEXT", F_BAD, mk_indirect_next},
	{"indirect not negotiated", F_V1, mk_indirect_plain},
};

#define BAD_CASE_TEST(fn, i)                 \
	static void fn(void)                 \
	{                                    \
		setup();                     \
		run_bad_case(&bad_cases[i]); \
		teardown();                  \
	}

BAD_CASE_TEST(test_bad_loop, 0)
BAD_CASE_TEST(test_bad_outside_ram, 1)
BAD_CASE_TEST(test_bad_writable_outside_ram, 2)
BAD_CASE_TEST(test_bad_addr_wrap, 3)
BAD_CASE_TEST(test_bad_head, 4)
BAD_CASE_TEST(test_bad_avail_jump, 5)
BAD_CASE_TEST(test_bad_nested_indirect, 6)
BAD_CASE_TEST(test_bad_indirect_loop, 7)
BAD_CASE_TEST(test_bad_read_after_write, 8)
BAD_CASE_TEST(test_bad_indirect_len, 9)
BAD_CASE_TEST(test_bad_next, 10)
BAD_CASE_TEST(test_bad_indirect_outside, 11)
BAD_CASE_TEST(test_bad_indirect_next, 12)
BAD_CASE_TEST(test_indirect_not_negotiated, 13)

/* Every case back to back on one daemon: recovery is complete each time. */
static void test_bad_all_in_a_row(void)
{
	setup();
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
		run_bad_case(&bad_cases[i]);
	teardown();
}

/* ---- Fail fast ---------------------------------------------------------- */

/* A guest waiting for a completion that will never come learns of
 * NEEDS_RESET at once, in either guest model, also in a wait begun after
 * the interrupt; a reset clears it. The wait's timeout is only a guard: a
 * regression returns -ETIMEDOUT instead. */
#define FAIL_FAST_GUARD_MS 20000

static void wait_fails_fast(enum hvd_guest_model model)
{
	setup();
	CU_ASSERT_EQUAL(hvd_guest_set_model(gd, model), 0);
	struct hvd_guest_vq *vq = bring_up(F_BAD, NULL);
	mk_loop(vq);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	void *tok = NULL;
	uint32_t len = 0;
	CU_ASSERT_EQUAL(
		hvd_guest_vq_wait_used(vq, &tok, &len, FAIL_FAST_GUARD_MS),
		-ENOTRECOVERABLE);
	CU_ASSERT_EQUAL(
		hvd_guest_vq_wait_used(vq, &tok, &len, FAIL_FAST_GUARD_MS),
		-ENOTRECOVERABLE);
	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	vq = bring_up(F_BAD, NULL);
	CU_ASSERT_EQUAL(echo_once(vq, "after reset", false), 0);
	teardown();
}

static void test_wait_fails_fast_polling(void)
{
	wait_fails_fast(HVD_GUEST_POLLING);
}

static void test_wait_fails_fast_linux(void)
{
	wait_fails_fast(HVD_GUEST_LINUX);
}

/* ---- Ring addresses outside guest RAM --------------------------------- */

struct ring_case {
	const char *name;
	uint64_t desc, avail, used; /* 0: a valid allocation */
};

static const struct ring_case ring_cases[] = {
	{"descriptor table below RAM", 0x1000, 0, 0},
	/* Truncated to 32 bits this would be the start of RAM. */
	{"available ring above 4 GiB", 0, 0x100000000ull + RAM_BASE, 0},
	{"used ring across the end of RAM", 0, 0, RAM_END - 64},
	{"descriptor table wrapping 2^64", 0xfffffffffffffff0ull, 0, 0},
};

static void write_addr(uint32_t low_reg, uint64_t gpa)
{
	wreg(low_reg, (uint32_t)gpa);
	wreg(low_reg + 4, (uint32_t)(gpa >> 32));
}

static void run_ring_case(const struct ring_case *c)
{
	uint64_t got = 0;
	CU_ASSERT_FATAL(hvd_guest_negotiate(gd, F_V1, &got) == 0);
	uint64_t desc = c->desc, avail = c->avail, used = c->used;
	if (!desc)
		alloc(16 * QSIZE, 16, &desc);
	if (!avail)
		alloc(6 + 2 * QSIZE, 2, &avail);
	if (!used)
		alloc(6 + 8 * QSIZE, 4, &used);
	wreg(VIRTIO_MMIO_QUEUE_SEL, 0);
	wreg(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	write_addr(VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
	write_addr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, avail);
	write_addr(VIRTIO_MMIO_QUEUE_USED_LOW, used);
	wreg(VIRTIO_MMIO_QUEUE_READY, 1);
	CU_ASSERT_EQUAL(VQ_FIELD(0, desc_gpa), desc);
	CU_ASSERT_EQUAL(VQ_FIELD(0, avail_gpa), avail);
	CU_ASSERT_EQUAL(VQ_FIELD(0, used_gpa), used);
	/* Nothing is checked before DRIVER_OK. */
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & S_RESET);

	irq_fence();
	uint64_t irqs = hvd_guest_irq_count(gd);
	uint32_t ok = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		      VIRTIO_CONFIG_S_FEATURES_OK;
	wreg(VIRTIO_MMIO_STATUS, ok | VIRTIO_CONFIG_S_DRIVER_OK);
	uint32_t st = reg(VIRTIO_MMIO_STATUS);
	if (!(st & S_RESET))
		fprintf(stderr, "\n  ring case '%s': no NEEDS_RESET (0x%x)\n",
			c->name, st);
	CU_ASSERT(st & S_RESET);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), DEVICE_INT_CONFIG);
	CU_ASSERT_FALSE(DEV_FIELD(activated));
	CU_ASSERT_FALSE(VQ_FIELD(0, started));

	/* A kick now is ignored, the daemon and the rng carry on. */
	wreg(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	sync_daemon();
	CU_ASSERT(rng_serves());

	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	struct hvd_guest_vq *vq = bring_up(F_V1, NULL);
	CU_ASSERT_EQUAL(echo_once(vq, "rings fixed", false), 0);
}

static void test_ring_addresses_outside_ram(void)
{
	setup();
	for (size_t i = 0; i < sizeof ring_cases / sizeof ring_cases[0]; i++)
		run_ring_case(&ring_cases[i]);
	teardown();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"indirect not negotiated", test_indirect_not_negotiated},
		{"malformed: descriptor loop", test_bad_loop},
		{"malformed: buffer outside RAM", test_bad_outside_ram},
		{"malformed: writable buffer outside RAM",
		 test_bad_writable_outside_ram},
		{"malformed: addr+len wraps 2^64", test_bad_addr_wrap},
		{"malformed: head >= queue size", test_bad_head},
		{"malformed: avail idx jump", test_bad_avail_jump},
		{"malformed: nested indirect", test_bad_nested_indirect},
		{"malformed: indirect loop", test_bad_indirect_loop},
		{"malformed: readable after writable",
		 test_bad_read_after_write},
		{"malformed: indirect length", test_bad_indirect_len},
		{"malformed: next out of range", test_bad_next},
		{"malformed: indirect table outside RAM",
		 test_bad_indirect_outside},
		{"malformed: indirect with NEXT", test_bad_indirect_next},
		{"malformed: all cases on one daemon", test_bad_all_in_a_row},
		{"wait fails fast at NEEDS_RESET (polling guest)",
		 test_wait_fails_fast_polling},
		{"wait fails fast at NEEDS_RESET (Linux guest)",
		 test_wait_fails_fast_linux},
		{"ring addresses outside RAM at DRIVER_OK",
		 test_ring_addresses_outside_ram},
		{NULL, NULL},
	};
	return cunit_run("malformed", tests);
}
