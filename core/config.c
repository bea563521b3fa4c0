/* SPDX-License-Identifier: MIT */
/*
 * The virtio JSON file of `hvisor virtio start`: zones, their memory
 * regions and devices, validated on top of the JSON layer (cfg_json.c).
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Smallest virtio-mmio window: registers 0x000..0x0ff plus config space. */
#define CFG_MIN_WINDOW 0x200u

/* [a, a+alen) and [b, b+blen) intersect; neither wraps. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int parse_memory(const cJSON *zone, struct zone_cfg *zc)
{
	const cJSON *arr =
		cJSON_GetObjectItemCaseSensitive(zone, "memory_region");
	const cJSON *item;
	unsigned i = 0;

	if (!arr) {
		cfg_fail("%s.memory_region: missing", zc->path);
		return -1;
	}
	if (!cJSON_IsArray(arr)) {
		cfg_fail("%s.memory_region: expected an array", zc->path);
		return -1;
	}
	int n = cJSON_GetArraySize(arr);
	if (n == 0) {
		cfg_fail("%s.memory_region: expected a non-empty array",
			 zc->path);
		return -1;
	}
	zc->mem = calloc((size_t)n, sizeof *zc->mem);
	if (!zc->mem) {
		cfg_fail("%s.memory_region: out of memory", zc->path);
		return -1;
	}
	cJSON_ArrayForEach (item, arr) {
		struct mem_region_cfg *m = &zc->mem[i];
		char at[64];

		snprintf(at, sizeof at, "%s.memory_region[%u]", zc->path, i);
		if (!cJSON_IsObject(item)) {
			cfg_fail("%s: expected an object", at);
			return -1;
		}
		if (cfg_member_u64(item, at, "zone0_ipa", true, NULL,
				   &m->zone0_ipa) ||
		    cfg_member_u64(item, at, "zonex_ipa", true, NULL,
				   &m->zonex_ipa) ||
		    cfg_member_u64(item, at, "size", true, NULL, &m->size))
			return -1;
		if (m->size == 0) {
			cfg_fail("%s.size: must be greater than 0", at);
			return -1;
		}
		if (m->zone0_ipa + m->size < m->zone0_ipa ||
		    m->zonex_ipa + m->size < m->zonex_ipa) {
			cfg_fail("%s: region 0x%" PRIx64 "+0x%" PRIx64
				 " wraps around the address space",
				 at, m->zonex_ipa, m->size);
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			if (ranges_overlap(m->zonex_ipa, m->size,
					   zc->mem[j].zonex_ipa,
					   zc->mem[j].size)) {
				cfg_fail("%s: overlaps %s.memory_region[%u]",
					 at, zc->path, j);
				return -1;
			}
		}
		i++;
		zc->mem_count = i;
	}
	return 0;
}

/* "status": 1 enabled (also when absent), 0 "disable", -1 error. */
static int device_status(const cJSON *dev, const char *at)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(dev, "status");
	if (!item)
		return 1;
	if (!cJSON_IsString(item)) {
		cfg_fail("%s.status: expected a string", at);
		return -1;
	}
	if (strcmp(item->valuestring, "disable") == 0)
		return 0;
	if (strcmp(item->valuestring, "enable") != 0) {
		char buf[40];
		cfg_fail("%s.status: expected \"enable\" or \"disable\", "
			 "not \"%s\"",
			 at, cfg_printable(item->valuestring, buf, sizeof buf));
		return -1;
	}
	return 1;
}

/* A non-empty string member: 0 with *out set (NULL when absent and not
 * required), or -1 with the error reported. */
static int string_member(const cJSON *obj, const char *at, const char *name,
			 bool required, const char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	*out = NULL;
	if (!item && !required)
		return 0;
	if (!item) {
		cfg_fail("%s.%s: missing", at, name);
		return -1;
	}
	if (!cJSON_IsString(item)) {
		cfg_fail("%s.%s: expected a string", at, name);
		return -1;
	}
	if (item->valuestring[0] == '\0') {
		cfg_fail("%s.%s: must not be empty", at, name);
		return -1;
	}
	*out = item->valuestring;
	return 0;
}

/* addr, len, irq: a window of at least CFG_MIN_WINDOW that neither wraps
 * nor overlaps the zone's devices parsed so far. */
static int device_window(const cJSON *dev, const struct zone_cfg *zc,
			 struct device_cfg *d)
{
	const char *at = d->path;
	if (cfg_member_u64(dev, at, "addr", true, NULL, &d->addr) ||
	    cfg_member_u64(dev, at, "len", true, NULL, &d->len) ||
	    cfg_member_u32(dev, at, "irq", &d->irq))
		return -1;
	if (d->len < CFG_MIN_WINDOW) {
		cfg_fail("%s.len: 0x%" PRIx64
			 " is smaller than the minimum 0x%x",
			 at, d->len, CFG_MIN_WINDOW);
		return -1;
	}
	if (d->addr + d->len < d->addr) {
		cfg_fail("%s: window 0x%" PRIx64 "+0x%" PRIx64
			 " wraps around the address space",
			 at, d->addr, d->len);
		return -1;
	}
	for (unsigned j = 0; j < zc->device_count; j++) {
		const struct device_cfg *o = &zc->devices[j];
		if (ranges_overlap(d->addr, d->len, o->addr, o->len)) {
			cfg_fail("%s: window 0x%" PRIx64 "+0x%" PRIx64
				 " overlaps %s",
				 at, d->addr, d->len, o->path);
			return -1;
		}
	}
	return 0;
}

/* One entry of a zone's "devices": an object; skipped (*enabled false)
 * when its status is "disable"; else type, optional plugin file, window. */
static int parse_device(const cJSON *dev, struct zone_cfg *zc, unsigned di,
			bool *enabled)
{
	struct device_cfg *d = &zc->devices[zc->device_count];
	char at[48];

	snprintf(at, sizeof at, "%s.devices[%u]", zc->path, di);
	*enabled = false;
	if (!cJSON_IsObject(dev)) {
		cfg_fail("%s: expected an object", at);
		return -1;
	}
	int status = device_status(dev, at);
	if (status <= 0)
		return status;
	memset(d, 0, sizeof *d);
	snprintf(d->path, sizeof d->path, "%s", at);
	d->json = dev;
	if (string_member(dev, at, "type", true, &d->type) ||
	    string_member(dev, at, "plugin", false, &d->plugin) ||
	    device_window(dev, zc, d))
		return -1;
	*enabled = true;
	return 0;
}

static int parse_zone(const cJSON *zone, unsigned zi, struct virtio_cfg *cfg)
{
	struct zone_cfg *zc = &cfg->zones[zi];
	const cJSON *devs, *dev;
	unsigned di = 0;

	snprintf(zc->path, sizeof zc->path, "zones[%u]", zi);
	if (!cJSON_IsObject(zone)) {
		cfg_fail("%s: expected an object", zc->path);
		return -1;
	}
	if (cfg_member_u32(zone, zc->path, "id", &zc->id))
		return -1;
	for (unsigned j = 0; j < zi; j++) {
		if (cfg->zones[j].id == zc->id) {
			cfg_fail("%s.id: duplicate zone id %" PRIu32, zc->path,
				 zc->id);
			return -1;
		}
	}
	if (parse_memory(zone, zc))
		return -1;

	devs = cJSON_GetObjectItemCaseSensitive(zone, "devices");
	if (!devs)
		return 0;
	if (!cJSON_IsArray(devs)) {
		cfg_fail("%s.devices: expected an array", zc->path);
		return -1;
	}
	int n = cJSON_GetArraySize(devs);
	if (n == 0)
		return 0;
	zc->devices = calloc((size_t)n, sizeof *zc->devices);
	if (!zc->devices) {
		cfg_fail("%s.devices: out of memory", zc->path);
		return -1;
	}
	cJSON_ArrayForEach (dev, devs) {
		bool enabled;

		if (parse_device(dev, zc, di, &enabled))
			return -1;
		if (enabled)
			zc->device_count++;
		di++;
	}
	return 0;
}

static int validate(struct virtio_cfg *cfg)
{
	const cJSON *zones, *zone;
	unsigned zi = 0;

	zones = cJSON_GetObjectItemCaseSensitive(cfg->root, "zones");
	if (!zones) {
		cfg_fail("zones: missing");
		return -1;
	}
	if (!cJSON_IsArray(zones)) {
		cfg_fail("zones: expected an array");
		return -1;
	}
	int n = cJSON_GetArraySize(zones);
	if (n == 0) {
		cfg_fail("zones: expected a non-empty array");
		return -1;
	}
	cfg->zones = calloc((size_t)n, sizeof *cfg->zones);
	if (!cfg->zones) {
		cfg_fail("zones: out of memory");
		return -1;
	}
	cJSON_ArrayForEach (zone, zones) {
		cfg->zone_count = zi + 1;
		if (parse_zone(zone, zi, cfg))
			return -1;
		zi++;
	}
	return 0;
}

int virtio_cfg_parse(const char *text, const char *source,
		     struct virtio_cfg *out)
{
	memset(out, 0, sizeof *out);
	out->root = cfg_parse_json(text, source);
	if (!out->root)
		return -1;
	if (validate(out)) {
		virtio_cfg_free(out);
		return -1;
	}
	return 0;
}

int virtio_cfg_load(const char *file, struct virtio_cfg *out)
{
	char *text;
	int r;

	memset(out, 0, sizeof *out);
	text = cfg_read_file(file);
	if (!text)
		return -1;
	r = virtio_cfg_parse(text, file, out);
	free(text);
	return r;
}

void virtio_cfg_free(struct virtio_cfg *cfg)
{
	if (!cfg)
		return;
	if (cfg->zones) {
		for (unsigned i = 0; i < cfg->zone_count; i++) {
			free(cfg->zones[i].mem);
			free(cfg->zones[i].devices);
		}
		free(cfg->zones);
	}
	cJSON_Delete(cfg->root);
	memset(cfg, 0, sizeof *cfg);
}
