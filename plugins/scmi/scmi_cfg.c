/* SPDX-License-Identifier: MIT */
/*
 * The id lists of a virtio-scmi device, in either generation of
 * hvisor-tool's keys (docs/scmi.md):
 *   - HEAD: "clock_ids", "reset_ids", "power_ids": guest id i is the
 *     kernel's list[i];
 *   - branch Orin: "<kind>_max_num" guest ids, of which
 *     "allowed_list.<kind>_ids" (numbers, or "*" for all) may be used,
 *     mapped through the object "<kind>_map" ({"guest": kernel}, identity
 *     where absent), with "<kind>_phandle" naming the provider.
 * A device uses one generation; mixing them is an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scmi.h"

static const char *const kind_name[SCMI_KINDS] = {"clock", "reset", "power"};

static int ids_alloc(struct scmi_ids *ids, uint32_t count)
{
	ids->count = count;
	if (count == 0)
		return 0;
	ids->phys = calloc(count, sizeof *ids->phys);
	ids->allowed = calloc(count, 1);
	return ids->phys && ids->allowed ? 0 : -ENOMEM;
}

/* HEAD: "<kind>_ids", an array of kernel ids; absent or empty: none. */
static int parse_list(struct scmi *s, enum scmi_kind k)
{
	const struct hvd_host_services *h = s->host;
	char key[64];
	snprintf(key, sizeof key, "%s_ids", kind_name[k]);
	unsigned n = 0;
	int rc = h->cfg_array_len(s->dev, key, &n);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (n > 0xffff) {
		h->log(s->dev, HVD_LOG_ERROR,
		       "%s: %u ids, at most 65535 fit SCMI", key, n);
		return -EINVAL;
	}
	rc = ids_alloc(&s->ids[k], n);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		char el[80];
		uint64_t v = 0;
		snprintf(el, sizeof el, "%s[%u]", key, i);
		rc = h->cfg_u64_range(s->dev, el, 0, UINT32_MAX, &v);
		s->ids[k].phys[i] = (uint32_t)v;
		s->ids[k].allowed[i] = 1;
	}
	return rc;
}

/* Orin: element `el` of an allowed list: "*" (all) or a guest id. */
static int parse_allowed_one(struct scmi *s, struct scmi_ids *ids,
			     const char *el)
{
	const char *str = NULL;
	if (s->host->cfg_kind(s->dev, el) == HVD_CFG_STRING &&
	    s->host->cfg_string(s->dev, el, &str) == 0 && !strcmp(str, "*")) {
		memset(ids->allowed, 1, ids->count);
		return 0;
	}
	uint64_t v = 0;
	int rc = s->host->cfg_u64_range(s->dev, el, 0, ids->count - 1, &v);
	if (rc == 0)
		ids->allowed[v] = 1;
	return rc;
}

static int parse_allowed(struct scmi *s, enum scmi_kind k)
{
	struct scmi_ids *ids = &s->ids[k];
	char key[64];
	snprintf(key, sizeof key, "allowed_list.%s_ids", kind_name[k]);
	int kind = s->host->cfg_kind(s->dev, key);
	if (kind == -ENOENT)
		return 0; /* nothing allowed */
	if (kind == HVD_CFG_STRING || ids->count == 0)
		return ids->count ? parse_allowed_one(s, ids, key) : 0;
	unsigned n = 0;
	int rc = s->host->cfg_array_len(s->dev, key, &n);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		char el[96];
		snprintf(el, sizeof el, "%s[%u]", key, i);
		rc = parse_allowed_one(s, ids, el);
	}
	return rc;
}

/* Orin: "<kind>_map", {"<guest id>": kernel id}; only ids below max_num
 * may appear (checked as keys, so the error names the stray one). */
static int parse_map(struct scmi *s, enum scmi_kind k)
{
	struct scmi_ids *ids = &s->ids[k];
	for (uint32_t i = 0; i < ids->count; i++)
		ids->phys[i] = i;
	char key[64];
	snprintf(key, sizeof key, "%s_map", kind_name[k]);
	if (s->host->cfg_kind(s->dev, key) == -ENOENT)
		return 0;
	/* Names "0".."count-1" as the known keys. */
	const char **known = calloc((size_t)ids->count + 1, sizeof *known);
	char *names = calloc(ids->count ? ids->count : 1, 12);
	int rc = known && names ? 0 : -ENOMEM;
	for (uint32_t i = 0; rc == 0 && i < ids->count; i++) {
		snprintf(names + 12 * i, 12, "%u", i);
		known[i] = names + 12 * i;
	}
	if (rc == 0)
		rc = s->host->cfg_check_keys_at(s->dev, key, known);
	for (uint32_t i = 0; rc == 0 && i < ids->count; i++) {
		char el[80];
		uint64_t v = ids->phys[i];
		snprintf(el, sizeof el, "%s.%u", key, i);
		rc = s->host->cfg_u64_range(s->dev, el, 0, UINT32_MAX, &v);
		ids->phys[i] = (uint32_t)v;
	}
	free(known);
	free(names);
	return rc;
}

static int parse_orin(struct scmi *s, enum scmi_kind k)
{
	const struct hvd_host_services *h = s->host;
	char key[64];
	uint64_t v = 0;
	snprintf(key, sizeof key, "%s_max_num", kind_name[k]);
	int rc = h->cfg_u64_range(s->dev, key, 0, 0xffff, &v);
	if (rc)
		return rc;
	/* hvisor-tool's Orin branch refuses a config without these two. */
	if (k != SCMI_POWER && h->cfg_kind(s->dev, key) == -ENOENT) {
		h->log(s->dev, HVD_LOG_ERROR,
		       "%s: required with allowed_list, *_map or *_phandle",
		       key);
		return -EINVAL;
	}
	rc = ids_alloc(&s->ids[k], (uint32_t)v);
	if (rc == 0)
		rc = parse_map(s, k);
	if (rc == 0)
		rc = parse_allowed(s, k);
	snprintf(key, sizeof key, "%s_phandle", kind_name[k]);
	v = 0;
	if (rc == 0)
		rc = h->cfg_u64_range(s->dev, key, 1, UINT32_MAX, &v);
	s->ids[k].phandle = (uint32_t)v;
	return rc;
}

/* Which generation: the first Orin key found, or NULL for HEAD. */
static const char *orin_key(struct scmi *s)
{
	static const char *const keys[] = {"allowed_list",
					   "clock_map",
					   "reset_map",
					   "power_map",
					   "clock_phandle",
					   "reset_phandle",
					   "power_phandle",
					   "clock_max_num",
					   "reset_max_num",
					   "power_max_num",
					   NULL};
	for (unsigned i = 0; keys[i]; i++)
		if (s->host->cfg_kind(s->dev, keys[i]) >= 0)
			return keys[i];
	return NULL;
}

int scmi_cfg_parse(struct scmi *s)
{
	const struct hvd_host_services *h = s->host;
	static const char *const keys[] = {"clock_ids",     "reset_ids",
					   "power_ids",     "allowed_list",
					   "clock_map",     "reset_map",
					   "power_map",     "clock_phandle",
					   "reset_phandle", "power_phandle",
					   "clock_max_num", "reset_max_num",
					   "power_max_num", NULL};
	if (h->cfg_check_keys(s->dev, keys))
		return -EINVAL;
	const char *orin = orin_key(s);
	if (!orin) {
		int rc = 0;
		for (int k = 0; rc == 0 && k < SCMI_KINDS; k++)
			rc = parse_list(s, (enum scmi_kind)k);
		return rc;
	}
	for (int k = 0; k < SCMI_KINDS; k++) {
		char key[64];
		snprintf(key, sizeof key, "%s_ids", kind_name[k]);
		if (h->cfg_kind(s->dev, key) >= 0) {
			h->log(s->dev, HVD_LOG_ERROR,
			       "%s: cannot be combined with %s (use "
			       "allowed_list.%s)",
			       key, orin, key);
			return -EINVAL;
		}
	}
	static const char *const allowed_keys[] = {"clock_ids", "reset_ids",
						   "power_ids", NULL};
	int rc = h->cfg_check_keys_at(s->dev, "allowed_list", allowed_keys);
	if (rc == -ENOENT)
		rc = 0;
	for (int k = 0; rc == 0 && k < SCMI_KINDS; k++)
		rc = parse_orin(s, (enum scmi_kind)k);
	return rc;
}

void scmi_cfg_free(struct scmi *s)
{
	for (int k = 0; k < SCMI_KINDS; k++) {
		free(s->ids[k].phys);
		free(s->ids[k].allowed);
	}
}

int scmi_ids_lookup(const struct scmi_ids *ids, uint32_t id, uint32_t *phys)
{
	if (id >= ids->count || !ids->allowed[id])
		return -ENOENT;
	*phys = ids->phys[id];
	return 0;
}
