/* SPDX-License-Identifier: MIT */
/*
 * Suite 'loader': descriptor checks, refusal messages, search order, the
 * listing, and the one-exported-symbol rule.
 *
 * Fixture plugins live in $HVISOR_TEST_FIXTURE_DIR (see
 * tests/fixtures/meson.build for which file is in which folder).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_main.h"
#include "hvd/plugin.h"
#include "loader.h"
#include "loader_fixture.h"

/* ---- Opening single files ----------------------------------------------- */

static void test_open_good(void)
{
	struct plugin_registry *reg = loader_new(NULL, 0);
	char path[PATH_MAX], cwd[PATH_MAX];
	char *why = (char *)"unset";
	struct plugin *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
	p = loader_open_file(reg, fx(path, "libfixture-good.so"), &why);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	ASSERT_STR(p->path, path);
	CU_ASSERT_PTR_NOT_NULL(p->handle);
	ASSERT_STR(p->desc->type, "fixture-good");
	ASSERT_STR(p->desc->description, "loader test fixture");
	ASSERT_STR(p->desc->version, "1.0");
	CU_ASSERT_EQUAL(p->desc->abi_major, HVD_ABI_MAJOR);
	CU_ASSERT_EQUAL(p->desc->abi_minor, HVD_ABI_MINOR);
	CU_ASSERT_EQUAL(p->desc->descriptor_size,
			sizeof(struct hvd_plugin_descriptor));
	CU_ASSERT_EQUAL(p->desc->device_id, 4);
	CU_ASSERT_EQUAL(p->ops.size, sizeof(struct hvd_device_ops));
	CU_ASSERT_PTR_NOT_NULL(p->ops.create);
	CU_ASSERT_PTR_NOT_NULL(p->ops.destroy);
	CU_ASSERT_PTR_NOT_NULL(p->ops.reset);
	CU_ASSERT_PTR_NOT_NULL(p->ops.queue_notify);
	CU_ASSERT_PTR_NULL(p->ops.features_ok);
	CU_ASSERT_PTR_NULL(p->ops.activate);
	CU_ASSERT_PTR_NULL(p->ops.config_read);
	CU_ASSERT_PTR_NULL(p->ops.config_write);

	/* The same file again is the same plugin. */
	CU_ASSERT_PTR_EQUAL(loader_open_file(reg, path, &why), p);
	CU_ASSERT_PTR_NULL(why);

	/* A bare file name is a file in the current directory, not a
	 * library-path search. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
	if (chdir(fx(path, "")) == 0) {
		CU_ASSERT_PTR_EQUAL(
			loader_open_file(reg, "libfixture-good.so", &why), p);
		CU_ASSERT_PTR_NULL(loader_open_file(reg, "libc.so.6", &why));
		CU_ASSERT_PTR_NOT_NULL(why);
		if (why)
			CU_ASSERT_NSTRING_EQUAL(
				why, "libc.so.6: cannot be loaded: ",
				strlen("libc.so.6: cannot be loaded: "));
		free(why);
		CU_ASSERT_EQUAL(chdir(cwd), 0);
	} else {
		CU_FAIL("cannot enter the fixture folder");
	}
	loader_free(reg);
}

static void test_open_fail_fixture(void)
{
	struct plugin_registry *reg = loader_new(NULL, 0);
	char path[PATH_MAX];
	char *why = NULL;
	struct plugin *p;

	/* A create() that fails is the daemon's business, not the loader's. */
	p = loader_open_file(reg, fx(path, "libfixture-fail.so"), &why);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	ASSERT_STR(p->desc->type, "fixture-fail");
	loader_free(reg);
}

/* Open `rel` and expect the refusal "<path>: <reason>". */
static void expect_refusal(struct plugin_registry *reg, const char *rel,
			   const char *reason)
{
	char path[PATH_MAX], expected[PATH_MAX + 256];
	char *why = NULL;

	fx(path, rel);
	snprintf(expected, sizeof expected, "%s: %s", path, reason);
	CU_ASSERT_PTR_NULL(loader_open_file(reg, path, &why));
	ASSERT_STR(why, expected);
	free(why);
}

static void test_refusals(void)
{
	struct plugin_registry *reg = loader_new(NULL, 0);
	char reason[256];

	snprintf(reason, sizeof reason,
		 "built for plugin ABI 2.0, this daemon speaks %d.%d "
		 "(different major version)",
		 HVD_ABI_MAJOR, HVD_ABI_MINOR);
	expect_refusal(reg, "bad/libfixture-major2.so", reason);

	snprintf(reason, sizeof reason,
		 "built for plugin ABI %d.%d, this daemon speaks %d.%d "
		 "(plugin is newer)",
		 HVD_ABI_MAJOR, HVD_ABI_MINOR + 1, HVD_ABI_MAJOR,
		 HVD_ABI_MINOR);
	expect_refusal(reg, "bad/libfixture-newer.so", reason);

	snprintf(reason, sizeof reason,
		 "descriptor size %zu is smaller than the ABI %d.%d minimum "
		 "%zu",
		 offsetof(struct hvd_plugin_descriptor, version), HVD_ABI_MAJOR,
		 HVD_ABI_MINOR, DESC_MIN);
	expect_refusal(reg, "bad/libfixture-tinydesc.so", reason);

	snprintf(reason, sizeof reason,
		 "ops table size %zu is smaller than the ABI %d.%d minimum %zu",
		 offsetof(struct hvd_device_ops, queue_notify), HVD_ABI_MAJOR,
		 HVD_ABI_MINOR, OPS_MIN);
	expect_refusal(reg, "bad/libfixture-smallops.so", reason);

	expect_refusal(reg, "bad/libfixture-nocb.so",
		       "missing create or queue_notify callback");
	expect_refusal(reg, "bad/libfixture-badtype.so",
		       "invalid type name \"Fixture Bad!\" (1 to 31 characters "
		       "from a-z, 0-9, '_' and '-')");
	expect_refusal(reg, "bad/libfixture-nosym.so",
		       "not an hvisor device plugin (no hvd_plugin_descriptor "
		       "symbol)");
	loader_free(reg);
}

static void test_cannot_load(void)
{
	struct plugin_registry *reg = loader_new(NULL, 0);
	char dir[] = "/tmp/hvd-test-loader-XXXXXX";
	char path[PATH_MAX], prefix[PATH_MAX + 32];
	char *why = NULL;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));

	snprintf(path, sizeof path, "%s/missing.so", dir);
	snprintf(prefix, sizeof prefix, "%s: cannot be loaded: ", path);
	CU_ASSERT_PTR_NULL(loader_open_file(reg, path, &why));
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_NSTRING_EQUAL(why, prefix, strlen(prefix));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "No such file or directory"));
	free(why);

	snprintf(path, sizeof path, "%s/junk.so", dir);
	snprintf(prefix, sizeof prefix, "%s: cannot be loaded: ", path);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("this is not an ELF file, whatever its name says\n", f);
	fclose(f);
	why = NULL;
	CU_ASSERT_PTR_NULL(loader_open_file(reg, path, &why));
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_NSTRING_EQUAL(why, prefix, strlen(prefix));
	CU_ASSERT(strlen(why) > strlen(prefix));
	free(why);
	unlink(path);
	rmdir(dir);
	loader_free(reg);
}

/* An older minor's descriptor is shorter: members the host added read as
 * zero in the host's copy, whatever lies behind the declared size. */
static void test_older_descriptor(void)
{
	struct plugin_registry *reg = loader_new(NULL, 0);
	char path[PATH_MAX];
	char *why = NULL;
	struct plugin *p;

	p = loader_open_file(reg, fx(path, "older/libfixture-older.so"), &why);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->desc->descriptor_size,
			offsetof(struct hvd_plugin_descriptor, reserved));
	ASSERT_STR(p->desc->type, "fixture-older");
	ASSERT_STR(p->desc->version, "0.9");
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_PTR_NULL(p->desc->reserved[i]);
	CU_ASSERT_PTR_NOT_NULL(p->ops.create);
	CU_ASSERT_PTR_NOT_NULL(p->ops.queue_notify);
	CU_ASSERT_PTR_NULL(p->ops.destroy);
	loader_free(reg);
}

/* ---- The pure descriptor check ------------------------------------------ */

static int dummy_create(struct hvd_device *dev, struct hvd_device_info *info,
			void **state)
{
	return 0;
}

static void dummy_notify(void *state, unsigned index)
{
}

static const struct hvd_device_ops dummy_ops = {
	.size = sizeof dummy_ops,
	.create = dummy_create,
	.queue_notify = dummy_notify,
};

static struct hvd_plugin_descriptor good_desc(const char *type)
{
	struct hvd_plugin_descriptor d = {
		.abi_major = HVD_ABI_MAJOR,
		.abi_minor = HVD_ABI_MINOR,
		.descriptor_size = sizeof d,
		.ops_size = sizeof(struct hvd_device_ops),
		.type = type,
		.device_id = 4,
		.ops = &dummy_ops,
	};
	return d;
}

static void expect_check(const struct hvd_plugin_descriptor *d,
			 const char *reason)
{
	char *why = loader_check_descriptor(d);

	if (reason) {
		ASSERT_STR(why, reason);
	} else {
		if (why)
			fprintf(stderr, "\n  unexpected refusal: %s\n", why);
		CU_ASSERT_PTR_NULL(why);
	}
	free(why);
}

static void test_check_descriptor(void)
{
	struct hvd_plugin_descriptor d;
	struct hvd_device_ops ops;
	char reason[256];

	d = good_desc("ok_name-1");
	expect_check(&d, NULL);
	d = good_desc("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 31 */
	expect_check(&d, NULL);

	/* The refusal shows the name (unprintable bytes escaped, cut after
	 * one byte too many) and the rule. */
#define RULE " (1 to 31 characters from a-z, 0-9, '_' and '-')"
	static const char *const bad_types[][2] = {
		{"", "\"\""},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 32 */,
		 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 36 */,
		 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\""},
		{"Upper", "\"Upper\""},
		{"a b", "\"a b\""},
		{"a.b", "\"a.b\""},
		{"a/b", "\"a/b\""},
		{"caf\xc3\xa9", "\"caf\\xc3\\xa9\""},
		{"q\"x", "\"q\\x22x\""},
	};
	for (unsigned i = 0; i < sizeof bad_types / sizeof *bad_types; i++) {
		d = good_desc(bad_types[i][0]);
		snprintf(reason, sizeof reason, "invalid type name %s" RULE,
			 bad_types[i][1]);
		expect_check(&d, reason);
	}
	d = good_desc(NULL);
	expect_check(&d, "no type name" RULE);
#undef RULE

	/* Device id 0 is "no device" to a guest: a 1.0 plugin cannot give
	 * another one at create() (info.device_id came in 1.1). */
	d = good_desc("x");
	d.device_id = 0;
	expect_check(&d, NULL);
	d.abi_minor = 0;
	expect_check(&d, "device id 0: give HVD_PLUGIN_DEFINE the VIRTIO_ID_* "
			 "of the device (0 means no device to a guest)");

	d = good_desc("x");
	d.ops = NULL;
	expect_check(&d, "missing create or queue_notify callback");
	ops = dummy_ops;
	ops.create = NULL;
	d.ops = &ops;
	expect_check(&d, "missing create or queue_notify callback");
	ops = dummy_ops;
	ops.queue_notify = NULL;
	expect_check(&d, "missing create or queue_notify callback");

	d = good_desc("x");
	d.abi_major = HVD_ABI_MAJOR + 1;
	snprintf(reason, sizeof reason,
		 "built for plugin ABI %d.%d, this daemon speaks %d.%d "
		 "(different major version)",
		 HVD_ABI_MAJOR + 1, HVD_ABI_MINOR, HVD_ABI_MAJOR,
		 HVD_ABI_MINOR);
	expect_check(&d, reason);
	d.abi_major = 0;
	snprintf(reason, sizeof reason,
		 "built for plugin ABI 0.%d, this daemon speaks %d.%d "
		 "(different major version)",
		 HVD_ABI_MINOR, HVD_ABI_MAJOR, HVD_ABI_MINOR);
	expect_check(&d, reason);

	d = good_desc("x");
	d.abi_minor = HVD_ABI_MINOR + 7;
	snprintf(reason, sizeof reason,
		 "built for plugin ABI %d.%d, this daemon speaks %d.%d "
		 "(plugin is newer)",
		 HVD_ABI_MAJOR, HVD_ABI_MINOR + 7, HVD_ABI_MAJOR,
		 HVD_ABI_MINOR);
	expect_check(&d, reason);

	d = good_desc("x");
	d.descriptor_size = DESC_MIN - 1;
	snprintf(reason, sizeof reason,
		 "descriptor size %zu is smaller than the ABI %d.%d minimum "
		 "%zu",
		 DESC_MIN - 1, HVD_ABI_MAJOR, HVD_ABI_MINOR, DESC_MIN);
	expect_check(&d, reason);
	d.descriptor_size = DESC_MIN;
	expect_check(&d, NULL);
	/* Larger than the host knows: the rest is ignored. */
	d.descriptor_size = 4096;
	expect_check(&d, NULL);

	d = good_desc("x");
	d.ops_size = 0;
	snprintf(reason, sizeof reason,
		 "ops table size 0 is smaller than the ABI %d.%d minimum %zu",
		 HVD_ABI_MAJOR, HVD_ABI_MINOR, OPS_MIN);
	expect_check(&d, reason);

	char *why = loader_check_descriptor(NULL);
	CU_ASSERT_PTR_NOT_NULL(why);
	free(why);
}

/* `size` bytes that end right before an inaccessible page: reading one byte
 * more than declared faults. */
struct guarded {
	void *map;
	size_t map_len;
	void *ptr;
};

static int guarded_alloc(struct guarded *g, size_t size)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	g->map_len = 2 * pg;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		return -1;
	if (mprotect((char *)g->map + pg, pg, PROT_NONE) != 0) {
		munmap(g->map, g->map_len);
		return -1;
	}
	g->ptr = (char *)g->map + pg - size;
	return 0;
}

static void test_check_reads_only_declared(void)
{
	struct hvd_plugin_descriptor full = good_desc("fixture-guard");
	struct guarded gd = {0}, go = {0}, gv = {0};

	CU_ASSERT_EQUAL_FATAL(guarded_alloc(&gd, DESC_MIN), 0);
	CU_ASSERT_EQUAL_FATAL(guarded_alloc(&go, sizeof dummy_ops), 0);
	CU_ASSERT_EQUAL_FATAL(guarded_alloc(&gv, 4 * sizeof(uint32_t)), 0);

	/* A descriptor as long as the smallest 1.x one, right before a
	 * guard page: accepted, and nothing after it is touched. The ops
	 * table (at ABI 1.0 its minimum is the whole table) likewise. */
	memcpy(go.ptr, &dummy_ops, sizeof dummy_ops);
	full.ops = go.ptr;
	full.descriptor_size = DESC_MIN;
	memcpy(gd.ptr, &full, DESC_MIN);
	expect_check(gd.ptr, NULL);

	/* Another major: only the four version words may be read. */
	uint32_t words[4] = {HVD_ABI_MAJOR + 1, 0, 16, 0};
	char reason[256];
	memcpy(gv.ptr, words, sizeof words);
	snprintf(reason, sizeof reason,
		 "built for plugin ABI %d.0, this daemon speaks %d.%d "
		 "(different major version)",
		 HVD_ABI_MAJOR + 1, HVD_ABI_MAJOR, HVD_ABI_MINOR);
	expect_check(gv.ptr, reason);

	munmap(gd.map, gd.map_len);
	munmap(go.map, go.map_len);
	munmap(gv.map, gv.map_len);
}

/* ---- Search list -------------------------------------------------------- */

static struct plugin_registry *registry(const char *a, const char *b,
					const char *c)
{
	const char *dirs[3] = {a, b, c};
	unsigned n = c ? 3 : b ? 2 : a ? 1 : 0;

	return loader_new(dirs, n);
}

static void test_find_type(void)
{
	char top[PATH_MAX], bad[PATH_MAX], older[PATH_MAX], dup[PATH_MAX];
	char expected[4 * PATH_MAX];
	struct plugin_registry *reg;
	struct plugin *p;
	char *why = NULL;

	fx(top, "");
	fx(bad, "bad");
	fx(older, "older");
	fx(dup, "dup");

	/* Refused files in an earlier folder do not hide a good one. */
	reg = registry(bad, "/nonexistent-hvd-dir", top);
	p = loader_find_type(reg, "fixture-good", &why);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(expected, sizeof expected, "%s/libfixture-good.so", top);
	ASSERT_STR(p->path, expected);
	p = loader_find_type(reg, "fixture-fail", &why);
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_PTR_NULL(why);

	p = loader_find_type(reg, "nope", &why);
	CU_ASSERT_PTR_NULL(p);
	snprintf(expected, sizeof expected,
		 "no plugin provides device type 'nope' (searched: %s, "
		 "/nonexistent-hvd-dir, %s)",
		 bad, top);
	ASSERT_STR(why, expected);
	free(why);
	/* A refused plugin's type is not known, so it is not found. */
	why = NULL;
	CU_ASSERT_PTR_NULL(loader_find_type(reg, "fixture-newer", &why));
	CU_ASSERT_PTR_NOT_NULL(why);
	free(why);
	loader_free(reg);

	/* The first folder with the type wins. */
	reg = registry(older, top, NULL);
	p = loader_find_type(reg, "fixture-good", &why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(expected, sizeof expected, "%s/libfixture-shadow.so", older);
	ASSERT_STR(p->path, expected);
	ASSERT_STR(p->desc->version, "2.0");
	loader_free(reg);
	reg = registry(top, older, NULL);
	p = loader_find_type(reg, "fixture-good", &why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(expected, sizeof expected, "%s/libfixture-good.so", top);
	ASSERT_STR(p->path, expected);
	loader_free(reg);

	/* Two providers in one folder: an error naming both. */
	reg = registry(top, dup, NULL);
	CU_ASSERT_PTR_NULL(loader_find_type(reg, "fixture-dup", &why));
	snprintf(expected, sizeof expected,
		 "type 'fixture-dup' is provided by both "
		 "%s/libfixture-dup-a.so and %s/libfixture-dup-b.so",
		 dup, dup);
	ASSERT_STR(why, expected);
	free(why);
	/* ... which does not affect other types. */
	why = NULL;
	CU_ASSERT_PTR_NOT_NULL(loader_find_type(reg, "fixture-good", &why));
	CU_ASSERT_PTR_NULL(why);
	loader_free(reg);

	reg = registry(NULL, NULL, NULL);
	CU_ASSERT_PTR_NULL(loader_find_type(reg, "x", &why));
	ASSERT_STR(why, "no plugin provides device type 'x' (searched: no "
			"directories)");
	free(why);
	loader_free(reg);
}

static void test_scan(void)
{
	static const char *const bad_names[] = {
		"libfixture-badtype.so",  "libfixture-major2.so",
		"libfixture-newer.so",    "libfixture-nocb.so",
		"libfixture-nosym.so",    "libfixture-smallops.so",
		"libfixture-tinydesc.so",
	};
	char top[PATH_MAX], bad[PATH_MAX], expected[PATH_MAX + 64];
	const struct plugin_entry *e;
	struct plugin_registry *reg;
	unsigned n = 99;

	fx(top, "");
	fx(bad, "bad");
	/* Folders in order, names sorted, missing folders skipped,
	 * subfolders and non-.so files not listed. */
	reg = registry(bad, "/nonexistent-hvd-dir", top);
	e = loader_scan(reg, &n);
	CU_ASSERT_EQUAL_FATAL(n, 9);
	for (unsigned i = 0; i < 7; i++) {
		snprintf(expected, sizeof expected, "%s/%s", bad, bad_names[i]);
		ASSERT_STR(e[i].path, expected);
		CU_ASSERT_FALSE(e[i].loadable);
		CU_ASSERT_PTR_NULL(e[i].plugin);
		CU_ASSERT_PTR_NOT_NULL(e[i].why);
	}
	/* Reasons in the listing do not repeat the file name. */
	ASSERT_STR(e[0].why, "invalid type name \"Fixture Bad!\" (1 to 31 "
			     "characters from a-z, 0-9, '_' and '-')");
	ASSERT_STR(e[4].why, "not an hvisor device plugin (no "
			     "hvd_plugin_descriptor symbol)");
	snprintf(expected, sizeof expected, "%s/libfixture-fail.so", top);
	ASSERT_STR(e[7].path, expected);
	snprintf(expected, sizeof expected, "%s/libfixture-good.so", top);
	ASSERT_STR(e[8].path, expected);
	for (unsigned i = 7; i < 9; i++) {
		CU_ASSERT_TRUE(e[i].loadable);
		CU_ASSERT_PTR_NULL(e[i].why);
		CU_ASSERT_PTR_NOT_NULL(e[i].plugin);
	}
	/* A second call returns the same listing. */
	CU_ASSERT_PTR_EQUAL(loader_scan(reg, &n), e);
	CU_ASSERT_EQUAL(n, 9);
	/* find_type uses the same plugins. */
	char *why = NULL;
	CU_ASSERT_PTR_EQUAL(loader_find_type(reg, "fixture-good", &why),
			    e[8].plugin);
	loader_free(reg);
}

static void test_scan_symlinks(void)
{
	char dir[] = "/tmp/hvd-test-loader-XXXXXX";
	char good[PATH_MAX], link1[PATH_MAX], link2[PATH_MAX];
	char sub[PATH_MAX], other[PATH_MAX], dangling[PATH_MAX];
	const struct plugin_entry *e;
	struct plugin_registry *reg;
	unsigned n = 0;
	char *why = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	fx(good, "libfixture-good.so");
	snprintf(link1, sizeof link1, "%s/liba.so", dir);
	snprintf(link2, sizeof link2, "%s/libb.so", dir);
	snprintf(sub, sizeof sub, "%s/folder.so", dir);
	snprintf(other, sizeof other, "%s/libc.so.1", dir);
	snprintf(dangling, sizeof dangling, "%s/libz.so", dir);
	CU_ASSERT_EQUAL(symlink(good, link1), 0);
	CU_ASSERT_EQUAL(symlink(good, link2), 0);
	CU_ASSERT_EQUAL(symlink(good, other), 0);
	CU_ASSERT_EQUAL(symlink("/nonexistent-hvd-target.so", dangling), 0);
	CU_ASSERT_EQUAL(mkdir(sub, 0700), 0);

	reg = registry(dir, NULL, NULL);
	e = loader_scan(reg, &n);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	ASSERT_STR(e[0].path, link1);
	ASSERT_STR(e[1].path, link2);
	ASSERT_STR(e[2].path, dangling);
	CU_ASSERT_TRUE(e[0].loadable);
	CU_ASSERT_TRUE(e[1].loadable);
	CU_ASSERT_FALSE(e[2].loadable);
	/* Two names of one file are one plugin, not a duplicate. */
	CU_ASSERT_PTR_EQUAL(e[0].plugin, e[1].plugin);
	CU_ASSERT_PTR_EQUAL(loader_find_type(reg, "fixture-good", &why),
			    e[0].plugin);
	CU_ASSERT_PTR_NULL(why);
	loader_free(reg);

	unlink(link1);
	unlink(link2);
	unlink(other);
	unlink(dangling);
	rmdir(sub);
	rmdir(dir);
}

static void test_default_dirs(void)
{
	const char *flags[] = {"/nonexistent-hvd-flag", "/env/a", ""};
	char *saved = getenv("HVISOR_PLUGIN_PATH");
	unsigned n = 0;
	char **list;

	if (saved)
		saved = strdup(saved);

	setenv("HVISOR_PLUGIN_PATH", "/env/a::/env/b:", 1);
	list = loader_default_dirs(flags, 3, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	ASSERT_STR(list[0], "/nonexistent-hvd-flag");
	ASSERT_STR(list[1], "/env/a");
	ASSERT_STR(list[2], "/env/b");
	CU_ASSERT_EQUAL(list[3][0], '/'); /* the installed folder */
	CU_ASSERT_PTR_NULL(list[4]);
	for (unsigned i = 0; i < n; i++)
		free(list[i]);
	free(list);

	unsetenv("HVISOR_PLUGIN_PATH");
	list = loader_default_dirs(NULL, 0, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_PTR_NULL(list[1]);
	free(list[0]);
	free(list);

	setenv("HVISOR_PLUGIN_PATH", ":", 1);
	list = loader_default_dirs(NULL, 0, &n);
	CU_ASSERT_EQUAL(n, 1);
	free(list[0]);
	free(list);

	if (saved) {
		setenv("HVISOR_PLUGIN_PATH", saved, 1);
		free(saved);
	} else {
		unsetenv("HVISOR_PLUGIN_PATH");
	}
}

/* ---- The listing -------------------------------------------------------- */

/* Run loader_print_table with stdout captured; returns the malloc'd text. */
static char *capture_table(struct plugin_registry *reg, int *ret)
{
	FILE *tmp = tmpfile();
	int saved;
	long len;
	char *text;

	if (!tmp)
		return NULL;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fileno(tmp), STDOUT_FILENO);
	*ret = loader_print_table(reg);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);

	len = (long)lseek(fileno(tmp), 0, SEEK_END);
	if (len < 0)
		len = 0;
	text = calloc(1, (size_t)len + 1);
	if (text && len > 0) {
		lseek(fileno(tmp), 0, SEEK_SET);
		if (read(fileno(tmp), text, (size_t)len) != len)
			text[0] = '\0';
	}
	fclose(tmp);
	return text;
}

/* The line of `text` that contains `needle`, copied into buf. */
static const char *line_with(const char *text, const char *needle, char *buf,
			     size_t size)
{
	const char *hit = strstr(text, needle);
	const char *start, *end;

	if (!hit)
		return NULL;
	start = hit;
	while (start > text && start[-1] != '\n')
		start--;
	end = strchr(hit, '\n');
	if (!end)
		end = hit + strlen(hit);
	snprintf(buf, size, "%.*s", (int)(end - start), start);
	return buf;
}

static void test_print_table(void)
{
	char top[PATH_MAX], bad[PATH_MAX], dup[PATH_MAX];
	char file[PATH_MAX + 64], line[2048], expected[3 * PATH_MAX];
	struct plugin_registry *reg;
	char *text;
	int ret = -1;

	fx(top, "");
	fx(bad, "bad");
	fx(dup, "dup");

	reg = registry(bad, top, NULL);
	text = capture_table(reg, &ret);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(ret, 7);
	/* Header, then one line per file; STATUS starts at one column. */
	CU_ASSERT_NSTRING_EQUAL(text, "FILE ", 5);
	const char *status_col = strstr(text, "STATUS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(status_col);
	size_t col = (size_t)(status_col - text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "TYPE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "DEVICE-ID"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "ABI"));

	snprintf(file, sizeof file, "%s/libfixture-good.so", top);
	CU_ASSERT_PTR_NOT_NULL_FATAL(line_with(text, file, line, sizeof line));
	CU_ASSERT_STRING_EQUAL(line + col, "ok");
	CU_ASSERT_PTR_NOT_NULL(strstr(line, " fixture-good "));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, " 4 "));
	snprintf(expected, sizeof expected, " %d.%d ", HVD_ABI_MAJOR,
		 HVD_ABI_MINOR);
	CU_ASSERT_PTR_NOT_NULL(strstr(line, expected));

	snprintf(file, sizeof file, "%s/libfixture-major2.so", bad);
	CU_ASSERT_PTR_NOT_NULL_FATAL(line_with(text, file, line, sizeof line));
	snprintf(expected, sizeof expected,
		 "refused: built for plugin ABI 2.0, this daemon speaks %d.%d "
		 "(different major version)",
		 HVD_ABI_MAJOR, HVD_ABI_MINOR);
	ASSERT_STR(line + col, expected);
	CU_ASSERT_PTR_NOT_NULL(strstr(line, " 2.0 "));

	snprintf(file, sizeof file, "%s/libfixture-nosym.so", bad);
	CU_ASSERT_PTR_NOT_NULL_FATAL(line_with(text, file, line, sizeof line));
	ASSERT_STR(line + col, "refused: not an hvisor device plugin (no "
			       "hvd_plugin_descriptor symbol)");
	free(text);
	loader_free(reg);

	/* Duplicates: both files are refused, naming each other. */
	reg = registry(dup, NULL, NULL);
	text = capture_table(reg, &ret);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(ret, 2);
	snprintf(expected, sizeof expected,
		 "refused: type 'fixture-dup' is provided by both "
		 "%s/libfixture-dup-a.so and %s/libfixture-dup-b.so\n",
		 dup, dup);
	const char *first = strstr(text, expected);
	CU_ASSERT_PTR_NOT_NULL(first);
	if (first)
		CU_ASSERT_PTR_NOT_NULL(strstr(first + 1, expected));
	free(text);
	loader_free(reg);

	reg = registry("/nonexistent-hvd-a", "/nonexistent-hvd-b", NULL);
	text = capture_table(reg, &ret);
	CU_ASSERT_EQUAL(ret, 0);
	ASSERT_STR(text, "no plugins found (searched: /nonexistent-hvd-a, "
			 "/nonexistent-hvd-b)\n");
	free(text);
	loader_free(reg);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"open a good plugin", test_open_good},
		{"open the create-fails fixture", test_open_fail_fixture},
		{"refusal messages", test_refusals},
		{"files that cannot be loaded", test_cannot_load},
		{"older, shorter descriptor", test_older_descriptor},
		{"descriptor check", test_check_descriptor},
		{"check reads only declared bytes",
		 test_check_reads_only_declared},
		{"find type and search order", test_find_type},
		{"scan", test_scan},
		{"scan with symlinks", test_scan_symlinks},
		{"default search list", test_default_dirs},
		{"plugins table", test_print_table},
		{NULL, NULL},
	};

	if (!fixture_dir())
		return 1;
	return cunit_run("loader", tests);
}
