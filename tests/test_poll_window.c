/* SPDX-License-Identifier: MIT */
/*
 * The dispatch thread's poll window (core/dispatch.c): its length policy on
 * a bare struct, then with a daemon: register accesses at a steady gap
 * longer than the base window make it grow, an access after a wait longer
 * than the ceiling puts it back, and an interrupt raised by another thread
 * wakes the sleeping thread early without growing it. The pauses between
 * accesses are the workload (the gap the window has to learn), never a
 * wait for the daemon: that is fixture_wait_asleep, bounded by
 * FIX_TIMEOUT_MS.
 */
#include <string.h>
#include <time.h>

#include <linux/virtio_mmio.h>

#include "guest_helpers.h"

#define US 1000ull
#define MS (1000ull * US)

static void pause_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static struct daemon bare(uint64_t base, uint64_t max)
{
	struct daemon d;
	memset(&d, 0, sizeof d);
	d.poll_ns = d.window_ns = base;
	d.poll_max_ns = max;
	return d;
}

static void test_policy_grows_to_ceiling(void)
{
	struct daemon d = bare(50 * US, 1 * MS);
	/* Woken 300 us after the window opened: a longer one would have
	 * caught it. Doubles, up to the ceiling and not past it. */
	uint64_t want[] = {100 * US, 200 * US, 400 * US,
			   800 * US, 1 * MS,   1 * MS};
	for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
		dispatch_window_slept(&d, 300 * US);
		CU_ASSERT_EQUAL(d.window_ns, want[i]);
	}
	CU_ASSERT_EQUAL(d.window_grown, 5);
	/* Exactly the ceiling still counts as caught. */
	dispatch_window_slept(&d, 1 * MS);
	CU_ASSERT_EQUAL(d.window_ns, 1 * MS);
	/* Longer than the ceiling: back to the base. */
	dispatch_window_slept(&d, 1 * MS + 1);
	CU_ASSERT_EQUAL(d.window_ns, 50 * US);
}

static void test_policy_announced_halves(void)
{
	struct daemon d = bare(50 * US, 1 * MS);
	d.window_ns = 1 * MS;
	uint64_t want[] = {500 * US, 250 * US, 125 * US,
			   62500,    50 * US,  50 * US};
	for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
		dispatch_window_announced(&d);
		CU_ASSERT_EQUAL(d.window_ns, want[i]);
	}
	CU_ASSERT_EQUAL(d.window_halved, 5);
}

static void start(int poll_max_us)
{
	testdev_start_as((struct fixture){.poll_max_us = poll_max_us});
}

/* The window once the dispatch thread sleeps: it changes it only after a
 * wake-up, before it sleeps again. */
static uint64_t window_when_asleep(void)
{
	CU_ASSERT_FATAL(fixture_wait_asleep(&fx) == 0);
	return __atomic_load_n(&fx.daemon->window_ns, __ATOMIC_RELAXED);
}

static uint64_t grown(void)
{
	return __atomic_load_n(&fx.daemon->window_grown, __ATOMIC_RELAXED);
}

static void test_daemon_learns_gap(void)
{
	/* A ceiling of 500 ms: any gap this test makes is under it, however
	 * loaded the machine. */
	start(500 * 1000);
	CU_ASSERT_EQUAL(window_when_asleep(), fx.daemon->poll_ns);
	for (int i = 0; i < 12; i++) {
		CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
		pause_ns(2 * MS);
	}
	CU_ASSERT(window_when_asleep() > fx.daemon->poll_ns);
	CU_ASSERT(grown() >= 1);
	/* A wait past the ceiling: the next access finds the base again. */
	pause_ns(600 * MS);
	CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CU_ASSERT_EQUAL(window_when_asleep(), fx.daemon->poll_ns);
	testdev_stop();
}

static void test_fixed_window_stays(void)
{
	start(-1); /* --poll-max-us 0 */
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
		pause_ns(2 * MS);
	}
	CU_ASSERT_EQUAL(window_when_asleep(), fx.daemon->poll_ns);
	CU_ASSERT_EQUAL(grown(), 0);
	testdev_stop();
}

static void test_interrupt_wakes_early(void)
{
	start(500 * 1000);
	CU_ASSERT_EQUAL(window_when_asleep(), fx.daemon->poll_ns);
	uint64_t woken = hvd_mock_wakeups(fx.mock);
	pause_ns(2 * MS); /* long asleep: a normal wake-up would grow */
	/* This thread is not the dispatch thread: a plugin worker or the
	 * event loop raising a used-buffer interrupt. */
	CU_ASSERT_EQUAL(daemon_inject_irq(fx.daemon, 1, TESTDEV_IRQ), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&fx.daemon->prewakes, __ATOMIC_RELAXED),
			1);
	/* The thread wakes and takes the early wake-up for what it is (it
	 * clears prewoken), then sleeps again without having counted it as
	 * a missed access. */
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(&fx.daemon->prewoken, __ATOMIC_SEQ_CST)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		CU_ASSERT_FATAL(t.tv_sec - t0.tv_sec < FIX_TIMEOUT_MS / 1000);
		sched_yield();
	}
	CU_ASSERT_EQUAL(window_when_asleep(), fx.daemon->poll_ns);
	CU_ASSERT_EQUAL(grown(), 0);
	CU_ASSERT_EQUAL(hvd_mock_wakeups(fx.mock), woken);
	testdev_stop();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"the window doubles up to its ceiling, then resets",
		 test_policy_grows_to_ceiling},
		{"an announced access halves the window down to its base",
		 test_policy_announced_halves},
		{"accesses 2 ms apart grow the window; a long wait resets it",
		 test_daemon_learns_gap},
		{"--poll-max-us 0 keeps the window fixed",
		 test_fixed_window_stays},
		{"an interrupt from another thread wakes the thread early",
		 test_interrupt_wakes_early},
		{NULL, NULL},
	};
	return cunit_run("poll_window", tests);
}
