/* SPDX-License-Identifier: MIT */
/*
 * Tests of the skeleton plugin with the installed SDK only: the harness
 * runs the installed daemon on ../virtio.json with this build's folder as
 * --plugin-dir and plays the guest. Environment (meson.build): HVISOR_BIN,
 * PLUGIN_DIR, CONFIG.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <linux/virtio_config.h>

#include <hvd/mock.h>

/* What virtio.json says, as harness calls: memory_region -> add_ram,
 * the device's addr and irq -> hvd_guest_open. */
#define ZONE       1u
#define RAM_BASE   0x50000000ull
#define RAM_SIZE   0x1000000ull
#define DEV_BASE   0xa003c00ull
#define DEV_IRQ    78u
#define TIMEOUT_MS 5000 /* a failure guard, never a delay */

static struct hvd_mock *start(struct hvd_guest_dev **d,
			      struct hvd_guest_vq **vq)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(
		hvd_mock_add_ram(m, ZONE, RAM_BASE, RAM_BASE, RAM_SIZE), 0);
	char *const argv[] = {
		getenv("HVISOR_BIN"), "virtio",         "start",
		"--foreground",       "--no-control",   "--plugin-dir",
		getenv("PLUGIN_DIR"), getenv("CONFIG"), NULL};
	CU_ASSERT_EQUAL_FATAL(hvd_mock_spawn(m, argv, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(hvd_mock_wait_ready(m, TIMEOUT_MS), 0);
	*d = hvd_guest_open(m, ZONE, DEV_BASE, DEV_IRQ);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*d);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_probe(*d), 4);
	uint64_t got = 0;
	CU_ASSERT_EQUAL_FATAL(
		hvd_guest_negotiate(*d, 1ull << VIRTIO_F_VERSION_1, &got), 0);
	*vq = hvd_guest_vq_setup(*d, 0, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*vq);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_driver_ok(*d), 0);
	return m;
}

/* One request: 256 bytes of the configured fill, nothing past them. */
static void test_fills_a_buffer(void)
{
	struct hvd_guest_dev *d;
	struct hvd_guest_vq *vq;
	struct hvd_mock *m = start(&d, &vq);
	uint8_t *buf;
	uint64_t gpa = hvd_guest_alloc(d, 300, 8, (void **)&buf);
	CU_ASSERT_NOT_EQUAL_FATAL(gpa, 0);
	struct hvd_guest_buf b = {
		.gpa = gpa, .len = 300, .device_writes = true};
	CU_ASSERT_FATAL(hvd_guest_vq_add(vq, &b, 1, false, buf) >= 0);
	CU_ASSERT(hvd_guest_vq_kick(vq) >= 0);
	void *token = NULL;
	uint32_t len = 0;
	CU_ASSERT_EQUAL_FATAL(
		hvd_guest_vq_wait_used(vq, &token, &len, TIMEOUT_MS), 0);
	CU_ASSERT_PTR_EQUAL(token, buf);
	CU_ASSERT_EQUAL(len, 256);
	CU_ASSERT(buf[0] == 0x5a && buf[255] == 0x5a && buf[256] == 0);
	hvd_guest_close(d);
	hvd_mock_free(m);
}

/* A readable buffer breaks the device: it hands the chain back empty and
 * sets NEEDS_RESET; the next wait ends at once with -ENOTRECOVERABLE
 * instead of at its timeout. */
static void test_bad_request_fails_fast(void)
{
	struct hvd_guest_dev *d;
	struct hvd_guest_vq *vq;
	struct hvd_mock *m = start(&d, &vq);
	void *p;
	uint64_t gpa = hvd_guest_alloc(d, 16, 8, &p);
	struct hvd_guest_buf b = {
		.gpa = gpa, .len = 16, .device_writes = false};
	CU_ASSERT_FATAL(hvd_guest_vq_add(vq, &b, 1, false, p) >= 0);
	CU_ASSERT(hvd_guest_vq_kick(vq) >= 0);
	void *token;
	uint32_t len = 1;
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &token, &len, TIMEOUT_MS),
			0);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &token, &len, TIMEOUT_MS),
			-ENOTRECOVERABLE);
	CU_ASSERT(hvd_guest_status(d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	hvd_guest_close(d);
	hvd_mock_free(m);
}

/* `hvisor virtio start --check` runs create() with no hypervisor: a bad
 * value fails with its JSON path. Returns the exit code, output in out. */
static int check(const char *fill, char *out, size_t size)
{
	char cfg[] = "/tmp/hvd-skeleton-XXXXXX";
	int fd = mkstemp(cfg);
	CU_ASSERT_FATAL(fd >= 0);
	dprintf(fd,
		"{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		"\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		"\"0x1000000\"}], \"devices\": [{\"type\": \"skeleton\", "
		"\"addr\": \"0xa003c00\", \"len\": \"0x200\", \"irq\": 78, "
		"\"fill\": %s}]}]}\n",
		fill);
	close(fd);
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "%s virtio start --check --plugin-dir %s %s 2>&1",
		 getenv("HVISOR_BIN"), getenv("PLUGIN_DIR"), cfg);
	FILE *p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	unlink(cfg);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_config_errors(void)
{
	char out[8192];
	CU_ASSERT_EQUAL(check("\"0x5a\"", out, sizeof out), 0);
	CU_ASSERT_EQUAL(check("300", out, sizeof out), 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "zones[0].devices[0].fill: 300 is outside 0..255"));
	CU_ASSERT_EQUAL(check("255", out, sizeof out), 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "zones[0].devices[0].fill: 0xff is reserved"));
}

int main(void)
{
	if (!getenv("HVISOR_BIN") || !getenv("PLUGIN_DIR") || !getenv("CONFIG"))
		return 2; /* run through `meson test` */
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("skeleton", NULL, NULL);
	if (!s || !CU_add_test(s, "fills a buffer", test_fills_a_buffer) ||
	    !CU_add_test(s, "bad request fails fast",
			 test_bad_request_fails_fast) ||
	    !CU_add_test(s, "config errors", test_config_errors))
		return 2;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
