/* SPDX-License-Identifier: MIT */
/*
 * Fixture of the ring suites (test_rings.c, test_malformed.c): a zone with
 * the testdev plugin and an rng next to it, both opened by the test thread
 * acting as the guest driver. The rng stays up for the whole test; it proves
 * the daemon still serves other devices, and it fences interrupt counts.
 *
 * Ordering without sleeps: requests on the bridge are handled in order, so a
 * register read after a kick returns only once the kick was processed.
 * Interrupts are counted by the mock asynchronously; irq_fence() makes the
 * count settle (see there).
 */
#ifndef TESTS_RING_FIXTURE_H
#define TESTS_RING_FIXTURE_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>

#include "guest_helpers.h"

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

static struct hvd_guest_dev *rd;    /* rng at RNG_BASE; gd is the testdev */
static struct hvd_guest_vq *rng_vq; /* the rng's request queue */

/* Start the daemon with testdev (plus `testdev_extra` JSON members) and rng,
 * open both, and bring the rng up (it stays up for the whole test). */
static inline void setup_with(const char *testdev_extra)
{
	char devices[512];
	memset(&fx, 0, sizeof fx);
	/* These suites count the interrupts a ring's notification rules
	 * (EVENT_IDX, NO_INTERRUPT, a failure's configuration interrupt)
	 * make, while the test thread reads InterruptStatus without always
	 * ACKing: every event raises (--no-irq-merge). Merging is
	 * test_irqline's, and every other suite's by default. */
	fx.irq_every_event = true;
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

static inline void setup(void)
{
	setup_with("");
}

static inline void teardown(void)
{
	hvd_guest_close(gd);
	hvd_guest_close(rd);
	gd = rd = NULL;
	rng_vq = NULL;
	fixture_stop(&fx);
}

/* A register round trip: every request queued before it (kicks included)
 * has been handled when it returns. */
static inline void sync_daemon(void)
{
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
}

static inline uint16_t used_idx(struct hvd_guest_vq *vq)
{
	return __atomic_load_n(&hvd_guest_vq_used(vq)->idx, __ATOMIC_ACQUIRE);
}

static inline uint16_t avail_idx(struct hvd_guest_vq *vq)
{
	return __atomic_load_n(&hvd_guest_vq_avail(vq)->idx, __ATOMIC_ACQUIRE);
}

static inline void *alloc(uint64_t size, uint64_t align, uint64_t *gpa)
{
	void *p = NULL;
	*gpa = hvd_guest_alloc(gd, size, align, &p);
	CU_ASSERT_FATAL(*gpa != 0 && p != NULL);
	return p;
}

/* Full testdev bring-up with both queues of `size`, checking that every
 * wanted feature was accepted; returns queue 0 (echo) and sets *held to
 * queue 1 (holds chains). */
static inline struct hvd_guest_vq *bring_up_sized(uint64_t want, uint16_t size,
						  struct hvd_guest_vq **held)
{
	uint64_t got = 0;
	struct hvd_guest_vq *vq = guest_bring_up(want, size, &got, held);
	CU_ASSERT_EQUAL(got, want);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_STATUS),
			VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK |
				VIRTIO_CONFIG_S_DRIVER_OK);
	return vq;
}

static inline struct hvd_guest_vq *bring_up(uint64_t want,
					    struct hvd_guest_vq **held)
{
	return bring_up_sized(want, QSIZE, held);
}

/* The rng hands out entropy: 64 bytes written, not all zero. */
static inline bool rng_serves(void)
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
static inline void irq_fence(void)
{
	uint64_t seen = hvd_guest_irq_count(rd);
	CU_ASSERT(rng_serves());
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(rd, seen, FIX_TIMEOUT_MS), 0);
}

#endif
