/* SPDX-License-Identifier: MIT */
/* Helpers shared by the loader and plugin-export suites. */
#ifndef TESTS_LOADER_FIXTURE_H
#define TESTS_LOADER_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"

#define ASSERT_STR(got, expected)                                             \
	do {                                                                  \
		const char *g_ = (got);                                       \
		const char *e_ = (expected);                                  \
		if (!g_ || strcmp(g_, e_) != 0)                               \
			fprintf(stderr, "\n  expected: %s\n  got:      %s\n", \
				e_, g_ ? g_ : "(null)");                      \
		CU_ASSERT_PTR_NOT_NULL(g_);                                   \
		if (g_)                                                       \
			CU_ASSERT_STRING_EQUAL(g_, e_);                       \
	} while (0)

#define DESC_MIN (offsetof(struct hvd_plugin_descriptor, ops) + sizeof(void *))
#define OPS_MIN  (offsetof(struct hvd_device_ops, queue_notify) + sizeof(void *))

static inline const char *fixture_dir(void)
{
	const char *d = getenv("HVISOR_TEST_FIXTURE_DIR");

	if (!d)
		fprintf(stderr, "\n  HVISOR_TEST_FIXTURE_DIR is not set\n");
	return d;
}

/* "<fixtures>/<rel>" in a caller buffer of PATH_MAX bytes. */
static inline char *fx(char *buf, const char *rel)
{
	const char *d = fixture_dir();

	snprintf(buf, PATH_MAX, "%s%s%s", d ? d : "/nonexistent",
		 *rel ? "/" : "", rel);
	return buf;
}

#endif
