/* SPDX-License-Identifier: MIT */
/* Suite 'config': the virtio JSON file, comment stripping, path lookups. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cunit_main.h"
#include "hvd/plugin.h"

/* Compare strings; on mismatch print both so a failure explains itself. */

#define ASSERT_LAST_ERROR(expected) ASSERT_STR(cfg_last_error(), expected)

static const char good_text[] =
	"// hvisor virtio configuration for zone 1\n"
	"{\n"
	"  /* zones served by this daemon */\n"
	"  \"zones\": [\n"
	"    {\n"
	"      \"id\": 1, // the guest\n"
	"      \"memory_region\": [\n"
	"        {\"zone0_ipa\": \"0x50000000\", \"zonex_ipa\": "
	"\"0x50000000\",\n"
	"         \"size\": \"0x30000000\"},\n"
	"        {\"zone0_ipa\": 2415919104, \"zonex_ipa\": \"2415919104\","
	" \"size\": \"0X1000\"}\n"
	"      ],\n"
	"      \"devices\": [\n"
	"        {\"type\": \"blk\", \"addr\": \"0xa003c00\", \"len\": "
	"\"0x200\",\n"
	"         \"irq\": 78, \"status\": \"enable\",\n"
	"         \"img\": \"/images//rootfs.img\"},\n"
	"        /* a disabled device is skipped, even if incomplete */\n"
	"        {\"type\": \"net\", \"status\": \"disable\", \"tap\": "
	"\"tap0\"},\n"
	"        {\"type\": \"console\", \"addr\": \"0xa003e00\", \"len\": "
	"512,\n"
	"         \"irq\": \"76\", \"plugin\": \"/opt/hvd/libx.so\",\n"
	"         \"mac\": [\"0x00\", \"0x16\", \"0x3e\", \"0x10\", "
	"\"0x10\", \"0x10\"],\n"
	"         \"ports\": [{\"name\": \"p0\"}, {\"name\": 5}],\n"
	"         \"flag\": true, \"off\": false, \"big\": "
	"\"0xffffffffffffffff\"}\n"
	"      ]\n"
	"    },\n"
	"    {\"id\": \"2\", \"memory_region\": [{\"zone0_ipa\": "
	"\"0x80000000\", \"zonex_ipa\": \"0x0\", \"size\": \"0x1000\"}]}\n"
	"  ]\n"
	"}\n";

static void test_good_file(void)
{
	struct virtio_cfg cfg;

	CU_ASSERT_EQUAL_FATAL(virtio_cfg_parse(good_text, "good.json", &cfg),
			      0);
	CU_ASSERT_PTR_NOT_NULL(cfg.root);
	CU_ASSERT_EQUAL_FATAL(cfg.zone_count, 2);

	const struct zone_cfg *z = &cfg.zones[0];
	CU_ASSERT_EQUAL(z->id, 1);
	ASSERT_STR(z->path, "zones[0]");
	CU_ASSERT_EQUAL_FATAL(z->mem_count, 2);
	CU_ASSERT_EQUAL(z->mem[0].zone0_ipa, 0x50000000u);
	CU_ASSERT_EQUAL(z->mem[0].zonex_ipa, 0x50000000u);
	CU_ASSERT_EQUAL(z->mem[0].size, 0x30000000u);
	CU_ASSERT_EQUAL(z->mem[1].zone0_ipa, 0x90000000u);
	CU_ASSERT_EQUAL(z->mem[1].zonex_ipa, 0x90000000u);
	CU_ASSERT_EQUAL(z->mem[1].size, 0x1000u);

	/* devices[1] is disabled: not in the list; paths keep JSON indices. */
	CU_ASSERT_EQUAL_FATAL(z->device_count, 2);
	const struct device_cfg *d0 = &z->devices[0];
	const struct device_cfg *d1 = &z->devices[1];
	ASSERT_STR(d0->type, "blk");
	CU_ASSERT_PTR_NULL(d0->plugin);
	CU_ASSERT_EQUAL(d0->addr, 0xa003c00u);
	CU_ASSERT_EQUAL(d0->len, 0x200u);
	CU_ASSERT_EQUAL(d0->irq, 78u);
	ASSERT_STR(d0->path, "zones[0].devices[0]");
	CU_ASSERT_PTR_NOT_NULL(d0->json);
	ASSERT_STR(d1->type, "console");
	ASSERT_STR(d1->plugin, "/opt/hvd/libx.so");
	CU_ASSERT_EQUAL(d1->addr, 0xa003e00u);
	CU_ASSERT_EQUAL(d1->len, 512u);
	CU_ASSERT_EQUAL(d1->irq, 76u);
	ASSERT_STR(d1->path, "zones[0].devices[2]");

	/* "//" inside a string is not a comment. */
	const char *img = NULL;
	CU_ASSERT_EQUAL(cfg_get_string(d0->json, d0->path, "img", &img), 0);
	ASSERT_STR(img, "/images//rootfs.img");

	z = &cfg.zones[1];
	CU_ASSERT_EQUAL(z->id, 2);
	ASSERT_STR(z->path, "zones[1]");
	CU_ASSERT_EQUAL(z->mem_count, 1);
	CU_ASSERT_EQUAL(z->mem[0].zonex_ipa, 0);
	CU_ASSERT_EQUAL(z->device_count, 0);

	virtio_cfg_free(&cfg);
	CU_ASSERT_PTR_NULL(cfg.root);
	CU_ASSERT_PTR_NULL(cfg.zones);
	CU_ASSERT_EQUAL(cfg.zone_count, 0);
	virtio_cfg_free(&cfg); /* twice is harmless */
}

static void test_load_file(void)
{
	char path[] = "/tmp/hvd-test-config-XXXXXX";
	struct virtio_cfg cfg;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, good_text, strlen(good_text)),
			(ssize_t)strlen(good_text));
	close(fd);
	CU_ASSERT_EQUAL(virtio_cfg_load(path, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.zone_count, 2);
	virtio_cfg_free(&cfg);

	/* Errors in a file name the file. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "{\n\n  \"zones\": [}\n", 17), 17);
	close(fd);
	CU_ASSERT_EQUAL(virtio_cfg_load(path, &cfg), -1);
	char expected[128];
	snprintf(expected, sizeof expected, "%s:3: JSON syntax error near '}'",
		 path);
	ASSERT_LAST_ERROR(expected);
	unlink(path);

	CU_ASSERT_EQUAL(virtio_cfg_load(path, &cfg), -1);
	snprintf(expected, sizeof expected,
		 "%s: cannot open: No such file or directory", path);
	ASSERT_LAST_ERROR(expected);
	CU_ASSERT_PTR_NULL(cfg.root);
}

/* One zone with the given devices array text. */
static char *zone_with_devices(const char *devices)
{
	static const char fmt[] =
		"{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		"\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		"\"0x1000000\"}], \"devices\": [%s]}]}";
	size_t n = sizeof fmt + strlen(devices);
	char *s = malloc(n);

	snprintf(s, n, fmt, devices);
	return s;
}

/* Parse must fail with exactly `expected` as the message. */
static void expect_error(const char *text, const char *expected)
{
	struct virtio_cfg cfg;

	memset(&cfg, 0xa5, sizeof cfg);
	CU_ASSERT_EQUAL(virtio_cfg_parse(text, "t.json", &cfg), -1);
	ASSERT_LAST_ERROR(expected);
	CU_ASSERT_PTR_NULL(cfg.root);
	CU_ASSERT_PTR_NULL(cfg.zones);
	CU_ASSERT_EQUAL(cfg.zone_count, 0);
}

static void expect_device_error(const char *devices, const char *expected)
{
	char *text = zone_with_devices(devices);

	expect_error(text, expected);
	free(text);
}

static void expect_device_ok(const char *devices, unsigned count)
{
	struct virtio_cfg cfg;
	char *text = zone_with_devices(devices);

	CU_ASSERT_EQUAL(virtio_cfg_parse(text, "t.json", &cfg), 0);
	if (cfg.root) {
		CU_ASSERT_EQUAL(cfg.zones[0].device_count, count);
	} else {
		fprintf(stderr, "\n  unexpected error: %s\n", cfg_last_error());
	}
	virtio_cfg_free(&cfg);
	free(text);
}

#define DEV(addr, len, irq)                                     \
	"{\"type\": \"blk\", \"addr\": " addr ", \"len\": " len \
	", \"irq\": " irq "}"

static void test_device_errors(void)
{
	expect_device_error(DEV("\"0xa003c00\"", "\"0x200\"", "1") ", " DEV(
				    "\"0xa003e00\"", "\"0x200\"", "true"),
			    "zones[0].devices[1].irq: expected a number");
	expect_device_error("{\"addr\": \"0xa003c00\", \"len\": \"0x200\", "
			    "\"irq\": 1}",
			    "zones[0].devices[0].type: missing");
	expect_device_error("{\"type\": 7, \"addr\": \"0xa003c00\", \"len\": "
			    "\"0x200\", \"irq\": 1}",
			    "zones[0].devices[0].type: expected a string");
	expect_device_error(
		"{\"type\": \"\", \"addr\": \"0xa003c00\", \"len\": "
		"\"0x200\", \"irq\": 1}",
		"zones[0].devices[0].type: must not be empty");
	expect_device_error(
		"{\"type\": \"blk\", \"len\": \"0x200\", \"irq\": 1}",
		"zones[0].devices[0].addr: missing");
	expect_device_error("{\"type\": \"blk\", \"addr\": 1, \"irq\": 1}",
			    "zones[0].devices[0].len: missing");
	expect_device_error("{\"type\": \"blk\", \"addr\": 1, \"len\": 512}",
			    "zones[0].devices[0].irq: missing");
	expect_device_error(DEV("\"0xa003c00\"", "\"0x100\"", "1"),
			    "zones[0].devices[0].len: 0x100 is smaller than "
			    "the minimum 0x200");
	expect_device_error(DEV("\"0xa003c00\"", "\"0x200\"", "4294967296"),
			    "zones[0].devices[0].irq: out of range (more than "
			    "32 bits)");
	expect_device_error(DEV("\"0xfffffffffffffe00\"", "\"0x400\"", "1"),
			    "zones[0].devices[0]: window 0xfffffffffffffe00"
			    "+0x400 wraps around the address space");
	expect_device_error("\"blk\"",
			    "zones[0].devices[0]: expected an object");
	expect_device_error(DEV("\"0xa003c00\"", "\"0x200\"", "1") ", 3",
			    "zones[0].devices[1]: expected an object");

	/* Overlapping windows name both devices; a disabled one is ignored. */
	expect_device_error(
		DEV("\"0xa003c00\"", "\"0x200\"", "1") ", " DEV(
			"\"0xa003000\"", "\"0x200\"",
			"2") ", " DEV("\"0xa003c00\"", "\"0x200\"", "3"),
		"zones[0].devices[2]: window 0xa003c00+0x200 overlaps "
		"zones[0].devices[0]");
	expect_device_error(DEV("\"0xa003c00\"", "\"0x400\"", "1") ", " DEV(
				    "\"0xa003e00\"", "\"0x200\"", "2"),
			    "zones[0].devices[1]: window 0xa003e00+0x200 "
			    "overlaps zones[0].devices[0]");
	expect_device_ok(DEV("\"0xa003c00\"", "\"0x200\"",
			     "1") ", " DEV("\"0xa003e00\"", "\"0x200\"", "2"),
			 2);
	expect_device_ok(
		"{\"type\": \"blk\", \"addr\": \"0xa003c00\", \"len\":"
		" \"0x200\", \"irq\": 1, \"status\": \"disable\"}, " DEV(
			"\"0xa003c00\"", "\"0x200\"", "2"),
		1);

	/* status */
	expect_device_error(
		"{\"type\": \"blk\", \"addr\": 1, \"len\": 512, "
		"\"irq\": 1, \"status\": \"maybe\"}",
		"zones[0].devices[0].status: expected \"enable\" or "
		"\"disable\", not \"maybe\"");
	expect_device_error("{\"type\": \"blk\", \"addr\": 1, \"len\": 512, "
			    "\"irq\": 1, \"status\": true}",
			    "zones[0].devices[0].status: expected a string");
	expect_device_error("{\"type\": \"blk\", \"addr\": 1, \"len\": 512, "
			    "\"irq\": 1, \"plugin\": 3}",
			    "zones[0].devices[0].plugin: expected a string");
	expect_device_error("{\"type\": \"blk\", \"addr\": 1, \"len\": 512, "
			    "\"irq\": 1, \"plugin\": \"\"}",
			    "zones[0].devices[0].plugin: must not be empty");
	expect_device_ok("{\"status\": \"disable\"}", 0);
	expect_device_ok("", 0);
}

static void test_zone_errors(void)
{
	static const char mem[] = "\"memory_region\": [{\"zone0_ipa\": "
				  "\"0x50000000\", \"zonex_ipa\": "
				  "\"0x50000000\", \"size\": \"0x1000\"}]";
	char text[512];

	expect_error("{}", "zones: missing");
	expect_error("{\"zones\": {}}", "zones: expected an array");
	expect_error("{\"zones\": []}", "zones: expected a non-empty array");
	expect_error("[1]", "t.json: expected a JSON object at the top level");
	expect_error("{\"zones\": [7]}", "zones[0]: expected an object");
	expect_error("{\"zones\": [{\"memory_region\": []}]}",
		     "zones[0].id: missing");
	expect_error("{\"zones\": [{\"id\": 1}]}",
		     "zones[0].memory_region: missing");
	expect_error("{\"zones\": [{\"id\": 1, \"memory_region\": {}}]}",
		     "zones[0].memory_region: expected an array");
	expect_error("{\"zones\": [{\"id\": 1, \"memory_region\": []}]}",
		     "zones[0].memory_region: expected a non-empty array");
	expect_error("{\"zones\": [{\"id\": 1, \"memory_region\": [1]}]}",
		     "zones[0].memory_region[0]: expected an object");

	snprintf(text, sizeof text,
		 "{\"zones\": [{\"id\": 1, %s}, {\"id\": 1, %s}]}", mem, mem);
	expect_error(text, "zones[1].id: duplicate zone id 1");
	snprintf(text, sizeof text,
		 "{\"zones\": [{\"id\": 1, %s}, {\"id\": 2, %s}, {\"id\": "
		 "\"0x1\", %s}]}",
		 mem, mem, mem);
	expect_error(text, "zones[2].id: duplicate zone id 1");
	snprintf(text, sizeof text,
		 "{\"zones\": [{\"id\": 1, %s, \"devices\": {}}]}", mem);
	expect_error(text, "zones[0].devices: expected an array");
	snprintf(text, sizeof text, "{\"zones\": [{\"id\": 1, %s}]}", mem);
	struct virtio_cfg cfg;
	CU_ASSERT_EQUAL(virtio_cfg_parse(text, NULL, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.zones[0].device_count, 0);
	virtio_cfg_free(&cfg);

	/* Memory regions. */
	expect_error("{\"zones\": [{\"id\": 1, \"memory_region\": ["
		     "{\"zone0_ipa\": \"0x50000000\", \"zonex_ipa\": "
		     "\"0x50000000\", \"size\": \"0x2000\"},"
		     "{\"zone0_ipa\": \"0x60000000\", \"zonex_ipa\": "
		     "\"0x50001000\", \"size\": \"0x1000\"}]}]}",
		     "zones[0].memory_region[1]: overlaps "
		     "zones[0].memory_region[0]");
	expect_error("{\"zones\": [{\"id\": 1, \"memory_region\": ["
		     "{\"zone0_ipa\": \"0x50000000\", \"zonex_ipa\": "
		     "\"0x50000000\", \"size\": \"0\"}]}]}",
		     "zones[0].memory_region[0].size: must be greater than 0");
	expect_error("{\"zones\": [{\"id\": 1, \"memory_region\": ["
		     "{\"zone0_ipa\": \"0x50000000\", \"size\": \"1\"}]}]}",
		     "zones[0].memory_region[0].zonex_ipa: missing");
	expect_error("{\"zones\": [{\"id\": 1, \"memory_region\": ["
		     "{\"zone0_ipa\": \"0x50000000\", \"zonex_ipa\": "
		     "\"0xfffffffffffff000\", \"size\": \"0x2000\"}]}]}",
		     "zones[0].memory_region[0]: region 0xfffffffffffff000"
		     "+0x2000 wraps around the address space");
	/* Adjacent regions are fine. */
	CU_ASSERT_EQUAL(
		virtio_cfg_parse(
			"{\"zones\": [{\"id\": 1, \"memory_region\": ["
			"{\"zone0_ipa\": \"0x50000000\", \"zonex_ipa\": "
			"\"0x50000000\", \"size\": \"0x1000\"},"
			"{\"zone0_ipa\": \"0x60000000\", \"zonex_ipa\": "
			"\"0x50001000\", \"size\": \"0x1000\"}]}]}",
			"t.json", &cfg),
		0);
	virtio_cfg_free(&cfg);

	/* The same key twice is refused instead of silently using one. */
	expect_error("{\"zones\": [], \"zones\": []}", "zones: duplicate key");
	expect_device_error("{\"type\": \"blk\", \"addr\": 1, \"addr\": 2}",
			    "zones[0].devices[0].addr: duplicate key");
}

static void test_syntax_errors(void)
{
	expect_error("{\n  \"zones\": [\n    {\"id\": 1,, }\n  ]\n}\n",
		     "t.json:3: JSON syntax error near ', }'");
	/* Lines count through comments, including block comments. */
	expect_error("/* one\n two\n three */ {\n // four\n \"zones\": x\n}",
		     "t.json:5: JSON syntax error near 'x'");
	expect_error("{\"zones\": []}\n}",
		     "t.json:2: JSON syntax error near '}'");
	expect_error("", "t.json:1: JSON syntax error at end of input");
	expect_error("{\n\"zones\": [", "t.json:2: JSON syntax error at end of "
					"input");
	expect_error("{\n  /* never closed\n", "t.json:2: unterminated block "
					       "comment");
	/* Comments are not recognised inside strings, so this one is open. */
	expect_error("{\"a\": \"/*\" /* x", "t.json:1: unterminated block "
					    "comment");
	/* A long snippet is cut. */
	expect_error("{\"zones\": [] garbage-garbage-garbage-garbage}",
		     "t.json:1: JSON syntax error near "
		     "'garbage-garbage-garb...'");
	/* A UTF-8 byte order mark is accepted. */
	struct virtio_cfg cfg;
	CU_ASSERT_EQUAL(
		virtio_cfg_parse("\xef\xbb\xbf{\"zones\": [{\"id\": 1, "
				 "\"memory_region\": [{\"zone0_ipa\": 0,"
				 " \"zonex_ipa\": 0, \"size\": 1}]}]}",
				 "t.json", &cfg),
		0);
	virtio_cfg_free(&cfg);
}

static void test_strip_comments(void)
{
	int line = -1;
	char *s;

	s = json_strip_comments("{\"a\": \"x//y\"} // tail", &line);
	ASSERT_STR(s, "{\"a\": \"x//y\"}        ");
	CU_ASSERT_EQUAL(line, 0);
	free(s);

	s = json_strip_comments("[1,/* c\nc */2]", NULL);
	ASSERT_STR(s, "[1,    \n    2]");
	free(s);

	/* Escaped quotes do not end a string; an escaped backslash does not
	 * escape the quote after it. */
	s = json_strip_comments("[\"a\\\"/*b\", \"c\\\\\" /*d*/]", &line);
	ASSERT_STR(s, "[\"a\\\"/*b\", \"c\\\\\"      ]");
	free(s);

	s = json_strip_comments("// only\n// comments", &line);
	ASSERT_STR(s, "       \n           ");
	free(s);

	/* A lone slash and "*\/" outside a comment are left for the parser. */
	s = json_strip_comments("1 / 2 */", &line);
	ASSERT_STR(s, "1 / 2 */");
	free(s);

	s = json_strip_comments("1/**/2", &line);
	ASSERT_STR(s, "1    2");
	free(s);

	s = json_strip_comments("", &line);
	ASSERT_STR(s, "");
	free(s);

	line = -1;
	CU_ASSERT_PTR_NULL(json_strip_comments("{\n\n /* a\n b", &line));
	CU_ASSERT_EQUAL(line, 3);
	line = -1;
	CU_ASSERT_PTR_NULL(json_strip_comments("/*/", &line));
	CU_ASSERT_EQUAL(line, 1);
	/* A newline inside a string (invalid JSON) still counts as a line. */
	line = -1;
	CU_ASSERT_PTR_NULL(json_strip_comments("\"a\nb\" /*", &line));
	CU_ASSERT_EQUAL(line, 2);
}

/* One device whose addr is `value`; checks the parse result. */
static void expect_addr(const char *value, int ok, uint64_t want,
			const char *err)
{
	char dev[256];
	struct virtio_cfg cfg;
	char *text;

	snprintf(dev, sizeof dev,
		 "{\"type\": \"blk\", \"addr\": %s, \"len\": 512, \"irq\": 1}",
		 value);
	text = zone_with_devices(dev);
	int r = virtio_cfg_parse(text, "t.json", &cfg);
	CU_ASSERT_EQUAL(r, ok ? 0 : -1);
	if (ok && r == 0) {
		CU_ASSERT_EQUAL(cfg.zones[0].devices[0].addr, want);
	} else if (!ok) {
		ASSERT_LAST_ERROR(err);
	} else {
		fprintf(stderr, "\n  %s: unexpected error: %s\n", value,
			cfg_last_error());
	}
	virtio_cfg_free(&cfg);
	free(text);
}

static void test_number_formats(void)
{
	const char *p = "zones[0].devices[0].addr";
	char err[128];

	expect_addr("\"0xa003c00\"", 1, 0xa003c00, NULL);
	expect_addr("\"0XA003C00\"", 1, 0xa003c00, NULL);
	expect_addr("\"0xAbCdEf\"", 1, 0xabcdef, NULL);
	expect_addr("167787520", 1, 167787520, NULL);
	expect_addr("\"167787520\"", 1, 167787520, NULL);
	expect_addr("\"0x0\"", 1, 0, NULL);
	expect_addr("\"007\"", 1, 7, NULL); /* decimal, not octal */
	expect_addr("1e3", 1, 1000, NULL);
	expect_addr("9007199254740992", 1, 9007199254740992ull, NULL);
	expect_addr("\"0xfffffffffffffc00\"", 1, 0xfffffffffffffc00ull, NULL);

#define BAD(value, problem)                                      \
	do {                                                     \
		snprintf(err, sizeof err, "%s: %s", p, problem); \
		expect_addr(value, 0, 0, err);                   \
	} while (0)
	BAD("-1", "must not be negative");
	BAD("\"-1\"", "must not be negative");
	BAD("\"-0x10\"", "must not be negative");
	BAD("1.5", "must be an integer");
	BAD("\"1.5\"", "must be an integer");
	BAD("\"0x\"", "invalid number '0x'");
	BAD("\"\"", "invalid number ''");
	BAD("\" 12\"", "invalid number ' 12'");
	BAD("\"12 \"", "invalid number '12 '");
	BAD("\"12abc\"", "invalid number '12abc'");
	BAD("\"0x12g\"", "invalid number '0x12g'");
	BAD("\"+5\"", "invalid number '+5'");
	BAD("\"1.\"", "invalid number '1.'");
	BAD("\"0x1.8\"", "invalid number '0x1.8'");
	BAD("\"0x10000000000000000\"", "out of range (more than 64 bits)");
	BAD("\"18446744073709551616\"", "out of range (more than 64 bits)");
	BAD("1e300", "too large for a JSON number (write it as a hex string)");
	BAD("9007199254740993000", "too large for a JSON number (write it as "
				   "a hex string)");
	BAD("true", "expected a number");
	BAD("null", "expected a number");
	BAD("[1]", "expected a number");
	BAD("{}", "expected a number");
	BAD("\"a very long string that is certainly not a number\"",
	    "invalid number 'a very long string that is certainly...'");
#undef BAD
}

/* The device object "dev" of a small document, for the getters. */
static const char lookup_text[] =
	"{\"dev\": {\"img\": \"/x.img\", \"n\": 12, \"hex\": \"0x10\","
	" \"neg\": -3, \"flag\": true, \"off\": false, \"one\": 1,"
	" \"mac\": [\"0x00\", \"0x16\", \"0x3e\", 1, 2, 3],"
	" \"ports\": [{\"name\": \"p0\", \"opts\": {\"rw\": true}},"
	" {\"name\": 5}], \"nested\": [[1, 2], [3]], \"nul\": null,"
	" \"big\": \"0xffffffffffffffff\", \"a.b\": 1}}";

#define BASE "zones[0].devices[1]"

static void test_lookup_paths(void)
{
	cJSON *root = cJSON_Parse(lookup_text);
	const cJSON *dev = cJSON_GetObjectItem(root, "dev");
	const char *s = NULL;
	uint64_t v = 0;
	unsigned len = 0;
	bool b = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);

	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "img", &s), 0);
	ASSERT_STR(s, "/x.img");
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "mac[2]", &s), 0);
	ASSERT_STR(s, "0x3e");
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "mac[2]", &v), 0);
	CU_ASSERT_EQUAL(v, 0x3e);
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "mac[5]", &v), 0);
	CU_ASSERT_EQUAL(v, 3);
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "ports[0].name", &s), 0);
	ASSERT_STR(s, "p0");
	CU_ASSERT_EQUAL(cfg_get_bool(dev, BASE, "ports[0].opts.rw", &b), 0);
	CU_ASSERT_TRUE(b);
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "nested[1][0]", &v), 0);
	CU_ASSERT_EQUAL(v, 3);
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "n", &v), 0);
	CU_ASSERT_EQUAL(v, 12);
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "hex", &v), 0);
	CU_ASSERT_EQUAL(v, 16);
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "big", &v), 0);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(cfg_get_bool(dev, BASE, "flag", &b), 0);
	CU_ASSERT_TRUE(b);
	CU_ASSERT_EQUAL(cfg_get_bool(dev, BASE, "off", &b), 0);
	CU_ASSERT_FALSE(b);
	CU_ASSERT_EQUAL(cfg_get_array_len(dev, BASE, "mac", &len), 0);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_EQUAL(cfg_get_array_len(dev, BASE, "nested[1]", &len), 0);
	CU_ASSERT_EQUAL(len, 1);
	/* Kinds, for keys accepted in more than one shape; no error logged. */
	CU_ASSERT_EQUAL(cfg_get_kind(dev, BASE, "mac"), HVD_CFG_ARRAY);
	CU_ASSERT_EQUAL(cfg_get_kind(dev, BASE, "img"), HVD_CFG_STRING);
	CU_ASSERT_EQUAL(cfg_get_kind(dev, BASE, "n"), HVD_CFG_NUMBER);
	CU_ASSERT_EQUAL(cfg_get_kind(dev, BASE, "flag"), HVD_CFG_BOOL);
	CU_ASSERT_EQUAL(cfg_get_kind(dev, BASE, "nul"), HVD_CFG_NULL);
	CU_ASSERT_EQUAL(cfg_get_kind(dev, BASE, "ports[0]"), HVD_CFG_OBJECT);
	CU_ASSERT_EQUAL(cfg_get_kind(dev, BASE, "missing"), -ENOENT);

	/* Absent: -ENOENT, *out untouched. */
	s = "untouched";
	v = 77;
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "missing", &s), -ENOENT);
	ASSERT_STR(s, "untouched");
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "missing", &v), -ENOENT);
	CU_ASSERT_EQUAL(v, 77);
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "mac[6]", &v), -ENOENT);
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "ports[2].name", &s),
			-ENOENT);
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "ports[1].label", &s),
			-ENOENT);
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "missing.x", &s), -ENOENT);
	CU_ASSERT_EQUAL(cfg_get_bool(dev, BASE, "missing[3]", &b), -ENOENT);
	CU_ASSERT_EQUAL(cfg_get_array_len(dev, BASE, "missing", &len), -ENOENT);
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "Img", &v), -ENOENT);
	/* A '.' always separates path parts. */
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "a.b", &v), -ENOENT);

	/* Wrong types: -EINVAL naming the full path. */
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "ports[1].name", &s),
			-EINVAL);
	ASSERT_LAST_ERROR(BASE ".ports[1].name: expected a string");
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "nul", &s), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".nul: expected a string");
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "img", &v), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".img: invalid number '/x.img'");
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "flag", &v), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".flag: expected a number");
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "neg", &v), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".neg: must not be negative");
	CU_ASSERT_EQUAL(cfg_get_bool(dev, BASE, "one", &b), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".one: expected true or false");
	CU_ASSERT_EQUAL(cfg_get_bool(dev, BASE, "img", &b), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".img: expected true or false");
	CU_ASSERT_EQUAL(cfg_get_array_len(dev, BASE, "img", &len), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".img: expected an array");
	CU_ASSERT_EQUAL(cfg_get_array_len(dev, BASE, "ports[0]", &len),
			-EINVAL);
	ASSERT_LAST_ERROR(BASE ".ports[0]: expected an array");
	/* Intermediate of the wrong type: the message names that part. */
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "mac.x", &s), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".mac: expected an object");
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "img[0]", &s), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".img: expected an array");
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, "ports[1].name.x", &s),
			-EINVAL);
	ASSERT_LAST_ERROR(BASE ".ports[1].name: expected an object");
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "nested[0][1][0]", &v), -EINVAL);
	ASSERT_LAST_ERROR(BASE ".nested[0][1]: expected an array");

	/* Bad path syntax. */
	static const char *const bad[] = {
		"",        "a..b", "a[", "a[x]",  "a[]",           ".a",
		"a.",      "[0]",  "a]", "a[0]b", "a[1234567890]", "a[-1]",
		"mac[2].", NULL,
	};
	for (unsigned i = 0; bad[i]; i++) {
		char expected[128];

		snprintf(expected, sizeof expected,
			 BASE "%s%s: invalid key path", *bad[i] ? "." : "",
			 bad[i]);
		CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, bad[i], &s), -EINVAL);
		ASSERT_LAST_ERROR(expected);
	}
	CU_ASSERT_EQUAL(cfg_get_u64(dev, BASE, "mac[", &v), -EINVAL);
	CU_ASSERT_EQUAL(cfg_get_bool(dev, BASE, "x..y", &b), -EINVAL);
	CU_ASSERT_EQUAL(cfg_get_array_len(dev, BASE, "x[", &len), -EINVAL);
	CU_ASSERT_EQUAL(cfg_get_string(dev, BASE, NULL, &s), -EINVAL);

	/* Without a base, messages start with the key. */
	CU_ASSERT_EQUAL(cfg_get_string(dev, NULL, "n", &s), -EINVAL);
	ASSERT_LAST_ERROR("n: expected a string");

	cJSON_Delete(root);
}

static void test_lookup_in_parsed_file(void)
{
	struct virtio_cfg cfg;

	CU_ASSERT_EQUAL_FATAL(virtio_cfg_parse(good_text, "good.json", &cfg),
			      0);
	const struct device_cfg *d = &cfg.zones[0].devices[1];
	const char *s = NULL;
	uint64_t v = 0;

	CU_ASSERT_EQUAL(cfg_get_u64(d->json, d->path, "mac[2]", &v), 0);
	CU_ASSERT_EQUAL(v, 0x3e);
	CU_ASSERT_EQUAL(cfg_get_string(d->json, d->path, "ports[0].name", &s),
			0);
	ASSERT_STR(s, "p0");
	CU_ASSERT_EQUAL(cfg_get_string(d->json, d->path, "ports[1].name", &s),
			-EINVAL);
	ASSERT_LAST_ERROR("zones[0].devices[2].ports[1].name: expected a "
			  "string");
	CU_ASSERT_EQUAL(cfg_get_u64(d->json, d->path, "irq", &v), 0);
	CU_ASSERT_EQUAL(v, 76);
	virtio_cfg_free(&cfg);
}

static void test_check_keys(void)
{
	static const char *const host_keys[] = {
		"type", "addr", "len", "irq", "status", "plugin", NULL,
	};
	static const char *const blk_keys[] = {"img", NULL};
	static const char *const console_keys[] = {
		"mac", "ports", "flag", "off", "big", NULL,
	};
	struct virtio_cfg cfg;

	CU_ASSERT_EQUAL_FATAL(virtio_cfg_parse(good_text, "good.json", &cfg),
			      0);
	const struct device_cfg *d0 = &cfg.zones[0].devices[0];
	const struct device_cfg *d1 = &cfg.zones[0].devices[1];

	CU_ASSERT_EQUAL(cfg_check_keys(d0->json, d0->path, blk_keys, host_keys),
			0);
	CU_ASSERT_EQUAL(
		cfg_check_keys(d1->json, d1->path, console_keys, host_keys), 0);
	/* A plugin key list without the host's keys: "type" is unknown. */
	CU_ASSERT_EQUAL(cfg_check_keys(d0->json, d0->path, blk_keys, NULL),
			-EINVAL);
	ASSERT_LAST_ERROR("zones[0].devices[0].type: unknown key");
	CU_ASSERT_EQUAL(cfg_check_keys(d1->json, d1->path, blk_keys, host_keys),
			-EINVAL);
	ASSERT_LAST_ERROR("zones[0].devices[2].mac: unknown key");
	/* Nested objects (console ports). */
	static const char *const port_keys[] = {"name", NULL};
	static const char *const other_keys[] = {"other", NULL};
	CU_ASSERT_EQUAL(
		cfg_check_keys_at(d1->json, d1->path, "ports[0]", port_keys),
		0);
	CU_ASSERT_EQUAL(
		cfg_check_keys_at(d1->json, d1->path, "ports[0]", other_keys),
		-EINVAL);
	ASSERT_LAST_ERROR("zones[0].devices[2].ports[0].name: unknown key");
	CU_ASSERT_EQUAL(
		cfg_check_keys_at(d1->json, d1->path, "ports[9]", port_keys),
		-ENOENT);
	CU_ASSERT_EQUAL(cfg_check_keys_at(d1->json, d1->path, "mac", port_keys),
			-EINVAL);
	ASSERT_LAST_ERROR("zones[0].devices[2].mac: expected an object");
	virtio_cfg_free(&cfg);

	char *text = zone_with_devices(
		"{\"type\": \"blk\", \"addr\": \"0xa003c00\", \"len\": "
		"\"0x200\", \"irq\": 1, \"img\": \"/x\", \"bogus\": 1}");
	CU_ASSERT_EQUAL_FATAL(virtio_cfg_parse(text, "t.json", &cfg), 0);
	d0 = &cfg.zones[0].devices[0];
	CU_ASSERT_EQUAL(cfg_check_keys(d0->json, d0->path, blk_keys, host_keys),
			-EINVAL);
	ASSERT_LAST_ERROR("zones[0].devices[0].bogus: unknown key");
	CU_ASSERT_EQUAL(cfg_check_keys(d0->json, d0->path, NULL, NULL),
			-EINVAL);
	ASSERT_LAST_ERROR("zones[0].devices[0].type: unknown key");
	virtio_cfg_free(&cfg);
	free(text);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"good file with comments", test_good_file},
		{"load from a file", test_load_file},
		{"device errors", test_device_errors},
		{"zone errors", test_zone_errors},
		{"syntax errors", test_syntax_errors},
		{"strip comments", test_strip_comments},
		{"number formats", test_number_formats},
		{"lookup paths", test_lookup_paths},
		{"lookup in a parsed file", test_lookup_in_parsed_file},
		{"check keys", test_check_keys},
		{NULL, NULL},
	};

	return cunit_run("config", tests);
}
