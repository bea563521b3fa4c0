/* SPDX-License-Identifier: MIT */
/*
 * The zone file of `hvisor zone start`, both generations users have:
 *   older: "pci_config" one object, "alloc_pci_devs" packed numbers
 *          (bus << 8 | device << 3 | function), no "gic_version" (GICv3
 *          implied by "gicr_base", GICv2 by "gicc_base");
 *   newer: "pci_config" an array of buses, "alloc_pci_devs" objects,
 *          "arch_config.gic_version" "v2" | "v3".
 * Each key is read by its shape, so either generation (or a mix) decodes
 * into the same struct zone_desc.
 *
 * Every error names the JSON path ("memory_regions[1]: overlaps
 * memory_regions[0]") and is logged; cfg_last_error() returns the text.
 */
#ifndef CORE_ZONE_JSON_H
#define CORE_ZONE_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "zone_layout.h"

/* How a zone file is read. All zero is the default. */
struct zone_json_opts {
	/* Unknown keys are errors rather than warnings. */
	bool strict;
	/* Use this architecture (enum zone_arch + 1; 0: the file's "arch",
	 * else this build's). A file naming another one is refused. */
	int arch_plus1;
	/* A missing image file is a warning and counts 0 bytes (--dry-run
	 * on a machine without the board's images). */
	bool missing_images_ok;
};

/* Decode and validate everything that does not need the image files.
 * `source` names the text in syntax errors; `opts` may be NULL. Keys some
 * hvisor or hvisor-tool version reads but this tool does not apply are
 * logged at info level; other unknown keys warn (errors when strict).
 * Returns 0 or -1. */
int zone_json_parse_opts(const char *text, const char *source,
			 const struct zone_json_opts *opts,
			 struct zone_desc *out);
/* zone_json_parse_opts() with the defaults. */
int zone_json_parse(const char *text, const char *source,
		    struct zone_desc *out);

/* Stat the kernel and dtb files (relative paths are relative to the
 * working directory, as with hvisor-tool), set kernel_size and dtb_size
 * (the file size rounded up to `page_size`, as hvisor-tool reports it) and
 * check that each image lies inside one RAM region at its load address and
 * that the two do not overlap. Returns 0 or -1. */
int zone_json_check_images(struct zone_desc *d, uint64_t page_size);

/* Read `file`, zone_json_parse_opts() it, then zone_json_check_images()
 * (or only warn about missing images with opts->missing_images_ok). */
int zone_json_load_opts(const char *file, uint64_t page_size,
			const struct zone_json_opts *opts,
			struct zone_desc *out);
/* zone_json_load_opts() with the defaults. */
int zone_json_load(const char *file, uint64_t page_size, struct zone_desc *out);

#endif
