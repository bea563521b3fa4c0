/* SPDX-License-Identifier: MIT */
/*
 * virtio-scmi and the kernel module's allowed sets (docs/scmi.md,
 * "Allowed sets"), against the mock, which keeps them per connection as
 * the module does per open file: each device declares its zone's kernel
 * ids when created, the daemon seals them when started; afterwards the
 * daemon's own connection cannot reach any other id or zone, nor grow the
 * set, and an scmi device added at runtime is refused with the reason.
 */
#include <stdlib.h>

#include "control/ctl_guest.h"
#include "hvisor/scmi.h"
#include "port.h"
#include "scmi_agent.h"

/* Clocks 3 and 7, resets 4 and 5 (one range), domain 2 of the kernel. */
#define KEYS                                                                 \
	"\"clock_ids\": [3, 7], \"reset_ids\": [4, 5], \"power_ids\": [2], " \
	"\"status\": \"enable\""

static void test_declared_and_sealed(void)
{
	struct agent a;
	struct reply r;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, KEYS), 0);
	unsigned sealed = 0;
	CU_ASSERT_EQUAL(hvd_mock_scmi_sets(a.f.mock, &sealed), 1u);
	CU_ASSERT_EQUAL(sealed, 1u);
	static const struct {
		unsigned which;
		uint32_t id;
		bool in;
	} want[] = {
		{32, 3, true}, {32, 7, true},  {32, 4, false}, {32, 0, false},
		{33, 4, true}, {33, 5, true},  {33, 3, false}, {33, 6, false},
		{34, 2, true}, {34, 3, false}, {34, 0, false},
	};
	for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
		CU_ASSERT_EQUAL(hvd_mock_scmi_allowed(
					a.f.mock, 1, want[i].which, want[i].id),
				want[i].in);
		/* Only zone 1 has a set. */
		CU_ASSERT_FALSE(hvd_mock_scmi_allowed(
			a.f.mock, 2, want[i].which, want[i].id));
	}
	/* The guest's requests go out as zone 1's and work. */
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 1, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 8000000u); /* kernel clock 7 */
	CU_ASSERT_EQUAL(call3(&a, P_RESET, 0x4, 1, 2, 0, &r), ST_OK);
	bool asserted = false;
	CU_ASSERT_EQUAL(hvd_mock_scmi_reset(a.f.mock, 5, &asserted, NULL), 0);
	CU_ASSERT_TRUE(asserted);
	agent_stop(&a);
}

/* What a compromised daemon could still send on its own connection. */
static void test_daemon_confined(void)
{
	struct agent a;
	CU_ASSERT_EQUAL_FATAL(agent_start(&a, KEYS), 0);
	struct port *port = a.f.daemon->port;
	uint64_t calls = hvd_mock_scmi_calls(a.f.mock);
	struct hvisor_scmi_clock_args c = {.subcmd = HVISOR_SCMI_CLOCK_RATE_GET,
					   .u.rate.id = 4};
	/* Another clock of its own zone, a listed clock for another zone,
	 * the zone-less upstream request. */
	CU_ASSERT_EQUAL(port_scmi_zone(port, 1, 32, &c, sizeof c), -EPERM);
	c.u.rate.id = 3;
	CU_ASSERT_EQUAL(port_scmi_zone(port, 2, 32, &c, sizeof c), -EPERM);
	CU_ASSERT_EQUAL(port_scmi(port, 32, &c, sizeof c), -EPERM);
	struct hvisor_scmi_zone_args za = {.zone_id = 1, .kind = 32};
	za.a.clock = (struct hvisor_scmi_clock_args){
		.subcmd = HVISOR_SCMI_SET_PHANDLE, .u.phandle = 3};
	CU_ASSERT_EQUAL(port_scmi(port, HVISOR_SCMI_ZONE, &za, sizeof za),
			-EINVAL);
	/* Growing the set: refused by the daemon, and by "the kernel" when
	 * the daemon is bypassed. */
	struct hvisor_scmi_allow al = {.kind = 32, .first = 4, .count = 1};
	CU_ASSERT_EQUAL(
		port_scmi_zone(port, 1, HVISOR_SCMI_ALLOW, &al, sizeof al),
		-EPERM);
	al.zone_id = 1;
	CU_ASSERT_EQUAL(port_scmi(port, HVISOR_SCMI_ALLOW, &al, sizeof al),
			-EPERM);
	CU_ASSERT_FALSE(hvd_mock_scmi_allowed(a.f.mock, 1, 32, 4));
	CU_ASSERT_EQUAL(hvd_mock_scmi_calls(a.f.mock), calls);
	/* The control: its own clock in its own zone. */
	CU_ASSERT_EQUAL(port_scmi_zone(port, 1, 32, &c, sizeof c), 0);
	CU_ASSERT_EQUAL(c.u.rate.rate, 4000000u);
	CU_ASSERT_EQUAL(hvd_mock_scmi_calls(a.f.mock), calls + 1);
	agent_stop(&a);
}

static void no_sets(struct hvd_mock *mock)
{
	hvd_mock_scmi_no_sets(mock, true);
}

/* A module without allowed sets (hvisor-tool's): nothing is declared and
 * the requests go out as upstream's, still only for the listed ids. */
static void test_module_without_sets(void)
{
	struct agent a;
	struct reply r;
	CU_ASSERT_EQUAL_FATAL(agent_start_prepared(&a, KEYS, no_sets), 0);
	CU_ASSERT_EQUAL(hvd_mock_scmi_sets(a.f.mock, NULL), 0u);
	CU_ASSERT_FALSE(port_scmi_declared(a.f.daemon->port));
	uint64_t calls = hvd_mock_scmi_calls(a.f.mock);
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 0, &r), ST_OK);
	CU_ASSERT_EQUAL(r.words[2], 4000000u); /* kernel clock 3 */
	CU_ASSERT_EQUAL(call1(&a, P_CLOCK, 0x6, 2, &r), ST_NOT_FOUND);
	CU_ASSERT_EQUAL(hvd_mock_scmi_calls(a.f.mock), calls + 1);
	agent_stop(&a);
}

/* `hvisor virtio add` of an scmi device after startup: refused, the reply
 * says why; a device that needs no kernel id is still added. */
static void test_runtime_add(void)
{
	char dir[] = "/tmp/hvd-scmi-XXXXXX", sock[100];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(sock, sizeof sock, "%s/control.sock", dir);
	struct fixture f = {.control_path = sock};
	CU_ASSERT_EQUAL_FATAL(
		fixture_start(&f,
			      "{\"type\": \"scmi\", \"addr\": \"0xa003e00\","
			      " \"len\": \"0x200\", \"irq\": 78, "
			      "\"clock_ids\": [3]}"),
		0);
	static const char add_fmt[] =
		"{\"api\": 1, \"cmd\": \"add\", \"config\": \"{\\\"zones\\\": "
		"[{\\\"id\\\": 1, \\\"memory_region\\\": [{\\\"zone0_ipa\\\": "
		"\\\"0x50000000\\\", \\\"zonex_ipa\\\": \\\"0x50000000\\\", "
		"\\\"size\\\": \\\"0x1000000\\\"}], \\\"devices\\\": "
		"[{\\\"type\\\": \\\"scmi\\\","
		" \\\"addr\\\": \\\"0xa003a00\\\", \\\"len\\\": \\\"0x200\\\", "
		"\\\"irq\\\": 75%s}]}]}\"}\n";
	char line[1024];
	snprintf(line, sizeof line, add_fmt, ", \\\"clock_ids\\\": [9]");
	cJSON *r = ct_call_at(sock, line);
	CU_ASSERT(ct_error_has(r, "clock ids 9..9 cannot join this zone's "
				  "SCMI allowed set (EPERM)"));
	cJSON_Delete(r);
	CU_ASSERT_FALSE(hvd_mock_scmi_allowed(f.mock, 1, 32, 9));
	/* No ids at all: nothing to declare, so it goes in. */
	snprintf(line, sizeof line, add_fmt, "");
	r = ct_call_at(sock, line);
	CU_ASSERT(ct_ok(r));
	cJSON_Delete(r);
	fixture_stop(&f);
	unlink(sock);
	rmdir(dir);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"ids declared per zone, sealed at startup",
		 test_declared_and_sealed},
		{"the daemon's connection is confined", test_daemon_confined},
		{"runtime add of an scmi device is refused", test_runtime_add},
		{"a module without allowed sets", test_module_without_sets},
		{NULL, NULL},
	};
	return cunit_run("scmi_sets", tests);
}
