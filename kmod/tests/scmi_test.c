/* SPDX-License-Identifier: MIT */
/*
 * kmod_test's SCMI subcommands (ioctls 32-34 and our allowed-set
 * extension, interface/hvisor/scmi.h):
 *
 *   scmi-absent  no "hvisor" DT node (amd64): the module loaded anyway and
 *                every request that needs the node says ENODEV
 *   scmi-dt      the arm64 stage's node (QEMU's fixed clock, two resets
 *                and two power domains of the test-only provider
 *                hvisor_fakeprov.ko) through the upstream requests
 *   scmi-sets    per-file allowed sets: ALLOW, SEAL, ZONE; what is in the
 *                set reaches the providers, what is not is refused and
 *                reaches nothing
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvisor/scmi.h"
#include "kmod_test.h"

/* The QEMU guests' device trees have no "hvisor" node: the module loaded
 * anyway, and every SCMI request says ENODEV; a read-only file is refused
 * first (EBADF), as for any request that changes state. */
void test_scmi_absent(void)
{
	int fd = open_dev();
	struct hvisor_scmi_clock_args clk = {.subcmd = HVISOR_SCMI_GET_COUNT};
	struct hvisor_scmi_reset_args rst = {.subcmd = HVISOR_SCMI_GET_COUNT};
	struct hvisor_scmi_power_args pwr = {.subcmd = HVISOR_SCMI_GET_COUNT};
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &clk) == -ENODEV,
	      "SCMI clock request without the DT node: ENODEV");
	check(dev_ioctl(fd, HVISOR_SCMI_RESET_IOCTL, &rst) == -ENODEV,
	      "SCMI reset request without the DT node: ENODEV");
	check(dev_ioctl(fd, HVISOR_SCMI_POWER_IOCTL, &pwr) == -ENODEV,
	      "SCMI power request without the DT node: ENODEV");
	struct hvisor_scmi_allow allow = {ZONE_ID, HVISOR_SCMI_CLOCK, 0, 1};
	check(dev_ioctl(fd, HVISOR_SCMI_ALLOW_IOCTL, &allow) == -ENODEV,
	      "ALLOW without the DT node: ENODEV");
	struct hvisor_scmi_zone_args za = {.zone_id = ZONE_ID,
					   .kind = HVISOR_SCMI_CLOCK};
	za.a.clock.subcmd = HVISOR_SCMI_GET_COUNT;
	check(dev_ioctl(fd, HVISOR_SCMI_ZONE_IOCTL, &za) == -ENODEV,
	      "ZONE request without the DT node: ENODEV");
	close(fd);
	int ro = open("/dev/hvisor", O_RDONLY | O_CLOEXEC);
	check(ro >= 0 && dev_ioctl(ro, HVISOR_SCMI_CLOCK_IOCTL, &clk) == -EBADF,
	      "SCMI request on a read-only file: EBADF");
	if (ro >= 0)
		close(ro);
}

/* A number from a debugfs/sysfs file, or -1. */
static long long read_number(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v = -1;
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Entry `id` of the fake provider's counter array `name` (its module
 * parameter, "a,b"), or ~0u when unreadable. */
#define FAKEPROV "/sys/module/hvisor_fakeprov/parameters/"
static unsigned fp_count(const char *name, unsigned id)
{
	char path[128], row[64];
	snprintf(path, sizeof path, FAKEPROV "%s", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return ~0u;
	char *p = fgets(row, sizeof row, f);
	fclose(f);
	for (unsigned i = 0; p && i < id; i++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return p ? (unsigned)strtoul(p, NULL, 10) : ~0u;
}

/* The arm64 stage's tree: hvisor_virtio_device lists QEMU's fixed 24 MHz
 * clock (apb-pclk, "clk24mhz"), resets <&fp 0>, <&fp 1> and power-domains
 * <&fp 0>, <&fp 1> of the fake provider. The requests drive the real clk
 * framework: its debugfs shows the enable. */
#define CLK_DEBUGFS "/sys/kernel/debug/clk/clk24mhz/"
void test_scmi_dt(void)
{
	int fd = open_dev();
	struct hvisor_scmi_clock_args c = {.subcmd = HVISOR_SCMI_GET_COUNT};
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == 0 && c.u.count == 1,
	      "one clock in the node (%u)", c.u.count);
	struct hvisor_scmi_reset_args r = {.subcmd = HVISOR_SCMI_GET_COUNT};
	check(dev_ioctl(fd, HVISOR_SCMI_RESET_IOCTL, &r) == 0 && r.u.count == 2,
	      "two resets in the node (%u)", r.u.count);
	struct hvisor_scmi_power_args p = {.subcmd = HVISOR_SCMI_GET_COUNT};
	check(dev_ioctl(fd, HVISOR_SCMI_POWER_IOCTL, &p) == 0 && p.u.count == 2,
	      "two power domains in the node (%u)", p.u.count);
	c = (struct hvisor_scmi_clock_args){
		.subcmd = HVISOR_SCMI_CLOCK_GET_ATTRIBUTES};
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == 0 &&
		      strcmp(c.u.attr.name, "clk24mhz") == 0,
	      "clock 0 is %s", c.u.attr.name);
	c = (struct hvisor_scmi_clock_args){.subcmd =
						    HVISOR_SCMI_CLOCK_RATE_GET};
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == 0 &&
		      c.u.rate.rate == 24000000,
	      "rate %" PRIu64 " Hz", (uint64_t)c.u.rate.rate);
	long long before = read_number(CLK_DEBUGFS "clk_enable_count");
	c = (struct hvisor_scmi_clock_args){
		.subcmd = HVISOR_SCMI_CLOCK_CONFIG_SET, .u.config.config = 1};
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == 0, "enable");
	/* A second enable is the same state, not a second reference. */
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == 0, "enable again");
	long long during = read_number(CLK_DEBUGFS "clk_enable_count");
	check(before >= 0 && during == before + 1,
	      "debugfs enable count %lld -> %lld", before, during);
	c.u.config.config = 0;
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == 0 &&
		      dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == 0,
	      "disable twice");
	long long after = read_number(CLK_DEBUGFS "clk_enable_count");
	check(after == before, "debugfs enable count back to %lld", after);
	c = (struct hvisor_scmi_clock_args){
		.subcmd = HVISOR_SCMI_CLOCK_RATE_GET, .u.rate.id = 1};
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == -EINVAL,
	      "clock 1 is outside the node: EINVAL");
	r = (struct hvisor_scmi_reset_args){.subcmd = HVISOR_SCMI_RESET_RESET,
					    .u.reset.domain = 2};
	check(dev_ioctl(fd, HVISOR_SCMI_RESET_IOCTL, &r) == -EINVAL,
	      "reset 2 is outside the node: EINVAL");
	c = (struct hvisor_scmi_clock_args){.subcmd = HVISOR_SCMI_SET_PHANDLE,
					    .u.phandle = 1};
	check(dev_ioctl(fd, HVISOR_SCMI_CLOCK_IOCTL, &c) == -EINVAL,
	      "SET_PHANDLE is refused: EINVAL");
	/* A file that declares no set keeps hvisor-tool's behaviour: every
	 * resource of the node, reaching the provider. */
	unsigned pulses = fp_count("reset_pulses", 1);
	r = (struct hvisor_scmi_reset_args){
		.subcmd = HVISOR_SCMI_RESET_RESET,
		.u.reset = {.domain = 1,
			    .flags = HVISOR_SCMI_RESET_AUTONOMOUS}};
	check(dev_ioctl(fd, HVISOR_SCMI_RESET_IOCTL, &r) == 0 &&
		      fp_count("reset_pulses", 1) == pulses + 1,
	      "upstream RESET of reset 1 reached the provider (%u -> %u)",
	      pulses, fp_count("reset_pulses", 1));
	close(fd);
}

/* ---- scmi-sets --------------------------------------------------------- */

static long allow(int fd, uint32_t zone, uint32_t kind, uint32_t first,
		  uint32_t count)
{
	struct hvisor_scmi_allow a = {zone, kind, first, count};
	return dev_ioctl(fd, HVISOR_SCMI_ALLOW_IOCTL, &a);
}

static long seal(int fd)
{
	struct hvisor_scmi_seal s = {0};
	return dev_ioctl(fd, HVISOR_SCMI_SEAL_IOCTL, &s);
}

/* ZONE request `subcmd` of `kind` for `zone` with the two words every
 * id-bearing member starts with: the id at offset 8, a value at 12 (reset
 * flags, power state). */
static long zone_req(int fd, uint32_t zone, uint32_t kind, uint32_t subcmd,
		     uint32_t id, uint32_t value)
{
	struct hvisor_scmi_zone_args za = {.zone_id = zone, .kind = kind};
	const uint32_t words[4] = {subcmd, 0, id, value};
	memcpy(&za.a, words, sizeof words);
	return dev_ioctl(fd, HVISOR_SCMI_ZONE_IOCTL, &za);
}

static long zone_reset(int fd, uint32_t zone, uint32_t id, uint32_t flags)
{
	return zone_req(fd, zone, HVISOR_SCMI_RESET, HVISOR_SCMI_RESET_RESET,
			id, flags);
}

static long zone_power(int fd, uint32_t zone, uint32_t id, uint32_t state)
{
	return zone_req(fd, zone, HVISOR_SCMI_POWER,
			HVISOR_SCMI_POWER_STATE_SET, id, state);
}

/* Sum of every fake-provider counter for id 1 (never in the sealed set). */
static unsigned id1_total(void)
{
	static const char *const names[] = {"reset_asserts", "reset_deasserts",
					    "reset_pulses", "pd_ons",
					    "pd_offs"};
	unsigned sum = 0;
	for (unsigned i = 0; i < 5; i++)
		sum += fp_count(names[i], 1);
	return sum;
}

/* The set of zone 1: clock 0, reset 0, power domain 0; zone 2: reset 1 is
 * declared on another file. What zone 1's sealed file may do reaches the
 * provider; the rest is refused before it reaches anything. */
static void sealed_file(int fd)
{
	unsigned before = id1_total();
	unsigned pulses = fp_count("reset_pulses", 0);
	unsigned asserts = fp_count("reset_asserts", 0);
	unsigned deasserts = fp_count("reset_deasserts", 0);
	check(zone_reset(fd, ZONE_ID, 0, HVISOR_SCMI_RESET_AUTONOMOUS) == 0 &&
		      fp_count("reset_pulses", 0) == pulses + 1,
	      "zone 1 reset 0 pulse reached the provider (%u -> %u)", pulses,
	      fp_count("reset_pulses", 0));
	check(zone_reset(fd, ZONE_ID, 0, HVISOR_SCMI_RESET_ASSERT) == 0 &&
		      zone_reset(fd, ZONE_ID, 0, HVISOR_SCMI_RESET_DEASSERT) ==
			      0 &&
		      fp_count("reset_asserts", 0) == asserts + 1 &&
		      fp_count("reset_deasserts", 0) == deasserts + 1,
	      "zone 1 reset 0 assert + deassert reached the provider");
	unsigned ons = fp_count("pd_ons", 0), offs = fp_count("pd_offs", 0);
	check(zone_power(fd, ZONE_ID, 0, HVISOR_SCMI_POWER_ON) == 0 &&
		      fp_count("pd_ons", 0) == ons + 1,
	      "zone 1 domain 0 on reached the provider (%u -> %u)", ons,
	      fp_count("pd_ons", 0));
	struct hvisor_scmi_zone_args za = {.zone_id = ZONE_ID,
					   .kind = HVISOR_SCMI_POWER};
	za.a.power.subcmd = HVISOR_SCMI_POWER_STATE_GET;
	check(dev_ioctl(fd, HVISOR_SCMI_ZONE_IOCTL, &za) == 0 &&
		      za.a.power.u.state.state == HVISOR_SCMI_POWER_ON,
	      "zone 1 domain 0 reads back on");
	check(zone_power(fd, ZONE_ID, 0, HVISOR_SCMI_POWER_OFF) == 0 &&
		      fp_count("pd_offs", 0) == offs + 1,
	      "zone 1 domain 0 off reached the provider (%u -> %u)", offs,
	      fp_count("pd_offs", 0));
	/* Outside the set: refused, nothing reaches the provider. */
	check(zone_reset(fd, ZONE_ID, 1, HVISOR_SCMI_RESET_AUTONOMOUS) ==
		      -EPERM,
	      "zone 1 reset 1 (not in its set): EPERM");
	check(zone_power(fd, ZONE_ID, 1, HVISOR_SCMI_POWER_ON) == -EPERM,
	      "zone 1 domain 1 (not in its set): EPERM");
	check(zone_reset(fd, 2, 0, HVISOR_SCMI_RESET_AUTONOMOUS) == -EPERM,
	      "zone 2 on zone 1's file (no set here): EPERM");
	check(zone_reset(fd, ZONE_ID, 7, HVISOR_SCMI_RESET_ASSERT) == -EPERM,
	      "zone 1 reset 7 (beyond the node): EPERM");
	check(id1_total() == before, "nothing reached id 1 of the provider");
	/* No growth after SEAL, no zone-less requests on a declared file. */
	check(allow(fd, ZONE_ID, HVISOR_SCMI_RESET, 1, 1) == -EPERM,
	      "ALLOW after SEAL: EPERM");
	struct hvisor_scmi_reset_args r = {
		.subcmd = HVISOR_SCMI_RESET_RESET,
		.u.reset = {.domain = 0,
			    .flags = HVISOR_SCMI_RESET_AUTONOMOUS}};
	check(dev_ioctl(fd, HVISOR_SCMI_RESET_IOCTL, &r) == -EPERM,
	      "upstream RESET on a declared file: EPERM");
	za = (struct hvisor_scmi_zone_args){.zone_id = ZONE_ID,
					    .kind = HVISOR_SCMI_RESET};
	za.a.reset.subcmd = HVISOR_SCMI_GET_COUNT;
	check(dev_ioctl(fd, HVISOR_SCMI_ZONE_IOCTL, &za) == 0 &&
		      za.a.reset.u.count == 2,
	      "ZONE GET_COUNT answers (%u)", za.a.reset.u.count);
	za = (struct hvisor_scmi_zone_args){.zone_id = ZONE_ID,
					    .kind = HVISOR_SCMI_CLOCK};
	za.a.clock.subcmd = HVISOR_SCMI_SET_PHANDLE;
	za.a.clock.u.phandle = 0; /* would alias clock 0's id */
	check(dev_ioctl(fd, HVISOR_SCMI_ZONE_IOCTL, &za) == -EINVAL,
	      "ZONE SET_PHANDLE: EINVAL");
	za.kind = 35;
	za.a.clock.subcmd = HVISOR_SCMI_GET_COUNT;
	check(dev_ioctl(fd, HVISOR_SCMI_ZONE_IOCTL, &za) == -EINVAL,
	      "ZONE of an unknown kind: EINVAL");
}

/* The sealed file keeps working without CAP_SYS_RAWIO; declaring does not. */
static void without_rawio(int sealed)
{
	pid_t pid = fork();
	if (pid == 0) {
		failures = 0;
		check(drop_rawio() == 0, "drop CAP_SYS_RAWIO");
		unsigned pulses = fp_count("reset_pulses", 0);
		check(zone_reset(sealed, ZONE_ID, 0,
				 HVISOR_SCMI_RESET_AUTONOMOUS) == 0 &&
			      fp_count("reset_pulses", 0) == pulses + 1,
		      "no CAP_SYS_RAWIO: the sealed set still works");
		int fresh = open_dev();
		check(allow(fresh, ZONE_ID, HVISOR_SCMI_RESET, 1, 1) == -EPERM,
		      "no CAP_SYS_RAWIO: ALLOW on a fresh file EPERM");
		struct hvisor_scmi_reset_args r = {
			.subcmd = HVISOR_SCMI_RESET_RESET,
			.u.reset = {.domain = 1,
				    .flags = HVISOR_SCMI_RESET_AUTONOMOUS}};
		check(dev_ioctl(fresh, HVISOR_SCMI_RESET_IOCTL, &r) == -EPERM,
		      "no CAP_SYS_RAWIO: upstream RESET EPERM");
		close(fresh);
		_exit(failures ? 1 : 0);
	}
	int status = 0;
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "the checks without CAP_SYS_RAWIO passed");
}

/* Declaration errors, on files of their own. */
static void declaring(void)
{
	int fd = open_dev();
	check(allow(fd, ZONE_ID, HVISOR_SCMI_RESET, 1, 2) == -EINVAL,
	      "ALLOW of resets 1..2 (the node has 2): EINVAL");
	check(allow(fd, ZONE_ID, HVISOR_SCMI_RESET, 0xffffffffu, 2) == -EINVAL,
	      "ALLOW with a wrapping range: EINVAL");
	check(allow(fd, ZONE_ID, 36, 0, 1) == -EINVAL,
	      "ALLOW of an unknown kind: EINVAL");
	/* Before SEAL the declared part already binds the file. */
	check(allow(fd, 3, HVISOR_SCMI_CLOCK, 0, 1) == 0,
	      "ALLOW zone 3 clock 0");
	struct hvisor_scmi_zone_args za = {.zone_id = 3,
					   .kind = HVISOR_SCMI_CLOCK};
	za.a.clock.subcmd = HVISOR_SCMI_CLOCK_RATE_GET;
	check(dev_ioctl(fd, HVISOR_SCMI_ZONE_IOCTL, &za) == 0 &&
		      za.a.clock.u.rate.rate == 24000000,
	      "zone 3 clock 0 rate before SEAL (%" PRIu64 ")",
	      (uint64_t)za.a.clock.u.rate.rate);
	uint32_t zone = 100;
	long rc = 0;
	for (; rc == 0 && zone < 100 + HVISOR_SCMI_MAX_ZONES; zone++)
		rc = allow(fd, zone, HVISOR_SCMI_CLOCK, 0, 0);
	check(rc == -ENOSPC && zone == 100 + HVISOR_SCMI_MAX_ZONES,
	      "zone %u of one file: ENOSPC (%ld)", zone - 1, rc);
	check(seal(fd) == 0 && seal(fd) == 0, "SEAL twice");
	struct hvisor_scmi_seal bad = {.flags = 1};
	check(dev_ioctl(fd, HVISOR_SCMI_SEAL_IOCTL, &bad) == -EINVAL,
	      "SEAL with flags: EINVAL");
	close(fd);
	/* A file that never declared cannot name a zone. */
	fd = open_dev();
	za = (struct hvisor_scmi_zone_args){.zone_id = ZONE_ID,
					    .kind = HVISOR_SCMI_CLOCK};
	za.a.clock.subcmd = HVISOR_SCMI_GET_COUNT;
	check(dev_ioctl(fd, HVISOR_SCMI_ZONE_IOCTL, &za) == -EPERM,
	      "ZONE on a file without a set: EPERM");
	close(fd);
	int ro = open("/dev/hvisor", O_RDONLY | O_CLOEXEC);
	check(ro >= 0 &&
		      allow(ro, ZONE_ID, HVISOR_SCMI_CLOCK, 0, 1) == -EBADF &&
		      seal(ro) == -EBADF,
	      "ALLOW and SEAL on a read-only file: EBADF");
	if (ro >= 0)
		close(ro);
}

void test_scmi_sets(void)
{
	check(fp_count("pd_ons", 1) != ~0u, "the fake provider is loaded");
	int fd = open_dev(), other = open_dev();
	check(allow(fd, ZONE_ID, HVISOR_SCMI_CLOCK, 0, 1) == 0 &&
		      allow(fd, ZONE_ID, HVISOR_SCMI_RESET, 0, 1) == 0 &&
		      allow(fd, ZONE_ID, HVISOR_SCMI_POWER, 0, 1) == 0 &&
		      seal(fd) == 0,
	      "zone 1: clock 0, reset 0, domain 0 declared and sealed");
	/* Zone 2's set on another file gives zone 1's file nothing. */
	check(allow(other, 2, HVISOR_SCMI_RESET, 1, 1) == 0 && seal(other) == 0,
	      "zone 2: reset 1 declared and sealed on another file");
	sealed_file(fd);
	unsigned pulses = fp_count("reset_pulses", 1);
	check(zone_reset(other, 2, 1, HVISOR_SCMI_RESET_AUTONOMOUS) == 0 &&
		      fp_count("reset_pulses", 1) == pulses + 1,
	      "zone 2 reset 1 works on its own file");
	check(zone_reset(other, 2, 0, HVISOR_SCMI_RESET_AUTONOMOUS) == -EPERM,
	      "zone 2 reset 0 (zone 1's): EPERM");
	without_rawio(fd);
	close(other);
	close(fd);
	declaring();
}
