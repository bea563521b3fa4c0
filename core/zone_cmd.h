/* SPDX-License-Identifier: MIT */
/*
 * `hvisor zone start|shutdown|list`: zone control through the same port as
 * the daemon (/dev/hvisor, or the mock with --mock / HVISOR_MOCK).
 */
#ifndef CORE_ZONE_CMD_H
#define CORE_ZONE_CMD_H

#include <stdio.h>

/* Exit codes of the zone commands. */
#define ZONE_EXIT_OK      0
#define ZONE_EXIT_REFUSED 1 /* the hypervisor (or the port) said no */
#define ZONE_EXIT_USAGE   2 /* bad command line or zone file */

/* argv[0] is "zone", argv[1] the subcommand. Returns the exit code. */
int zone_main(int argc, char **argv);

/* The usage lines of the zone commands (for `hvisor --help`). */
void zone_usage(FILE *out);

#endif
