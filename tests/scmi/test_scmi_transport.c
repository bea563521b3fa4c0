/* SPDX-License-Identifier: MIT */
/*
 * virtio-scmi: the transport and the configuration. Malformed requests,
 * kernel failures, many requests in flight, and both generations of
 * hvisor-tool's id keys with their errors.
 */
#include <linux/virtio_ring.h>

#include "cfg_json.h"
#include "scmi_agent.h"

static void test_errors(void)
{
	struct agent a;
	struct reply r;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, "\"clock_ids\": [1]"), 0);
	/* A protocol without ids is absent: not listed, not answered. */
	CU_ASSERT_EQUAL(call0(&a, P_BASE, 0x1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2] & 0xffu, 1u);
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x6, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 1u);
	CU_ASSERT_EQUAL(r.words[3], 0x14u);
	CU_ASSERT_EQUAL(call0(&a, P_POWER, 0x0, &r), ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(call0(&a, P_RESET, 0x1, &r), ST_NOT_SUPPORTED);
	/* Payload shorter than the message needs. */
	CU_ASSERT_EQUAL(call0(&a, P_CLOCK, 0x6, &r), ST_PROTOCOL_ERROR);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x5, 0, &r), ST_PROTOCOL_ERROR);
	/* The kernel fails once: GENERIC_ERROR, then it works again. */
	hvd_mock_scmi_fail(a.f.mock, 1);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 0, &r), ST_GENERIC_ERROR);
	CU_ASSERT_EQUAL(r.len, 8u);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 2000000u);
	/* A message type other than command: the token still comes back,
	 * with type 0. */
	uint32_t hdr = scmi_hdr(P_CLOCK, 0x0, 2, 77);
	CU_ASSERT_EQUAL(agent_post(&a, hdr, NULL, 0, &r, 64), 0);
	hvd_guest_vq_kick(a.cmdq);
	CU_ASSERT_PTR_NOT_NULL(agent_wait(&a, &r));
	CU_ASSERT_EQUAL(r.words[0], scmi_hdr(P_CLOCK, 0x0, 0, 77));
	CU_ASSERT_EQUAL((int32_t)r.words[1], ST_NOT_SUPPORTED);
	agent_stop(&a);
}

/* A request split over several descriptors, the reply over two. */
static void test_split_buffers(void)
{
	struct agent a;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, "\"clock_ids\": [1, 2]"), 0);
	uint32_t *h, *p, *r1, *r2;
	uint64_t gh = hvd_guest_alloc(a.gd, 4, 4, (void **)&h);
	uint64_t gp = hvd_guest_alloc(a.gd, 4, 4, (void **)&p);
	uint64_t g1 = hvd_guest_alloc(a.gd, 6, 4, (void **)&r1);
	uint64_t g2 = hvd_guest_alloc(a.gd, 64, 4, (void **)&r2);
	*h = scmi_hdr(P_CLOCK, 0x6, 0, 5);
	*p = 1;
	struct hvd_guest_buf b[4] = {
		{gh, 4, false}, {gp, 4, false}, {g1, 6, true}, {g2, 64, true}};
	CU_ASSERT_FATAL(hvd_guest_vq_add(a.cmdq, b, 4, false, h) >= 0);
	hvd_guest_vq_kick(a.cmdq);
	void *tok;
	uint32_t len;
	CU_ASSERT_EQUAL_FATAL(
		hvd_guest_vq_wait_used(a.cmdq, &tok, &len, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(len, 16u);
	uint8_t out[16];
	memcpy(out, r1, 6);
	memcpy(out + 6, r2, 10);
	uint32_t w[4];
	memcpy(w, out, 16);
	CU_ASSERT_EQUAL(w[0], *h);
	CU_ASSERT_EQUAL(w[1], 0u);
	CU_ASSERT_EQUAL(w[2], 3000000u); /* kernel clock 2 */
	agent_stop(&a);
}

/* Many requests in flight from one kick: every one answered, each with
 * its own token and the right clock's rate. */
static void test_concurrent(void)
{
	struct agent a;
	CU_ASSERT_EQUAL_FATAL(
		agent_start(&a, "\"clock_ids\": [0, 1, 2, 3, 4, 5, 6, 7]"), 0);
	/* 31 two-descriptor requests fill the 64-entry ring; three rounds
	 * give 93 tokens. */
	enum { N = 31, ROUNDS = 3 };
	static struct reply r[N];
	uint32_t hdr[N];
	unsigned seen = 0, bad = 0;
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (unsigned i = 0; i < N; i++) {
			uint32_t id = (i + round) % 8;
			hdr[i] =
				scmi_hdr(P_CLOCK, 0x6, 0, 100 + 31 * round + i);
			CU_ASSERT_EQUAL_FATAL(
				agent_post(&a, hdr[i], &id, 1, &r[i], 64), 0);
			if (i == 20) /* more arrive while some are served */
				hvd_guest_vq_kick(a.cmdq);
		}
		hvd_guest_vq_kick(a.cmdq);
		for (unsigned n = 0; n < N; n++) {
			struct reply got;
			if (!agent_wait(&a, &got))
				break;
			unsigned t = (got.words[0] >> 18) - 100 - 31 * round;
			if (t >= N || got.words[0] != hdr[t] ||
			    got.words[1] != 0 ||
			    got.words[2] != ((t + round) % 8 + 1) * 1000000u)
				bad++;
			seen++;
		}
	}
	CU_ASSERT_EQUAL(seen, N * ROUNDS);
	CU_ASSERT_EQUAL(bad, 0u);
	CU_ASSERT_EQUAL(hvd_mock_scmi_calls(a.f.mock), (uint64_t)N * ROUNDS);
	agent_stop(&a);
}

/* Wait (by interrupt) until the device reports NEEDS_RESET. */
static int wait_needs_reset(struct agent *a)
{
	for (;;) {
		uint64_t seen = hvd_guest_irq_count(a->gd);
		if (hvd_guest_status(a->gd) & VIRTIO_CONFIG_S_NEEDS_RESET)
			return 0;
		if (hvd_guest_wait_irq(a->gd, seen, FIX_TIMEOUT_MS))
			return -1;
	}
}

/* A request without a whole header, or with no room for the reply:
 * the device needs a reset, and works again after one. */
static void test_malformed(void)
{
	struct agent a;
	struct reply r;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, "\"clock_ids\": [1]"), 0);
	uint32_t *req;
	uint64_t g = hvd_guest_alloc(a.gd, 64, 8, (void **)&req);
	*req = scmi_hdr(P_BASE, 0, 0, 1);
	struct hvd_guest_buf b[2] = {{g, 2, false}, {g + 32, 32, true}};
	CU_ASSERT_FATAL(hvd_guest_vq_add(a.cmdq, b, 2, false, req) >= 0);
	hvd_guest_vq_kick(a.cmdq);
	CU_ASSERT_EQUAL(wait_needs_reset(&a), 0);
	CU_ASSERT_EQUAL(hvd_guest_reset(a.gd), 0);
	hvd_guest_close(a.gd);
	a.gd = hvd_guest_open(a.f.mock, 1, SCMI_BASE_ADDR, SCMI_IRQ);
	uint64_t got;
	CU_ASSERT_EQUAL(
		hvd_guest_negotiate(a.gd, 1ull << VIRTIO_F_VERSION_1, &got), 0);
	a.cmdq = hvd_guest_vq_setup(a.gd, 0, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.cmdq);
	CU_ASSERT_EQUAL(hvd_guest_driver_ok(a.gd), 0);
	/* The reply does not fit 4 bytes. */
	CU_ASSERT_EQUAL(
		agent_post(&a, scmi_hdr(P_BASE, 0, 0, 2), NULL, 0, &r, 4), 0);
	hvd_guest_vq_kick(a.cmdq);
	CU_ASSERT_EQUAL(wait_needs_reset(&a), 0);
	agent_stop(&a);
}

/* The Orin branch's keys: max_num guest ids, an allowed list ("*" or
 * ids), a map to the provider's ids and the provider's phandle. */
static void test_orin_keys(void)
{
	struct agent a;
	struct reply r;
	uint64_t rate;
	bool asserted;
	CU_ASSERT_EQUAL_FATAL(
		agent_start(&a, "\"clock_phandle\": 3, \"reset_phandle\": 4, "
				"\"clock_max_num\": 8, \"reset_max_num\": 4, "
				"\"clock_map\": {\"1\": 20, \"6\": \"21\"}, "
				"\"allowed_list\": {\"clock_ids\": [1, \"2\", "
				"6], \"reset_ids\": [\"*\"]}"),
		0);
	CU_ASSERT_EQUAL(call0(&a, P_CLOCK, 0x1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 8u);
	CU_ASSERT_EQUAL(call0(&a, P_RESET, 0x1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 4u);
	CU_ASSERT_EQUAL(call0(&a, P_POWER, 0x1, &r), ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 0, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 7, &r), ST_NOT_FOUND);
	uint32_t set[4] = {0, 1, 123456, 0};
	CU_ASSERT_EQUAL(scmi_call(&a, P_CLOCK, 0x5, set, 4, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_clock(a.f.mock, 20, &rate, NULL), 0);
	CU_ASSERT_EQUAL(rate, 123456u);
	CU_ASSERT_EQUAL(hvd_mock_scmi_phandle(a.f.mock, 32), 3u);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 2, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 3000000u); /* unmapped: kernel id 2 */
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 6, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 22000000u);
	CU_ASSERT_EQUAL(call3(&a, P_RESET, 0x4, 3, 2, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_reset(a.f.mock, 3, &asserted, NULL), 0);
	CU_ASSERT_TRUE(asserted);
	CU_ASSERT_EQUAL(hvd_mock_scmi_phandle(a.f.mock, 33), 4u);
	CU_ASSERT_EQUAL(hvd_mock_scmi_phandle(a.f.mock, 34), 0u);
	agent_stop(&a);
}

/* The shapes of hvisor-tool's two published scmi files (RK3588 lists,
 * Jetson "*" with 555 ids) start. */
static void test_published_shapes(void)
{
	struct agent a;
	struct reply r;
	CU_ASSERT_EQUAL_FATAL(
		agent_start(&a, "\"status\": \"enable\", \"clock_ids\": [0, "
				"1, 2, 3], \"reset_ids\": [0, 1], "
				"\"power_ids\": [0, 1, 2]"),
		0);
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x6, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 3u);
	agent_stop(&a);
	CU_ASSERT_EQUAL_FATAL(
		agent_start(&a, "\"clock_phandle\": 3, \"reset_phandle\": 3, "
				"\"clock_max_num\": 555, \"reset_max_num\": "
				"555, \"allowed_list\": {\"reset_ids\": "
				"[\"*\"], \"clock_ids\": [\"*\"]}"),
		0);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 554, &r), ST_GENERIC_ERROR);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 555, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 31, &r), ST_OK);
	agent_stop(&a);
}

static int start_fails(const char *keys)
{
	struct agent a;
	int rc = agent_start(&a, keys);
	if (rc == 0)
		agent_stop(&a);
	else
		hvd_mock_free(a.f.mock);
	return rc;
}

static void test_bad_config(void)
{
	CU_ASSERT_NOT_EQUAL(start_fails("\"clocks\": [1]"), 0);
	CU_ASSERT_STRING_EQUAL(cfg_last_error(),
			       "zones[0].devices[0].clocks: unknown key");
	CU_ASSERT_NOT_EQUAL(start_fails("\"clock_ids\": [1, \"x\"]"), 0);
	CU_ASSERT_NOT_EQUAL(start_fails("\"clock_ids\": 4"), 0);
	CU_ASSERT_NOT_EQUAL(start_fails("\"clock_max_num\": 4, "
					"\"reset_max_num\": 1, "
					"\"allowed_list\": {\"clocks\": []}"),
			    0);
	CU_ASSERT_STRING_EQUAL(
		cfg_last_error(),
		"zones[0].devices[0].allowed_list.clocks: unknown key");
	CU_ASSERT_NOT_EQUAL(start_fails("\"clock_max_num\": 4, "
					"\"reset_max_num\": 1, "
					"\"clock_map\": {\"4\": 1}"),
			    0);
	CU_ASSERT_STRING_EQUAL(cfg_last_error(),
			       "zones[0].devices[0].clock_map.4: unknown key");
	CU_ASSERT_NOT_EQUAL(
		start_fails("\"clock_max_num\": 4, \"reset_max_num\": 1, "
			    "\"allowed_list\": {\"clock_ids\": [9]}"),
		0);
	CU_ASSERT_STRING_EQUAL(cfg_last_error(),
			       "zones[0].devices[0].allowed_list.clock_ids[0]:"
			       " 9 is outside 0..3");
	/* Orin's required counts, and no mixing of the generations. */
	CU_ASSERT_NOT_EQUAL(start_fails("\"clock_max_num\": 4"), 0);
	CU_ASSERT_NOT_EQUAL(
		start_fails("\"clock_ids\": [1], \"clock_phandle\": 2"), 0);
	/* The control: a good one starts. */
	CU_ASSERT_EQUAL(start_fails("\"reset_ids\": [1]"), 0);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"errors and absent protocols", test_errors},
		{"split request and reply buffers", test_split_buffers},
		{"many requests in flight", test_concurrent},
		{"malformed requests need a reset", test_malformed},
		{"Orin keys: allowed list, map, phandle", test_orin_keys},
		{"published shapes start", test_published_shapes},
		{"bad configurations name the path", test_bad_config},
		{NULL, NULL},
	};
	return cunit_run("scmi_transport", tests);
}
