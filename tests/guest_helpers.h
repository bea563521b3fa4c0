/* SPDX-License-Identifier: MIT */
/*
 * The guest side of a testdev served by an in-process daemon
 * (daemon_fixture.h): the fixture and device handle, register access, a
 * full bring-up and an echo round trip. Shared by test_mmio.c and the ring
 * suites (ring_fixture.h); each suite starts the fixture its own way and
 * sets `gd`. Static inline, so a suite pays only for what it uses.
 */
#ifndef TESTS_GUEST_HELPERS_H
#define TESTS_GUEST_HELPERS_H

#include <linux/virtio_mmio.h>
#include <string.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "device.h"

static struct fixture fx;
static struct hvd_guest_dev *gd; /* the testdev */

static inline struct device *the_device(void)
{
	return fx.daemon->zones->zone[0]->table->slot[0].dev; /* lowest: testdev
							       */
}

/* A field of the device or of its queue i, read under the lock its writer
 * holds (cb_lock / vq->lock). The register round trip that came before
 * already ordered it, but through the double-mapped bridge page, which
 * ThreadSanitizer cannot see (./dev tsan); the lock it can. */
#define DEV_FIELD(field)                              \
	__extension__({                               \
		struct device *d_ = the_device();     \
		pthread_mutex_lock(&d_->cb_lock);     \
		__typeof__(d_->field) v_ = d_->field; \
		pthread_mutex_unlock(&d_->cb_lock);   \
		v_;                                   \
	})
#define VQ_FIELD(i, field)                                      \
	__extension__({                                         \
		struct virtqueue *q_ = &the_device()->vqs[(i)]; \
		pthread_mutex_lock(&q_->lock);                  \
		__typeof__(q_->field) v_ = q_->field;           \
		pthread_mutex_unlock(&q_->lock);                \
		v_;                                             \
	})

/* The testdev alone in zone 1 at TESTDEV_BASE, irq TESTDEV_IRQ; sets fx and
 * gd (test_mmio.c, test_conformance.c). */
#define TESTDEV_BASE 0xa003c00ull
#define TESTDEV_IRQ  77u

/* With the daemon options of `preset` (poll_us, poll_max_us, ...). */
static inline void testdev_start_as(struct fixture preset)
{
	fx = preset;
	int err = fixture_start(&fx, "{\"type\": \"testdev\", \"addr\": "
				     "\"0xa003c00\", \"len\": \"0x200\", "
				     "\"irq\": 77}");
	CU_ASSERT_FATAL(err == 0);
	gd = hvd_guest_open(fx.mock, 1, TESTDEV_BASE, TESTDEV_IRQ);
	CU_ASSERT_FATAL(gd != NULL);
}

static inline void testdev_start(void)
{
	testdev_start_as((struct fixture){0});
}

static inline void testdev_stop(void)
{
	hvd_guest_close(gd);
	gd = NULL;
	fixture_stop(&fx);
}

static inline uint32_t reg(uint32_t off)
{
	return hvd_guest_reg_read(gd, off);
}

static inline void wreg(uint32_t off, uint32_t v)
{
	CU_ASSERT_EQUAL(hvd_guest_reg_write(gd, off, v), 0);
}

/* Full testdev bring-up offering `want`, both queues with `size` entries.
 * Returns queue 0 (echo); sets *got (if not NULL) to the features the
 * device accepted and *held (if not NULL) to queue 1 (holds chains). */
static inline struct hvd_guest_vq *guest_bring_up(uint64_t want, uint16_t size,
						  uint64_t *got,
						  struct hvd_guest_vq **held)
{
	uint64_t accepted = 0;
	CU_ASSERT_FATAL(hvd_guest_negotiate(gd, want, &accepted) == 0);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(gd, 0, size);
	struct hvd_guest_vq *vq1 = hvd_guest_vq_setup(gd, 1, size);
	CU_ASSERT_FATAL(vq != NULL && vq1 != NULL);
	CU_ASSERT_FATAL(hvd_guest_driver_ok(gd) == 0);
	if (got)
		*got = accepted;
	if (held)
		*held = vq1;
	return vq;
}

/* Publish (no kick) an echo chain: `n` bytes of `msg` readable, as many
 * zeroed bytes writable. Returns the writable buffer (also the chain's
 * token), or NULL on any failure (allocation included). */
static inline char *echo_add(struct hvd_guest_vq *vq, const char *msg,
			     uint32_t n, bool indirect)
{
	char *out, *in;
	uint64_t out_gpa = hvd_guest_alloc(gd, n, 8, (void **)&out);
	uint64_t in_gpa = hvd_guest_alloc(gd, n, 8, (void **)&in);
	if (!out_gpa || !in_gpa)
		return NULL;
	memcpy(out, msg, n);
	memset(in, 0, n);
	struct hvd_guest_buf bufs[2] = {{out_gpa, n, false}, {in_gpa, n, true}};
	return hvd_guest_vq_add(vq, bufs, 2, indirect, in) < 0 ? NULL : in;
}

/* One readable + one writable buffer; the echo must come back whole.
 * Returns 0, or -1 on any failure (allocation included). */
static inline int echo_once(struct hvd_guest_vq *vq, const char *msg,
			    bool indirect)
{
	uint32_t n = (uint32_t)strlen(msg);
	char *in = echo_add(vq, msg, n, indirect);
	if (!in)
		return -1;
	hvd_guest_vq_kick(vq);
	void *token = NULL;
	uint32_t len = 0;
	if (hvd_guest_vq_wait_used(vq, &token, &len, FIX_TIMEOUT_MS))
		return -1;
	return token == in && len == n && memcmp(in, msg, n) == 0 ? 0 : -1;
}

#endif
