/* SPDX-License-Identifier: MIT */
/*
 * Private to the zone file decoder (zone_json.c: top level and images;
 * zone_json_hw.c: arch_config and PCI). Every function returns 0, or -1
 * with the error reported through cfg_fail() naming the JSON path.
 */
#ifndef CORE_ZONE_JSON_IMPL_H
#define CORE_ZONE_JSON_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "zone_layout.h"

struct cJSON;

/* A top-level array member of at most `max` entries (`what` names them in
 * the message); *out NULL when absent and not required. */
int zj_member_array(const struct cJSON *obj, const char *name, bool required,
		    unsigned max, const char *what, const struct cJSON **out);
/* A string member below `at` ("" for the top level); *out NULL when absent
 * and not required. */
int zj_member_string(const struct cJSON *obj, const char *at, const char *name,
		     bool required, const char **out);
/* A number member below `at` that must not exceed `max`. */
int zj_member_small(const struct cJSON *obj, const char *at, const char *name,
		    bool required, uint64_t max, uint64_t *out);

/* A key some hvisor or hvisor-tool version reads but this tool does not
 * apply, and why; logged at info level when present. */
struct zj_ignored {
	const char *name;
	const char *why;
};

/* obj is an object whose keys are in `known` or `ignored` (either may be
 * NULL); any other key is a warning naming its path, or an error in
 * strict mode. */
int zj_check_keys(const struct cJSON *obj, const char *at,
		  const char *const *known, const struct zj_ignored *ignored);

/* True while parsing with --strict. */
bool zj_strict(void);
/* Numbers as hvisor-tool reads them: octal strings are rewritten as hex
 * (info), JSON numbers above INT32_MAX warn (errors when strict). */
int zj_check_values(struct cJSON *root);

int zj_parse_arch_config(const struct cJSON *root, struct zone_desc *d);
int zj_parse_pci_config(const struct cJSON *root, struct zone_desc *d);
int zj_parse_pci_devs(const struct cJSON *root, struct zone_desc *d);

/* [a, a+alen) and [b, b+blen) intersect; neither wraps. */
bool zj_ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen);

/* zone_json_boot.c */
/* zone_json_check_images(), where missing files may be only warnings. */
int zj_check_images(struct zone_desc *d, uint64_t page_size, bool missing_ok);
int zj_parse_modules(const struct cJSON *root, struct zone_desc *d);
/* d->x86.protocol from "boot_protocol" / "multiboot_enabled" (any arch). */
int zj_parse_boot_protocol(const struct cJSON *root, struct zone_desc *d);
/* The x86_64 boot inputs of arch_config `ac` (and, for multiboot2, of the
 * top level); after zj_parse_boot_protocol(). */
int zj_parse_x86_boot(const struct cJSON *root, const struct cJSON *ac,
		      struct zone_desc *d);

#endif
