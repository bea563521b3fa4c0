/* SPDX-License-Identifier: MIT */
/*
 * The real `hvisor` binary in a child process: start-up, refusals with
 * their messages, signals, idle behaviour, the plugin listing.
 */
#include <errno.h>
#include <linux/virtio_mmio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cunit_main.h"
#include "hvd/mock.h"
#include "hvd/plugin.h"

#define TIMEOUT_MS 5000
#define RNG_CONFIG                                                      \
	"{\"zones\": [{\"id\": 1, /* a comment */\n"                    \
	"  \"memory_region\": [{\"zone0_ipa\": \"0x50000000\", "        \
	"\"zonex_ipa\": \"0x50000000\", \"size\": \"0x1000000\"}],\n"   \
	"  // devices\n"                                                \
	"  \"devices\": [{\"type\": \"rng\", \"addr\": \"0xa003e00\", " \
	"\"len\": \"0x200\", \"irq\": 78},\n"                           \
	"    {\"type\": \"nosuch\", \"addr\": \"0xa003c00\", \"len\": " \
	"\"0x200\", \"irq\": 79, \"status\": \"disable\"}]}]}\n"

/* The start of zone 1's object, up to its device list. */
#define MEM_ZONE1                                                       \
	"{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": " \
	"\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "     \
	"\"0x1000000\"}], "

static char tmpdir[64];

static const char *bin(void)
{
	const char *b = getenv("HVISOR_BIN");
	return b ? b : "hvisor";
}

static const char *plugin_dir(void)
{
	const char *d = getenv("HVISOR_TEST_PLUGIN_DIR");
	return d ? d : ".";
}

static char *write_file(const char *name, const char *text)
{
	static char path[8][128];
	static unsigned next;
	char *p = path[next++ % 8];
	snprintf(p, 128, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	return p;
}

static char *read_file(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	if (!f)
		return strcpy(buf, "");
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Run a shell command; returns its exit code, output in *out. */
static int run(const char *cmd, char **out)
{
	static char buf[65536];
	char full[2048];
	snprintf(full, sizeof full, "%s 2>&1", cmd);
	FILE *p = popen(full, "r");
	CU_ASSERT_FATAL(p != NULL);
	size_t n = fread(buf, 1, sizeof buf - 1, p);
	buf[n] = 0;
	int status = pclose(p);
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A mock, RAM for zone 1, and the daemon running `config`, with one more
 * option `opt` unless NULL. */
static struct hvd_mock *start_daemon_opt(const char *config, const char *log,
					 const char *opt)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(
		hvd_mock_add_ram(m, 1, 0x50000000, 0x50000000, 0x1000000) == 0);
	char *cfg = write_file("virtio.json", config);
	char *const argv[] = {
		(char *)bin(),           "virtio",         "start",
		"--foreground",          "--plugin-dir",   (char *)plugin_dir(),
		opt ? (char *)opt : cfg, opt ? cfg : NULL, NULL};
	CU_ASSERT_FATAL(hvd_mock_spawn(m, argv, log) == 0);
	CU_ASSERT_FATAL(hvd_mock_wait_ready(m, TIMEOUT_MS) == 0);
	return m;
}

static struct hvd_mock *start_daemon(const char *config, const char *log)
{
	return start_daemon_opt(config, log, NULL);
}

static uint32_t read_reg(struct hvd_mock *m, uint64_t addr)
{
	uint64_t v = 0;
	CU_ASSERT_EQUAL(
		hvd_mock_mmio(m, 1, addr, 4, false, &v, false, TIMEOUT_MS), 0);
	return (uint32_t)v;
}

static void stop_expect_zero(struct hvd_mock *m, int sig)
{
	int status = -1;
	CU_ASSERT_EQUAL(hvd_mock_stop_child(m, sig, TIMEOUT_MS, &status), 0);
	CU_ASSERT(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

static void test_serves_and_exits_on_sigterm(void)
{
	char log[128];
	snprintf(log, sizeof log, "%s/daemon.log", tmpdir);
	unlink(log);
	struct hvd_mock *m = start_daemon(RNG_CONFIG, log);
	CU_ASSERT_EQUAL(read_reg(m, 0xa003e00 + VIRTIO_MMIO_MAGIC_VALUE),
			0x74726976);
	CU_ASSERT_EQUAL(read_reg(m, 0xa003e00 + VIRTIO_MMIO_DEVICE_ID), 4);
	stop_expect_zero(m, SIGTERM);
	const char *text = read_file(log);
	/* What a user must know about each device is logged. */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "zone1 rng@0xa003e00"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "irq 78"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "resetting devices and exiting"));
	hvd_mock_free(m);
}

/* Interrupts are merged unless --no-irq-merge (docs/hvisor-runtime.md
 * 1.5); --irq-merge, once the opt-in, is still accepted. The log says
 * which. */
static void test_irq_merge_options(void)
{
	static const struct {
		const char *opt, *line;
	} cases[] = {
		{NULL, "interrupts: edge model, merged\n"},
		{"--irq-merge", "interrupts: edge model, merged\n"},
		{"--no-irq-merge", "interrupts: edge model\n"},
	};
	char log[128];
	snprintf(log, sizeof log, "%s/daemon.log", tmpdir);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unlink(log);
		struct hvd_mock *m =
			start_daemon_opt(RNG_CONFIG, log, cases[i].opt);
		stop_expect_zero(m, SIGTERM);
		hvd_mock_free(m);
		const char *text = read_file(log);
		if (!strstr(text, cases[i].line))
			fprintf(stderr, "\n  %s: no '%s' in:\n%s\n",
				cases[i].opt ? cases[i].opt : "(default)",
				cases[i].line, text);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, cases[i].line));
	}
}

static void test_exits_on_sigint(void)
{
	struct hvd_mock *m = start_daemon(RNG_CONFIG, "/dev/null");
	stop_expect_zero(m, SIGINT);
	hvd_mock_free(m);
}

static long cpu_ticks(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	const char *s = read_file(path);
	const char *p = strrchr(s, ')');
	if (!p)
		return -1;
	/* Fields after the command: state is field 3; utime 14, stime 15. */
	long utime = 0, stime = 0;
	int field = 2;
	for (const char *q = p + 1; *q && field < 15; q++) {
		if (*q != ' ')
			continue;
		field++;
		if (field == 14)
			utime = strtol(q + 1, NULL, 10);
		if (field == 15)
			stime = strtol(q + 1, NULL, 10);
	}
	return utime + stime;
}

static void test_idle_daemon_sleeps(void)
{
	struct hvd_mock *m = start_daemon(RNG_CONFIG, "/dev/null");
	read_reg(m, 0xa003e00);
	long before = cpu_ticks(hvd_mock_child(m));
	/* An interval of wall time to measure CPU use over; nothing waits
	 * for the daemon here. */
	struct timespec second = {1, 0};
	nanosleep(&second, NULL);
	long after = cpu_ticks(hvd_mock_child(m));
	CU_ASSERT(before >= 0);
	/* A spinning daemon would burn ~100 ticks. */
	CU_ASSERT(after - before <= 3);
	/* And asleep it still answers: the wake-up path works. */
	uint64_t wakeups = hvd_mock_wakeups(m);
	CU_ASSERT_EQUAL(read_reg(m, 0xa003e00 + VIRTIO_MMIO_VERSION), 2);
	CU_ASSERT(hvd_mock_wakeups(m) > wakeups);
	stop_expect_zero(m, SIGTERM);
	hvd_mock_free(m);
}

static int start_and_fail(const char *config, char **out)
{
	char *cfg = write_file("bad.json", config);
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "HVISOR_MOCK=/nonexistent %s virtio start --foreground "
		 "--plugin-dir %s %s",
		 bin(), plugin_dir(), cfg);
	return run(cmd, out);
}

static void test_config_error_names_path(void)
{
	char *out;
	int rc = start_and_fail(
		MEM_ZONE1 "\"devices\": "
			  "[{\"type\": \"rng\", \"addr\": \"0x1000\", \"len\": "
			  "\"0x200\", \"irq\": \"seventy\"}]}]}",
		&out);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "zones[0].devices[0].irq:"));
}

static void test_unknown_type_refused(void)
{
	char *out;
	int rc = start_and_fail(
		MEM_ZONE1
		"\"devices\": "
		"[{\"type\": \"nosuch\", \"addr\": \"0x1000\", \"len\": "
		"\"0x200\", \"irq\": 3}]}]}",
		&out);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "no plugin provides device type 'nosuch'"));
}

static void test_unknown_device_key_refused(void)
{
	char *out;
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_FATAL(
		hvd_mock_add_ram(m, 1, 0x50000000, 0x50000000, 0x1000000) == 0);
	char *cfg = write_file(
		"key.json",
		"{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		"\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		"\"0x1000000\"}], \"devices\": [{\"type\": \"rng\", \"addr\": "
		"\"0x1000\", \"len\": \"0x200\", \"irq\": 3, \"bogus\": "
		"1}]}]}");
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "HVISOR_MOCK=%s %s virtio start --foreground --plugin-dir %s "
		 "%s",
		 hvd_mock_socket_path(m), bin(), plugin_dir(), cfg);
	int rc = run(cmd, &out);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "zones[0].devices[0].bogus"));
	hvd_mock_free(m);
}

/* A plugin whose devices would have virtio id 0 (none in its descriptor,
 * none given at create()) is refused with the reason, not served. */
static void test_device_id_0_refused(void)
{
	const char *fixtures = getenv("HVISOR_TEST_FIXTURE_DIR");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fixtures);
	char *cfg = write_file("noid.json", MEM_ZONE1
			       "\"devices\": [{\"type\": \"fixture-noid\", "
			       "\"addr\": \"0xa003e00\", \"len\": \"0x200\", "
			       "\"irq\": 78}]}]}");
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd,
		 "%s virtio start --check --plugin-dir %s/noid %s", bin(),
		 fixtures, cfg);
	CU_ASSERT_EQUAL(run(cmd, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "fixture-noid@0xa003e00: plugin gave no virtio "
			    "device id (0 in its descriptor and in "
			    "info.device_id)"));
}

/* --check: no hypervisor (no mock, no /dev/hvisor needed), every device
 * created and destroyed; a plugin's own refusal fails the check. */
static void test_check_without_hypervisor(void)
{
	char cmd[1024], *out;
	char *cfg = write_file("check.json", RNG_CONFIG);
	snprintf(
		cmd, sizeof cmd,
		"env -u HVISOR_MOCK %s virtio start --check --plugin-dir %s %s",
		bin(), plugin_dir(), cfg);
	CU_ASSERT_EQUAL(run(cmd, &out), 0);
	char want[256];
	snprintf(want, sizeof want,
		 "%s: ok, 1 device(s) in 1 zone(s) created and destroyed", cfg);
	if (!strstr(out, want))
		fprintf(stderr, "\n  output:\n%s\n", out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "virtio device id 4 at 0xa003e00"));

	cfg = write_file("check-bad.json", MEM_ZONE1
			 "\"devices\": [{\"type\": \"rng\", \"addr\": "
			 "\"0xa003e00\", \"len\": \"0x200\", \"irq\": "
			 "78, \"source\": \"/nonexistent/rng\"}]}]}");
	snprintf(
		cmd, sizeof cmd,
		"env -u HVISOR_MOCK %s virtio start --check --plugin-dir %s %s",
		bin(), plugin_dir(), cfg);
	CU_ASSERT_EQUAL(run(cmd, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out,
				      "zones[0].devices[0].source: cannot open "
				      "/nonexistent/rng"));
	CU_ASSERT_PTR_NULL(strstr(out, ": ok,"));
}

static void test_missing_config_file(void)
{
	char *out;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s virtio start --foreground %s/absent.json",
		 bin(), tmpdir);
	CU_ASSERT_EQUAL(run(cmd, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "absent.json"));
}

static void test_no_silent_fallback_to_mock(void)
{
	char *out;
	char cmd[1024];
	const char *cfg = write_file("ok.json", RNG_CONFIG);
	snprintf(cmd, sizeof cmd,
		 "env -u HVISOR_MOCK %s virtio start --foreground "
		 "--plugin-dir %s %s",
		 bin(), plugin_dir(), cfg);
	if (access("/dev/hvisor", F_OK) == 0) {
		printf("(skipped: this machine has a real /dev/hvisor) ");
		return;
	}
	CU_ASSERT_EQUAL(run(cmd, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "/dev/hvisor"));
}

static void test_usage_errors(void)
{
	char *out;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s virtio start", bin());
	CU_ASSERT_EQUAL(run(cmd, &out), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage:"));
	snprintf(cmd, sizeof cmd, "%s virtio start --log-level loud x.json",
		 bin());
	CU_ASSERT_EQUAL(run(cmd, &out), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "--log-level"));
	snprintf(cmd, sizeof cmd, "%s frobnicate", bin());
	CU_ASSERT_EQUAL(run(cmd, &out), 2);
}

static void test_plugins_listing(void)
{
	char *out;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s virtio plugins --plugin-dir %s", bin(),
		 plugin_dir());
	CU_ASSERT_EQUAL(run(cmd, &out), 0);
	const char *line = strstr(out, "libhvd-rng.so");
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	const char *eol = strchr(line, '\n');
	char row[512] = {0};
	memcpy(row, line, eol ? (size_t)(eol - line) : strlen(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(row, " rng "));
	CU_ASSERT_PTR_NOT_NULL(strstr(row, " 4 "));
	/* The ABI the plugin was built with: this tree's (a minor bump at a
	 * merge must not break this test). */
	char abi[32];
	snprintf(abi, sizeof abi, " %d.%d ", HVD_ABI_MAJOR, HVD_ABI_MINOR);
	CU_ASSERT_PTR_NOT_NULL(strstr(row, abi));
	CU_ASSERT_PTR_NOT_NULL(strstr(row, "ok"));
}

/* A plugin compiled against the frozen 1.0 headers (sdk/abi/frozen-1.0) is
 * created with its JSON key and serves a request in today's daemon. */
static void test_frozen_1_0_plugin_serves(void)
{
	const char *fixtures = getenv("HVISOR_TEST_FIXTURE_DIR");
	char dir[512];
	CU_ASSERT_PTR_NOT_NULL_FATAL(fixtures);
	snprintf(dir, sizeof dir, "%s/frozen", fixtures);
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_FATAL(
		hvd_mock_add_ram(m, 1, 0x50000000, 0x50000000, 0x1000000) == 0);
	char *cfg = write_file("frozen.json", MEM_ZONE1
			       "\"devices\": [{\"type\": \"fixture-frozen10\", "
			       "\"addr\": \"0xa003e00\", \"len\": \"0x200\", "
			       "\"irq\": 78, \"fill\": \"0x5a\"}]}]}");
	char *const argv[] = {(char *)bin(),  "virtio", "start", "--foreground",
			      "--plugin-dir", dir,      cfg,     NULL};
	CU_ASSERT_FATAL(hvd_mock_spawn(m, argv, "/dev/null") == 0);
	CU_ASSERT_FATAL(hvd_mock_wait_ready(m, TIMEOUT_MS) == 0);

	struct hvd_guest_dev *d = hvd_guest_open(m, 1, 0xa003e00, 78);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(hvd_guest_probe(d), 4);
	uint64_t features = 0;
	CU_ASSERT_EQUAL_FATAL(hvd_guest_negotiate(d, 1ull << 32, &features), 0);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(d, 0, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vq);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_driver_ok(d), 0);
	uint8_t *buf;
	uint64_t gpa = hvd_guest_alloc(d, 24, 8, (void **)&buf);
	CU_ASSERT_NOT_EQUAL_FATAL(gpa, 0);
	struct hvd_guest_buf b = {.gpa = gpa, .len = 24, .device_writes = true};
	CU_ASSERT_FATAL(hvd_guest_vq_add(vq, &b, 1, false, buf) >= 0);
	CU_ASSERT(hvd_guest_vq_kick(vq) >= 0);
	void *token = NULL;
	uint32_t len = 0;
	CU_ASSERT_EQUAL_FATAL(
		hvd_guest_vq_wait_used(vq, &token, &len, TIMEOUT_MS), 0);
	CU_ASSERT_PTR_EQUAL(token, buf);
	CU_ASSERT_EQUAL(len, 24);
	for (unsigned i = 0; i < 24; i++)
		CU_ASSERT_EQUAL(buf[i], 0x5a);
	hvd_guest_close(d);
	stop_expect_zero(m, SIGTERM);
	hvd_mock_free(m);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/hvisor-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	static const struct cunit_test tests[] = {
		{"serves, logs devices, exits 0 on SIGTERM",
		 test_serves_and_exits_on_sigterm},
		{"exits 0 on SIGINT", test_exits_on_sigint},
		{"interrupts merged unless --no-irq-merge",
		 test_irq_merge_options},
		{"idle daemon sleeps and wakes", test_idle_daemon_sleeps},
		{"config error names the JSON path",
		 test_config_error_names_path},
		{"unknown device type refused", test_unknown_type_refused},
		{"unknown device key refused", test_unknown_device_key_refused},
		{"device id 0 refused", test_device_id_0_refused},
		{"--check without a hypervisor", test_check_without_hypervisor},
		{"missing config file", test_missing_config_file},
		{"no silent fallback to the mock",
		 test_no_silent_fallback_to_mock},
		{"usage errors exit 2", test_usage_errors},
		{"plugins listing", test_plugins_listing},
		{"frozen 1.0 plugin serves a request",
		 test_frozen_1_0_plugin_serves},
		{NULL, NULL},
	};
	int rc = cunit_run("daemon", tests);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
