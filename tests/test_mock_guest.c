/* SPDX-License-Identifier: MIT */
/*
 * The guest driver of the harness (hvd_guest_*) against a toy virtio-mmio
 * register file that the test serves from the bridge, in place of the
 * daemon. Part of the 'mock' suite (main() is in test_mock.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "test_mock.h"

/* ---- The guest driver against a toy device ------------------------------- */

#define TOY_BASE UINT64_C(0x10000000)
#define TOY_IRQ  40u
#define TOY_QMAX 8u
#define TOY_FEATURES                                    \
	((UINT64_C(1) << VIRTIO_F_VERSION_1) |          \
	 (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC) | \
	 (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX))

/* Just enough of a virtio-mmio device (one queue that fills every writable
 * buffer with 0xab) to drive the guest driver; it polls the bridge. */
struct toy {
	struct fx *f;
	bool stop; /* atomic */
	uint32_t status, dfsel, drvsel, qsel, isr;
	uint64_t drv_features;
	uint32_t qnum, qready;
	uint64_t qdesc, qavail, qused;
	uint16_t last_avail, used_idx;
	unsigned notifies;
	unsigned isr_reads, acks; /* atomic */
	bool hold_irq;            /* atomic: complete without an interrupt */
	pthread_t thread;
};

static void *toy_ptr(struct toy *t, uint64_t gpa, uint64_t len)
{
	return hvd_mock_guest_ptr(t->f->m, ZONE, gpa, len);
}

static void toy_process(struct toy *t)
{
	struct vring_avail *avail = toy_ptr(t, t->qavail, 4 + 2 * t->qnum);
	struct vring_used *used = toy_ptr(t, t->qused, 6 + 8 * t->qnum);
	struct vring_desc *desc = toy_ptr(t, t->qdesc, 16 * t->qnum);
	if (!avail || !used || !desc)
		return;
	while (t->last_avail !=
	       __atomic_load_n(&avail->idx, __ATOMIC_ACQUIRE)) {
		uint16_t head = avail->ring[t->last_avail % t->qnum];
		struct vring_desc *tbl = desc;
		unsigned n = t->qnum, i = head;
		if (desc[head].flags & VRING_DESC_F_INDIRECT) {
			tbl = toy_ptr(t, desc[head].addr, desc[head].len);
			n = desc[head].len / 16;
			i = 0;
		}
		uint32_t total = 0;
		for (unsigned k = 0; tbl && k < n; k++) {
			if (tbl[i].flags & VRING_DESC_F_WRITE) {
				void *p = toy_ptr(t, tbl[i].addr, tbl[i].len);
				if (p)
					memset(p, 0xab, tbl[i].len);
				total += tbl[i].len;
			}
			if (!(tbl[i].flags & VRING_DESC_F_NEXT))
				break;
			i = tbl[i].next;
		}
		used->ring[t->used_idx % t->qnum].id = head;
		used->ring[t->used_idx % t->qnum].len = total;
		t->used_idx++;
		t->last_avail++;
		__atomic_store_n(&used->idx, t->used_idx, __ATOMIC_RELEASE);
	}
	/* EVENT_IDX: a kick for anything after what was taken. */
	uint16_t *avail_event = (uint16_t *)&used->ring[t->qnum];
	if (t->drv_features & (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX))
		__atomic_store_n(avail_event, t->last_avail, __ATOMIC_RELEASE);
	t->isr |= VIRTIO_MMIO_INT_VRING;
	if (!__atomic_load_n(&t->hold_irq, __ATOMIC_ACQUIRE))
		raise_irq(t->f, ZONE, TOY_IRQ);
}

static uint64_t toy_read(struct toy *t, uint32_t off)
{
	static const uint8_t cfg[8] = {0x88, 0x77, 0x66, 0x55,
				       0x44, 0x33, 0x22, 0x11};
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return 0x74726976;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return 4;
	case VIRTIO_MMIO_VENDOR_ID:
		return 0x48564953;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return t->dfsel < 2
			       ? (uint32_t)(TOY_FEATURES >> (32 * t->dfsel))
			       : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return t->qsel == 0 ? TOY_QMAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return t->qsel == 0 ? t->qready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		__atomic_fetch_add(&t->isr_reads, 1, __ATOMIC_RELEASE);
		return t->isr;
	case VIRTIO_MMIO_STATUS:
		return t->status;
	}
	if (off >= VIRTIO_MMIO_CONFIG && off < VIRTIO_MMIO_CONFIG + 8) {
		uint64_t v = 0;
		memcpy(&v, cfg + (off - VIRTIO_MMIO_CONFIG),
		       VIRTIO_MMIO_CONFIG + 8 - off);
		return v;
	}
	return 0;
}

static void toy_write(struct toy *t, uint32_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dfsel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drvsel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (t->drvsel < 2) {
			t->drv_features &=
				~(UINT64_C(0xffffffff) << (32 * t->drvsel));
			t->drv_features |= (uint64_t)v << (32 * t->drvsel);
		}
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->qsel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		t->qnum = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		t->qready = v;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		/* Atomic: the test thread reads it after the round trip, an
		 * ordering made through the double-mapped bridge that
		 * ThreadSanitizer cannot see (./dev tsan). */
		__atomic_store_n(&t->qdesc, v, __ATOMIC_RELAXED);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		t->qavail = v;
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		__atomic_store_n(&t->qused, v, __ATOMIC_RELAXED); /* as qdesc */
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		/* isr first: the release increment publishes it to the
		 * test, which reads isr after its acquire load of acks. */
		t->isr &= ~v;
		__atomic_fetch_add(&t->acks, 1, __ATOMIC_RELEASE);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Atomic: the test reads it without a round trip. */
		__atomic_fetch_add(&t->notifies, 1, __ATOMIC_RELAXED);
		if (v == 0 && t->qready)
			toy_process(t);
		break;
	case VIRTIO_MMIO_STATUS:
		if ((v & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    (t->drv_features & ~TOY_FEATURES))
			v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		t->status = v;
		if (v == 0) {
			t->qready = t->qnum = 0;
			t->last_avail = t->used_idx = 0;
			t->drv_features = 0;
		}
		break;
	}
}

static inline void toy_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static void *toy_main(void *p)
{
	struct toy *t = p;
	struct hvisor_bridge *b = t->f->b;
	unsigned idle = 0;
	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		if (b->req_front ==
		    __atomic_load_n(&b->req_rear, __ATOMIC_ACQUIRE)) {
			/* poll like the daemon's busy phase, then yield */
			if (++idle < 4096)
				toy_relax();
			else
				sched_yield();
			continue;
		}
		idle = 0;
		struct hvisor_device_req r = pop_request(b);
		uint32_t off = (uint32_t)(r.address - TOY_BASE);
		uint64_t v = 0;
		if (r.is_write)
			toy_write(t, off, (uint32_t)r.value);
		else
			v = toy_read(t, off);
		if (!r.need_interrupt)
			complete(b, r.src_cpu, v);
	}
	return NULL;
}

/* The toy serving the bridge of a fresh harness, and a guest driver for
 * it; toy_stop undoes both. */
static struct hvd_guest_dev *toy_start(struct toy *t, struct fx *f)
{
	fx_open(f);
	*t = (struct toy){.f = f};
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t->thread, NULL, toy_main, t), 0);
	return hvd_guest_open(f->m, ZONE, TOY_BASE, TOY_IRQ);
}

static void toy_stop(struct toy *t, struct hvd_guest_dev *d)
{
	hvd_guest_close(d);
	__atomic_store_n(&t->stop, true, __ATOMIC_RELAXED);
	pthread_join(t->thread, NULL);
	fx_close(t->f);
}

void test_guest_driver(void)
{
	struct fx f;
	struct toy t;
	struct hvd_guest_dev *d = toy_start(&t, &f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);

	CU_ASSERT_EQUAL(hvd_guest_probe(d), 4);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(d, VIRTIO_MMIO_VENDOR_ID),
			0x48564953);
	uint64_t want = (UINT64_C(1) << VIRTIO_F_VERSION_1) |
			(UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC) |
			(UINT64_C(1) << 5),
		 neg = 0;
	CU_ASSERT_EQUAL(hvd_guest_negotiate(d, want, &neg), 0);
	CU_ASSERT_EQUAL(neg, want & TOY_FEATURES);
	CU_ASSERT_EQUAL(hvd_guest_config_read(d, 0, 8),
			UINT64_C(0x1122334455667788));
	CU_ASSERT_EQUAL(hvd_guest_config_read(d, 4, 4), 0x11223344);
	CU_ASSERT_EQUAL(hvd_guest_config_read(d, 0, 1), 0x88);
	errno = 0;
	CU_ASSERT_PTR_NULL(hvd_guest_vq_setup(d, 1, 8));
	CU_ASSERT_EQUAL(errno, ENOENT);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(d, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vq);
	CU_ASSERT_EQUAL(hvd_guest_vq_size(vq), TOY_QMAX);
	CU_ASSERT_EQUAL(hvd_guest_driver_ok(d), 0);
	CU_ASSERT_EQUAL(hvd_guest_status(d),
			VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK |
				VIRTIO_CONFIG_S_DRIVER_OK);
	/* Rings come from the upper half of the RAM; the lower half is ours. */
	uint64_t qdesc = __atomic_load_n(&t.qdesc, __ATOMIC_RELAXED);
	uint64_t qused = __atomic_load_n(&t.qused, __ATOMIC_RELAXED);
	CU_ASSERT(qdesc >= RAMX + RAM_SIZE / 2 && qused < RAMX + RAM_SIZE);
	CU_ASSERT_EQUAL(qdesc % 16, 0);

	uint8_t *out = hvd_mock_guest_ptr(f.m, ZONE, RAMX + 0x1000, 16);
	uint8_t *in = hvd_mock_guest_ptr(f.m, ZONE, RAMX + 0x2000, 64);
	struct hvd_guest_buf bufs[2] = {
		{.gpa = RAMX + 0x1000, .len = 16},
		{.gpa = RAMX + 0x2000, .len = 64, .device_writes = true},
	};
	int tok1, tok2;
	void *tok = NULL;
	uint32_t len = 0;
	memset(out, 1, 16);
	uint64_t irqs = hvd_guest_irq_count(d);
	unsigned acks = __atomic_load_n(&t.acks, __ATOMIC_ACQUIRE);
	CU_ASSERT(hvd_guest_vq_add(vq, bufs, 2, false, &tok1) >= 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(vq, &tok, &len), 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &tok, &len, GUARD_MS), 0);
	CU_ASSERT_PTR_EQUAL(tok, &tok1);
	CU_ASSERT_EQUAL(len, 64);
	CU_ASSERT_EQUAL(in[0], 0xab);
	CU_ASSERT_EQUAL(in[63], 0xab);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(d, irqs, GUARD_MS), 0);
	/* The interrupt is ACKed once: by wait_used's driver if it slept
	 * (it ACKs what it was woken for), else here. */
	uint32_t isr = hvd_guest_ack_interrupt(d);
	CU_ASSERT(isr == VIRTIO_MMIO_INT_VRING || isr == 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&t.acks, __ATOMIC_ACQUIRE), acks + 1);
	CU_ASSERT_EQUAL(hvd_guest_ack_interrupt(d), 0);

	/* Indirect: one ring slot for the whole chain. */
	memset(in, 0, 64);
	CU_ASSERT(hvd_guest_vq_add(vq, bufs, 2, true, &tok2) >= 0);
	struct vring_desc *dt = hvd_guest_vq_desc(vq);
	struct vring_avail *av = hvd_guest_vq_avail(vq);
	uint16_t head = av->ring[(uint16_t)(av->idx - 1) % TOY_QMAX];
	CU_ASSERT(dt[head].flags & VRING_DESC_F_INDIRECT);
	CU_ASSERT_EQUAL(dt[head].len, 32);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &tok, &len, GUARD_MS), 0);
	CU_ASSERT_PTR_EQUAL(tok, &tok2);
	CU_ASSERT_EQUAL(len, 64);
	CU_ASSERT_EQUAL(in[10], 0xab);

	/* Fill the ring, refuse one more, then get them all back. */
	int toks[TOY_QMAX];
	for (unsigned i = 0; i < TOY_QMAX; i++)
		CU_ASSERT(hvd_guest_vq_add(vq, &bufs[1], 1, false, &toks[i]) >=
			  0);
	CU_ASSERT_EQUAL(hvd_guest_vq_add(vq, &bufs[1], 1, false, &tok1),
			-ENOSPC);
	CU_ASSERT_EQUAL(hvd_guest_vq_add(vq, &bufs[1], 1, true, &tok1),
			-ENOSPC);
	struct hvd_guest_buf bad[2] = {bufs[1], bufs[0]};
	CU_ASSERT_EQUAL(hvd_guest_vq_add(vq, bad, 2, false, &tok1), -EINVAL);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	for (unsigned i = 0; i < TOY_QMAX; i++) {
		CU_ASSERT_EQUAL(
			hvd_guest_vq_wait_used(vq, &tok, &len, GUARD_MS), 0);
		CU_ASSERT_PTR_EQUAL(tok, &toks[i]);
	}
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(vq, &tok, &len), 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &tok, &len, 20), -ETIMEDOUT);

	/* The device asked for no kicks. */
	struct vring_used *used = hvd_guest_vq_used(vq);
	unsigned kicks = __atomic_load_n(&t.notifies, __ATOMIC_RELAXED);
	used->flags = VRING_USED_F_NO_NOTIFY;
	CU_ASSERT(hvd_guest_vq_add(vq, &bufs[1], 1, false, &tok1) >= 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 0);
	used->flags = 0;
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &tok, &len, GUARD_MS), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&t.notifies, __ATOMIC_RELAXED),
			kicks + 1);

	CU_ASSERT_EQUAL(hvd_guest_reset(d), 0);
	CU_ASSERT_EQUAL(hvd_guest_status(d), 0);

	/* Round-trip time while the "daemon" polls (informational). */
	enum { N = 2001 };
	static int64_t ns[N];
	for (int i = 0; i < N; i++) {
		struct timespec a, z;
		clock_gettime(CLOCK_MONOTONIC, &a);
		hvd_guest_reg_read(d, VIRTIO_MMIO_MAGIC_VALUE);
		clock_gettime(CLOCK_MONOTONIC, &z);
		ns[i] = (z.tv_sec - a.tv_sec) * 1000000000 + z.tv_nsec -
			a.tv_nsec;
	}
	for (int i = 1; i < N; i++) /* insertion sort: small N */
		for (int j = i; j > 0 && ns[j - 1] > ns[j]; j--) {
			int64_t x = ns[j];
			ns[j] = ns[j - 1];
			ns[j - 1] = x;
		}
	printf("\n    mmio round trip vs a polling toy: median %lld ns, "
	       "p99 %lld ns\n",
	       (long long)ns[N / 2], (long long)ns[N * 99 / 100]);

	toy_stop(&t, d);
}

void test_guest_alloc(void)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	struct hvd_guest_dev *d = hvd_guest_open(m, ZONE, TOY_BASE, TOY_IRQ);
	void *p = NULL;
	CU_ASSERT_EQUAL(hvd_guest_alloc(d, 64, 64, &p), 0); /* no RAM yet */
	CU_ASSERT_EQUAL_FATAL(hvd_mock_add_ram(m, ZONE, RAM0, RAMX, 0x10000),
			      0);
	uint64_t a = hvd_guest_alloc(d, 10, 1, &p);
	CU_ASSERT_EQUAL(a, RAMX + 0x8000);
	CU_ASSERT_PTR_EQUAL(p, hvd_mock_guest_ptr(m, ZONE, a, 10));
	uint64_t b = hvd_guest_alloc(d, 100, 4096, &p);
	CU_ASSERT_EQUAL(b, RAMX + 0x9000);
	CU_ASSERT_EQUAL(hvd_guest_alloc(d, 0x7000, 1, &p), 0); /* too big */
	CU_ASSERT_EQUAL(hvd_guest_alloc(d, 16, 3, &p), 0);     /* bad align */
	CU_ASSERT(hvd_guest_alloc(d, 0x6000, 1, &p) != 0);
	hvd_guest_close(d);
	hvd_mock_free(m);
}

static unsigned load(const unsigned *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The Linux model: a completion is seen only after an interrupt, and each
 * interrupt costs one InterruptStatus read and one InterruptACK write. */
void test_guest_linux_model(void)
{
	struct fx f;
	struct toy t;
	struct hvd_guest_dev *d = toy_start(&t, &f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(hvd_guest_set_model(d, 7), -EINVAL);
	CU_ASSERT_EQUAL(hvd_guest_set_model(d, HVD_GUEST_LINUX), 0);
	/* Linux takes every transport bit the toy offers. */
	uint64_t neg = 0;
	CU_ASSERT_EQUAL(hvd_guest_probe(d), 4);
	CU_ASSERT_EQUAL(
		hvd_guest_negotiate(d, hvd_guest_linux_features(4), &neg), 0);
	CU_ASSERT_EQUAL(neg, TOY_FEATURES);
	CU_ASSERT(hvd_guest_linux_features(2) &
		  (UINT64_C(1) << 9)); /* blk FLUSH */
	CU_ASSERT_FALSE(hvd_guest_linux_features(3) &
			(UINT64_C(1) << 2)); /* no console EMERG_WRITE */
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(d, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vq);
	CU_ASSERT_EQUAL(hvd_guest_driver_ok(d), 0);
	struct hvd_guest_buf b = {
		.gpa = RAMX + 0x2000, .len = 64, .device_writes = true};
	int tok1, tok2;
	void *tok = NULL;
	uint32_t len = 0;

	/* Completed in the ring, but no interrupt: not seen. */
	__atomic_store_n(&t.hold_irq, true, __ATOMIC_RELEASE);
	CU_ASSERT(hvd_guest_vq_add(vq, &b, 1, false, &tok1) >= 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	/* The toy serves the bridge in order: a read after the kick returns
	 * once the kick has been processed. */
	CU_ASSERT_EQUAL(hvd_guest_reg_read(d, VIRTIO_MMIO_MAGIC_VALUE),
			0x74726976);
	struct vring_used *used = hvd_guest_vq_used(vq);
	CU_ASSERT_EQUAL(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE), 1);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &tok, &len, 30), -ETIMEDOUT);
	CU_ASSERT_EQUAL(load(&t.isr_reads), 0);
	/* The interrupt: taken through InterruptStatus/ACK, then seen. */
	raise_irq(&f, ZONE, TOY_IRQ);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &tok, &len, GUARD_MS), 0);
	CU_ASSERT_PTR_EQUAL(tok, &tok1);
	CU_ASSERT_EQUAL(load(&t.isr_reads), 1);
	CU_ASSERT_EQUAL(load(&t.acks), 1);
	/* Acknowledged what it read; ordered by the load of acks above. */
	CU_ASSERT_EQUAL(t.isr, 0);
	CU_ASSERT_EQUAL(hvd_guest_interrupts_taken(d), 1);
	/* The handler looks until the ring is empty, as Linux's does, and
	 * leaves. Still in it, the guest could find the next completion
	 * before the mock's thread delivers its interrupt (seen under TSan:
	 * interrupts_taken stayed 1). */
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(vq, &tok, &len), 0);
	CU_ASSERT_EQUAL(hvd_guest_interrupts_taken(d), 1);

	/* With interrupts from the device, one vm_interrupt per request. */
	__atomic_store_n(&t.hold_irq, false, __ATOMIC_RELEASE);
	CU_ASSERT(hvd_guest_vq_add(vq, &b, 1, false, &tok2) >= 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &tok, &len, GUARD_MS), 0);
	CU_ASSERT_PTR_EQUAL(tok, &tok2);
	CU_ASSERT_EQUAL(hvd_guest_interrupts_taken(d), 2);
	CU_ASSERT_EQUAL(load(&t.isr_reads), 2);

	/* The polling model finds a completion with no interrupt and leaves
	 * InterruptStatus alone. */
	CU_ASSERT_EQUAL(hvd_guest_set_model(d, HVD_GUEST_POLLING), 0);
	__atomic_store_n(&t.hold_irq, true, __ATOMIC_RELEASE);
	CU_ASSERT(hvd_guest_vq_add(vq, &b, 1, false, &tok1) >= 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &tok, &len, GUARD_MS), 0);
	CU_ASSERT_PTR_EQUAL(tok, &tok1);
	CU_ASSERT_EQUAL(load(&t.isr_reads), 2);

	toy_stop(&t, d);
}
