/* SPDX-License-Identifier: MIT */
/*
 * The client side of the control socket: `hvisor virtio list|stats`.
 * Exit codes as the other commands: 0, 1 refused (no daemon, error
 * reply), 2 usage.
 */
#ifndef CORE_CONTROL_CLI_H
#define CORE_CONTROL_CLI_H

#include <stdio.h>

struct cJSON;

/* Send one request line to the daemon at `path`, wait (bounded) for the
 * reply line. Returns 0 with *reply set, or -errno (message printed). */
int control_request(const char *path, const struct cJSON *req,
		    struct cJSON **reply);

/* argv[0] is "list", "stats" or "remove". */
int control_cli_main(int argc, char **argv);
void control_cli_usage(FILE *out);

#endif
