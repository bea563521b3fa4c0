/* SPDX-License-Identifier: MIT */
/*
 * Guest interrupt lines (core/irqline.c) against the mock playing each
 * hypervisor generation: hvisor v0.4 on LoongArch (no wake-up interrupt,
 * CLEAR_INJECT_IRQ on InterruptStatus reads), current LoongArch
 * (DEASSERT_IRQ on the ACK that clears the status, and on reset), and
 * merging on the edge model. Interrupts are produced synchronously: a
 * chain held by the testdev's queue 1 is pushed by config command 1 on
 * the dispatch thread, so the daemon's counters are final when the config
 * write returns.
 */
#include <linux/virtio_mmio.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "device.h"
#include "guest_helpers.h"
#include "port.h"

#define BASE 0xa003c00ull
#define IRQ  5u /* LoongArch: HWI3 */

static struct hvd_guest_vq *held;

static void setup(int model, bool every_event)
{
	memset(&fx, 0, sizeof fx);
	fx.mock = hvd_mock_new();
	CU_ASSERT_FATAL(fx.mock != NULL);
	CU_ASSERT_FATAL(hvd_mock_set_irq_model(fx.mock, model) == 0);
	CU_ASSERT_FATAL(hvd_mock_add_ram(fx.mock, 1, 0x50000000, 0x50000000,
					 0x1000000) == 0);
	fx.irq_every_event = every_event;
	CU_ASSERT_FATAL(
		fixture_start_with_mock(
			&fx, "{\"zones\": [{\"id\": 1, \"memory_region\": "
			     "[{\"zone0_ipa\": \"0x50000000\", \"zonex_ipa\": "
			     "\"0x50000000\", \"size\": \"0x1000000\"}], "
			     "\"devices\": [{\"type\": \"testdev\", \"addr\": "
			     "\"0xa003c00\", \"len\": \"0x200\", \"irq\": "
			     "5}]}]}") == 0);
	gd = hvd_guest_open(fx.mock, 1, BASE, IRQ);
	CU_ASSERT_FATAL(gd != NULL);
	guest_bring_up(1ull << 32, 16, NULL, &held); /* VERSION_1 */
	CU_ASSERT_FATAL(held != NULL);
}

static void teardown(void)
{
	hvd_guest_close(gd);
	gd = NULL;
	fixture_stop(&fx);
}

static uint64_t raised(void)
{
	return __atomic_load_n(&fx.daemon->irqs_raised, __ATOMIC_RELAXED);
}

static uint64_t merged(void)
{
	return __atomic_load_n(&fx.daemon->irqs_merged, __ATOMIC_RELAXED);
}

/* One completion: a chain into queue 1, then command 1 pushes it. */
static void complete_one(void)
{
	char *buf;
	uint64_t gpa = hvd_guest_alloc(gd, 16, 8, (void **)&buf);
	CU_ASSERT_FATAL(gpa != 0);
	struct hvd_guest_buf b = {gpa, 16, true};
	CU_ASSERT_FATAL(hvd_guest_vq_add(held, &b, 1, false, buf) >= 0);
	hvd_guest_vq_kick(held);
	CU_ASSERT_EQUAL(hvd_guest_config_write(gd, 4, 1, 1), 0);
}

/* The mock counts injections on its own thread: wait for the n-th. */
static void wait_injected(uint64_t n)
{
	CU_ASSERT_EQUAL_FATAL(
		hvd_mock_wait_irq(fx.mock, 1, IRQ, n - 1, FIX_TIMEOUT_MS), 0);
}

static void test_v04_clear_on_status_read(void)
{
	setup(HVD_MOCK_IRQ_LOONGARCH_V04, false);
	CU_ASSERT_EQUAL(fx.daemon->irq_model, PORT_IRQ_LOONGARCH_V04);
	complete_one();
	wait_injected(1);
	CU_ASSERT_TRUE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	CU_ASSERT_EQUAL(hvd_mock_line_drops(fx.mock), 0);
	/* The guest's status read drops the line before it returns. */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	CU_ASSERT_FALSE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	CU_ASSERT_EQUAL(hvd_mock_line_drops(fx.mock), 1);
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	/* Merged as on the other models: the ACK lowered the line, the next
	 * event raises it, the one after only sets its bit. */
	complete_one();
	complete_one();
	CU_ASSERT_EQUAL(raised(), 2);
	CU_ASSERT_EQUAL(merged(), 1);
	teardown();
}

static void test_v04_polls_without_wakeup(void)
{
	setup(HVD_MOCK_IRQ_LOONGARCH_V04, false);
	/* Let the daemon go idle: it naps instead of sleeping on a wake-up
	 * that v0.4 never sends (the loop is a failure guard only). */
	uint64_t before = __atomic_load_n(&fx.daemon->naps, __ATOMIC_RELAXED);
	for (unsigned i = 0;
	     i < 100000000u &&
	     __atomic_load_n(&fx.daemon->naps, __ATOMIC_RELAXED) < before + 4;
	     i++)
		sched_yield();
	CU_ASSERT_TRUE(__atomic_load_n(&fx.daemon->naps, __ATOMIC_RELAXED) >=
		       before + 4);
	/* Answered although the mock never signals the eventfd. */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CU_ASSERT_EQUAL(fx.daemon->sleeps, 0);
	CU_ASSERT_EQUAL(hvd_mock_wakeups(fx.mock), 0);
	teardown();
}

static void test_line_deassert_on_ack(void)
{
	setup(HVD_MOCK_IRQ_LOONGARCH_LINE, false);
	CU_ASSERT_EQUAL(fx.daemon->irq_model, PORT_IRQ_LOONGARCH_LINE);
	complete_one();
	wait_injected(1);
	CU_ASSERT_TRUE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	/* The line is up: a second event only sets the status bit. */
	complete_one();
	CU_ASSERT_EQUAL(raised(), 1);
	CU_ASSERT_EQUAL(merged(), 1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	CU_ASSERT_EQUAL(hvd_mock_line_drops(fx.mock), 0); /* reads: no */
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CU_ASSERT_FALSE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	CU_ASSERT_EQUAL(hvd_mock_line_drops(fx.mock), 1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* Down again: the next event raises it. */
	complete_one();
	CU_ASSERT_EQUAL(raised(), 2);
	wait_injected(2);
	CU_ASSERT_TRUE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	teardown();
}

static void test_line_deassert_refused(void)
{
	setup(HVD_MOCK_IRQ_LOONGARCH_LINE, false);
	complete_one();
	wait_injected(1);
	hvd_mock_fail_deassert(fx.mock, 1);
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	/* Refused: the status stays, so the guest will come back. */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	CU_ASSERT_TRUE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CU_ASSERT_FALSE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	teardown();
}

static void test_line_deassert_on_reset(void)
{
	setup(HVD_MOCK_IRQ_LOONGARCH_LINE, false);
	complete_one();
	wait_injected(1);
	CU_ASSERT_TRUE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	wreg(VIRTIO_MMIO_STATUS, 0);
	CU_ASSERT_FALSE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	CU_ASSERT_EQUAL(hvd_mock_line_drops(fx.mock), 1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	teardown();
}

static void test_edge_merge(void)
{
	setup(HVD_MOCK_IRQ_EDGE, false);
	CU_ASSERT_EQUAL(fx.daemon->irq_model, PORT_IRQ_EDGE);
	complete_one();
	complete_one();
	CU_ASSERT_EQUAL(raised(), 1);
	CU_ASSERT_EQUAL(merged(), 1);
	/* The ACK that clears the status lowers the (software) line;
	 * nothing is asked of the hypervisor on this model. */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	complete_one();
	CU_ASSERT_EQUAL(raised(), 2);
	CU_ASSERT_EQUAL(hvd_mock_line_drops(fx.mock), 0);
	teardown();
}

/* vm_interrupt reads InterruptStatus, then ACKs what it read: a bit set
 * in between has had no edge of its own, so the ACK raises one. */
static void test_edge_ack_leaves_bits(void)
{
	setup(HVD_MOCK_IRQ_EDGE, false);
	complete_one();
	wait_injected(1);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	/* testdev command 2: a configuration change (status bit 2). */
	CU_ASSERT_EQUAL(hvd_guest_config_write(gd, 4, 1, 2), 0);
	CU_ASSERT_EQUAL(raised(), 1);
	CU_ASSERT_EQUAL(merged(), 1);
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CU_ASSERT_EQUAL(raised(), 2);
	CU_ASSERT_EQUAL(
		__atomic_load_n(&fx.daemon->irqs_after_ack, __ATOMIC_RELAXED),
		1);
	wait_injected(2);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 2);
	/* An ACK of nothing pending raises nothing. */
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CU_ASSERT_EQUAL(raised(), 2);
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 2);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	complete_one();
	CU_ASSERT_EQUAL(raised(), 3);
	teardown();
}

static uint64_t rearmed(void)
{
	return __atomic_load_n(&fx.daemon->irqs_rearmed, __ATOMIC_RELAXED);
}

static bool watch_armed(void)
{
	return __atomic_load_n(&fx.daemon->line_watch_armed, __ATOMIC_SEQ_CST);
}

/* A guest that never saw its interrupt (the injection lost on its way)
 * would wait forever on a merged line: the line watch raises it again,
 * LINE_WATCH_NS after a period without ACK, at most LINE_REARM_MAX (4)
 * times, then stops its timer until the guest ACKs. */
static void test_edge_watch_raises_again(void)
{
	setup(HVD_MOCK_IRQ_EDGE, false);
	complete_one();
	wait_injected(1);
	/* The guest does not ACK: the watch raises the line again, four
	 * times (each wait's timeout is a failure guard only). */
	for (uint64_t n = 2; n <= 5; n++)
		wait_injected(n);
	/* The mock counts an injection before the watch's tick has counted
	 * it: let the tick finish (the loop bound is a failure guard). */
	for (unsigned i = 0; i < 100000000u && rearmed() < 4; i++)
		sched_yield();
	CU_ASSERT_EQUAL(rearmed(), 4);
	/* Then the timer stops (the tick that raised the fourth time armed
	 * it no more): once it is disarmed nothing can raise. */
	for (unsigned i = 0; i < 100000000u && watch_armed(); i++)
		sched_yield();
	CU_ASSERT_FALSE(watch_armed());
	CU_ASSERT_EQUAL(raised(), 5);
	CU_ASSERT_EQUAL(merged(), 0);
	/* The guest ACKs at last: the next event raises as ever, and the
	 * watch is armed again for it. */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	complete_one();
	CU_ASSERT_EQUAL(raised(), 6);
	CU_ASSERT_TRUE(watch_armed());
	wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	teardown();
}

/* Once the guest ACKed every line the watch stops its timer. (Whether it
 * raised one again meanwhile depends on this thread getting from
 * injection to ACK within a period: counted, not asserted.) */
static void test_edge_watch_quiet_when_acked(void)
{
	setup(HVD_MOCK_IRQ_EDGE, false);
	for (unsigned i = 0; i < 3; i++) {
		complete_one();
		wait_injected(i + 1);
		CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
		wreg(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	}
	/* Every line is down: the watch's next tick finds none and stops. */
	for (unsigned i = 0; i < 100000000u && watch_armed(); i++)
		sched_yield();
	CU_ASSERT_FALSE(watch_armed());
	CU_ASSERT_EQUAL(raised(), 3 + rearmed());
	teardown();
}

static void test_edge_no_merge_raises_every_event(void)
{
	setup(HVD_MOCK_IRQ_EDGE, true);
	complete_one();
	complete_one();
	CU_ASSERT_EQUAL(raised(), 2);
	CU_ASSERT_EQUAL(merged(), 0);
	wait_injected(2);
	CU_ASSERT_FALSE(hvd_mock_irq_line(fx.mock, 1, IRQ));
	CU_ASSERT_EQUAL(fx.daemon->line_watch_fd, -1);
	teardown();
}

/* One trapped access with the failure-guard timeout; 0 when answered. */
static int mmio(uint32_t off, bool is_write, uint64_t *value)
{
	return hvd_mock_mmio(fx.mock, 1, BASE + off, 4, is_write, value, false,
			     FIX_TIMEOUT_MS);
}

/* A plugin callback on another thread (net's receive drain on the event
 * loop) holds the device's callback lock for a whole batch: the guest's
 * interrupt handler, InterruptStatus then InterruptACK, is answered
 * meanwhile instead of waiting for the batch. The test thread holds the
 * lock as such a callback would; before, each access timed out. */
static void test_status_and_ack_without_callback_lock(void)
{
	setup(HVD_MOCK_IRQ_LOONGARCH_LINE, false);
	complete_one();
	wait_injected(1);
	const struct dev_slot *slot = daemon_find_slot(fx.daemon, 1, BASE);
	CU_ASSERT_FATAL(slot != NULL && slot->dev != NULL);
	pthread_mutex_lock(&slot->dev->cb_lock);
	uint64_t status = 0, ack = 1, after = UINT64_MAX;
	int r_status = mmio(VIRTIO_MMIO_INTERRUPT_STATUS, false, &status);
	int r_ack = mmio(VIRTIO_MMIO_INTERRUPT_ACK, true, &ack);
	int r_after = mmio(VIRTIO_MMIO_INTERRUPT_STATUS, false, &after);
	bool line = hvd_mock_irq_line(fx.mock, 1, IRQ);
	pthread_mutex_unlock(&slot->dev->cb_lock);
	CU_ASSERT_EQUAL(r_status, 0);
	CU_ASSERT_EQUAL(status, 1);
	CU_ASSERT_EQUAL(r_ack, 0);
	CU_ASSERT_EQUAL(r_after, 0);
	CU_ASSERT_EQUAL(after, 0);
	CU_ASSERT_FALSE(line); /* the ACK lowered it (irq_lock, not cb_lock) */
	/* Other registers still take the lock: answered once it is free. */
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	teardown();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"v0.4: status read clears the line",
		 test_v04_clear_on_status_read},
		{"v0.4: polls without wake-up", test_v04_polls_without_wakeup},
		{"line: deassert on ACK, merged meanwhile",
		 test_line_deassert_on_ack},
		{"line: refused deassert keeps the status",
		 test_line_deassert_refused},
		{"line: deassert on reset", test_line_deassert_on_reset},
		{"edge: merged by default", test_edge_merge},
		{"edge: an ACK leaving bits set raises again",
		 test_edge_ack_leaves_bits},
		{"edge: the line watch raises an unACKed line again",
		 test_edge_watch_raises_again},
		{"edge: the line watch is quiet when the guest ACKs",
		 test_edge_watch_quiet_when_acked},
		{"edge: --no-irq-merge raises every event",
		 test_edge_no_merge_raises_every_event},
		{"status and ACK answered while a callback holds the lock",
		 test_status_and_ack_without_callback_lock},
		{NULL, NULL},
	};
	return cunit_run("irqline", tests);
}
