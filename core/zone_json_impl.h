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

int zj_parse_arch_config(const struct cJSON *root, struct zone_desc *d);
int zj_parse_pci_config(const struct cJSON *root, struct zone_desc *d);
int zj_parse_pci_devs(const struct cJSON *root, struct zone_desc *d);

#endif
