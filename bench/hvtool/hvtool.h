/* SPDX-License-Identifier: MIT */
/*
 * A program written for /dev/hvisor (hvisor-tool's daemon, or the shim
 * test's stand-in) as the mock hypervisor's daemon child, with hvtool-shim
 * preloaded (shim.c). docs/hvisor-tool-comparison.md.
 */
#ifndef BENCH_HVTOOL_H
#define BENCH_HVTOOL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hvd/mock.h"

/* Where the benchmarks find hvisor-tool's `hvisor` (scripts/build-hvisor-tool
 * builds it); unset: no comparison. */
#define HVTOOL_ENV "HVISOR_TOOL"

/* Spawn args[] (argv[0] first, NULL-terminated, at most 8) as the child of
 * `m` with `shim` preloaded; stderr to log_path (NULL: inherited). The
 * spawn goes through env(1), so this process's environment is untouched.
 * ASan builds (the shim test) load the shim before the sanitizer runtime,
 * which ASan accepts only when told not to check the order. */
static inline int hvtool_spawn(struct hvd_mock *m, const char *shim,
			       char *const args[], const char *log_path)
{
	char preload[4200], asan[600];
	const char *prev = getenv("ASAN_OPTIONS");
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
	snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
		 prev ? prev : "", prev && *prev ? ":" : "");
	char *argv[12] = {"/usr/bin/env", preload, asan};
	unsigned n = 3;
	for (unsigned i = 0; args[i]; i++) {
		if (n + 1 >= sizeof argv / sizeof argv[0])
			return -E2BIG;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return hvd_mock_spawn(m, argv, log_path);
}

#ifdef HVTOOL_SHIM
/* hvisor-tool's daemon serving `cfg` for a mock with zone 1 RAM at
 * ram_base (zone 0 and guest see it at the same address). NULL after a
 * message. */
static inline struct hvd_mock *hvtool_start(const char *who, const char *tool,
					    const char *cfg, uint64_t ram_base,
					    uint64_t ram_size)
{
	struct hvd_mock *m = hvd_mock_new();
	if (!m || hvd_mock_add_ram(m, 1, ram_base, ram_base, ram_size)) {
		fprintf(stderr, "%s: mock hypervisor setup failed\n", who);
		hvd_mock_free(m);
		return NULL;
	}
	char *args[] = {(char *)tool, "virtio", "start", (char *)cfg, NULL};
	if (hvtool_spawn(m, HVTOOL_SHIM, args, NULL) ||
	    hvd_mock_wait_ready(m, 5000)) {
		fprintf(stderr,
			"%s: hvisor-tool's daemon (%s) did not start (a "
			"statically linked one cannot take the shim; "
			"scripts/build-hvisor-tool links it dynamically)\n",
			who, tool);
		hvd_mock_free(m);
		return NULL;
	}
	return m;
}

/* The hvisor-tool binary to compare with, or NULL after printing how to
 * enable the comparison. */
static inline const char *hvtool_path(const char *who)
{
	const char *tool = getenv(HVTOOL_ENV);
	if (tool && *tool)
		return tool;
	printf("%s: hvisor-tool's daemon not compared: set %s=/path/to/hvisor "
	       "(scripts/build-hvisor-tool), or ./dev bench --hvisor-tool "
	       "PATH\n",
	       who, HVTOOL_ENV);
	return NULL;
}
#endif

#endif
