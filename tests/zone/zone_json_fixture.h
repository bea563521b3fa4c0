/* SPDX-License-Identifier: MIT */
/*
 * Shared by the zone file decoder suites (test_zone_json.c,
 * test_zone_compat.c): stand-in images in a scratch folder, a valid base
 * file changed one key at a time, and its error message.
 */
#ifndef TESTS_ZONE_JSON_FIXTURE_H
#define TESTS_ZONE_JSON_FIXTURE_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cunit_main.h"
#include "zone_json.h"
#include "zone_layout.h"

#define KERNEL_BYTES 10000 /* 0x2710; 0x3000 in 4 KiB pages */
#define DTB_BYTES    3000  /* 0xbb8; 0x1000 */
#define PAGE         4096

static char tmpdir[64];
static struct zone_desc desc;
static struct zone_json_opts opts; /* of the next load_text() */
static uint8_t buf[ZONE_CONFIG_MAX_SIZE];

/* Called before the suite runs: no CUnit assertions. */
static inline int write_sized(const char *name, size_t n)
{
	FILE *f = fopen(name, "wb");
	if (!f)
		return -1;
	for (size_t i = 0; i < n; i++)
		fputc((int)(i * 7 + 1), f);
	return fclose(f);
}

static inline int load_text(const char *text)
{
	FILE *f = fopen("zone.json", "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	return zone_json_load_opts("zone.json", PAGE, &opts, &desc);
}

/* The other architectures: their arch_config and what follows it. */
#define OTHER_ARCH(arch, cfg)                                             \
	"{\"arch\": \"" arch "\", \"name\": \"z\", \"zone_id\": 3, "      \
	"\"cpus\": [0], \"memory_regions\": [{\"type\": \"ram\", "        \
	"\"physical_start\": \"0x80000000\", \"virtual_start\": "         \
	"\"0x80000000\", \"size\": \"0x1000000\"}], \"interrupts\": [], " \
	"\"kernel_filepath\": \"./Image\", \"dtb_filepath\": "            \
	"\"./linux2.dtb\", \"kernel_load_paddr\": \"0x80200000\", "       \
	"\"dtb_load_paddr\": \"0x80000000\", \"entry_point\": "           \
	"\"0x80200000\"" cfg ", \"pci_config\": [], \"alloc_pci_devs\": " \
	"[{\"domain\": 0, \"bus\": 1, \"device\": 0, \"function\": 0}]}"

/* A valid newer-style arm64 file; each case changes one key. */
#define BASE                                                                \
	"{\"arch\": \"arm64\", \"name\": \"base\", \"zone_id\": 1, "        \
	"\"cpus\": [0, 1], \"memory_regions\": [{\"type\": \"ram\", "       \
	"\"physical_start\": \"0x50000000\", \"virtual_start\": "           \
	"\"0x50000000\", \"size\": \"0x1000000\"}], \"interrupts\": [32], " \
	"\"ivc_configs\": [], \"kernel_filepath\": \"./Image\", "           \
	"\"dtb_filepath\": \"./linux2.dtb\", \"kernel_load_paddr\": "       \
	"\"0x50200000\", \"dtb_load_paddr\": \"0x50000000\", "              \
	"\"entry_point\": \"0x50200000\", \"arch_config\": "                \
	"{\"gic_version\": \"v3\", \"gicd_base\": \"0x8000000\", "          \
	"\"gicd_size\": \"0x10000\", \"gicr_base\": \"0x80a0000\", "        \
	"\"gicr_size\": \"0xf60000\"}, \"pci_config\": [], "                \
	"\"alloc_pci_devs\": []}"

/* Set (or with value NULL remove) the member at a dotted path. */
static inline void mutate(cJSON *root, const char *path, const char *value)
{
	cJSON *obj = root;
	char key[64];
	const char *p = path;

	for (const char *dot; (dot = strchr(p, '.')); p = dot + 1) {
		snprintf(key, sizeof key, "%.*s", (int)(dot - p), p);
		obj = cJSON_GetObjectItemCaseSensitive(obj, key);
		CU_ASSERT_FATAL(obj != NULL);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(obj, p);
	if (value) {
		cJSON *v = cJSON_Parse(value);
		CU_ASSERT_FATAL(v != NULL);
		cJSON_AddItemToObject(obj, p, v);
	}
}

/* BASE with up to two members changed (path2 may be NULL), loaded: the
 * error message, or "" when it loaded. */
static inline const char *error_with2(const char *path, const char *value,
				      const char *path2, const char *value2)
{
	static char msg[512];
	cJSON *root = cJSON_Parse(BASE);

	CU_ASSERT_FATAL(root != NULL);
	mutate(root, path, value);
	if (path2)
		mutate(root, path2, value2);
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	int rc = load_text(text);
	free(text);
	snprintf(msg, sizeof msg, "%s", rc ? cfg_last_error() : "");
	CU_ASSERT(rc == 0 || msg[0] != '\0');
	return msg;
}

static inline const char *error_with(const char *path, const char *value)
{
	return error_with2(path, value, NULL, NULL);
}

/* A JSON array of `n` copies of `item` with its "%u" (at most one)
 * replaced by the index. */
static inline char *repeat(const char *item, unsigned n)
{
	size_t cap = 64 + (size_t)n * (strlen(item) + 16);
	char *s = malloc(cap);
	size_t used = 0;

	CU_ASSERT_FATAL(s != NULL);
	s[used++] = '[';
	for (unsigned i = 0; i < n; i++) {
		if (i)
			s[used++] = ',';
		const char *at = strstr(item, "%u");
		size_t pre = at ? (size_t)(at - item) : strlen(item);
		used += (size_t)snprintf(s + used, cap - used, "%.*s", (int)pre,
					 item);
		if (at)
			used += (size_t)snprintf(s + used, cap - used, "%u%s",
						 i, at + 2);
	}
	s[used++] = ']';
	s[used] = '\0';
	return s;
}

#define CHECK_ERROR(path, value, expected) \
	CU_ASSERT_STRING_EQUAL(error_with(path, value), expected)

/* The suite's scratch folder with the stand-in images (before CUnit). */
static inline int fixture_setup(void)
{
	char dir[] = "/tmp/hvd-zone-json-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0)
		return -1;
	snprintf(tmpdir, sizeof tmpdir, "%s", dir);
	return write_sized("Image", KERNEL_BYTES) ||
			       write_sized("linux2.dtb", DTB_BYTES)
		       ? -1
		       : 0;
}

static inline void fixture_cleanup(void)
{
	unlink("zone.json");
	unlink("Image");
	unlink("linux2.dtb");
	if (chdir("/") == 0)
		rmdir(tmpdir);
}

#endif
