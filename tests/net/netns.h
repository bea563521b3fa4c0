/* SPDX-License-Identifier: MIT */
/* Root-only net suites move into a private network namespace first (before
 * any thread exists), so the interfaces they create are invisible to the
 * machine. */
#ifndef TESTS_NET_NETNS_H
#define TESTS_NET_NETNS_H

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* 0 once inside; otherwise prints why `suite` is skipped and returns 77
 * (meson: skipped). */
static inline int net_private_namespace(const char *suite)
{
	if (geteuid() != 0) {
		printf("%s: skipped: needs root for a network namespace\n",
		       suite);
		return 77;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("%s: skipped: unshare(CLONE_NEWNET): %s\n", suite,
		       strerror(errno));
		return 77;
	}
	return 0;
}

#endif
