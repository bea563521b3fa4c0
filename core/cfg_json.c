/* SPDX-License-Identifier: MIT */
/*
 * The JSON layer under every configuration file the tool reads: comment
 * stripping, numbers as JSON numbers or hex/decimal strings, key paths,
 * typed lookups, and errors that name the JSON path.
 *
 * Every error is formatted once into a thread-local buffer (see
 * cfg_last_error()) and written to the log at error level.
 */
#include "cfg_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hvd/plugin.h"
#include "log.h"

/* Largest file virtio_cfg_load() accepts. */
#define CFG_MAX_FILE_SIZE (16u << 20)
/* JSON numbers are doubles: integers above 2^53 are not exact. */
#define CFG_MAX_EXACT_DOUBLE 9007199254740992.0

static __thread char last_error[512];

const char *cfg_last_error(void)
{
	return last_error;
}

void cfg_fail(const char *fmt, ...)
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
const char *cfg_printable(const char *s, char *buf, size_t size)
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
			 cJSON_IsString(item) ? cfg_printable(item->valuestring,
							      buf, sizeof buf)
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

int cfg_get_u64_range(const struct cJSON *obj, const char *base,
		      const char *key, uint64_t min, uint64_t max,
		      uint64_t *out)
{
	uint64_t v;
	int r = cfg_get_u64(obj, base, key, &v);
	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	if (v < min || v > max) {
		char path[512];
		full_path(path, sizeof path, base, key);
		cfg_fail("%s: %" PRIu64 " is outside %" PRIu64 "..%" PRIu64,
			 path, v, min, max);
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

int cfg_check_keys_at(const struct cJSON *obj, const char *base,
		      const char *key, const char *const *known)
{
	const cJSON *item;
	char path[512];
	int r = lookup(obj, base, key, &item);

	if (r)
		return r;
	full_path(path, sizeof path, base, key);
	return cfg_check_keys(item, path, known, NULL);
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

int cfg_item_u64(const struct cJSON *item, const char *path, uint64_t *out)
{
	uint64_t v = 0;
	enum num_status st = parse_number(item, &v);

	if (st != NUM_OK) {
		report_number(path, item, st);
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_member_u64(const struct cJSON *obj, const char *at, const char *name,
		   bool required, bool *present, uint64_t *out)
{
	char path[128];
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	join_path(path, sizeof path, at, name, strlen(name));
	if (present)
		*present = item != NULL;
	if (!item) {
		if (!required)
			return 0;
		cfg_fail("%s: missing", path);
		return -1;
	}
	return cfg_item_u64(item, path, out);
}

int cfg_member_u32(const struct cJSON *obj, const char *at, const char *name,
		   uint32_t *out)
{
	uint64_t v = 0;

	if (cfg_member_u64(obj, at, name, true, NULL, &v))
		return -1;
	if (v > UINT32_MAX) {
		char path[128];

		join_path(path, sizeof path, at, name, strlen(name));
		cfg_fail("%s: out of range (more than 32 bits)", path);
		return -1;
	}
	*out = (uint32_t)v;
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

struct cJSON *cfg_parse_json(const char *text, const char *source)
{
	const char *err_at = NULL;
	char path[512];
	cJSON *root;
	char *clean;
	int line = 0;

	if (!source)
		source = "<embedded>";
	if (!text) {
		cfg_fail("%s: no text", source);
		return NULL;
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
		return NULL;
	}
	root = cJSON_ParseWithOpts(clean, &err_at, 1);
	if (!root) {
		report_syntax_error(clean, err_at, source);
		free(clean);
		return NULL;
	}
	free(clean);
	if (!cJSON_IsObject(root)) {
		cfg_fail("%s: expected a JSON object at the top level", source);
		cJSON_Delete(root);
		return NULL;
	}
	path[0] = '\0';
	if (check_duplicate_keys(root, path, 0, sizeof path)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

char *cfg_read_file(const char *file)
{
	struct stat st;
	FILE *f;
	char *text;
	size_t n;

	f = fopen(file, "rb");
	if (!f) {
		cfg_fail("%s: cannot open: %s", file, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0) {
		cfg_fail("%s: cannot read: %s", file, strerror(errno));
		fclose(f);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_fail("%s: not a regular file", file);
		fclose(f);
		return NULL;
	}
	if (st.st_size > (off_t)CFG_MAX_FILE_SIZE) {
		cfg_fail("%s: file too large (%lld bytes, at most %u)", file,
			 (long long)st.st_size, CFG_MAX_FILE_SIZE);
		fclose(f);
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		cfg_fail("%s: out of memory", file);
		fclose(f);
		return NULL;
	}
	n = fread(text, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		cfg_fail("%s: cannot read: %s", file, strerror(errno));
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		cfg_fail("%s: contains a NUL byte", file);
		free(text);
		return NULL;
	}
	return text;
}
