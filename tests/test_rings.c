/* SPDX-License-Identifier: MIT */
/*
 * Split rings end to end, the data paths: guest driver -> bridge -> dispatch
 * -> virtqueue -> testdev plugin, with an rng device next to it in the same
 * zone (ring_fixture.h).
 *
 * Covered: used/avail index wrap past 65535, indirect chains, EVENT_IDX and
 * NO_INTERRUPT suppression, and a guest reset while the plugin holds chains.
 * Malformed chains and bad ring addresses: test_malformed.c.
 */
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>

#include "ring_fixture.h"

/* used_event sits right after the avail ring (virtio 1.2 2.7.6). */
static uint16_t used_event(struct hvd_guest_vq *vq)
{
	struct vring_avail *av = hvd_guest_vq_avail(vq);
	return __atomic_load_n(&av->ring[hvd_guest_vq_size(vq)],
			       __ATOMIC_ACQUIRE);
}

/* ---- Index wraparound ------------------------------------------------ */

#define WRAP_BATCH  4u     /* chains per kick: 8 descriptors, a full ring */
#define WRAP_ROUNDS 66000u /* > 65536: both indices wrap */
#define WRAP_MAXLEN 24u

struct wrap_slot {
	uint8_t *out, *in;
	uint64_t out_gpa, in_gpa;
	uint32_t len;
	bool pending;
};

static uint8_t wrap_byte(uint32_t seq, uint32_t k)
{
	return (uint8_t)(seq * 131u + k * 7u + (seq >> 8) + 1u);
}

static void test_wraparound(void)
{
	setup_with(", \"queue_size\": 8");
	wreg(VIRTIO_MMIO_QUEUE_SEL, 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 8);
	struct hvd_guest_vq *vq = bring_up_sized(F_V1, 8, NULL);
	CU_ASSERT_EQUAL(VQ_FIELD(0, num), 8);

	struct wrap_slot s[WRAP_BATCH];
	for (unsigned i = 0; i < WRAP_BATCH; i++) {
		/* Byte alignment: the device must not care. */
		s[i].out = alloc(WRAP_MAXLEN, 1, &s[i].out_gpa);
		s[i].in = alloc(WRAP_MAXLEN + 1, 1, &s[i].in_gpa);
	}

	uint32_t done = 0, wraps = 0, failures = 0;
	uint16_t prev = 0;
	while (done < WRAP_ROUNDS && failures == 0) {
		for (unsigned i = 0; i < WRAP_BATCH; i++) {
			uint32_t seq = done + i;
			s[i].len = 1 + seq % WRAP_MAXLEN;
			for (uint32_t k = 0; k < s[i].len; k++)
				s[i].out[k] = wrap_byte(seq, k);
			memset(s[i].in, 0, WRAP_MAXLEN + 1);
			s[i].pending = true;
			struct hvd_guest_buf b[2] = {
				{s[i].out_gpa, s[i].len, false},
				{s[i].in_gpa, s[i].len, true}};
			if (hvd_guest_vq_add(vq, b, 2, false, &s[i]) < 0) {
				CU_FAIL("vq_add failed: descriptors leaked");
				failures++;
			}
		}
		if (failures)
			break;
		if (hvd_guest_vq_kick(vq) != 1) {
			CU_FAIL("kick suppressed without EVENT_IDX");
			failures++;
			break;
		}
		for (unsigned i = 0; i < WRAP_BATCH; i++) {
			void *token = NULL;
			uint32_t len = 0;
			if (hvd_guest_vq_wait_used(vq, &token, &len,
						   FIX_TIMEOUT_MS)) {
				CU_FAIL("echo did not come back");
				failures++;
				break;
			}
			struct wrap_slot *w = token;
			if (w < s || w >= s + WRAP_BATCH || !w->pending) {
				CU_FAIL("unknown or repeated token");
				failures++;
				break;
			}
			w->pending = false;
			uint32_t seq = done + (uint32_t)(w - s);
			if (len != w->len || w->in[w->len] != 0) {
				CU_FAIL("wrong used length");
				failures++;
			}
			for (uint32_t k = 0; k < w->len; k++) {
				if (w->in[k] != wrap_byte(seq, k)) {
					CU_FAIL("echoed data differs");
					failures++;
					break;
				}
			}
		}
		if (failures)
			break;
		done += WRAP_BATCH;
		uint16_t u = used_idx(vq);
		if (u != (uint16_t)done || avail_idx(vq) != (uint16_t)done) {
			CU_FAIL("ring index is not count & 0xffff");
			failures++;
		}
		if (u < prev)
			wraps++;
		prev = u;
	}
	CU_ASSERT_EQUAL(failures, 0);
	CU_ASSERT(done >= WRAP_ROUNDS);
	CU_ASSERT_EQUAL(wraps, 1);
	CU_ASSERT_EQUAL(used_idx(vq), (uint16_t)WRAP_ROUNDS); /* 464 */
	CU_ASSERT_EQUAL(VQ_FIELD(0, used_idx), (uint16_t)WRAP_ROUNDS);
	CU_ASSERT_EQUAL(VQ_FIELD(0, last_avail), (uint16_t)WRAP_ROUNDS);
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & S_RESET);
	/* Still a normal queue after the wrap. */
	CU_ASSERT_EQUAL(echo_once(vq, "after the wrap", false), 0);
	teardown();
}

/* ---- Indirect chains ------------------------------------------------- */

static const uint32_t out_sizes[3] = {7, 13, 29}; /* 49 bytes */
static const uint32_t in_sizes[3] = {5, 31, 13};  /* 49 bytes */

struct multi {
	uint8_t *out[3], *in[3];
	struct hvd_guest_buf b[6];
	uint8_t expect[64];
	uint32_t total;
};

/* 3 readable + 3 writable segments of odd sizes at odd addresses; the
 * readable ones carry `seed`-dependent bytes. `extra_in` grows the last
 * writable segment (room the device must leave untouched). */
static void multi_init(struct multi *m, uint8_t seed, uint32_t extra_in)
{
	uint32_t k = 0;
	m->total = 0;
	for (unsigned i = 0; i < 3; i++) {
		uint64_t gpa;
		m->out[i] = alloc(out_sizes[i], 1, &gpa);
		m->b[i] = (struct hvd_guest_buf){gpa, out_sizes[i], false};
		for (uint32_t j = 0; j < out_sizes[i]; j++, k++) {
			m->out[i][j] = (uint8_t)(seed * 37u + k * 3u + 1u);
			m->expect[k] = m->out[i][j];
		}
		m->total += out_sizes[i];
	}
	for (unsigned i = 0; i < 3; i++) {
		uint64_t gpa;
		uint32_t n = in_sizes[i] + (i == 2 ? extra_in : 0);
		m->in[i] = alloc(n, 1, &gpa);
		memset(m->in[i], 0xee, n);
		m->b[3 + i] = (struct hvd_guest_buf){gpa, n, true};
	}
}

/* The writable segments hold the readable bytes in order; bytes past
 * them are untouched. */
static bool multi_check(const struct multi *m)
{
	uint32_t k = 0;
	for (unsigned i = 0; i < 3; i++) {
		for (uint32_t j = 0; j < m->b[3 + i].len; j++, k++) {
			uint8_t want = k < m->total ? m->expect[k] : 0xee;
			if (m->in[i][j] != want)
				return false;
		}
	}
	return true;
}

static void test_indirect_multi_segment(void)
{
	setup();
	struct hvd_guest_vq *vq = bring_up(F_V1 | F_INDIRECT, NULL);
	CU_ASSERT(VQ_FIELD(0, indirect));
	struct vring_desc *desc = hvd_guest_vq_desc(vq);

	/* One indirect chain: one ring slot pointing at a 6-entry table. */
	struct multi m;
	multi_init(&m, 1, 0);
	int head = hvd_guest_vq_add(vq, m.b, 6, true, &m);
	CU_ASSERT_FATAL(head >= 0 && head < (int)QSIZE);
	CU_ASSERT(desc[head].flags & VRING_DESC_F_INDIRECT);
	CU_ASSERT_EQUAL(desc[head].len, 6 * sizeof(struct vring_desc));
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	void *token = NULL;
	uint32_t len = 0;
	CU_ASSERT_EQUAL(
		hvd_guest_vq_wait_used(vq, &token, &len, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(token, &m);
	CU_ASSERT_EQUAL(len, 49);
	CU_ASSERT(multi_check(&m));

	/* More room than data: len is what was written, the rest is left. */
	struct multi big;
	multi_init(&big, 2, 10);
	CU_ASSERT(hvd_guest_vq_add(vq, big.b, 6, true, &big) >= 0);
	/* The same shape as a direct chain, for comparison. */
	struct multi direct;
	multi_init(&direct, 3, 0);
	CU_ASSERT(hvd_guest_vq_add(vq, direct.b, 6, false, &direct) >= 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	for (unsigned i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &token, &len,
						       FIX_TIMEOUT_MS),
				0);
		CU_ASSERT(token == &big || token == &direct);
		CU_ASSERT_EQUAL(len, 49);
	}
	CU_ASSERT(multi_check(&big));
	CU_ASSERT(multi_check(&direct));

	/* A full ring of indirect chains: 16 chains of 6 buffers each in a
	 * 16-entry ring, only possible with one slot per chain. */
	static struct multi many[QSIZE];
	for (unsigned i = 0; i < QSIZE; i++) {
		multi_init(&many[i], (uint8_t)(10 + i), 0);
		CU_ASSERT_FATAL(hvd_guest_vq_add(vq, many[i].b, 6, true,
						 &many[i]) >= 0);
	}
	uint16_t before = used_idx(vq);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	bool seen[QSIZE] = {false};
	for (unsigned i = 0; i < QSIZE; i++) {
		token = NULL;
		CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &token, &len,
						       FIX_TIMEOUT_MS),
				0);
		struct multi *p = token;
		CU_ASSERT_FATAL(p >= many && p < many + QSIZE);
		CU_ASSERT_FALSE(seen[p - many]);
		seen[p - many] = true;
		CU_ASSERT_EQUAL(len, 49);
		CU_ASSERT(multi_check(p));
	}
	CU_ASSERT_EQUAL(used_idx(vq), (uint16_t)(before + QSIZE));
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & S_RESET);
	teardown();
}

/* ---- Interrupt suppression -------------------------------------------- */

struct small {
	char *out, *in;
	struct hvd_guest_buf b[2];
	char msg[16];
};

static void small_post(struct hvd_guest_vq *vq, struct small *s, unsigned i)
{
	uint64_t out_gpa, in_gpa;
	snprintf(s->msg, sizeof s->msg, "chain #%u", i);
	uint32_t n = (uint32_t)strlen(s->msg);
	s->out = alloc(n, 8, &out_gpa);
	s->in = alloc(n, 8, &in_gpa);
	memcpy(s->out, s->msg, n);
	s->b[0] = (struct hvd_guest_buf){out_gpa, n, false};
	s->b[1] = (struct hvd_guest_buf){in_gpa, n, true};
	CU_ASSERT_FATAL(hvd_guest_vq_add(vq, s->b, 2, false, s) >= 0);
}

/* Collect `n` used entries (already in the ring) and check each echo. */
static void small_collect(struct hvd_guest_vq *vq, struct small *s, unsigned n)
{
	bool seen[8] = {false};
	for (unsigned i = 0; i < n; i++) {
		void *token = NULL;
		uint32_t len = 0;
		CU_ASSERT_EQUAL_FATAL(hvd_guest_vq_get_used(vq, &token, &len),
				      1);
		struct small *p = token;
		CU_ASSERT_FATAL(p >= s && p < s + n);
		CU_ASSERT_FALSE(seen[p - s]);
		seen[p - s] = true;
		CU_ASSERT_EQUAL(len, strlen(p->msg));
		CU_ASSERT(memcmp(p->in, p->msg, strlen(p->msg)) == 0);
	}
	void *token;
	uint32_t len;
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(vq, &token, &len), 0);
}

static void test_event_idx(void)
{
	setup();
	struct hvd_guest_vq *vq = bring_up(F_V1 | F_EVENT_IDX, NULL);
	CU_ASSERT(VQ_FIELD(0, event_idx));

	/* One round trip first, so the device has signalled once and
	 * used_event alone decides from here on. */
	CU_ASSERT_EQUAL(echo_once(vq, "warm-up", false), 0);
	CU_ASSERT_EQUAL(used_idx(vq), 1);
	hvd_guest_ack_interrupt(gd);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	irq_fence();
	uint64_t irqs = hvd_guest_irq_count(gd);

	/* Interrupt wanted when used idx moves past 4: after the 4th of the
	 * next buffers (used idx 1 -> 5). */
	hvd_guest_vq_set_used_event(vq, 4);
	CU_ASSERT_EQUAL(used_event(vq), 4);

	struct small s[4];
	for (unsigned i = 0; i < 4; i++) {
		small_post(vq, &s[i], i);
		/* The device asked for every kick (avail_event). */
		CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
		sync_daemon();
		CU_ASSERT_EQUAL(used_idx(vq), 2 + i);
		CU_ASSERT_EQUAL(used_event(vq), 4); /* driver left it alone */
		if (i < 3) {
			CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS) &
						DEVICE_INT_VRING,
					0);
			CU_ASSERT_EQUAL(hvd_guest_irq_count(gd), irqs);
		}
		if (i == 2) {
			irq_fence();
			CU_ASSERT_EQUAL(hvd_guest_irq_count(gd), irqs);
		}
	}
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), DEVICE_INT_VRING);
	irq_fence();
	CU_ASSERT_EQUAL(hvd_guest_irq_count(gd), irqs + 1);
	small_collect(vq, s, 4);
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & S_RESET);
	teardown();
}

static void test_no_interrupt_flag(void)
{
	setup();
	struct hvd_guest_vq *vq = bring_up(F_V1, NULL);
	CU_ASSERT_FALSE(VQ_FIELD(0, event_idx));
	hvd_guest_vq_interrupts(vq, false);
	CU_ASSERT(hvd_guest_vq_avail(vq)->flags & VRING_AVAIL_F_NO_INTERRUPT);
	irq_fence();
	uint64_t irqs = hvd_guest_irq_count(gd);

	struct small s[3];
	for (unsigned i = 0; i < 3; i++) {
		small_post(vq, &s[i], i);
		CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
		sync_daemon();
		CU_ASSERT_EQUAL(used_idx(vq), i + 1); /* used, silently */
		CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	}
	irq_fence();
	CU_ASSERT_EQUAL(hvd_guest_irq_count(gd), irqs);
	small_collect(vq, s, 3);

	/* Interrupts back on: the next buffer interrupts. Waited for by
	 * interrupt alone: hvd_guest_vq_wait_used would ACK it itself. */
	hvd_guest_vq_interrupts(vq, true);
	CU_ASSERT_FALSE(hvd_guest_vq_avail(vq)->flags &
			VRING_AVAIL_F_NO_INTERRUPT);
	struct small loud;
	small_post(vq, &loud, 3);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS) & DEVICE_INT_VRING,
			DEVICE_INT_VRING);
	small_collect(vq, &loud, 1);
	teardown();
}

/* ---- Reset while chains are held -------------------------------------- */

static void test_reset_with_held_chains(void)
{
	setup();
	struct hvd_guest_vq *held;
	struct hvd_guest_vq *vq = bring_up(F_V1, &held);
	CU_ASSERT_EQUAL(echo_once(vq, "before", false), 0);

	uint64_t gpa;
	uint8_t *bufs = alloc(5 * 32, 8, &gpa);
	memset(bufs, 0x5a, 5 * 32);
	for (unsigned i = 0; i < 5; i++) {
		struct hvd_guest_buf b = {gpa + 32 * i, 32, true};
		CU_ASSERT_FATAL(hvd_guest_vq_add(held, &b, 1, false,
						 bufs + 32 * i) >= 0);
	}
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(held), 1);
	sync_daemon();
	CU_ASSERT_EQUAL(VQ_FIELD(1, inflight), 5);
	CU_ASSERT_EQUAL(VQ_FIELD(1, last_avail), 5);

	/* Snapshot of the old used ring (flags, idx, ring[16]): all zero. */
	struct vring_used *old_used = hvd_guest_vq_used(held);
	struct vring_used *old_used0 = hvd_guest_vq_used(vq);
	static const uint8_t zero[4 + 8 * QSIZE];
	CU_ASSERT(memcmp(old_used, zero, sizeof zero) == 0);
	uint16_t old_used0_idx = used_idx(vq);

	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	CU_ASSERT_EQUAL(VQ_FIELD(1, inflight), 0);

	/* Fresh rings; activate() pushes the five stale chains, which must
	 * touch neither the old rings nor the new ones. The old queue handles
	 * are not used from here on: only their ring memory. */
	struct hvd_guest_vq *held2;
	struct hvd_guest_vq *vq2 = bring_up(F_V1, &held2);
	sync_daemon();
	CU_ASSERT(memcmp(old_used, zero, sizeof zero) == 0);
	CU_ASSERT_EQUAL(old_used->idx, 0);
	CU_ASSERT_EQUAL(old_used0->idx, old_used0_idx);
	CU_ASSERT_EQUAL(used_idx(held2), 0);
	CU_ASSERT_EQUAL(used_idx(vq2), 0);
	CU_ASSERT_EQUAL(VQ_FIELD(1, inflight), 0);
	for (unsigned i = 0; i < 5 * 32; i++)
		if (bufs[i] != 0x5a) {
			CU_FAIL("a stale chain's buffer was written");
			break;
		}

	/* The new device works: echo, and hold/release on queue 1. */
	CU_ASSERT_EQUAL(echo_once(vq2, "after reset", false), 0);
	CU_ASSERT_EQUAL(used_idx(vq2), 1);
	uint8_t *nb = alloc(16, 8, &gpa);
	struct hvd_guest_buf b = {gpa, 16, true};
	CU_ASSERT(hvd_guest_vq_add(held2, &b, 1, false, nb) >= 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(held2), 1);
	sync_daemon();
	CU_ASSERT_EQUAL(VQ_FIELD(1, inflight), 1);
	CU_ASSERT_EQUAL(used_idx(held2), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_write(gd, 4, 1, 1), 0); /* push */
	void *token = NULL;
	uint32_t len = 99;
	CU_ASSERT_EQUAL(
		hvd_guest_vq_wait_used(held2, &token, &len, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(token, nb);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(used_idx(held2), 1);
	CU_ASSERT(memcmp(old_used, zero, sizeof zero) == 0);
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & S_RESET);
	teardown();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"used/avail index wrap past 65535", test_wraparound},
		{"indirect chains, 3 out + 3 in", test_indirect_multi_segment},
		{"EVENT_IDX used_event", test_event_idx},
		{"NO_INTERRUPT without EVENT_IDX", test_no_interrupt_flag},
		{"reset with held chains", test_reset_with_held_chains},
		{NULL, NULL},
	};
	return cunit_run("rings", tests);
}
