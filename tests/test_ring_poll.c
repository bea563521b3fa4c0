/* SPDX-License-Identifier: MIT */
/*
 * Ring polling (ABI 1.3 HVD_DEVICE_F_POLL_RINGS, core/dispatch.c): the
 * dispatch thread calls queue_notify of such a device, while it polls for
 * register accesses, when the driver published buffers or the last call
 * left some. The testdev asks for it ("flags": 1) and echoes one chain per
 * call ("budget": 1), so every chain past the first of a batch is served
 * only because the host called again. While it polls, the host asks the
 * driver not to kick; before it sleeps it asks for kicks again. The
 * polling window is 10 s long here (but in the last test): the chains are
 * always published while it is open.
 */
#include <string.h>

#include "guest_helpers.h"

#define N 24

/* The testdev (as testdev_start) with `extra` JSON members. */
static int start_window(const char *extra, unsigned poll_us)
{
	char dev[256];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"testdev\", \"addr\": \"0xa003c00\", "
		 "\"len\": \"0x200\", \"irq\": 77%s}",
		 extra);
	memset(&fx, 0, sizeof fx);
	fx.poll_us = poll_us;
	if (fixture_start(&fx, dev))
		return -1;
	gd = hvd_guest_open(fx.mock, 1, TESTDEV_BASE, TESTDEV_IRQ);
	CU_ASSERT_FATAL(gd != NULL);
	return 0;
}

static int start(const char *extra)
{
	return start_window(extra, 10u * 1000 * 1000);
}

/* N echo chains, published; kicked once after all if `kick`. Every one
 * comes back whole, exactly once. */
static void echo_batch(struct hvd_guest_vq *vq, bool kick)
{
	static char out[N][16], *in[N];
	for (unsigned i = 0; i < N; i++) {
		snprintf(out[i], sizeof out[i], "chain %02u", i);
		in[i] = echo_add(vq, out[i], 16, false);
		CU_ASSERT_FATAL(in[i] != NULL);
	}
	if (kick)
		hvd_guest_vq_kick(vq);
	bool seen[N] = {false};
	for (unsigned k = 0; k < N; k++) {
		void *token = NULL;
		uint32_t len = 0;
		CU_ASSERT_FATAL(hvd_guest_vq_wait_used(vq, &token, &len,
						       FIX_TIMEOUT_MS) == 0);
		unsigned i = 0;
		while (i < N && in[i] != token)
			i++;
		CU_ASSERT_FATAL(i < N && !seen[i]);
		seen[i] = true;
		CU_ASSERT_EQUAL(len, 16);
		CU_ASSERT_STRING_EQUAL(in[i], out[i]);
	}
}

static void test_published_without_kick(void)
{
	CU_ASSERT_FATAL(start(", \"flags\": 1, \"budget\": 1") == 0);
	struct hvd_guest_vq *vq = guest_bring_up(1ull << 32, 64, NULL, NULL);
	echo_batch(vq, false);
	echo_batch(vq, false); /* and again, after the first batch's calls */
	testdev_stop();
}

static void test_kick_leaves_rest(void)
{
	CU_ASSERT_FATAL(start(", \"flags\": 1, \"budget\": 1") == 0);
	/* EVENT_IDX too: kicks are then asked for through avail_event,
	 * which the polled calls' pops keep moving. */
	struct hvd_guest_vq *vq =
		guest_bring_up((1ull << 32) | (1ull << 29), 64, NULL, NULL);
	echo_batch(vq, true);
	echo_batch(vq, true);
	testdev_stop();
}

/* One echo chain; whether the driver's kick went out (1) or the device
 * had kicks off (0). It comes back either way. */
static int echo_kicked(struct hvd_guest_vq *vq)
{
	char *in = echo_add(vq, "kick me", 8, false);
	CU_ASSERT_FATAL(in != NULL);
	int kicked = hvd_guest_vq_kick(vq);
	void *token = NULL;
	uint32_t len = 0;
	CU_ASSERT_FATAL(
		hvd_guest_vq_wait_used(vq, &token, &len, FIX_TIMEOUT_MS) == 0);
	CU_ASSERT(token == in && len == 8 && memcmp(in, "kick me", 8) == 0);
	return kicked;
}

static void test_kicks_off_while_polled(void)
{
	CU_ASSERT_FATAL(start(", \"flags\": 1") == 0);
	/* No EVENT_IDX: the suppression is VRING_USED_F_NO_NOTIFY. */
	struct hvd_guest_vq *vq = guest_bring_up(1ull << 32, 64, NULL, NULL);
	echo_batch(vq, false); /* the host has looked at the ring */
	CU_ASSERT_EQUAL(echo_kicked(vq), 0);
	CU_ASSERT_EQUAL(echo_kicked(vq), 0);
	testdev_stop();
}

static void test_kicks_on_when_asleep(void)
{
	CU_ASSERT_FATAL(start_window(", \"flags\": 1", 0) == 0); /* 50 us */
	struct hvd_guest_vq *vq = guest_bring_up(1ull << 32, 64, NULL, NULL);
	for (int round = 0; round < 3; round++) {
		echo_batch(vq, true);
		/* Asleep: a kick must go out now. */
		CU_ASSERT_FATAL(fixture_wait_asleep(&fx) == 0);
		CU_ASSERT_EQUAL(echo_kicked(vq), 1);
	}
	testdev_stop();
}

static void test_unknown_flag_refused(void)
{
	/* The same device with the known flag starts... */
	CU_ASSERT_FATAL(start(", \"flags\": 1") == 0);
	testdev_stop();
	/* ...and with a bit no ABI defines, it does not. */
	CU_ASSERT_EQUAL(start(", \"flags\": 2"), -1);
	CU_ASSERT_PTR_NULL(fx.daemon);
	hvd_mock_free(fx.mock);
	fx.mock = NULL;
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"chains published without a kick, one per call",
		 test_published_without_kick},
		{"a kicked call that leaves chains is called again",
		 test_kick_leaves_rest},
		{"no kicks asked for while the host polls",
		 test_kicks_off_while_polled},
		{"kicks asked for again before the host sleeps",
		 test_kicks_on_when_asleep},
		{"an unknown device flag refuses the device",
		 test_unknown_flag_refused},
		{NULL, NULL},
	};
	return cunit_run("ring_poll", tests);
}
