/* SPDX-License-Identifier: MIT */
/*
 * The real `hvisor zone ...` binary in a child process, talking to the
 * mock hypervisor through HVISOR_MOCK: start/list/shutdown round trip (the
 * bytes the mock received, the images in its RAM), the layout version
 * refusal, --dry-run, and the exit codes.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_main.h"
#include "hvd/mock.h"
#include "run_cmd.h"
#include "zone/zone_test_files.h"
#include "zone_json.h"
#include "zone_layout.h"

#define RAM_BASE     0x50000000u
#define RAM_SIZE     0x1000000u
#define KERNEL_ADDR  0x50200000u
#define KERNEL_BYTES 70000 /* more than one mock message (64 KiB) */
#define DTB_BYTES    3000
/* The child only talks to the in-process mock; this is a failure guard. */
#define CHILD_TIMEOUT "30"

static char tmpdir[64];
static char zone_file[128];
static char overlap_file[128];
static uint8_t kernel[KERNEL_BYTES], dtb[DTB_BYTES];

static const char *bin(void)
{
	const char *b = getenv("HVISOR_BIN");
	return b ? b : "hvisor";
}

/* `hvisor <args>` with HVISOR_MOCK=mock; exit code, output in *out (with
 * stderr unless stdout_only). */
static int hvisor(const char *mock, const char *args, bool stdout_only,
		  char **out)
{
	char cmd[2048];

	snprintf(cmd, sizeof cmd,
		 "cd %s && HVISOR_MOCK='%s' timeout " CHILD_TIMEOUT " %s %s %s",
		 tmpdir, mock, bin(), args,
		 stdout_only ? "2>/dev/null" : "2>&1");
	return run_cmd(cmd, out);
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(data, 1, len, f);
	return fclose(f) == 0 && n == len ? 0 : -1;
}

static struct hvd_mock *new_mock(void)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(hvd_mock_add_ram(m, 1, RAM_BASE, RAM_BASE, RAM_SIZE) ==
			0);
	return m;
}

/* The zone_config_t the tool must send for `file` in layout `version`,
 * built in-process. */
static size_t expected_bytes_in(const char *file, unsigned version,
				uint8_t *out)
{
	static struct zone_desc d;
	long page = sysconf(_SC_PAGESIZE);

	CU_ASSERT_FATAL(zone_json_load(file, (uint64_t)page, &d) == 0);
	return zone_layout_encode(&d, version, out, NULL);
}

static size_t expected_bytes(const char *file, uint8_t *out)
{
	return expected_bytes_in(file, ZONE_LAYOUT_V06, out);
}

/* A table row of `zone list`: "ID NAME CPUS STATE". */
static bool has_row(const char *out, unsigned id, const char *name,
		    const char *cpus, const char *state)
{
	char line[256];

	for (const char *p = out; *p;) {
		size_t n = strcspn(p, "\n");
		unsigned rid;
		char rname[64], rcpus[64], rstate[32];

		snprintf(line, sizeof line, "%.*s", (int)n, p);
		if (sscanf(line, "%u %63s %63s %31s", &rid, rname, rcpus,
			   rstate) == 4 &&
		    rid == id && strcmp(rname, name) == 0 &&
		    strcmp(rcpus, cpus) == 0 && strcmp(rstate, state) == 0)
			return true;
		p += n + (p[n] == '\n');
	}
	return false;
}

static void test_round_trip(void)
{
	static uint8_t want[ZONE_CONFIG_MAX_SIZE];
	struct hvd_mock *m = new_mock();
	const char *sock = hvd_mock_socket_path(m);
	char args[256], *out;

	snprintf(args, sizeof args, "zone start %s", zone_file);
	CU_ASSERT_EQUAL(hvisor(sock, args, false, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "zone 1 (linux2) started"));

	/* The mock got exactly the bytes the layout code produces. */
	size_t len = 0;
	uint8_t *got = hvd_mock_zone_bytes(m, 1, &len);
	size_t want_len = expected_bytes(zone_file, want);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(len, want_len);
	CU_ASSERT_EQUAL(len, 3296);
	CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);
	free(got);
	/* ... and both images landed where the file says. */
	const uint8_t *k = hvd_mock_guest_ptr(m, 1, KERNEL_ADDR, KERNEL_BYTES);
	const uint8_t *d = hvd_mock_guest_ptr(m, 1, RAM_BASE, DTB_BYTES);
	CU_ASSERT_FATAL(k && d);
	CU_ASSERT_EQUAL(memcmp(k, kernel, KERNEL_BYTES), 0);
	CU_ASSERT_EQUAL(memcmp(d, dtb, DTB_BYTES), 0);

	CU_ASSERT_EQUAL(hvisor(sock, "zone list", true, &out), 0);
	CU_ASSERT_TRUE(has_row(out, 0, "root-linux", "0", "running"));
	CU_ASSERT_TRUE(has_row(out, 1, "linux2", "2-3", "running"));
	/* --mock names the socket as HVISOR_MOCK does, and wins over it. */
	snprintf(args, sizeof args, "zone list --mock %s", sock);
	CU_ASSERT_EQUAL(hvisor("/nonexistent/hvisor.sock", args, true, &out),
			0);
	CU_ASSERT_TRUE(has_row(out, 1, "linux2", "2-3", "running"));
	snprintf(args, sizeof args, "zone start %s", zone_file);

	CU_ASSERT_EQUAL(hvd_mock_set_zone_error(m, 1, true), 0);
	CU_ASSERT_EQUAL(hvisor(sock, "zone list --json", true, &out), 0);
	cJSON *list = cJSON_Parse(out);
	CU_ASSERT_FATAL(cJSON_IsArray(list));
	CU_ASSERT_EQUAL(cJSON_GetArraySize(list), 2);
	const cJSON *z;
	bool seen = false;
	cJSON_ArrayForEach (z, list) {
		if (cJSON_GetObjectItem(z, "id")->valueint != 1)
			continue;
		seen = true;
		CU_ASSERT_STRING_EQUAL(
			cJSON_GetObjectItem(z, "name")->valuestring, "linux2");
		CU_ASSERT_STRING_EQUAL(
			cJSON_GetObjectItem(z, "state")->valuestring, "error");
		const cJSON *cpus = cJSON_GetObjectItem(z, "cpus");
		CU_ASSERT_EQUAL(cJSON_GetArraySize(cpus), 2);
		CU_ASSERT_EQUAL(cJSON_GetArrayItem(cpus, 0)->valueint, 2);
		CU_ASSERT_EQUAL(cJSON_GetArrayItem(cpus, 1)->valueint, 3);
	}
	CU_ASSERT_TRUE(seen);
	cJSON_Delete(list);

	/* The hypervisor refuses a second zone 1: exit 1 with its error. */
	CU_ASSERT_EQUAL(hvisor(sock, args, false, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "refused to start zone 1 (linux2): File exists"));

	CU_ASSERT_EQUAL(hvisor(sock, "zone shutdown -id 1", false, &out), 0);
	CU_ASSERT_FALSE(hvd_mock_zone_running(m, 1));
	CU_ASSERT_PTR_NULL(hvd_mock_zone_bytes(m, 1, &len));
	CU_ASSERT_EQUAL(hvisor(sock, "zone shutdown --id 1", false, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "refused to shut down zone 1: No "
					   "such file or directory"));
	CU_ASSERT_EQUAL(hvisor(sock, "zone shutdown --id=0", false, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Operation not permitted"));
	CU_ASSERT_TRUE(hvd_mock_zone_running(m, 0));

	CU_ASSERT_EQUAL(hvisor(sock, "zone list", true, &out), 0);
	CU_ASSERT_FALSE(has_row(out, 1, "linux2", "2-3", "error"));
	CU_ASSERT_TRUE(has_row(out, 0, "root-linux", "0", "running"));
	hvd_mock_free(m);
}

static void test_version_mismatch_refused(void)
{
	struct hvd_mock *m = new_mock();
	char args[256], *out;

	hvd_mock_set_config_version(m, 0x07);
	snprintf(args, sizeof args, "zone start %s", zone_file);
	CU_ASSERT_EQUAL(hvisor(hvd_mock_socket_path(m), args, false, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out,
				      "the hypervisor speaks version 0x07, "
				      "this tool writes 0x05 (hvisor v0.4) "
				      "or 0x06"));
	CU_ASSERT_FALSE(hvd_mock_zone_running(m, 1));
	/* Refused before anything was loaded. */
	const uint8_t *k = hvd_mock_guest_ptr(m, 1, KERNEL_ADDR, KERNEL_BYTES);
	CU_ASSERT_FATAL(k != NULL);
	bool zero = true;
	for (size_t i = 0; i < KERNEL_BYTES; i++)
		zero = zero && k[i] == 0;
	CU_ASSERT_TRUE(zero);

	/* --layout must agree with the hypervisor. */
	hvd_mock_set_config_version(m, 0x05);
	snprintf(args, sizeof args, "zone start --layout 0x06 %s", zone_file);
	CU_ASSERT_EQUAL(hvisor(hvd_mock_socket_path(m), args, false, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "the hypervisor speaks version "
					   "0x05, this tool writes 0x06 "
					   "(--layout)"));
	CU_ASSERT_FALSE(hvd_mock_zone_running(m, 1));
	hvd_mock_free(m);
}

/* Each hypervisor generation gets its own layout, byte for byte. */
static void test_layout_follows_hypervisor(void)
{
	static const struct {
		unsigned version;
		size_t size; /* arm64 */
	} gens[] = {{0x05, 3136}, {0x06, 3296}};
	static uint8_t want[ZONE_CONFIG_MAX_SIZE];
	char args[256], *out;

	snprintf(args, sizeof args, "zone start %s", zone_file);
	for (unsigned i = 0; i < 2; i++) {
		struct hvd_mock *m = new_mock();
		size_t len = 0;

		hvd_mock_set_config_version(m, gens[i].version);
		CU_ASSERT_EQUAL(
			hvisor(hvd_mock_socket_path(m), args, false, &out), 0);
		uint8_t *got = hvd_mock_zone_bytes(m, 1, &len);
		size_t want_len =
			expected_bytes_in(zone_file, gens[i].version, want);
		CU_ASSERT_PTR_NOT_NULL_FATAL(got);
		CU_ASSERT_EQUAL(len, gens[i].size);
		CU_ASSERT_EQUAL(want_len, gens[i].size);
		CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);
		free(got);
		hvd_mock_free(m);
	}
}

static void test_dry_run(void)
{
	static uint8_t want[ZONE_CONFIG_MAX_SIZE], got[ZONE_CONFIG_MAX_SIZE];
	/* No hypervisor at all: any use of the port fails. */
	const char *nowhere = "/nonexistent/hvisor.sock";
	char args[512], dump[128], *out;

	snprintf(dump, sizeof dump, "%s/zone.bin", tmpdir);
	snprintf(args, sizeof args, "zone start --dry-run --dump-config %s %s",
		 dump, zone_file);
	CU_ASSERT_EQUAL(hvisor(nowhere, args, true, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "zone 1 \"linux2\": arm64, "
					   "zone_config_t layout version 0x06, "
					   "3296 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "cpus: 2-3 (bitmap 0xc)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "interrupts: 35-38,75-76,78"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "@2392 gicv3.gicr_base = 0x80a0000"));

	size_t want_len = expected_bytes(zone_file, want);
	FILE *f = fopen(dump, "rb");
	CU_ASSERT_FATAL(f != NULL);
	size_t n = fread(got, 1, sizeof got, f);
	fclose(f);
	CU_ASSERT_EQUAL(n, want_len);
	CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);
	unlink(dump);

	/* Without --dry-run the same command needs the hypervisor. */
	snprintf(args, sizeof args, "zone start %s", zone_file);
	CU_ASSERT_EQUAL(hvisor(nowhere, args, false, &out), 1);

	/* The older example as users have it (relative image paths). */
	CU_ASSERT_EQUAL(
		hvisor(nowhere, "zone start --dry-run older.json", true, &out),
		0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "pci devices: 2 (older packed numbers)"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "[1] 0000:00:03.0 as 00:03.0 dev_type 0"));

	/* --arch must agree with a file that names its architecture. */
	CU_ASSERT_EQUAL(hvisor(nowhere,
			       "zone start --dry-run --arch riscv older.json",
			       false, &out),
			2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "arch: the file is for arm64, but "
					   "--arch says riscv64"));
	/* uname -m's name for the same machine agrees with it. */
	CU_ASSERT_EQUAL(hvisor(nowhere,
			       "zone start --dry-run --arch aarch64 older.json",
			       true, &out),
			0);

	/* --layout 0x05: hvisor v0.4's bytes, shown and dumped. */
	snprintf(args, sizeof args,
		 "zone start --dry-run --layout 0x05 --dump-config %s %s", dump,
		 zone_file);
	CU_ASSERT_EQUAL(hvisor(nowhere, args, true, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "zone_config_t layout version 0x05, "
					   "3136 bytes"));
	want_len = expected_bytes_in(zone_file, ZONE_LAYOUT_V05, want);
	f = fopen(dump, "rb");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(got, 1, sizeof got, f);
	fclose(f);
	CU_ASSERT_EQUAL(n, want_len);
	CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);
	unlink(dump);

	/* A board's file on a machine without its images: a dry run
	 * warns and counts them as empty; a real start refuses. */
	CU_ASSERT_EQUAL(hvisor(nowhere, "zone start --dry-run noimages.json",
			       false, &out),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "kernel_filepath: ./no-such/Image: "
					   "not found, counted as 0 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "kernel_size 0x0"));
	CU_ASSERT_EQUAL(
		hvisor(nowhere, "zone start noimages.json", false, &out), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "kernel_filepath: ./no-such/Image: "
					   "No such file or directory"));
}

static void test_config_error_exit_2(void)
{
	struct hvd_mock *m = new_mock();
	char args[256], *out;

	snprintf(args, sizeof args, "zone start %s", overlap_file);
	CU_ASSERT_EQUAL(hvisor(hvd_mock_socket_path(m), args, false, &out), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out,
				      "memory_regions[1]: 0x50800000+0x200 "
				      "overlaps memory_regions[0]"));
	CU_ASSERT_FALSE(hvd_mock_zone_running(m, 1));
	CU_ASSERT_EQUAL(hvisor(hvd_mock_socket_path(m),
			       "zone start nosuch.json", false, &out),
			2);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "nosuch.json: cannot open: No such file"));
	CU_ASSERT_FALSE(hvd_mock_zone_running(m, 1));
	CU_ASSERT_EQUAL(hvisor("/nonexistent/hvisor.sock",
			       "zone start --dry-run modules.json", true, &out),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "module m: "));
	hvd_mock_free(m);
}

/* modules[] through the real binary: the module lands where it says. */
static void test_modules_loaded(void)
{
	struct hvd_mock *m = new_mock();
	char args[256], *out;

	snprintf(args, sizeof args, "zone start %s/modules.json", tmpdir);
	CU_ASSERT_EQUAL(hvisor(hvd_mock_socket_path(m), args, false, &out), 0);
	CU_ASSERT_TRUE(hvd_mock_zone_running(m, 1));
	const uint8_t *mod = hvd_mock_guest_ptr(m, 1, 0x50300000, KERNEL_BYTES);
	CU_ASSERT_FATAL(mod != NULL);
	CU_ASSERT_EQUAL(memcmp(mod, kernel, KERNEL_BYTES), 0);
	hvd_mock_free(m);
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * seed + 1);
}

/* The published qemu-x86_64 zone through the real binary: boot.bin, setup,
 * the command line and the kernel land at their host addresses; the ECAM
 * base the hypervisor reports replaces pci_config[0]'s (x86 pci_config
 * starts at byte 2456 in both layouts); every other byte is what the
 * in-process encoder writes for the file. */
static void test_x86_boot_files(void)
{
	static uint8_t boot[0x300], setup_bin[0x2800], vmlinux[0x6000];
	static uint8_t want[ZONE_CONFIG_MAX_SIZE];
	char src[PATH_MAX], args[PATH_MAX + 16], path[PATH_MAX], cwd[PATH_MAX];
	char *out;
	size_t len = 0;

	fill(boot, sizeof boot, 3);
	fill(setup_bin, sizeof setup_bin, 5);
	fill(vmlinux, sizeof vmlinux, 7);
	snprintf(path, sizeof path, "%s/boot.bin", tmpdir);
	CU_ASSERT_FATAL(write_file(path, boot, sizeof boot) == 0);
	snprintf(path, sizeof path, "%s/setup.bin", tmpdir);
	CU_ASSERT_FATAL(write_file(path, setup_bin, sizeof setup_bin) == 0);
	snprintf(path, sizeof path, "%s/vmlinux.bin", tmpdir);
	CU_ASSERT_FATAL(write_file(path, vmlinux, sizeof vmlinux) == 0);
	snprintf(src, sizeof src,
		 "%s/hvisor-tool/examples/qemu-x86_64/zone1_linux.json",
		 ZONE_PUBLISHED_DIR);
	/* The file names its images relative to the working directory. */
	CU_ASSERT_FATAL(getcwd(cwd, sizeof cwd) && chdir(tmpdir) == 0);
	size_t want_len = expected_bytes(src, want);
	CU_ASSERT_FATAL(chdir(cwd) == 0);
	uint64_t ecam = 0xb0000000;
	memcpy(want + 2456, &ecam, sizeof ecam);

	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(hvd_mock_add_ram(m, 1, 0x40300000, 0, 0xe0000) == 0);
	CU_ASSERT_FATAL(
		hvd_mock_add_ram(m, 1, 0x40400000, 0x100000, 0x100000) == 0);
	hvd_mock_set_ecam_base(m, ecam);
	snprintf(args, sizeof args, "zone start %s", src);
	CU_ASSERT_EQUAL(hvisor(hvd_mock_socket_path(m), args, false, &out), 0);
	uint8_t *got = hvd_mock_zone_bytes(m, 1, &len);
	CU_ASSERT_FATAL(got != NULL);
	CU_ASSERT_EQUAL(len, want_len);
	CU_ASSERT_EQUAL(memcmp(got, want, len < want_len ? len : want_len), 0);
	free(got);
	const char *cmdline = hvd_mock_guest_ptr(m, 1, 0xc000, 0x200);
	CU_ASSERT_FATAL(cmdline != NULL);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(cmdline, "console=hvc0 pci=pcie_scan_all"));
	CU_ASSERT_EQUAL(memcmp(hvd_mock_guest_ptr(m, 1, 0x8000, sizeof boot),
			       boot, sizeof boot),
			0);
	CU_ASSERT_EQUAL(
		memcmp(hvd_mock_guest_ptr(m, 1, 0xd000, sizeof setup_bin),
		       setup_bin, sizeof setup_bin),
		0);
	CU_ASSERT_EQUAL(
		memcmp(hvd_mock_guest_ptr(m, 1, 0x100000, sizeof vmlinux),
		       vmlinux, sizeof vmlinux),
		0);
	/* Not a multiboot2 zone: no boot mode was sent. */
	CU_ASSERT_EQUAL(hvd_mock_boot_mode(m, NULL, NULL, NULL), -ENOENT);
	hvd_mock_free(m);
}

static void test_usage_exit_2(void)
{
	static const char *const bad[] = {
		"zone",
		"zone frob",
		"zone start",
		"zone start a.json b.json",
		"zone start --dump-config",
		"zone start --layout 0x07 x.json",
		"zone start --layout 5x x.json",
		"zone start --arch mips x.json",
		"zone start --layout",
		"zone shutdown",
		"zone shutdown -id",
		"zone shutdown -id x",
		"zone shutdown -id -1",
		"zone shutdown -id 4294967296",
		"zone list --bogus",
		"zone list --log-level loud",
		NULL,
	};
	char *out;

	for (const char *const *a = bad; *a; a++) {
		int rc = hvisor("/nonexistent/hvisor.sock", *a, false, &out);
		if (rc != 2)
			fprintf(stderr, "\n'%s' exited %d: %s\n", *a, rc, out);
		CU_ASSERT_EQUAL(rc, 2);
	}
	CU_ASSERT_EQUAL(hvisor("", "--help", true, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "hvisor zone shutdown -id N"));
}

#define ZONE_FILE                                                           \
	"{\"arch\": \"arm64\", \"name\": \"linux2\", \"zone_id\": 1, "      \
	"\"cpus\": [2, 3], \"memory_regions\": [{\"type\": \"ram\", "       \
	"\"physical_start\": \"0x50000000\", \"virtual_start\": "           \
	"\"0x50000000\", \"size\": \"0x1000000\"}, {\"type\": \"virtio\", " \
	"\"physical_start\": \"%s\", \"virtual_start\": \"%s\", "           \
	"\"size\": \"0x200\"}], \"interrupts\": [75, 76, 78, 35, 36, 37, "  \
	"38], \"kernel_filepath\": \"%s/Image\", \"dtb_filepath\": "        \
	"\"%s/linux2.dtb\", \"kernel_load_paddr\": \"0x50200000\", "        \
	"\"dtb_load_paddr\": \"0x50000000\", \"entry_point\": "             \
	"\"0x50200000\", \"arch_config\": {\"gic_version\": \"v3\", "       \
	"\"gicd_base\": \"0x8000000\", \"gicd_size\": \"0x10000\", "        \
	"\"gicr_base\": \"0x80a0000\", \"gicr_size\": \"0xf60000\"}}"

/* Test files, written before the suite runs (no CUnit assertions). */
static int setup(void)
{
	char text[4096], path[128];

	for (size_t i = 0; i < KERNEL_BYTES; i++)
		kernel[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < DTB_BYTES; i++)
		dtb[i] = (uint8_t)(i * 3 + 1);
	snprintf(path, sizeof path, "%s/Image", tmpdir);
	if (write_file(path, kernel, KERNEL_BYTES))
		return -1;
	snprintf(path, sizeof path, "%s/linux2.dtb", tmpdir);
	if (write_file(path, dtb, DTB_BYTES))
		return -1;
	snprintf(zone_file, sizeof zone_file, "%s/zone.json", tmpdir);
	snprintf(text, sizeof text, ZONE_FILE, "0xa003800", "0xa003800", tmpdir,
		 tmpdir);
	if (write_file(zone_file, text, strlen(text)))
		return -1;
	snprintf(overlap_file, sizeof overlap_file, "%s/overlap.json", tmpdir);
	snprintf(text, sizeof text, ZONE_FILE, "0x50800000", "0x50800000",
		 tmpdir, tmpdir);
	if (write_file(overlap_file, text, strlen(text)))
		return -1;
	/* The zone with a module (not loaded by this build yet). */
	char more[4608];
	snprintf(text, sizeof text, ZONE_FILE, "0xa003800", "0xa003800", tmpdir,
		 tmpdir);
	snprintf(more, sizeof more,
		 "{\"modules\": [{\"name\": \"m\", \"filepath\": "
		 "\"%s/Image\", \"load_paddr\": \"0x50300000\"}], %s",
		 tmpdir, text + 1);
	snprintf(path, sizeof path, "%s/modules.json", tmpdir);
	if (write_file(path, more, strlen(more)))
		return -1;
	snprintf(path, sizeof path, "%s/noimages.json", tmpdir);
	snprintf(text, sizeof text, ZONE_FILE, "0xa003800", "0xa003800",
		 "./no-such", "./no-such");
	if (write_file(path, text, strlen(text)))
		return -1;
	snprintf(path, sizeof path, "%s/older.json", tmpdir);
	return write_file(path, OLDER_EXAMPLE, strlen(OLDER_EXAMPLE));
}

static void cleanup(void)
{
	static const char *const names[] = {
		"Image",      "linux2.dtb",    "zone.json",    "overlap.json",
		"older.json", "noimages.json", "modules.json", "boot.bin",
		"setup.bin",  "vmlinux.bin"};
	char path[128];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/hvd-zone-cmd-XXXXXX");
	if (!mkdtemp(tmpdir) || setup()) {
		perror("zone_cmd: test files");
		return 2;
	}
	static const struct cunit_test tests[] = {
		{"start/list/shutdown round trip", test_round_trip},
		{"layout version mismatch refused",
		 test_version_mismatch_refused},
		{"layout follows the hypervisor",
		 test_layout_follows_hypervisor},
		{"--dry-run and --dump-config", test_dry_run},
		{"zone file errors exit 2", test_config_error_exit_2},
		{"modules[] loaded", test_modules_loaded},
		{"x86 boot files and ECAM base", test_x86_boot_files},
		{"usage errors exit 2", test_usage_exit_2},
		{NULL, NULL},
	};
	int rc = cunit_run("zone_cmd", tests);
	cleanup();
	return rc;
}
