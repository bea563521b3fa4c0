/* SPDX-License-Identifier: MIT */
/*
 * virtio-scmi: every message of the Base, Clock, Power domain and Reset
 * domain protocols from a guest agent, checked against what the mock's
 * fake providers ("the kernel") hold afterwards.
 */
#include "scmi_agent.h"

/* Clocks 3 and 7, resets 4 and 9, domains 2 and 5 of the kernel. */
#define ALL_KEYS                                                            \
	"\"clock_ids\": [3, \"7\"], \"reset_ids\": [4, 9], \"power_ids\": " \
	"[\"0x2\", 5]"

static void test_base(void)
{
	struct agent a;
	struct reply r;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, ALL_KEYS), 0);
	CU_ASSERT_EQUAL(call0(&a, P_BASE, 0x0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0x20000u);
	CU_ASSERT_EQUAL(r.len, 12u);
	/* Three protocols besides Base, one agent. */
	CU_ASSERT_EQUAL(call0(&a, P_BASE, 0x1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 1u << 8 | 3u);
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x2, 0x6, &r), ST_OK);
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x2, 0x8, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call0(&a, P_BASE, 0x3, &r), ST_OK);
	CU_ASSERT_STRING_EQUAL(reply_name(&r, 2), "hvisor");
	CU_ASSERT_EQUAL(r.len, 8u + 16u);
	CU_ASSERT_EQUAL(call0(&a, P_BASE, 0x4, &r), ST_OK);
	CU_ASSERT_STRING_EQUAL(reply_name(&r, 2), "hvd virtio");
	CU_ASSERT_EQUAL(call0(&a, P_BASE, 0x5, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0x10000u);
	/* The list, whole and after skipping two; Base is not in it. */
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x6, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 3u);
	CU_ASSERT_EQUAL(r.words[3], 0x11u | 0x14u << 8 | 0x16u << 16);
	CU_ASSERT_EQUAL(r.len, 16u);
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x6, 2, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 1u);
	CU_ASSERT_EQUAL(r.words[3], 0x16u);
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x6, 3, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0u);
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x6, 4, &r), ST_INVALID_PARAMS);
	/* Agents: the caller is 1, the platform 0. */
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x7, 0xffffffffu, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 1u);
	CU_ASSERT_STRING_EQUAL(reply_name(&r, 3), "guest");
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x7, 0, &r), ST_OK);
	CU_ASSERT_STRING_EQUAL(reply_name(&r, 3), "platform");
	CU_ASSERT_EQUAL(call1(&a, P_BASE, 0x7, 2, &r), ST_NOT_FOUND);
	/* Not implemented: an explicit NOT_SUPPORTED, never an empty reply. */
	for (unsigned m = 0x8; m <= 0xc; m++) {
		CU_ASSERT_EQUAL(call1(&a, P_BASE, m, 1, &r), ST_NOT_SUPPORTED);
		CU_ASSERT_EQUAL(r.len, 8u);
	}
	/* Protocols this device has not: performance, sensors, a vendor. */
	CU_ASSERT_EQUAL(call0(&a, 0x13, 0x0, &r), ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(call0(&a, 0x15, 0x0, &r), ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(call0(&a, 0x80, 0x0, &r), ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(hvd_mock_scmi_calls(a.f.mock), 0u);
	agent_stop(&a);
}

static void test_clock(void)
{
	struct agent a;
	struct reply r;
	uint64_t rate;
	bool on;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, ALL_KEYS), 0);
	CU_ASSERT_EQUAL(call0(&a, P_CLOCK, 0x0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0x30000u);
	CU_ASSERT_EQUAL(call0(&a, P_CLOCK, 0x1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 2u); /* two clocks, no async */
	for (unsigned m = 0x3; m <= 0x8; m++)
		CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x2, m, &r), ST_OK);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x2, 0xb, &r), ST_OK);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x2, 0x9, &r), ST_NOT_FOUND);
	/* Guest clock 1 is the kernel's clock 7. */
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x3, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0u);
	CU_ASSERT_STRING_EQUAL(reply_name(&r, 3), "clk7");
	CU_ASSERT_EQUAL(r.len, 8u + 4u + 16u + 4u);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0x7, 1, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_clock(a.f.mock, 7, NULL, &on), 0);
	CU_ASSERT_TRUE(on);
	CU_ASSERT_EQUAL(hvd_mock_scmi_clock(a.f.mock, 3, NULL, &on), 0);
	CU_ASSERT_FALSE(on);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x3, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 1u);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0xb, 1, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[3], 1u);
	/* v3 config: 3 leaves it, 2 is reserved, an OEM type unsupported;
	 * the v1 form (no OEM word) disables. */
	CU_ASSERT_EQUAL(call3(&a, P_CLOCK, 0x7, 1, 3, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(call3(&a, P_CLOCK, 0x7, 1, 2, 0, &r),
			ST_INVALID_PARAMS);
	CU_ASSERT_EQUAL(call3(&a, P_CLOCK, 0x7, 1, 0x10001, 0, &r),
			ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(hvd_mock_scmi_clock(a.f.mock, 7, NULL, &on), 0);
	CU_ASSERT_TRUE(on);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0x7, 1, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_clock(a.f.mock, 7, NULL, &on), 0);
	CU_ASSERT_FALSE(on);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0xb, 1, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[3], 0u);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0xb, 1, 5, &r), ST_NOT_SUPPORTED);
	/* Rates: a 64-bit one reaches the kernel whole. */
	uint32_t set[4] = {0, 0, 0x2a05f200u, 1u}; /* 5 GHz */
	CU_ASSERT_EQUAL(scmi_call(&a, P_CLOCK, 0x5, set, 4, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_clock(a.f.mock, 3, &rate, NULL), 0);
	CU_ASSERT_EQUAL(rate, 5000000000ull);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0x2a05f200u);
	CU_ASSERT_EQUAL(r.words[3], 1u);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 8000000u); /* the mock's default */
	/* Async refused, the rate untouched. */
	uint32_t async[4] = {1, 0, 48000000u, 0};
	CU_ASSERT_EQUAL(scmi_call(&a, P_CLOCK, 0x5, async, 4, &r),
			ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(hvd_mock_scmi_clock(a.f.mock, 3, &rate, NULL), 0);
	CU_ASSERT_EQUAL(rate, 5000000000ull);
	/* One range triplet; a second index is out of range. */
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0x4, 0, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 3u | 1u << 12);
	CU_ASSERT_EQUAL(r.words[3], 0u);
	CU_ASSERT_EQUAL(r.words[5] | (uint64_t)r.words[6] << 32,
			10000000000ull);
	CU_ASSERT_EQUAL(r.words[7], 1u);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0x4, 0, 1, &r), ST_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x8, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0u);
	CU_ASSERT_STRING_EQUAL(reply_name(&r, 3), "mock-clock-7");
	CU_ASSERT_EQUAL(r.len, 8u + 4u + 64u);
	/* Notifications and parents are not offered. */
	for (unsigned m = 0x9; m <= 0xf; m++)
		if (m != 0xb)
			CU_ASSERT_EQUAL(call2(&a, P_CLOCK, m, 0, 1, &r),
					ST_NOT_SUPPORTED);
	agent_stop(&a);
}

static void test_clock_not_listed(void)
{
	struct agent a;
	struct reply r;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, ALL_KEYS), 0);
	uint64_t before = hvd_mock_scmi_calls(a.f.mock);
	uint32_t set[4] = {0, 2, 1000, 0};
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x3, 2, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(r.len, 8u);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0x4, 2, 0, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(scmi_call(&a, P_CLOCK, 0x5, set, 4, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 7, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0x7, 3, 1, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x8, 0xffffffffu, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call2(&a, P_CLOCK, 0xb, 2, 0, &r), ST_NOT_FOUND);
	/* Nothing reached the kernel. */
	CU_ASSERT_EQUAL(hvd_mock_scmi_calls(a.f.mock), before);
	agent_stop(&a);
}

static void test_power(void)
{
	struct agent a;
	struct reply r;
	bool on;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, ALL_KEYS), 0);
	CU_ASSERT_EQUAL(call0(&a, P_POWER, 0x0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0x30000u);
	CU_ASSERT_EQUAL(call0(&a, P_POWER, 0x1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 2u);
	CU_ASSERT_EQUAL(r.len, 8u + 16u);
	CU_ASSERT_EQUAL(call1(&a, P_POWER, 0x2, 0x4, &r), ST_OK);
	CU_ASSERT_EQUAL(call1(&a, P_POWER, 0x2, 0x6, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_POWER, 0x3, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 1u << 29);
	CU_ASSERT_STRING_EQUAL(reply_name(&r, 3), "pd_5");
	CU_ASSERT_EQUAL(call3(&a, P_POWER, 0x4, 0, 1, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_power(a.f.mock, 5, &on), 0);
	CU_ASSERT_TRUE(on);
	CU_ASSERT_EQUAL(hvd_mock_scmi_power(a.f.mock, 2, &on), 0);
	CU_ASSERT_FALSE(on);
	CU_ASSERT_EQUAL(call1(&a, P_POWER, 0x5, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0u);
	CU_ASSERT_EQUAL(call3(&a, P_POWER, 0x4, 0, 1, 0x40000000u, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_power(a.f.mock, 5, &on), 0);
	CU_ASSERT_FALSE(on);
	CU_ASSERT_EQUAL(call1(&a, P_POWER, 0x5, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0x40000000u);
	/* Async refused, a state we do not know refused; nothing changed. */
	CU_ASSERT_EQUAL(call3(&a, P_POWER, 0x4, 1, 1, 0, &r), ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(call3(&a, P_POWER, 0x4, 0, 1, 0x12, &r),
			ST_INVALID_PARAMS);
	CU_ASSERT_EQUAL(hvd_mock_scmi_power(a.f.mock, 5, &on), 0);
	CU_ASSERT_FALSE(on);
	CU_ASSERT_EQUAL(call3(&a, P_POWER, 0x4, 0, 2, 0, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_POWER, 0x5, 5, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_POWER, 0x3, 2, &r), ST_NOT_FOUND);
	for (unsigned m = 0x6; m <= 0x8; m++)
		CU_ASSERT_EQUAL(call2(&a, P_POWER, m, 0, 1, &r),
				ST_NOT_SUPPORTED);
	agent_stop(&a);
}

static void test_reset(void)
{
	struct agent a;
	struct reply r;
	bool asserted;
	uint32_t pulses;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, ALL_KEYS), 0);
	CU_ASSERT_EQUAL(call0(&a, P_RESET, 0x0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0x30000u);
	CU_ASSERT_EQUAL(call0(&a, P_RESET, 0x1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 2u);
	CU_ASSERT_EQUAL(call1(&a, P_RESET, 0x2, 0x4, &r), ST_OK);
	CU_ASSERT_EQUAL(call1(&a, P_RESET, 0x2, 0x5, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_RESET, 0x3, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 0u);
	CU_ASSERT_EQUAL(r.words[3], 0xffffffffu);
	CU_ASSERT_STRING_EQUAL(reply_name(&r, 4), "reset1");
	/* Guest domain 1 is the kernel's reset 9. */
	CU_ASSERT_EQUAL(call3(&a, P_RESET, 0x4, 1, 2, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_reset(a.f.mock, 9, &asserted, NULL), 0);
	CU_ASSERT_TRUE(asserted);
	CU_ASSERT_EQUAL(hvd_mock_scmi_reset(a.f.mock, 4, &asserted, NULL), 0);
	CU_ASSERT_FALSE(asserted);
	CU_ASSERT_EQUAL(call3(&a, P_RESET, 0x4, 1, 0, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_reset(a.f.mock, 9, &asserted, NULL), 0);
	CU_ASSERT_FALSE(asserted);
	CU_ASSERT_EQUAL(call3(&a, P_RESET, 0x4, 0, 1, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(hvd_mock_scmi_reset(a.f.mock, 4, NULL, &pulses), 0);
	CU_ASSERT_EQUAL(pulses, 1u);
	/* Async refused; autonomous together with assert is invalid. */
	CU_ASSERT_EQUAL(call3(&a, P_RESET, 0x4, 0, 5, 0, &r), ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(call3(&a, P_RESET, 0x4, 0, 3, 0, &r),
			ST_INVALID_PARAMS);
	CU_ASSERT_EQUAL(hvd_mock_scmi_reset(a.f.mock, 4, &asserted, &pulses),
			0);
	CU_ASSERT_EQUAL(pulses, 1u);
	CU_ASSERT_FALSE(asserted);
	CU_ASSERT_EQUAL(call3(&a, P_RESET, 0x4, 2, 1, 0, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call1(&a, P_RESET, 0x3, 4, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(call2(&a, P_RESET, 0x5, 0, 1, &r), ST_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(call1(&a, P_RESET, 0x6, 0, &r), ST_NOT_SUPPORTED);
	agent_stop(&a);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"base: every message", test_base},
		{"clock: every message reaches the kernel", test_clock},
		{"clock: ids not listed are NOT_FOUND", test_clock_not_listed},
		{"power domain: every message", test_power},
		{"reset domain: every message", test_reset},
		{NULL, NULL},
	};
	return cunit_run("scmi_proto", tests);
}
