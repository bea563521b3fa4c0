/* SPDX-License-Identifier: MIT */
/*
 * A small JSON Schema checker for the control replies: the keywords
 * docs/control-schema.json uses (type, const, required, properties,
 * additionalProperties: false, items, $ref to #/$defs, the hex pattern).
 * Any other keyword is reported as unsupported, so the schema cannot grow
 * rules that this silently skips.
 */
#ifndef TESTS_CONTROL_SCHEMA_CHECK_H
#define TESTS_CONTROL_SCHEMA_CHECK_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define HEX_PATTERN "^0x[0-9a-f]+$"

static bool schema_fail(const char *path, const char *why)
{
	fprintf(stderr, "\n  schema: %s: %s\n", path, why);
	return false;
}

static bool type_ok(const cJSON *v, const char *type)
{
	if (!strcmp(type, "object"))
		return cJSON_IsObject(v);
	if (!strcmp(type, "array"))
		return cJSON_IsArray(v);
	if (!strcmp(type, "string"))
		return cJSON_IsString(v);
	if (!strcmp(type, "boolean"))
		return cJSON_IsBool(v);
	if (!strcmp(type, "number"))
		return cJSON_IsNumber(v);
	if (!strcmp(type, "integer"))
		return cJSON_IsNumber(v) && v->valuedouble >= 0 &&
		       floor(v->valuedouble) == v->valuedouble;
	return false;
}

static bool hex_ok(const char *s)
{
	if (strncmp(s, "0x", 2) || !s[2])
		return false;
	for (s += 2; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool schema_check(const cJSON *root, const cJSON *schema, const cJSON *v,
			 const char *path);

static bool check_object(const cJSON *root, const cJSON *schema, const cJSON *v,
			 const char *path)
{
	const cJSON *props = cJSON_GetObjectItem(schema, "properties");
	const cJSON *k;
	char sub[256];
	cJSON_ArrayForEach (k, cJSON_GetObjectItem(schema, "required"))
		if (!cJSON_GetObjectItem(v, k->valuestring)) {
			snprintf(sub, sizeof sub, "missing '%s'",
				 k->valuestring);
			return schema_fail(path, sub);
		}
	const cJSON *extra =
		cJSON_GetObjectItem(schema, "additionalProperties");
	const cJSON *m;
	cJSON_ArrayForEach (m, v) {
		const cJSON *ps = cJSON_GetObjectItem(props, m->string);
		snprintf(sub, sizeof sub, "%s.%s", path, m->string);
		if (!ps && cJSON_IsFalse(extra))
			return schema_fail(sub, "not in the schema");
		if (ps && !schema_check(root, ps, m, sub))
			return false;
	}
	return true;
}

static bool schema_check(const cJSON *root, const cJSON *schema, const cJSON *v,
			 const char *path)
{
	const cJSON *kw;
	cJSON_ArrayForEach (kw, schema) {
		const char *k = kw->string;
		if (!strcmp(k, "$ref")) {
			const char *ref = kw->valuestring;
			if (strncmp(ref, "#/$defs/", 8))
				return schema_fail(path, "unsupported $ref");
			const cJSON *def = cJSON_GetObjectItem(
				cJSON_GetObjectItem(root, "$defs"), ref + 8);
			if (!def || !schema_check(root, def, v, path))
				return def ? false
					   : schema_fail(path, "unknown $ref");
		} else if (!strcmp(k, "type")) {
			if (!type_ok(v, kw->valuestring))
				return schema_fail(path, kw->valuestring);
		} else if (!strcmp(k, "const")) {
			if (!cJSON_Compare(v, kw, true))
				return schema_fail(path, "not the constant");
		} else if (!strcmp(k, "pattern")) {
			if (strcmp(kw->valuestring, HEX_PATTERN))
				return schema_fail(path, "unsupported pattern");
			if (!cJSON_IsString(v) || !hex_ok(v->valuestring))
				return schema_fail(path, "not a hex string");
		} else if (!strcmp(k, "items")) {
			const cJSON *e;
			int i = 0;
			char sub[256];
			cJSON_ArrayForEach (e, v) {
				snprintf(sub, sizeof sub, "%s[%d]", path, i++);
				if (!schema_check(root, kw, e, sub))
					return false;
			}
		} else if (!strcmp(k, "properties") || !strcmp(k, "required") ||
			   !strcmp(k, "additionalProperties")) {
			continue; /* check_object, once per object */
		} else if (k[0] != '$') {
			return schema_fail(path, k); /* unsupported keyword */
		}
	}
	if (cJSON_GetObjectItem(schema, "properties") ||
	    cJSON_GetObjectItem(schema, "required"))
		return cJSON_IsObject(v) && check_object(root, schema, v, path);
	return true;
}

/* Check v against #/$defs/<def> of the schema file at `file`. */
static inline bool schema_valid(const char *file, const char *def,
				const cJSON *v)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return schema_fail(file, "cannot open");
	static char text[65536];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	cJSON *root = cJSON_Parse(text);
	const cJSON *d =
		cJSON_GetObjectItem(cJSON_GetObjectItem(root, "$defs"), def);
	bool ok = d ? schema_check(root, d, v, def)
		    : schema_fail(def, "no such definition");
	cJSON_Delete(root);
	return ok;
}

#endif
