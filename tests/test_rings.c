/* SPDX-License-Identifier: MIT */
/*
 * Split rings end to end: guest driver -> bridge -> dispatch -> virtqueue ->
 * testdev plugin, with an rng device next to it in the same zone.
 *
 * Covered: used/avail index wrap past 65535, indirect chains, EVENT_IDX and
 * NO_INTERRUPT suppression, malformed chains written by hand (each must end
 * in DEVICE_NEEDS_RESET + a configuration interrupt while the daemon and the
 * other device keep serving), ring addresses outside guest RAM, and a guest
 * reset while the plugin holds chains.
 *
 * Ordering without sleeps: requests on the bridge are handled in order, so a
 * register read after a kick returns only once the kick was processed.
 * Interrupts are counted by the mock asynchronously; irq_fence() makes the
 * count settle (see there).
 */
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "device.h"

#define TD_BASE  0xa003c00ull
#define TD_IRQ   77u
#define RNG_BASE 0xa003e00ull
#define RNG_IRQ  78u
#define RAM_BASE 0x50000000ull
#define RAM_SIZE 0x1000000ull
#define RAM_END  (RAM_BASE + RAM_SIZE)

#define F_INDIRECT  (1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_V1        (1ull << VIRTIO_F_VERSION_1)

#define QSIZE   16u /* ring size used unless a test says otherwise */
#define S_RESET VIRTIO_CONFIG_S_NEEDS_RESET

static struct fixture fx;
static struct hvd_guest_dev *gd;    /* testdev at TD_BASE */
static struct hvd_guest_dev *rd;    /* rng at RNG_BASE */
static struct hvd_guest_vq *rng_vq; /* the rng's request queue */

/* ---- Fixture ------------------------------------------------------------ */

/* Start the daemon with testdev (plus `testdev_extra` JSON members) and rng,
 * open both, and bring the rng up (it stays up for the whole test). */
static void setup_with(const char *testdev_extra)
{
	char devices[512];
	memset(&fx, 0, sizeof fx);
	snprintf(devices, sizeof devices,
		 "{\"type\": \"testdev\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 77%s}, {\"type\": \"rng\", \"addr\": "
		 "\"0xa003e00\", \"len\": \"0x200\", \"irq\": 78}",
		 testdev_extra);
	CU_ASSERT_FATAL(fixture_start(&fx, devices) == 0);
	gd = hvd_guest_open(fx.mock, 1, TD_BASE, TD_IRQ);
	rd = hvd_guest_open(fx.mock, 1, RNG_BASE, RNG_IRQ);
	CU_ASSERT_FATAL(gd != NULL && rd != NULL);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_probe(gd), 0xfff);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_probe(rd), VIRTIO_ID_RNG);
	uint64_t got = 0;
	CU_ASSERT_FATAL(hvd_guest_negotiate(rd, F_V1, &got) == 0);
	CU_ASSERT_EQUAL(got, F_V1);
	rng_vq = hvd_guest_vq_setup(rd, 0, QSIZE);
	CU_ASSERT_FATAL(rng_vq != NULL);
	CU_ASSERT_FATAL(hvd_guest_driver_ok(rd) == 0);
}

static void setup(void)
{
	setup_with("");
}

static void teardown(void)
{
	hvd_guest_close(gd);
	hvd_guest_close(rd);
	gd = rd = NULL;
	rng_vq = NULL;
	fixture_stop(&fx);
}

static struct device *the_device(void)
{
	return fx.daemon->zones[0].devices[0]; /* lowest base: testdev */
}

static uint32_t reg(uint32_t off)
{
	return hvd_guest_reg_read(gd, off);
}

static void wreg(uint32_t off, uint32_t v)
{
	CU_ASSERT_EQUAL(hvd_guest_reg_write(gd, off, v), 0);
}

/* A register round trip: every request queued before it (kicks included)
 * has been handled when it returns. */
static void sync_daemon(void)
{
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
}

static uint16_t used_idx(struct hvd_guest_vq *vq)
{
	return __atomic_load_n(&hvd_guest_vq_used(vq)->idx, __ATOMIC_ACQUIRE);
}

static uint16_t avail_idx(struct hvd_guest_vq *vq)
{
	return __atomic_load_n(&hvd_guest_vq_avail(vq)->idx, __ATOMIC_ACQUIRE);
}

/* used_event sits right after the avail ring (virtio 1.2 2.7.6). */
static uint16_t used_event(struct hvd_guest_vq *vq)
{
	struct vring_avail *av = hvd_guest_vq_avail(vq);
	return __atomic_load_n(&av->ring[hvd_guest_vq_size(vq)],
			       __ATOMIC_ACQUIRE);
}

static void *alloc(uint64_t size, uint64_t align, uint64_t *gpa)
{
	void *p = NULL;
	*gpa = hvd_guest_alloc(gd, size, align, &p);
	CU_ASSERT_FATAL(*gpa != 0 && p != NULL);
	return p;
}

/* Full testdev bring-up with both queues of `size`; returns queue 0 (echo)
 * and sets *held to queue 1 (holds chains). */
static struct hvd_guest_vq *bring_up_sized(uint64_t want, uint16_t size,
					   struct hvd_guest_vq **held)
{
	uint64_t got = 0;
	CU_ASSERT_FATAL(hvd_guest_negotiate(gd, want, &got) == 0);
	CU_ASSERT_EQUAL(got, want);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(gd, 0, size);
	struct hvd_guest_vq *vq1 = hvd_guest_vq_setup(gd, 1, size);
	CU_ASSERT_FATAL(vq != NULL && vq1 != NULL);
	CU_ASSERT_FATAL(hvd_guest_driver_ok(gd) == 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_STATUS),
			VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK |
				VIRTIO_CONFIG_S_DRIVER_OK);
	if (held)
		*held = vq1;
	return vq;
}

static struct hvd_guest_vq *bring_up(uint64_t want, struct hvd_guest_vq **held)
{
	return bring_up_sized(want, QSIZE, held);
}

/* One readable + one writable buffer; the echo must come back whole. */
static int echo_once(struct hvd_guest_vq *vq, const char *msg, bool indirect)
{
	char *out, *in;
	uint32_t n = (uint32_t)strlen(msg);
	uint64_t out_gpa = hvd_guest_alloc(gd, n, 8, (void **)&out);
	uint64_t in_gpa = hvd_guest_alloc(gd, n, 8, (void **)&in);
	if (!out_gpa || !in_gpa)
		return -1;
	memcpy(out, msg, n);
	memset(in, 0, n);
	struct hvd_guest_buf bufs[2] = {{out_gpa, n, false}, {in_gpa, n, true}};
	if (hvd_guest_vq_add(vq, bufs, 2, indirect, in) < 0)
		return -1;
	hvd_guest_vq_kick(vq);
	void *token = NULL;
	uint32_t len = 0;
	if (hvd_guest_vq_wait_used(vq, &token, &len, FIX_TIMEOUT_MS))
		return -1;
	return token == in && len == n && memcmp(in, msg, n) == 0 ? 0 : -1;
}

/* The rng hands out entropy: 64 bytes written, not all zero. */
static bool rng_serves(void)
{
	uint8_t *buf = NULL;
	uint64_t gpa = hvd_guest_alloc(rd, 64, 8, (void **)&buf);
	if (!gpa)
		return false;
	memset(buf, 0, 64);
	struct hvd_guest_buf b = {gpa, 64, true};
	if (hvd_guest_vq_add(rng_vq, &b, 1, false, buf) < 0)
		return false;
	hvd_guest_vq_kick(rng_vq);
	void *token = NULL;
	uint32_t len = 0;
	if (hvd_guest_vq_wait_used(rng_vq, &token, &len, FIX_TIMEOUT_MS))
		return false;
	bool nonzero = false;
	for (unsigned i = 0; i < 64; i++)
		nonzero |= buf[i] != 0;
	return token == buf && len == 64 && nonzero &&
	       !(hvd_guest_reg_read(rd, VIRTIO_MMIO_STATUS) & S_RESET);
}

/*
 * Make the mock's interrupt counts settle. The daemon appends {zone, irq}
 * to res_list in order and the mock drains the list front to rear, so once
 * an rng interrupt raised *now* has been counted, every interrupt raised
 * before it (by the testdev, say) has been counted too.
 */
static void irq_fence(void)
{
	uint64_t seen = hvd_guest_irq_count(rd);
	CU_ASSERT(rng_serves());
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(rd, seen, FIX_TIMEOUT_MS), 0);
}

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

/* ---- 1. Index wraparound ------------------------------------------------ */

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
	CU_ASSERT_EQUAL(the_device()->vqs[0].num, 8);

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
	CU_ASSERT_EQUAL(the_device()->vqs[0].used_idx, (uint16_t)WRAP_ROUNDS);
	CU_ASSERT_EQUAL(the_device()->vqs[0].last_avail, (uint16_t)WRAP_ROUNDS);
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & S_RESET);
	/* Still a normal queue after the wrap. */
	CU_ASSERT_EQUAL(echo_once(vq, "after the wrap", false), 0);
	teardown();
}

/* ---- 2. Indirect chains ------------------------------------------------- */

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
	CU_ASSERT(the_device()->vqs[0].indirect);
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

/* ---- 4. Malformed chains (and the indirect-not-negotiated case of 2) ---- */

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
	CU_ASSERT(the_device()->vqs[0].broken);

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
	CU_ASSERT_FALSE(the_device()->vqs[0].broken);
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

/* ---- 3. Interrupt suppression -------------------------------------------- */

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
	CU_ASSERT(the_device()->vqs[0].event_idx);

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
	CU_ASSERT_FALSE(the_device()->vqs[0].event_idx);
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

	/* Interrupts back on: the next buffer interrupts. */
	hvd_guest_vq_interrupts(vq, true);
	CU_ASSERT_FALSE(hvd_guest_vq_avail(vq)->flags &
			VRING_AVAIL_F_NO_INTERRUPT);
	CU_ASSERT_EQUAL(echo_once(vq, "loud again", false), 0);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS) & DEVICE_INT_VRING,
			DEVICE_INT_VRING);
	teardown();
}

/* ---- 5. Ring addresses outside guest RAM --------------------------------- */

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
	CU_ASSERT_EQUAL(the_device()->vqs[0].desc_gpa, desc);
	CU_ASSERT_EQUAL(the_device()->vqs[0].avail_gpa, avail);
	CU_ASSERT_EQUAL(the_device()->vqs[0].used_gpa, used);
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
	CU_ASSERT_FALSE(the_device()->activated);
	CU_ASSERT_FALSE(the_device()->vqs[0].started);

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

/* ---- 6. Reset while chains are held -------------------------------------- */

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
	CU_ASSERT_EQUAL(the_device()->vqs[1].inflight, 5);
	CU_ASSERT_EQUAL(the_device()->vqs[1].last_avail, 5);

	/* Snapshot of the old used ring (flags, idx, ring[16]): all zero. */
	struct vring_used *old_used = hvd_guest_vq_used(held);
	struct vring_used *old_used0 = hvd_guest_vq_used(vq);
	static const uint8_t zero[4 + 8 * QSIZE];
	CU_ASSERT(memcmp(old_used, zero, sizeof zero) == 0);
	uint16_t old_used0_idx = used_idx(vq);

	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	CU_ASSERT_EQUAL(the_device()->vqs[1].inflight, 0);

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
	CU_ASSERT_EQUAL(the_device()->vqs[1].inflight, 0);
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
	CU_ASSERT_EQUAL(the_device()->vqs[1].inflight, 1);
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
		{"indirect not negotiated", test_indirect_not_negotiated},
		{"EVENT_IDX used_event", test_event_idx},
		{"NO_INTERRUPT without EVENT_IDX", test_no_interrupt_flag},
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
		{"ring addresses outside RAM at DRIVER_OK",
		 test_ring_addresses_outside_ram},
		{"reset with held chains", test_reset_with_held_chains},
		{NULL, NULL},
	};
	return cunit_run("rings", tests);
}
