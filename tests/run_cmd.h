/* SPDX-License-Identifier: MIT */
/* Running a command line as a user would, for the suites of the CLI. */
#ifndef TESTS_RUN_CMD_H
#define TESTS_RUN_CMD_H

#include <stdio.h>
#include <sys/wait.h>

#include "cunit_main.h"

/* `cmd` through the shell: its exit code (128: killed by a signal), its
 * output in *out (a static buffer, valid until the next call). */
static inline int run_cmd(const char *cmd, char **out)
{
	static char buf[65536];
	FILE *p = popen(cmd, "r");
	CU_ASSERT_FATAL(p != NULL);
	size_t n = fread(buf, 1, sizeof buf - 1, p);
	buf[n] = '\0';
	int status = pclose(p);
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

#endif
