/* SPDX-License-Identifier: MIT */
/*
 * What the built shared objects export: every plugin only its descriptor,
 * libhvd-mock exactly the functions hvd/mock.h declares; and a plugin built
 * against the frozen 1.0 headers still loads.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_main.h"
#include "hvd/plugin.h"
#include "loader.h"
#include "loader_fixture.h"

/* ---- Exported symbols --------------------------------------------------- */

/* Symbols a linker or sanitizer adds on its own. */
static bool ignorable_symbol(const char *name)
{
	static const char *const exact[] = {
		"_init", "_fini",   "__bss_start", "_edata",
		"_end",  "__end__", NULL,
	};
	static const char *const prefixes[] = {
		"__odr_asan", "__asan", "___asan",  "__ubsan",
		"__gcov",     "__llvm", "__sancov", NULL,
	};

	for (unsigned i = 0; exact[i]; i++)
		if (strcmp(name, exact[i]) == 0)
			return true;
	for (unsigned i = 0; prefixes[i]; i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* Is `name` in the NULL-terminated list? */
static bool listed(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

/* Checks that the dynamic symbols `path` defines of its own are exactly
 * `allowed` (NULL-terminated), each once. Returns false (after saying why)
 * when it cannot tell. */
static bool check_exports_are(const char *path, const char *const *allowed)
{
	char cmd[PATH_MAX + 64], line[512], others[1024] = "";
	unsigned found = 0, other = 0, expected = 0;
	FILE *p;

	if (strchr(path, '\'')) {
		printf("\n    (skipped %s: quote in path)\n", path);
		return false;
	}
	snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s' 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	if (!p) {
		printf("\n    (skipped %s: cannot run nm)\n", path);
		return false;
	}
	while (fgets(line, sizeof line, p)) {
		char addr[64], type[8], name[256];

		if (sscanf(line, "%63s %7s %255s", addr, type, name) != 3)
			continue;
		/* Version nodes are absolute symbols, not exports. */
		if (strcmp(type, "A") == 0 || ignorable_symbol(name))
			continue;
		if (listed(allowed, name)) {
			found++;
			continue;
		}
		other++;
		strncat(others, " ", sizeof others - strlen(others) - 1);
		strncat(others, name, sizeof others - strlen(others) - 1);
	}
	int status = pclose(p);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("\n    (skipped %s: nm failed or is not installed)\n",
		       path);
		return false;
	}
	for (; allowed[expected]; expected++)
		;
	if (other)
		fprintf(stderr, "\n  %s exports more than it should:%s\n", path,
			others);
	if (found != expected)
		fprintf(stderr, "\n  %s exports %u of its %u symbols\n", path,
			found, expected);
	CU_ASSERT_EQUAL(found, expected);
	CU_ASSERT_EQUAL(other, 0);
	return true;
}

/* A plugin exports hvd_plugin_descriptor and nothing else. */
static bool check_exports(const char *path)
{
	static const char *const descriptor_only[] = {HVD_PLUGIN_SYMBOL, NULL};
	return check_exports_are(path, descriptor_only);
}

static void test_exports(void)
{
	/* Every plugin this build makes (in-tree devices and the SDK's
	 * example), colon-separated. */
	const char *files = getenv("HVISOR_TEST_PLUGIN_FILES");
	char path[PATH_MAX];
	unsigned checked = 0;

	if (!files) {
		CU_FAIL("HVISOR_TEST_PLUGIN_FILES is not set");
	} else {
		for (const char *f = files; *f;) {
			size_t len = strcspn(f, ":");
			snprintf(path, sizeof path, "%.*s", (int)len, f);
			checked += check_exports(path);
			f += len + (f[len] == ':');
		}
	}
	CU_ASSERT(checked >= 2); /* at least rng and the example */
	/* The fixtures are built the way plugins are. */
	check_exports(fx(path, "libfixture-good.so"));
	check_exports(fx(path, "libfixture-fail.so"));
}

/* The functions hvd/mock.h declares: every identifier "hvd_..." directly
 * followed by '(' outside comments. Returns a NULL-terminated list. */
static char **header_functions(const char *header)
{
	FILE *f = fopen(header, "r");
	static char text[65536];
	size_t len, n = 0;
	char **names;

	if (!f)
		return NULL;
	len = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[len] = '\0';
	/* Blank out comments so that prose mentioning a function with its
	 * arguments is not taken for a declaration. */
	for (char *c = strstr(text, "/*"); c; c = strstr(c, "/*")) {
		char *end = strstr(c + 2, "*/");
		char *stop = end ? end + 2 : text + len;
		memset(c, ' ', (size_t)(stop - c));
		c = stop;
	}
	names = calloc(len / 4 + 1, sizeof *names);
	for (char *c = strstr(text, "hvd_"); names && c;
	     c = strstr(c + 1, "hvd_")) {
		size_t id = strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_");
		bool starts = c == text || !(c[-1] == '_' || isalnum(c[-1]));
		if (starts && c[id] == '(')
			names[n++] = strndup(c, id);
	}
	return names;
}

/* libhvd-mock exports exactly the functions its header declares. */
static void test_mock_exports(void)
{
	const char *lib = getenv("HVISOR_TEST_MOCK_LIB");
	const char *header = getenv("HVISOR_TEST_MOCK_HEADER");
	char **api;

	if (!lib || !header) {
		CU_FAIL("HVISOR_TEST_MOCK_LIB / HVISOR_TEST_MOCK_HEADER not "
			"set");
		return;
	}
	api = header_functions(header);
	CU_ASSERT_PTR_NOT_NULL_FATAL(api);
	/* The parser found the API (a broken one would pass vacuously). */
	CU_ASSERT_TRUE(listed((const char *const *)api, "hvd_mock_new"));
	CU_ASSERT_TRUE(listed((const char *const *)api, "hvd_guest_vq_add"));
	check_exports_are(lib, (const char *const *)api);
	for (char **p = api; *p; p++)
		free(*p);
	free(api);
}

/* A plugin compiled against the released 1.0 headers (sdk/abi/frozen-1.0)
 * is accepted as 1.0 with its 1.0-sized tables; the daemon suite also has
 * it serve a request. */
static void test_frozen_1_0_plugin(void)
{
	struct plugin_registry *reg = loader_new(NULL, 0);
	char path[PATH_MAX];
	char *why = NULL;
	struct plugin *p;

	p = loader_open_file(reg, fx(path, "frozen/libfixture-frozen10.so"),
			     &why);
	if (why)
		fprintf(stderr, "\n  refused: %s\n", why);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	ASSERT_STR(p->desc->type, "fixture-frozen10");
	CU_ASSERT_EQUAL(p->desc->abi_major, 1);
	CU_ASSERT_EQUAL(p->desc->abi_minor, 0);
	CU_ASSERT_EQUAL(p->desc->descriptor_size, 88);
	CU_ASSERT_EQUAL(p->ops.size, 72);
	CU_ASSERT_PTR_NOT_NULL(p->ops.create);
	CU_ASSERT_PTR_NOT_NULL(p->ops.destroy);
	CU_ASSERT_PTR_NOT_NULL(p->ops.queue_notify);
	CU_ASSERT_PTR_NULL(p->ops.reset);
	loader_free(reg);
	check_exports(path);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"plugins export one symbol", test_exports},
		{"libhvd-mock exports only its API", test_mock_exports},
		{"plugin built with the frozen 1.0 headers",
		 test_frozen_1_0_plugin},
		{NULL, NULL},
	};
	return cunit_run("exports", tests);
}
