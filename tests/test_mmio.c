/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio register file, register by register, through the whole
 * path: mock vCPU -> bridge -> dispatch -> register file -> testdev plugin.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "guest_helpers.h"

#define BASE        TESTDEV_BASE
#define F_DEV1      (1ull << 1)
#define F_DEV2      (1ull << 2)
#define F_INDIRECT  (1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_V1        (1ull << VIRTIO_F_VERSION_1)

static void setup(void)
{
	testdev_start();
}

static void teardown(void)
{
	testdev_stop();
}

static void test_identity(void)
{
	setup();
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_VERSION), 2);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_DEVICE_ID), 0xfff);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_VENDOR_ID), 0x48564953);
	CU_ASSERT_EQUAL(hvd_guest_probe(gd), 0xfff);
	/* Write-only registers read as zero. */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_DRIVER_FEATURES), 0);
	/* No shared memory regions: any SHMSel reads length -1 (virtio_fs
	 * probes its DAX window so), and SHMSel is writable. */
	CU_ASSERT_EQUAL(hvd_guest_reg_write(gd, VIRTIO_MMIO_SHM_SEL, 0), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
	teardown();
}

static void test_device_features(void)
{
	setup();
	wreg(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_DEVICE_FEATURES),
			(uint32_t)(F_DEV1 | F_DEV2 | F_INDIRECT | F_EVENT_IDX));
	wreg(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1 */
	wreg(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	teardown();
}

static void begin(void)
{
	wreg(VIRTIO_MMIO_STATUS, 0);
	wreg(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wreg(VIRTIO_MMIO_STATUS,
	     VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
}

static void write_features(uint64_t f)
{
	wreg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wreg(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wreg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wreg(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static uint32_t features_ok(void)
{
	wreg(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
					 VIRTIO_CONFIG_S_DRIVER |
					 VIRTIO_CONFIG_S_FEATURES_OK);
	return reg(VIRTIO_MMIO_STATUS);
}

static void test_negotiation_refuses_unoffered(void)
{
	const uint64_t offer =
		F_DEV1 | F_DEV2 | F_INDIRECT | F_EVENT_IDX | F_V1;
	setup();
	/* Every bit, RING_PACKED included: not a subset of the offer. */
	begin();
	write_features(~0ull);
	CU_ASSERT_FALSE(features_ok() & VIRTIO_CONFIG_S_FEATURES_OK);
	CU_ASSERT_EQUAL(DEV_FIELD(features), 0);
	/* One bit too many is enough. */
	begin();
	write_features(offer | (1ull << VIRTIO_F_RING_PACKED));
	CU_ASSERT_FALSE(features_ok() & VIRTIO_CONFIG_S_FEATURES_OK);
	/* A bit above 63 (selector 2) was never offered either. */
	begin();
	write_features(offer);
	wreg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wreg(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	CU_ASSERT_FALSE(features_ok() & VIRTIO_CONFIG_S_FEATURES_OK);
	/* After a reset the exact offer is accepted... */
	begin();
	write_features(offer);
	CU_ASSERT(features_ok() & VIRTIO_CONFIG_S_FEATURES_OK);
	CU_ASSERT_EQUAL(DEV_FIELD(features), offer);
	/* ...and frozen once FEATURES_OK stuck. */
	write_features(F_V1);
	CU_ASSERT_EQUAL(DEV_FIELD(features), offer);
	teardown();
}

static void test_negotiation_refusals(void)
{
	setup();
	/* A legacy driver (no VERSION_1) is refused. */
	begin();
	write_features(F_DEV1);
	CU_ASSERT_FALSE(features_ok() & VIRTIO_CONFIG_S_FEATURES_OK);
	/* The plugin refuses bit 2 without bit 1. */
	begin();
	write_features(F_V1 | F_DEV2);
	CU_ASSERT_FALSE(features_ok() & VIRTIO_CONFIG_S_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK does not stick. */
	wreg(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
					 VIRTIO_CONFIG_S_DRIVER |
					 VIRTIO_CONFIG_S_DRIVER_OK);
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* And a good set is accepted after a reset. */
	begin();
	write_features(F_V1 | F_DEV1 | F_DEV2);
	CU_ASSERT(features_ok() & VIRTIO_CONFIG_S_FEATURES_OK);
	teardown();
}

static void test_queue_select_bounds(void)
{
	setup();
	begin();
	wreg(VIRTIO_MMIO_QUEUE_SEL, 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wreg(VIRTIO_MMIO_QUEUE_SEL, 1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wreg(VIRTIO_MMIO_QUEUE_SEL, 2);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wreg(VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wreg(VIRTIO_MMIO_QUEUE_READY, 1); /* ignored, no crash */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_READY), 0);
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	teardown();
}

static void expect_bad_num(uint32_t num)
{
	begin();
	uint64_t irqs = hvd_guest_irq_count(gd);
	wreg(VIRTIO_MMIO_QUEUE_SEL, 0);
	wreg(VIRTIO_MMIO_QUEUE_NUM, num);
	CU_ASSERT(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT(reg(VIRTIO_MMIO_INTERRUPT_STATUS) & 2);
	wreg(VIRTIO_MMIO_STATUS, 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_STATUS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

static void test_queue_num_validation(void)
{
	setup();
	expect_bad_num(0);
	expect_bad_num(257);
	expect_bad_num(48);
	begin();
	wreg(VIRTIO_MMIO_QUEUE_NUM, 64);
	CU_ASSERT_FALSE(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	teardown();
}

static void test_ring_addresses_64bit(void)
{
	setup();
	begin();
	wreg(VIRTIO_MMIO_QUEUE_SEL, 1);
	wreg(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x11112000);
	wreg(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x1);
	wreg(VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x22223000);
	wreg(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0x2);
	wreg(VIRTIO_MMIO_QUEUE_USED_LOW, 0x33334000);
	wreg(VIRTIO_MMIO_QUEUE_USED_HIGH, 0x3);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_DESC_LOW), 0x11112000);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_DESC_HIGH), 1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_AVAIL_LOW), 0x22223000);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_AVAIL_HIGH), 2);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_USED_LOW), 0x33334000);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_USED_HIGH), 3);
	CU_ASSERT_EQUAL(VQ_FIELD(1, desc_gpa), 0x111112000ull);
	/* Queue 0 is untouched. */
	wreg(VIRTIO_MMIO_QUEUE_SEL, 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	teardown();
}

/* Full bring-up with 16-entry queues; returns queue 0 (echo) and sets
 * *held to queue 1. */
static struct hvd_guest_vq *bring_up(uint64_t want, struct hvd_guest_vq **held)
{
	return guest_bring_up(want, 16, NULL, held);
}

static void test_queue_regs_frozen_while_ready(void)
{
	setup();
	bring_up(F_V1, NULL);
	wreg(VIRTIO_MMIO_QUEUE_SEL, 0);
	uint32_t desc = reg(VIRTIO_MMIO_QUEUE_DESC_LOW);
	wreg(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wreg(VIRTIO_MMIO_QUEUE_NUM, 8);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_DESC_LOW), desc);
	CU_ASSERT_EQUAL(VQ_FIELD(0, num), 16);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_READY), 1);
	teardown();
}

static void test_interrupt_status_and_ack(void)
{
	setup();
	struct hvd_guest_vq *vq = bring_up(F_V1, NULL);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	uint64_t irqs = hvd_guest_irq_count(gd);
	/* One echo request, its completion waited for by interrupt alone
	 * (hvd_guest_vq_wait_used would take the interrupt itself). */
	char *buf;
	uint64_t gpa = hvd_guest_alloc(gd, 16, 8, (void **)&buf);
	CU_ASSERT_FATAL(gpa != 0);
	struct hvd_guest_buf b[2] = {{gpa, 8, false}, {gpa + 8, 8, true}};
	CU_ASSERT_FATAL(hvd_guest_vq_add(vq, b, 2, false, buf) >= 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_kick(vq), 1);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	void *tok = NULL;
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(vq, &tok, NULL), 1);
	CU_ASSERT_PTR_EQUAL(tok, buf);
	teardown();
}

static void test_direct_and_indirect(void)
{
	setup();
	struct hvd_guest_vq *vq = bring_up(F_V1 | F_INDIRECT, NULL);
	CU_ASSERT_EQUAL(echo_once(vq, "direct chain", false), 0);
	CU_ASSERT_EQUAL(echo_once(vq, "indirect chain", true), 0);
	for (int i = 0; i < 40; i++) /* more than the ring holds */
		CU_ASSERT_EQUAL(echo_once(vq, "again and again", i & 1), 0);
	teardown();
}

static void test_reset_clears_everything(void)
{
	setup();
	struct hvd_guest_vq *vq = bring_up(F_V1 | F_EVENT_IDX, NULL);
	CU_ASSERT_EQUAL(echo_once(vq, "x", false), 0);
	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_STATUS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	wreg(VIRTIO_MMIO_QUEUE_SEL, 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_READY), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	CU_ASSERT_EQUAL(DEV_FIELD(features), 0);
	/* And the device comes back up. */
	vq = bring_up(F_V1, NULL);
	CU_ASSERT_EQUAL(echo_once(vq, "after reset", false), 0);
	teardown();
}

static void test_config_space(void)
{
	setup();
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 0, 4), 0x11223344);
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 0, 1), 0x44);
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 2, 2), 0x1122);
	/* Unaligned, oversized and out-of-range accesses read 0. */
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 1, 2), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 16, 4), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 14, 4), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 0x100, 4), 0);
	/* Writable fields keep what was written, at every width. */
	CU_ASSERT_EQUAL(hvd_guest_config_write(gd, 6, 2, 0xbeef), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 6, 2), 0xbeef);
	uint64_t v = 0;
	CU_ASSERT_EQUAL(hvd_mock_mmio(fx.mock, 1, BASE + 0x100 + 8, 8, true,
				      &(uint64_t){0x0123456789abcdefull}, false,
				      FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(hvd_mock_mmio(fx.mock, 1, BASE + 0x100 + 8, 8, false,
				      &v, false, FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(v, 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 8, 8), 0x0123456789abcdefull);
	/* Read-only magic stays. */
	CU_ASSERT_EQUAL(hvd_guest_config_write(gd, 0, 4, 0), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(gd, 0, 4), 0x11223344);
	teardown();
}

static void test_register_width_checked(void)
{
	setup();
	uint64_t v = 99;
	CU_ASSERT_EQUAL(hvd_mock_mmio(fx.mock, 1, BASE, 2, false, &v, false,
				      FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(v, 0);
	v = 99;
	CU_ASSERT_EQUAL(hvd_mock_mmio(fx.mock, 1, BASE + 1, 4, false, &v, false,
				      FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(v, 0);
	/* A byte write to Status is ignored. */
	v = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	CU_ASSERT_EQUAL(hvd_mock_mmio(fx.mock, 1, BASE + VIRTIO_MMIO_STATUS, 1,
				      true, &v, false, FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_STATUS), 0);
	teardown();
}

static void test_config_generation_and_interrupt(void)
{
	setup();
	bring_up(F_V1, NULL);
	uint32_t gen = reg(VIRTIO_MMIO_CONFIG_GENERATION);
	uint64_t irqs = hvd_guest_irq_count(gd);
	CU_ASSERT_EQUAL(hvd_guest_config_write(gd, 4, 1, 2), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS) & 2, 2);
	teardown();
}

static void test_plugin_needs_reset(void)
{
	setup();
	struct hvd_guest_vq *vq = bring_up(F_V1, NULL);
	uint64_t irqs = hvd_guest_irq_count(gd);
	CU_ASSERT_EQUAL(hvd_guest_config_write(gd, 4, 1, 3), 0);
	CU_ASSERT(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(gd, irqs, FIX_TIMEOUT_MS), 0);
	/* The driver cannot clear NEEDS_RESET by writing Status... */
	wreg(VIRTIO_MMIO_STATUS,
	     reg(VIRTIO_MMIO_STATUS) & ~VIRTIO_CONFIG_S_NEEDS_RESET);
	CU_ASSERT(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* ...kicks are ignored meanwhile... */
	char *buf;
	uint64_t gpa = hvd_guest_alloc(gd, 8, 8, (void **)&buf);
	struct hvd_guest_buf b[2] = {{gpa, 4, false}, {gpa + 4, 4, true}};
	CU_ASSERT(hvd_guest_vq_add(vq, b, 2, false, buf) >= 0);
	hvd_guest_vq_kick(vq);
	void *token;
	uint32_t len;
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(vq, &token, &len), 0);
	/* ...and no thread of the plugin can pop that chain either. */
	CU_ASSERT_PTR_NULL(vq_pop(&the_device()->vqs[0]));
	/* ...and a reset brings it back. */
	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	vq = bring_up(F_V1, NULL);
	CU_ASSERT_EQUAL(echo_once(vq, "recovered", false), 0);
	teardown();
}

static void test_stale_chains_after_reset(void)
{
	setup();
	struct hvd_guest_vq *held;
	bring_up(F_V1, &held);
	char *buf;
	uint64_t gpa = hvd_guest_alloc(gd, 64, 8, (void **)&buf);
	struct hvd_guest_buf b = {gpa, 64, true};
	CU_ASSERT(hvd_guest_vq_add(held, &b, 1, false, buf) >= 0);
	CU_ASSERT(hvd_guest_vq_add(held, &b, 1, false, buf) >= 0);
	hvd_guest_vq_kick(held);
	/* A register round trip after the kick: the notify was handled. */
	reg(VIRTIO_MMIO_STATUS);
	CU_ASSERT_EQUAL(VQ_FIELD(1, inflight), 2);
	struct vring_used *old_used = hvd_guest_vq_used(held);
	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	/* New rings; activate() pushes the two stale chains. */
	struct hvd_guest_vq *held2;
	struct hvd_guest_vq *vq = bring_up(F_V1, &held2);
	CU_ASSERT_EQUAL(old_used->idx, 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_used(held2)->idx, 0);
	CU_ASSERT_EQUAL(echo_once(vq, "still fine", false), 0);
	teardown();
}

static void test_event_loop_timer_completes(void)
{
	setup();
	struct hvd_guest_vq *held;
	bring_up(F_V1, &held);
	char *buf;
	uint64_t gpa = hvd_guest_alloc(gd, 16, 8, (void **)&buf);
	struct hvd_guest_buf b = {gpa, 16, true};
	CU_ASSERT(hvd_guest_vq_add(held, &b, 1, false, buf) >= 0);
	hvd_guest_vq_kick(held);
	CU_ASSERT_EQUAL(hvd_guest_config_write(gd, 4, 1, 4), 0);
	void *token = NULL;
	uint32_t len = 99;
	CU_ASSERT_EQUAL(
		hvd_guest_vq_wait_used(held, &token, &len, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(token, buf);
	CU_ASSERT_EQUAL(len, 0);
	teardown();
}

static void test_unserved_addresses_complete(void)
{
	setup();
	uint64_t v = 123;
	/* Same zone, no device; another zone; the gap after the window. */
	CU_ASSERT_EQUAL(hvd_mock_mmio(fx.mock, 1, 0x1000, 4, false, &v, false,
				      FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(v, 0);
	v = 123;
	CU_ASSERT_EQUAL(hvd_mock_mmio(fx.mock, 7, BASE, 4, false, &v, false,
				      FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(v, 0);
	v = 5;
	CU_ASSERT_EQUAL(hvd_mock_mmio(fx.mock, 1, BASE + 0x200, 4, true, &v,
				      false, FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	teardown();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"identity registers", test_identity},
		{"device features by selector", test_device_features},
		{"negotiation refuses features never offered",
		 test_negotiation_refuses_unoffered},
		{"negotiation refusals", test_negotiation_refusals},
		{"queue select bounds", test_queue_select_bounds},
		{"QueueNum validation", test_queue_num_validation},
		{"64-bit ring addresses", test_ring_addresses_64bit},
		{"queue registers frozen while ready",
		 test_queue_regs_frozen_while_ready},
		{"InterruptStatus and ACK", test_interrupt_status_and_ack},
		{"direct and indirect chains", test_direct_and_indirect},
		{"reset clears everything", test_reset_clears_everything},
		{"config space widths and bounds", test_config_space},
		{"register access width checked", test_register_width_checked},
		{"config generation and interrupt",
		 test_config_generation_and_interrupt},
		{"plugin needs_reset", test_plugin_needs_reset},
		{"stale chains after reset", test_stale_chains_after_reset},
		{"event-loop timer completes a chain",
		 test_event_loop_timer_completes},
		{"unserved addresses complete",
		 test_unserved_addresses_complete},
		{NULL, NULL},
	};
	return cunit_run("mmio", tests);
}
