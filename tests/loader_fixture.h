/* SPDX-License-Identifier: MIT */
/* Helpers shared by the loader and plugin-export suites. */
#ifndef TESTS_LOADER_FIXTURE_H
#define TESTS_LOADER_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"

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
