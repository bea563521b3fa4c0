/* SPDX-License-Identifier: MIT */
/*
 * The JSON layer shared by the virtio file (config.c) and the zone file
 * (zone_json.c): comments allowed, numbers as JSON numbers or hex/decimal
 * strings, key paths, and errors of the form
 *   "zones[0].devices[1].irq: expected a number"
 * written to the log at error level.
 */
#ifndef CORE_CFG_JSON_H
#define CORE_CFG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

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
/* Optional number in [min, max]: 0 (*out untouched when absent) or -EINVAL
 * (logged, full path). */
int cfg_get_u64_range(const struct cJSON *obj, const char *base,
		      const char *key, uint64_t min, uint64_t max,
		      uint64_t *out);
int cfg_get_bool(const struct cJSON *obj, const char *base, const char *key,
		 bool *out);
int cfg_get_array_len(const struct cJSON *obj, const char *base,
		      const char *key, unsigned *out);
/* Every member of obj is in `known` or `host_known` (both NULL-terminated,
 * either may be NULL). Returns 0 or -EINVAL naming the first unknown key. */
int cfg_check_keys(const struct cJSON *obj, const char *base,
		   const char *const *known, const char *const *host_known);
/* HVD_CFG_* kind of the key, -ENOENT, or -EINVAL for a bad path (logged);
 * never logs for a present key of any type. */
int cfg_get_kind(const struct cJSON *obj, const char *base, const char *key);
/* The same for the object at `key` below obj (e.g. "ports[0]"): 0,
 * -ENOENT when absent, -EINVAL (logged) when unknown keys or not an object. */
int cfg_check_keys_at(const struct cJSON *obj, const char *base,
		      const char *key, const char *const *known);

/* The last error message formatted by this module on the calling thread
 * (the text that was logged), or "" if none yet. */
const char *cfg_last_error(void);

/* ---- Building blocks shared with other JSON files (the zone file) ------ */

/* Format an error, keep it for cfg_last_error() and log it. */
void cfg_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copy s into buf (of size bytes) with anything not printable ASCII
 * replaced and "..." when cut, so a message stays on one line. */
const char *cfg_printable(const char *s, char *buf, size_t size);
/* A JSON number, or a string holding a decimal or 0x-hex number, as u64.
 * Errors name `path`. Returns 0 or -1 (logged). */
int cfg_item_u64(const struct cJSON *item, const char *path, uint64_t *out);
/* Member `name` of obj (error path "<at>.<name>", or "<name>" when `at`
 * is empty). Absent: -1 "missing" if
 * required, else 0 with *out untouched; *present (if not NULL) says which. */
int cfg_member_u64(const struct cJSON *obj, const char *at, const char *name,
		   bool required, bool *present, uint64_t *out);
/* Required member that must fit in 32 bits. */
int cfg_member_u32(const struct cJSON *obj, const char *at, const char *name,
		   uint32_t *out);
/* Parse JSON text (BOM and comments allowed) whose top level must be an
 * object with no duplicate keys anywhere. `source` names it in messages.
 * Returns the tree (cJSON_Delete it) or NULL (error logged). */
struct cJSON *cfg_parse_json(const char *text, const char *source);
/* Read a whole config file: regular, at most 16 MiB, no NUL byte. Returns
 * malloc'd text or NULL (error logged). */
char *cfg_read_file(const char *file);

#endif
