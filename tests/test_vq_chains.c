/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side, taking chains: vq_start's checks of the ring
 * registers, well-formed direct and indirect chains, and every malformed
 * chain vq_pop must refuse (the queue breaks until reset, the owner is told
 * once, without the queue lock held).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "vq_fixture.h"

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

/* Pops read avail->idx again only once they have consumed what it said:
 * buffers published together are all popped, also after the driver moved
 * the index on; the move is judged at the read that follows (a jump past
 * the ring breaks the queue there, a buffer added meanwhile is found). */
static void test_avail_idx_read_when_consumed(void)
{
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	set_desc(dtab(), 1, gpa(BUF_OFF + 8), 8, 0, 0);
	drv_add(0);
	drv_add(1);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->head, 0);
	vq_push(c, 0);
	avail()->idx = 30; /* 28 past the ring's room after the second */
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->head, 1);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(F.fails, 0);
	CU_ASSERT_PTR_NULL(vq_pop(&F.vq));
	CU_ASSERT_EQUAL(F.fails, 1);
	CU_ASSERT_TRUE(F.vq.broken);
	CU_ASSERT_EQUAL(F.vq.last_avail, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(F.why);
	CU_ASSERT_PTR_NOT_NULL(strstr(F.why, "available index"));
	teardown();

	/* A buffer added after the last read is found by the next pop. */
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	drv_add(0);
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	vq_push(c, 0);
	CU_ASSERT_PTR_NULL(vq_pop(&F.vq));
	drv_add(0);
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL(c);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(F.fails, 0);
	teardown();
}

/* A pushed chain is kept for the next pop (no malloc per request), also one
 * given back by vq_unpop; one that grew past its initial room is freed.
 * AddressSanitizer builds keep none, to see a use after push. */
static void test_chains_reused(void)
{
#if defined(__SANITIZE_ADDRESS__)
	const unsigned kept = 0;
#else
	const unsigned kept = 1;
#endif
	setup(8, false, false);
	set_desc(dtab(), 0, gpa(BUF_OFF), 8, 0, 0);
	drv_add(0);
	struct hvd_chain *c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	vq_unpop(c);
	CU_ASSERT_EQUAL(F.vq.chain_cached, kept);
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(F.vq.chain_cached, 0);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(F.vq.chain_cached, kept);
	drv_add(0);
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(F.vq.chain_cached, 0);
	CU_ASSERT_EQUAL(c->head, 0);
	CU_ASSERT_EQUAL(c->out_bytes, 8);
	vq_push(c, 0);
	teardown();

	/* Nine descriptors: the chain grew, and is not kept. */
	setup(16, false, false);
	for (uint16_t i = 0; i < 8; i++)
		set_desc(dtab(), i, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT,
			 (uint16_t)(i + 1));
	set_desc(dtab(), 8, gpa(BUF_OFF), 8, 0, 0);
	drv_add(0);
	c = vq_pop(&F.vq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->num_out, 9);
	vq_push(c, 0);
	CU_ASSERT_EQUAL(F.vq.chain_cached, 0);
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

int main(void)
{
	static const struct cunit_test tests[] = {
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
		{"avail_idx read when consumed",
		 test_avail_idx_read_when_consumed},
		{"chains reused", test_chains_reused},
		{"readable_after_writable", test_readable_after_writable},
		{"indirect_in_indirect", test_indirect_in_indirect},
		{"indirect_bad_descriptor", test_indirect_bad_descriptor},
		{"chain_too_long", test_chain_too_long},
		{"bytes_overflow", test_bytes_overflow},
		{"broken_until_reset", test_broken_until_reset},
		{NULL, NULL},
	};
	return cunit_run("vq_chains", tests);
}
