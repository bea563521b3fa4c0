/* SPDX-License-Identifier: MIT */
/*
 * Zone files as published by syswonder/hvisor and syswonder/hvisor-tool
 * (tests/zone/published/, README there): every one is accepted, and where
 * hvisor-tool wrote zone_config_t for it (the .v05.bin / .v06.bin files
 * beside it, captured once from hvisor-tool's own zone-start code), this
 * tool writes the same bytes in that layout.
 *
 * Each file's images are stand-ins with the sizes the capture used, so
 * kernel_size, dtb_size and initrd_size match as well.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cunit_main.h"
#include "zone_json.h"
#include "zone_layout.h"

#define PAGE 4096 /* the capture ran with 4 KiB pages */

/* Stand-in image sizes per key (published/README.md). */
#define KERNEL_BYTES 0x12345
#define DTB_BYTES    0x2345
#define MODULE_BYTES 0x1111
#define BOOT_BYTES   0x456
#define SETUP_BYTES  0x3456
#define INITRD_BYTES 0x5432

static const struct fixture {
	const char *path; /* below published/ */
	const char *arch; /* for files without "arch" */
} fixtures[] = {
	{"hvisor-tool/examples/jeston/VirtIO/zone1_linux.json", "arm64"},
	{"hvisor-tool/examples/jeston/SCMI/GPU/zone1_gpu.json", "arm64"},
	{"hvisor-tool/examples/rk3588-aarch64/with_virtio_scmi/"
	 "zone1-linux-npu.json",
	 "arm64"},
	{"hvisor-tool/examples/qemu-aarch64/with_virtio_blk_console/"
	 "zone1_linux_with_pci.json",
	 "arm64"},
	{"hvisor/platform/aarch64/imx8mp/configs/zone1-ruxos.json", "arm64"},
	{"hvisor/platform/aarch64/imx8mp/configs/zone1-linux.json", "arm64"},
	{"hvisor/platform/aarch64/qemu-gicv3/configs/zone1-linux.json",
	 "arm64"},
	{"hvisor/platform/aarch64/rk3588/configs/zone1-linux.json", "arm64"},
	{"hvisor/platform/riscv64/ur-dp1000/configs/zone1-linux.json",
	 "riscv64"},
	{"hvisor/platform/riscv64/megrez/configs/zone1-linux.json", "riscv64"},
	{"hvisor-tool/examples/qemu-riscv64/linux2.json", "riscv64"},
	{"hvisor/platform/loongarch64/ls3a5000/configs/zone1-linux.json",
	 "loongarch64"},
	{"hvisor/platform/loongarch64/ls3a6000/configs/zone2-linux.json",
	 "loongarch64"},
	{"hvisor-tool/examples/qemu-x86_64/zone1_linux.json", "x86_64"},
	{"hvisor-tool/examples/nuc14mnk-x86_64/zone1_linux.json", "x86_64"},
	{"hvisor-tool/examples/ecx-2300f-peg-x86_64/zone1_linux.json",
	 "x86_64"},
	{"derived/qemu-x86_64-zone1_linux-vbdf.json", "x86_64"},
	{"derived/ls3a5000-zone1-linux-vbdf.json", "loongarch64"},
};
#define NFIXTURES (sizeof fixtures / sizeof fixtures[0])

static char tmpdir[64];
static struct zone_desc desc;
static uint8_t buf[ZONE_CONFIG_MAX_SIZE];
/* Layouts compared, per version, over all fixtures. */
static unsigned compared[2];

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1)) &&
	    fread(text, 1, (size_t)n, f) == (size_t)n) {
		text[n] = '\0';
		*len = (size_t)n;
	} else {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* mkdir -p of the directories above `path`. */
static void make_parents(const char *path)
{
	char dir[512];

	snprintf(dir, sizeof dir, "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0755);
		*p = '/';
	}
}

/* A stand-in image. An absolute path goes below tmpdir and the text is
 * changed to name it there. "null" and "" are no file. */
static void stand_in(char **text, const char *path, size_t size)
{
	char full[512];

	if (!path || !*path || strcmp(path, "null") == 0)
		return;
	snprintf(full, sizeof full, "%s%s", path[0] == '/' ? tmpdir : "", path);
	make_parents(full);
	FILE *f = fopen(full, "wb");
	CU_ASSERT_FATAL(f != NULL);
	for (size_t i = 0; i < size; i++)
		fputc((int)((i * 7 + 3) & 0xff), f);
	fclose(f);
	if (path[0] != '/')
		return;
	/* Re-point "<path>" at the stand-in (each path once). */
	char quoted[512], *at;
	snprintf(quoted, sizeof quoted, "\"%s\"", path);
	at = strstr(*text, quoted);
	if (!at)
		return;
	size_t pre = (size_t)(at - *text), add = strlen(tmpdir);
	char *n = malloc(strlen(*text) + add + 1);
	CU_ASSERT_FATAL(n != NULL);
	memcpy(n, *text, pre + 1);
	memcpy(n + pre + 1, tmpdir, add);
	strcpy(n + pre + 1 + add, at + 1);
	free(*text);
	*text = n;
}

static const char *member(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void stand_ins(char **text)
{
	char *clean = json_strip_comments(*text, &(int){0});
	cJSON *root = clean ? cJSON_Parse(clean) : NULL;
	const cJSON *m, *ac;

	CU_ASSERT_FATAL(root != NULL);
	stand_in(text, member(root, "kernel_filepath"), KERNEL_BYTES);
	stand_in(text, member(root, "dtb_filepath"), DTB_BYTES);
	cJSON_ArrayForEach (m,
			    cJSON_GetObjectItemCaseSensitive(root, "modules"))
		stand_in(text, member(m, "filepath"), MODULE_BYTES);
	ac = cJSON_GetObjectItemCaseSensitive(root, "arch_config");
	stand_in(text, member(ac, "boot_filepath"), BOOT_BYTES);
	stand_in(text, member(ac, "setup_filepath"), SETUP_BYTES);
	stand_in(text, member(ac, "initrd_filepath"), INITRD_BYTES);
	cJSON_Delete(root);
	free(clean);
}

/* Accepted; and equal to hvisor-tool's bytes in each layout captured. */
static void check_fixture(const struct fixture *fx)
{
	static const unsigned versions[2] = {ZONE_LAYOUT_V05, ZONE_LAYOUT_V06};
	struct zone_json_opts opts = {0};
	char path[512];
	size_t len;

	snprintf(path, sizeof path, "%s/%s", ZONE_PUBLISHED_DIR, fx->path);
	char *text = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	stand_ins(&text);
	if (!strstr(text, "\"arch\""))
		opts.arch_plus1 = zone_arch_parse(fx->arch) + 1;
	int rc = zone_json_parse_opts(text, fx->path, &opts, &desc);
	free(text);
	if (rc == 0)
		rc = zone_json_check_images(&desc, PAGE);
	if (rc != 0)
		fprintf(stderr, "\n%s: %s\n", fx->path, cfg_last_error());
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(zone_arch_name(desc.arch), fx->arch);

	for (unsigned i = 0; i < 2; i++) {
		size_t n = zone_layout_encode(&desc, versions[i], buf, NULL);
		CU_ASSERT_EQUAL(n, zone_layout_size(desc.arch, versions[i]));
		snprintf(path, sizeof path, "%s/%.*s.v%02x.bin",
			 ZONE_PUBLISHED_DIR, (int)(strlen(fx->path) - 5),
			 fx->path, versions[i]);
		uint8_t *want = (uint8_t *)slurp(path, &len);
		if (!want)
			continue; /* hvisor-tool refused it in this layout */
		CU_ASSERT_EQUAL(len, n);
		CU_ASSERT_EQUAL(memcmp(buf, want, n < len ? n : len), 0);
		if (len != n || memcmp(buf, want, n) != 0)
			fprintf(stderr, "\n%s: layout 0x%02x differs\n",
				fx->path, versions[i]);
		compared[i]++;
		free(want);
	}
}

static void test_every_fixture(void)
{
	for (size_t i = 0; i < NFIXTURES; i++)
		check_fixture(&fixtures[i]);
	/* The set has references in both layouts for every architecture
	 * (README): a missing .bin would shrink these. */
	CU_ASSERT_EQUAL(compared[0], 15);
	CU_ASSERT_EQUAL(compared[1], 7);
}

static const struct fixture *fixture_named(const char *path)
{
	for (size_t i = 0; i < NFIXTURES; i++)
		if (strcmp(fixtures[i].path, path) == 0)
			return &fixtures[i];
	CU_FAIL_FATAL("no such fixture");
	return NULL;
}

/* What the published files carry beyond zone_config_t is kept. */
static void test_kept_beyond_layout(void)
{
	check_fixture(fixture_named(
		"hvisor-tool/examples/jeston/SCMI/GPU/zone1_gpu.json"));
	CU_ASSERT_EQUAL(desc.module_count, 1);
	CU_ASSERT_STRING_EQUAL(desc.modules[0].name, "ramdisk");
	CU_ASSERT_STRING_EQUAL(desc.modules[0].file, "./initrd");
	CU_ASSERT_EQUAL(desc.modules[0].load_paddr, 0x110000000ull);

	check_fixture(fixture_named(
		"hvisor-tool/examples/qemu-x86_64/zone1_linux.json"));
	CU_ASSERT_STRING_EQUAL(desc.dtb_file, "null");
	CU_ASSERT_EQUAL(desc.x86.protocol, ZONE_BOOT_LINUX);
	CU_ASSERT_STRING_EQUAL(desc.x86.boot_file, "./boot.bin");
	CU_ASSERT_EQUAL(desc.x86.boot_load_paddr, 0x40308000);
	CU_ASSERT_STRING_EQUAL(desc.x86.setup_file, "./setup.bin");
	CU_ASSERT_TRUE(desc.x86.has_cmdline);
	CU_ASSERT_PTR_NOT_NULL(strstr(desc.x86.cmdline, "console="));
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.cmdline_load_gpa, 0xc000);
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.setup_load_gpa, 0xd000);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/hvd-zone-pub-XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0)
		return 2;
	static const struct cunit_test tests[] = {
		{"every published file: accepted, hvisor-tool's bytes",
		 test_every_fixture},
		{"modules and x86 boot keys kept", test_kept_beyond_layout},
		{NULL, NULL},
	};
	int rc = cunit_run("zone_published", tests);
	if (chdir("/") == 0) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			rc = rc ? rc : 1;
	}
	return rc;
}
