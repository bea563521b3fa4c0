/* SPDX-License-Identifier: MIT */
/*
 * Virtio 1.2 device requirements that no other suite proves on its own
 * (docs/conformance.md names every test proving a requirement; a test
 * here carries its section number). The testdev through the whole path.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <string.h>

#include "guest_helpers.h"

#define F_V1 (1ull << VIRTIO_F_VERSION_1)

static void setup(void)
{
	testdev_start();
}

static void teardown(void)
{
	testdev_stop();
}

/* 2.1.2: a kick before DRIVER_OK consumes nothing; the same chain is
 * served once DRIVER_OK is set (so it was a valid one). */
static void test_nothing_used_before_driver_ok(void)
{
	setup();
	uint64_t got = 0;
	CU_ASSERT_FATAL(hvd_guest_negotiate(gd, F_V1, &got) == 0);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(gd, 0, 8);
	CU_ASSERT_FATAL(vq != NULL);
	char *in = echo_add(vq, "ping", 4, false);
	CU_ASSERT_FATAL(in != NULL);
	uint64_t irqs = hvd_guest_irq_count(gd);
	hvd_guest_vq_kick(vq);
	/* A register read completes after the kick queued before it. */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	void *token = NULL;
	uint32_t len = 0;
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(vq, &token, &len), 0);
	CU_ASSERT_EQUAL(hvd_guest_irq_count(gd), irqs);
	CU_ASSERT_EQUAL(hvd_guest_driver_ok(gd), 0);
	hvd_guest_vq_kick(vq);
	CU_ASSERT_EQUAL(
		hvd_guest_vq_wait_used(vq, &token, &len, FIX_TIMEOUT_MS), 0);
	CU_ASSERT(token == in && len == 4 && memcmp(in, "ping", 4) == 0);
	teardown();
}

/* 2.2.2: a set accepted once is accepted again after a reset. */
static void test_same_features_after_reset(void)
{
	setup();
	const uint64_t want = F_V1 | (1ull << 1) | (1ull << 2);
	for (int round = 0; round < 3; round++) {
		uint64_t got = 0;
		CU_ASSERT_EQUAL(hvd_guest_negotiate(gd, want, &got), 0);
		CU_ASSERT_EQUAL(got, want);
		CU_ASSERT(hvd_guest_status(gd) & VIRTIO_CONFIG_S_FEATURES_OK);
		CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
		CU_ASSERT_EQUAL(hvd_guest_status(gd), 0);
	}
	teardown();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"2.1.2 nothing used before DRIVER_OK",
		 test_nothing_used_before_driver_ok},
		{"2.2.2 the same features again after a reset",
		 test_same_features_after_reset},
		{NULL, NULL},
	};
	return cunit_run("conformance", tests);
}
