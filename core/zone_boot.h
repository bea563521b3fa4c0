/* SPDX-License-Identifier: MIT */
/*
 * What `zone start` loads and asks after the kernel and dtb, before it
 * encodes zone_config_t (docs/hvisor-runtime.md, "Starting a zone"):
 * modules[] on every architecture; on x86_64 the boot files of arch_config
 * (or the multiboot2 ELF kernel and its files); GET_ECAM_BASE when the zone
 * has PCI buses; SET_BOOT_MODE for multiboot2 zones. Fields that depend on
 * what was loaded (kernel_size, initrd_size, kernel_entry_gpa, the first
 * bus's ECAM base) are updated in the zone_desc.
 */
#ifndef CORE_ZONE_BOOT_H
#define CORE_ZONE_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "zone_layout.h"

struct port;

/* Whether kernel_file is loaded whole at kernel_load_paddr (false for a
 * multiboot2 zone: zone_boot_prepare loads its ELF segments). */
bool zone_boot_whole_kernel(const struct zone_desc *d);

/* Runs the steps above in hvisor-tool's order. Returns ZONE_EXIT_OK, or
 * ZONE_EXIT_USAGE (a file cannot be read or is not what it must be) or
 * ZONE_EXIT_REFUSED (the hypervisor refused), after printing why. */
int zone_boot_prepare(struct port *port, struct zone_desc *d);

/* LOAD_IMAGE of a whole file ("null": nothing) at `paddr`; *rounded (if
 * not NULL) gets its size rounded up to the page, as hvisor-tool records
 * loaded sizes. Same return values. */
int zone_boot_load_file(struct port *port, const char *what, const char *file,
			uint64_t paddr, uint64_t *rounded);

#endif
