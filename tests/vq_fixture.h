/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the virtqueue suites (test_vq_chains.c, test_vq_notify.c).
 * No daemon: a buffer plays the guest's RAM, the test writes rings into it as
 * a driver would, and counting callbacks stand in for the device owner.
 * Everything is static inline so each suite uses what it needs.
 */
#ifndef TESTS_VQ_FIXTURE_H
#define TESTS_VQ_FIXTURE_H

#include <linux/virtio_ring.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "guestmem.h"
#include "virtqueue.h"

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

static inline uint64_t gpa(uint64_t off)
{
	return RAM_GPA + off;
}

static inline struct vring_desc *dtab(void)
{
	return (struct vring_desc *)(F.ram + DESC_OFF);
}

static inline struct vring_avail *avail(void)
{
	return (struct vring_avail *)(F.ram + AVAIL_OFF);
}

static inline struct vring_used *used(void)
{
	return (struct vring_used *)(F.ram + USED_OFF);
}

static inline uint16_t *used_event(void)
{
	return &avail()->ring[F.num];
}

static inline uint16_t *avail_event(void)
{
	return (uint16_t *)&used()->ring[F.num];
}

/* Is the queue lock free? Proves a callback runs without it. */
static inline bool lock_is_free(void)
{
	if (pthread_mutex_trylock(&F.vq.lock) != 0)
		return false;
	pthread_mutex_unlock(&F.vq.lock);
	return true;
}

static inline void on_fail(void *owner, const char *why)
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
static inline void on_irq(void *owner)
{
	if (owner != &F || !lock_is_free())
		F.irq_bad++;
	F.irqs++;
}

static inline void set_desc(struct vring_desc *t, unsigned i, uint64_t addr,
			    uint32_t len, uint16_t flags, uint16_t next)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].next = next;
}

/* Driver: publish head in the avail ring. */
static inline void drv_add(uint16_t head)
{
	avail()->ring[F.aidx % F.num] = head;
	F.aidx++;
	__atomic_store_n(&avail()->idx, F.aidx, __ATOMIC_RELEASE);
}

/* Program the queue registers as the driver would, then start. */
static inline int configure(uint16_t num, bool event_idx, bool indirect,
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

static inline void setup(uint16_t num, bool event_idx, bool indirect)
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

static inline void teardown(void)
{
	CU_ASSERT_EQUAL(F.irq_bad, 0);
	vq_destroy(&F.vq);
	guest_mem_clear(&F.gm);
	free(F.ram);
	memset(&F, 0, sizeof(F));
}

/* Pop, expecting a violation whose reason contains `expect`. */
static inline void expect_violation(const char *expect)
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

#endif
