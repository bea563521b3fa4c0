/* SPDX-License-Identifier: MIT */
/*
 * hvtool-shim (bench/hvtool/shim.c) under a stand-in for hvisor-tool's
 * daemon (hvtool_client.c): the /dev/hvisor calls of such a program reach
 * the mock hypervisor, share its bridge page and guest RAM, and its
 * interrupts arrive. hvisor-tool itself is not needed (nor built) here.
 *
 * Usage: test_hvtool_shim SHIM CLIENT (meson passes both).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "../cunit_main.h"
#include "hvd/mock.h"
#include "hvtool.h"

#define RAM_BASE 0x50000000ull
#define RAM_SIZE 0x100000ull
#define DEV_BASE 0xa003e00ull
#define DEV_IRQ  78u

extern char **environ;
static const char *shim, *client;

static struct hvd_mock *start(void)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(
		hvd_mock_add_ram(m, 1, RAM_BASE, RAM_BASE, RAM_SIZE), 0);
	char *args[] = {(char *)client, "0x50000000", "0x100000",
			"0xa003e00",    "78",         NULL};
	CU_ASSERT_EQUAL_FATAL(hvtool_spawn(m, shim, args, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(hvd_mock_wait_ready(m, 5000), 0);
	return m;
}

/* Status = 0 ends the client; its exit status. */
static int finish(struct hvd_mock *m)
{
	uint64_t zero = 0;
	CU_ASSERT_EQUAL(hvd_mock_mmio(m, 1, DEV_BASE + 0x70, 4, true, &zero,
				      false, 5000),
			0);
	int status = -1;
	CU_ASSERT_EQUAL(hvd_mock_stop_child(m, 0, 5000, &status), 0);
	return status;
}

static void test_register_round_trip(void)
{
	struct hvd_mock *m = start();
	uint64_t v = 0;
	CU_ASSERT_EQUAL(
		hvd_mock_mmio(m, 1, DEV_BASE, 4, false, &v, false, 5000), 0);
	CU_ASSERT_EQUAL(v, 0x74726976);
	int status = finish(m);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	hvd_mock_free(m);
}

/* The client's RAM mapping and the mock's are the same memory, both ways,
 * and the client's stays usable after it closed the device. */
static void test_guest_ram_shared(void)
{
	struct hvd_mock *m = start();
	char *ram = hvd_mock_guest_ptr(m, 1, RAM_BASE, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ram);
	ASSERT_STR(ram, "hvtool");
	uint32_t word = 0x1234abcd;
	memcpy(ram + 8, &word, sizeof word);
	uint64_t v = 0;
	CU_ASSERT_EQUAL(hvd_mock_mmio(m, 1, DEV_BASE + 0x100, 4, false, &v,
				      false, 5000),
			0);
	CU_ASSERT_EQUAL(v, 0x1234abcd);
	int status = finish(m);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_STR(ram, "hvtool!");
	hvd_mock_free(m);
}

/* A QueueNotify (no wait) makes the client inject through res_list and
 * FINISH_REQ: the mock sees exactly that interrupt. */
static void test_interrupt_injection(void)
{
	struct hvd_mock *m = start();
	CU_ASSERT_EQUAL(hvd_mock_irq_count(m, 1, DEV_IRQ), 0);
	uint64_t q = 0;
	CU_ASSERT_EQUAL(
		hvd_mock_mmio(m, 1, DEV_BASE + 0x50, 4, true, &q, true, 5000),
		0);
	CU_ASSERT_EQUAL(hvd_mock_wait_irq(m, 1, DEV_IRQ, 0, 5000), 0);
	CU_ASSERT_EQUAL(hvd_mock_irq_count(m, 1, DEV_IRQ), 1);
	int status = finish(m);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(hvd_mock_irq_count(m, 1, DEV_IRQ), 1);
	hvd_mock_free(m);
}

/* Without HVISOR_MOCK the shim refuses the open (ENODEV, exit 3) rather
 * than letting it reach a real /dev/hvisor. */
static void test_no_mock_no_device(void)
{
	char preload[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
	char *env[] = {preload, "ASAN_OPTIONS=verify_asan_link_order=0", NULL};
	char *argv[] = {(char *)client, "0x50000000", "0x100000",
			"0xa003e00",    "78",         NULL};
	pid_t pid;
	CU_ASSERT_EQUAL_FATAL(posix_spawn(&pid, client, NULL, NULL, argv, env),
			      0);
	int status = -1;
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_hvtool_shim SHIM CLIENT\n");
		return 2;
	}
	shim = argv[1];
	client = argv[2];
	static const struct cunit_test tests[] = {
		{"register round trip", test_register_round_trip},
		{"guest RAM shared", test_guest_ram_shared},
		{"interrupt injection", test_interrupt_injection},
		{"no mock, no device", test_no_mock_no_device},
		{NULL, NULL},
	};
	return cunit_run("hvtool_shim", tests);
}
