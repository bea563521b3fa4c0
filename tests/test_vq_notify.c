/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side, giving chains back: the used ring (index
 * wrap, clamped lengths, unpop, stale chains after a reset or restart),
 * interrupt suppression (NO_INTERRUPT, EVENT_IDX), kick suppression, and a
 * driver and a device thread racing on one queue.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "vq_fixture.h"

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
	return cunit_run("vq_notify", tests);
}
