/* SPDX-License-Identifier: MIT */
/*
 * The virtio JSON file of `hvisor virtio start` (existing format, plus //
 * and block comments, plus an optional per-device "plugin" path).
 *
 * Every error names the JSON path, e.g.
 *   "zones[0].devices[1].irq: expected a number"
 * and is written to the log at error level; loaders return -1.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;

struct mem_region_cfg {
	uint64_t zone0_ipa; /* where zone 0 maps it (mmap offset) */
	uint64_t zonex_ipa; /* guest-physical address in the zone */
	uint64_t size;
};

struct device_cfg {
	const char *type;   /* "blk", "rng", ... */
	const char *plugin; /* explicit plugin file, or NULL */
	uint64_t addr;      /* virtio-mmio base (zone IPA) */
	uint64_t len;       /* window length, >= 0x200 */
	uint32_t irq;
	char path[48];            /* "zones[0].devices[1]" */
	const struct cJSON *json; /* the device object */
};

struct zone_cfg {
	uint32_t id;
	char path[24]; /* "zones[0]" */
	struct mem_region_cfg *mem;
	unsigned mem_count;
	struct device_cfg *devices; /* enabled devices only */
	unsigned device_count;
};

struct virtio_cfg {
	struct cJSON *root; /* owns all strings above */
	struct zone_cfg *zones;
	unsigned zone_count;
};

/* Parse text (comments allowed). `source` names it in messages (a file
 * path or "<embedded>"). Validates: types of every known key, sizes > 0,
 * memory regions of a zone do not overlap, device windows of a zone do not
 * overlap, zone ids unique. Returns 0 or -1 (error logged). */
int virtio_cfg_parse(const char *text, const char *source,
		     struct virtio_cfg *out);
int virtio_cfg_load(const char *file, struct virtio_cfg *out);
void virtio_cfg_free(struct virtio_cfg *cfg);

/* Remove // and block comments outside strings. Returns a malloc'd copy, or
 * NULL for an unterminated block comment (*line set to where it began). */
char *json_strip_comments(const char *text, int *line);

/* Typed lookups inside a device object for the plugin services. `key` is a
 * relative path: "img", "mac[2]", "ports[0].name". The error messages use
 * `base` ("zones[0].devices[1]") + "." + key. Return 0, -ENOENT (absent) or
 * -EINVAL (wrong type / bad path, logged). */
int cfg_get_string(const struct cJSON *obj, const char *base, const char *key,
		   const char **out);
int cfg_get_u64(const struct cJSON *obj, const char *base, const char *key,
		uint64_t *out);
int cfg_get_bool(const struct cJSON *obj, const char *base, const char *key,
		 bool *out);
int cfg_get_array_len(const struct cJSON *obj, const char *base,
		      const char *key, unsigned *out);
/* HVD_CFG_* kind of the key, -ENOENT, or -EINVAL for a bad path (logged);
 * never logs for a present key of any type. */
int cfg_get_kind(const struct cJSON *obj, const char *base, const char *key);
/* Every member of obj is in `known` or `host_known` (both NULL-terminated,
 * either may be NULL). Returns 0 or -EINVAL naming the first unknown key. */
int cfg_check_keys(const struct cJSON *obj, const char *base,
		   const char *const *known, const char *const *host_known);

/* The last error message formatted by this module on the calling thread
 * (the text that was logged), or "" if none yet. */
const char *cfg_last_error(void);

#endif
