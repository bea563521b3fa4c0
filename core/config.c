/* SPDX-License-Identifier: MIT */
/*
 * The virtio JSON file: comment stripping, parsing, validation, and the
 * typed path lookups the plugin services are built on.
 *
 * Every error is formatted once into a thread-local buffer (see
 * cfg_last_error()) and written to the log at error level.
 */
#include "config.h"
#include "hvd/plugin.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

/* Largest file virtio_cfg_load() accepts. */
#define CFG_MAX_FILE_SIZE (16u << 20)
/* Smallest virtio-mmio window: registers 0x000..0x0ff plus config space. */
#define CFG_MIN_WINDOW 0x200u
/* JSON numbers are doubles: integers above 2^53 are not exact. */
#define CFG_MAX_EXACT_DOUBLE 9007199254740992.0

static __thread char last_error[512];

const char *cfg_last_error(void)
{
	return last_error;
}

static void cfg_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void cfg_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	log_error("%s", last_error);
}

/* ---- Comment stripping ------------------------------------------------- */

char *json_strip_comments(const char *text, int *line)
{
	size_t len = strlen(text);
	char *out = malloc(len + 1);
	int cur_line = 1;
	bool in_string = false;
	size_t i = 0;

	if (line)
		*line = 0;
	if (!out)
		return NULL;

	/* Comments become spaces (newlines stay), so lines and columns of
	 * the stripped text match the original. */
	while (i < len) {
		char c = text[i];

		if (in_string) {
			out[i] = c;
			if (c == '\\' && i + 1 < len) {
				out[i + 1] = text[i + 1];
				if (text[i + 1] == '\n')
					cur_line++;
				i += 2;
				continue;
			}
			if (c == '"')
				in_string = false;
			else if (c == '\n')
				cur_line++;
			i++;
			continue;
		}
		if (c == '"') {
			in_string = true;
			out[i++] = c;
			continue;
		}
		if (c == '/' && text[i + 1] == '/') {
			while (i < len && text[i] != '\n')
				out[i++] = ' ';
			continue;
		}
		if (c == '/' && text[i + 1] == '*') {
			int start_line = cur_line;

			out[i] = ' ';
			out[i + 1] = ' ';
			i += 2;
			for (;;) {
				if (i >= len) {
					free(out);
					if (line)
						*line = start_line;
					return NULL;
				}
				if (text[i] == '*' && text[i + 1] == '/') {
					out[i] = ' ';
					out[i + 1] = ' ';
					i += 2;
					break;
				}
				if (text[i] == '\n') {
					out[i] = '\n';
					cur_line++;
				} else {
					out[i] = ' ';
				}
				i++;
			}
			continue;
		}
		if (c == '\n')
			cur_line++;
		out[i++] = c;
	}
	out[len] = '\0';
	return out;
}

/* ---- Numbers ------------------------------------------------------------ */

enum num_status {
	NUM_OK,
	NUM_NOT_NUMBER, /* wrong JSON type */
	NUM_NEGATIVE,
	NUM_FRACTION,
	NUM_OVERFLOW,       /* more than 64 bits */
	NUM_INEXACT_DOUBLE, /* JSON number above 2^53 */
	NUM_SYNTAX,         /* string that is not a number */
};

static int digit_value(char c, unsigned base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < (int)base ? v : -1;
}

static enum num_status parse_number_string(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	const char *p = s;

	if (*p == '-')
		return NUM_NEGATIVE;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (digit_value(*p, base) < 0)
		return NUM_SYNTAX;
	for (; *p; p++) {
		int d = digit_value(*p, base);

		if (d < 0)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return NUM_OVERFLOW;
		v = v * base + (uint64_t)d;
	}
	if (*p == '.' && base == 10) {
		const char *q = p + 1;

		while (*q >= '0' && *q <= '9')
			q++;
		if (q > p + 1 && *q == '\0')
			return NUM_FRACTION;
	}
	if (*p != '\0')
		return NUM_SYNTAX;
	*out = v;
	return NUM_OK;
}

static enum num_status parse_number(const cJSON *item, uint64_t *out)
{
	if (cJSON_IsString(item))
		return parse_number_string(item->valuestring, out);
	if (!cJSON_IsNumber(item))
		return NUM_NOT_NUMBER;

	double d = item->valuedouble;

	if (d != d)
		return NUM_SYNTAX;
	if (d < 0)
		return NUM_NEGATIVE;
	if (d > CFG_MAX_EXACT_DOUBLE)
		return NUM_INEXACT_DOUBLE;
	if (d != (double)(uint64_t)d)
		return NUM_FRACTION;
	*out = (uint64_t)d;
	return NUM_OK;
}

/* Copy at most `max` characters of s into buf, replacing anything that is
 * not printable ASCII, so a message stays on one line. */
static const char *printable(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 4 < size; s++)
		buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s) {
		buf[n++] = '.';
		buf[n++] = '.';
		buf[n++] = '.';
	}
	buf[n] = '\0';
	return buf;
}

static void report_number(const char *path, const cJSON *item,
			  enum num_status st)
{
	char buf[40];

	switch (st) {
	case NUM_OK:
		break;
	case NUM_NOT_NUMBER:
		cfg_fail("%s: expected a number", path);
		break;
	case NUM_NEGATIVE:
		cfg_fail("%s: must not be negative", path);
		break;
	case NUM_FRACTION:
		cfg_fail("%s: must be an integer", path);
		break;
	case NUM_OVERFLOW:
		cfg_fail("%s: out of range (more than 64 bits)", path);
		break;
	case NUM_INEXACT_DOUBLE:
		cfg_fail("%s: too large for a JSON number (write it as a hex "
			 "string)",
			 path);
		break;
	case NUM_SYNTAX:
		cfg_fail("%s: invalid number '%s'", path,
			 cJSON_IsString(item)
				 ? printable(item->valuestring, buf, sizeof buf)
				 : "?");
		break;
	}
}

/* ---- Paths ---------------------------------------------------------------
 * Relative key paths: NAME ( '[' DIGITS ']' )* ( '.' NAME ( '[' DIGITS ']'
 * )* )*, where NAME is one or more characters other than '.', '[' and ']'.
 */

#define MAX_INDEX_DIGITS 9

static bool key_path_valid(const char *key)
{
	const char *p = key;

	if (!key || !*key)
		return false;
	for (;;) {
		size_t n = strcspn(p, ".[]");

		if (n == 0)
			return false;
		p += n;
		while (*p == '[') {
			size_t d = 0;

			p++;
			while (p[d] >= '0' && p[d] <= '9')
				d++;
			if (d == 0 || d > MAX_INDEX_DIGITS || p[d] != ']')
				return false;
			p += d + 1;
		}
		if (*p == '\0')
			return true;
		if (*p != '.')
			return false;
		p++;
	}
}

/* "<base>.<first n chars of key>", or just the key part without a base. */
static void join_path(char *buf, size_t size, const char *base, const char *key,
		      size_t n)
{
	if (base && *base && n)
		snprintf(buf, size, "%s.%.*s", base, (int)n, key);
	else if (base && *base)
		snprintf(buf, size, "%s", base);
	else
		snprintf(buf, size, "%.*s", (int)n, key);
}

static const cJSON *object_member(const cJSON *obj, const char *name, size_t n)
{
	const cJSON *child;

	cJSON_ArrayForEach (child, obj) {
		if (child->string && strlen(child->string) == n &&
		    memcmp(child->string, name, n) == 0)
			return child;
	}
	return NULL;
}

/* Resolve `key` below obj. 0 with *out set, -ENOENT, or -EINVAL (logged:
 * bad path syntax, or an intermediate of the wrong type). */
static int lookup(const cJSON *obj, const char *base, const char *key,
		  const cJSON **out)
{
	char path[512];
	const cJSON *cur = obj;
	const char *p = key;

	if (!key_path_valid(key)) {
		join_path(path, sizeof path, base, key ? key : "",
			  key ? strlen(key) : 0);
		cfg_fail("%s: invalid key path", path);
		return -EINVAL;
	}
	for (;;) {
		size_t n = strcspn(p, ".[]");

		if (!cJSON_IsObject(cur)) {
			/* Name the part already resolved, without the '.'. */
			size_t done = (size_t)(p - key);

			join_path(path, sizeof path, base, key,
				  done ? done - 1 : 0);
			cfg_fail("%s: expected an object", path);
			return -EINVAL;
		}
		cur = object_member(cur, p, n);
		p += n;
		if (!cur)
			return -ENOENT;
		while (*p == '[') {
			unsigned long idx = strtoul(p + 1, NULL, 10);

			if (!cJSON_IsArray(cur)) {
				join_path(path, sizeof path, base, key,
					  (size_t)(p - key));
				cfg_fail("%s: expected an array", path);
				return -EINVAL;
			}
			cur = cJSON_GetArrayItem(cur, (int)idx);
			if (!cur)
				return -ENOENT;
			p = strchr(p, ']') + 1;
		}
		if (*p == '\0')
			break;
		p++; /* '.' */
	}
	*out = cur;
	return 0;
}

static void full_path(char *buf, size_t size, const char *base, const char *key)
{
	join_path(buf, size, base, key, strlen(key));
}

int cfg_get_string(const struct cJSON *obj, const char *base, const char *key,
		   const char **out)
{
	const cJSON *item;
	char path[512];
	int r = lookup(obj, base, key, &item);

	if (r)
		return r;
	if (!cJSON_IsString(item)) {
		full_path(path, sizeof path, base, key);
		cfg_fail("%s: expected a string", path);
		return -EINVAL;
	}
	*out = item->valuestring;
	return 0;
}

int cfg_get_u64(const struct cJSON *obj, const char *base, const char *key,
		uint64_t *out)
{
	const cJSON *item;
	char path[512];
	uint64_t v = 0;
	int r = lookup(obj, base, key, &item);

	if (r)
		return r;
	enum num_status st = parse_number(item, &v);
	if (st != NUM_OK) {
		full_path(path, sizeof path, base, key);
		report_number(path, item, st);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int cfg_get_bool(const struct cJSON *obj, const char *base, const char *key,
		 bool *out)
{
	const cJSON *item;
	char path[512];
	int r = lookup(obj, base, key, &item);

	if (r)
		return r;
	if (!cJSON_IsBool(item)) {
		full_path(path, sizeof path, base, key);
		cfg_fail("%s: expected true or false", path);
		return -EINVAL;
	}
	*out = cJSON_IsTrue(item);
	return 0;
}

int cfg_get_kind(const struct cJSON *obj, const char *base, const char *key)
{
	const cJSON *item;
	int r = lookup(obj, base, key, &item);

	if (r)
		return r;
	if (cJSON_IsBool(item))
		return HVD_CFG_BOOL;
	if (cJSON_IsNumber(item))
		return HVD_CFG_NUMBER;
	if (cJSON_IsString(item))
		return HVD_CFG_STRING;
	if (cJSON_IsArray(item))
		return HVD_CFG_ARRAY;
	if (cJSON_IsObject(item))
		return HVD_CFG_OBJECT;
	return HVD_CFG_NULL;
}

int cfg_get_array_len(const struct cJSON *obj, const char *base,
		      const char *key, unsigned *out)
{
	const cJSON *item;
	char path[512];
	int r = lookup(obj, base, key, &item);

	if (r)
		return r;
	if (!cJSON_IsArray(item)) {
		full_path(path, sizeof path, base, key);
		cfg_fail("%s: expected an array", path);
		return -EINVAL;
	}
	*out = (unsigned)cJSON_GetArraySize(item);
	return 0;
}

static bool in_list(const char *const *list, const char *name)
{
	if (!list)
		return false;
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

int cfg_check_keys(const struct cJSON *obj, const char *base,
		   const char *const *known, const char *const *host_known)
{
	const cJSON *child;
	char path[512];

	if (!cJSON_IsObject(obj)) {
		cfg_fail("%s: expected an object", base && *base ? base : "?");
		return -EINVAL;
	}
	cJSON_ArrayForEach (child, obj) {
		if (!child->string)
			continue;
		if (in_list(known, child->string) ||
		    in_list(host_known, child->string))
			continue;
		full_path(path, sizeof path, base, child->string);
		cfg_fail("%s: unknown key", path);
		return -EINVAL;
	}
	return 0;
}

/* ---- Validation of the whole file --------------------------------------- */

/* An object with the same key twice: cJSON keeps both and lookups see the
 * first, which silently ignores the second. Refuse instead. */
static int check_duplicate_keys(const cJSON *item, char *path, size_t used,
				size_t size)
{
	const cJSON *child;
	unsigned i = 0;

	if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
		return 0;
	cJSON_ArrayForEach (child, item) {
		int n;

		if (cJSON_IsObject(item)) {
			for (const cJSON *prev = item->child; prev != child;
			     prev = prev->next) {
				if (strcmp(prev->string, child->string) == 0) {
					path[used] = '\0';
					cfg_fail("%s%s%s: duplicate key", path,
						 used ? "." : "",
						 child->string);
					return -1;
				}
			}
			n = snprintf(path + used, size - used, "%s%s",
				     used ? "." : "", child->string);
		} else {
			n = snprintf(path + used, size - used, "[%u]", i);
		}
		i++;
		/* Paths longer than the buffer are not checked further. */
		if (n < 0 || (size_t)n >= size - used)
			continue;
		if (check_duplicate_keys(child, path, used + (size_t)n, size))
			return -1;
	}
	path[used] = '\0';
	return 0;
}

/* A required or optional number member of `obj` (path prefix `at`). */
static int member_u64(const cJSON *obj, const char *at, const char *name,
		      bool required, bool *present, uint64_t *out)
{
	char path[128];
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	snprintf(path, sizeof path, "%s.%s", at, name);
	if (present)
		*present = item != NULL;
	if (!item) {
		if (!required)
			return 0;
		cfg_fail("%s: missing", path);
		return -1;
	}
	enum num_status st = parse_number(item, out);
	if (st != NUM_OK) {
		report_number(path, item, st);
		return -1;
	}
	return 0;
}

static int member_u32(const cJSON *obj, const char *at, const char *name,
		      uint32_t *out)
{
	uint64_t v = 0;

	if (member_u64(obj, at, name, true, NULL, &v))
		return -1;
	if (v > UINT32_MAX) {
		cfg_fail("%s.%s: out of range (more than 32 bits)", at, name);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

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
		if (member_u64(item, at, "zone0_ipa", true, NULL,
			       &m->zone0_ipa) ||
		    member_u64(item, at, "zonex_ipa", true, NULL,
			       &m->zonex_ipa) ||
		    member_u64(item, at, "size", true, NULL, &m->size))
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

static int parse_device(const cJSON *dev, struct zone_cfg *zc, unsigned di,
			bool *enabled)
{
	struct device_cfg *d = &zc->devices[zc->device_count];
	const cJSON *item;
	char at[48];

	snprintf(at, sizeof at, "%s.devices[%u]", zc->path, di);
	*enabled = false;
	if (!cJSON_IsObject(dev)) {
		cfg_fail("%s: expected an object", at);
		return -1;
	}

	item = cJSON_GetObjectItemCaseSensitive(dev, "status");
	if (item) {
		if (!cJSON_IsString(item)) {
			cfg_fail("%s.status: expected a string", at);
			return -1;
		}
		if (strcmp(item->valuestring, "disable") == 0)
			return 0;
		if (strcmp(item->valuestring, "enable") != 0) {
			char buf[40];

			cfg_fail("%s.status: expected \"enable\" or "
				 "\"disable\", "
				 "not \"%s\"",
				 at,
				 printable(item->valuestring, buf, sizeof buf));
			return -1;
		}
	}

	memset(d, 0, sizeof *d);
	snprintf(d->path, sizeof d->path, "%s", at);
	d->json = dev;

	item = cJSON_GetObjectItemCaseSensitive(dev, "type");
	if (!item) {
		cfg_fail("%s.type: missing", at);
		return -1;
	}
	if (!cJSON_IsString(item)) {
		cfg_fail("%s.type: expected a string", at);
		return -1;
	}
	if (item->valuestring[0] == '\0') {
		cfg_fail("%s.type: must not be empty", at);
		return -1;
	}
	d->type = item->valuestring;

	item = cJSON_GetObjectItemCaseSensitive(dev, "plugin");
	if (item) {
		if (!cJSON_IsString(item)) {
			cfg_fail("%s.plugin: expected a string", at);
			return -1;
		}
		if (item->valuestring[0] == '\0') {
			cfg_fail("%s.plugin: must not be empty", at);
			return -1;
		}
		d->plugin = item->valuestring;
	}

	if (member_u64(dev, at, "addr", true, NULL, &d->addr) ||
	    member_u64(dev, at, "len", true, NULL, &d->len) ||
	    member_u32(dev, at, "irq", &d->irq))
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
	if (member_u32(zone, zc->path, "id", &zc->id))
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

static int validate(struct virtio_cfg *cfg, const char *source)
{
	const cJSON *zones, *zone;
	char path[512];
	unsigned zi = 0;

	if (!cJSON_IsObject(cfg->root)) {
		cfg_fail("%s: expected a JSON object at the top level", source);
		return -1;
	}
	path[0] = '\0';
	if (check_duplicate_keys(cfg->root, path, 0, sizeof path))
		return -1;

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

/* Characters of the text shown after "near". */
#define SNIPPET_MAX 20

static void report_syntax_error(const char *clean, const char *err_at,
				const char *source)
{
	size_t len = strlen(clean);
	size_t pos = err_at && err_at >= clean && err_at <= clean + len
			     ? (size_t)(err_at - clean)
			     : len;
	unsigned line = 1;
	char snippet[SNIPPET_MAX + 4];
	size_t n = 0;

	/* cJSON often stops after the offending token and the blanks behind
	 * it: show the token too, if it is on the same line. */
	if (clean[pos] == ' ' || clean[pos] == '\t' || clean[pos] == '\r') {
		while (pos > 0 &&
		       (clean[pos - 1] == ' ' || clean[pos - 1] == '\t' ||
			clean[pos - 1] == '\r'))
			pos--;
		if (pos > 0 && clean[pos - 1] != '\n')
			pos--;
	}
	for (size_t i = 0; i < pos; i++)
		if (clean[i] == '\n')
			line++;
	while (clean[pos + n] && clean[pos + n] != '\n' && n < SNIPPET_MAX) {
		char c = clean[pos + n];

		snippet[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	if (clean[pos + n] && clean[pos + n] != '\n') {
		memcpy(snippet + n, "...", 3);
		n += 3;
	}
	snippet[n] = '\0';
	if (n == 0 && clean[pos] == '\0')
		cfg_fail("%s:%u: JSON syntax error at end of input", source,
			 line);
	else
		cfg_fail("%s:%u: JSON syntax error near '%s'", source, line,
			 snippet);
}

int virtio_cfg_parse(const char *text, const char *source,
		     struct virtio_cfg *out)
{
	const char *err_at = NULL;
	char *clean;
	int line = 0;

	memset(out, 0, sizeof *out);
	if (!source)
		source = "<embedded>";
	if (!text) {
		cfg_fail("%s: no text", source);
		return -1;
	}
	/* A UTF-8 byte order mark some editors write. */
	if ((unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf)
		text += 3;

	clean = json_strip_comments(text, &line);
	if (!clean) {
		if (line > 0)
			cfg_fail("%s:%d: unterminated block comment", source,
				 line);
		else
			cfg_fail("%s: out of memory", source);
		return -1;
	}
	out->root = cJSON_ParseWithOpts(clean, &err_at, 1);
	if (!out->root) {
		report_syntax_error(clean, err_at, source);
		free(clean);
		return -1;
	}
	free(clean);
	if (validate(out, source)) {
		virtio_cfg_free(out);
		return -1;
	}
	return 0;
}

int virtio_cfg_load(const char *file, struct virtio_cfg *out)
{
	struct stat st;
	FILE *f;
	char *text;
	size_t n;
	int r;

	memset(out, 0, sizeof *out);
	f = fopen(file, "rb");
	if (!f) {
		cfg_fail("%s: cannot open: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0) {
		cfg_fail("%s: cannot read: %s", file, strerror(errno));
		fclose(f);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_fail("%s: not a regular file", file);
		fclose(f);
		return -1;
	}
	if (st.st_size > (off_t)CFG_MAX_FILE_SIZE) {
		cfg_fail("%s: file too large (%lld bytes, at most %u)", file,
			 (long long)st.st_size, CFG_MAX_FILE_SIZE);
		fclose(f);
		return -1;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		cfg_fail("%s: out of memory", file);
		fclose(f);
		return -1;
	}
	n = fread(text, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		cfg_fail("%s: cannot read: %s", file, strerror(errno));
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		cfg_fail("%s: contains a NUL byte", file);
		free(text);
		return -1;
	}
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
