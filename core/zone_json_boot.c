/* SPDX-License-Identifier: MIT */
/*
 * The loaded-not-stored parts of a zone file (zone_json.h): "modules" on
 * every architecture, and the x86_64 boot inputs: the boot, setup, command
 * line and initrd keys of arch_config and the multiboot2 keys of the top
 * level. The rules are hvisor-tool's (docs/hvisor-interface.md, "x86_64
 * zone start" and "modules"); this file only decodes them into
 * struct zone_desc, the start path loads them.
 */
#include "zone_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "zone_json_impl.h"

/* A string member copied into dst (of `size` bytes); "" when absent and
 * not required. */
static int copy_string(const cJSON *obj, const char *at, const char *name,
		       bool required, char *dst, size_t size)
{
	const char *s;

	dst[0] = '\0';
	if (zj_member_string(obj, at, name, required, &s))
		return -1;
	if (!s)
		return 0;
	if (strlen(s) >= size) {
		cfg_fail("%s%s%s: %zu bytes, at most %zu are kept", at,
			 *at ? "." : "", name, strlen(s), size - 1);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* A file path member: like copy_string(), but "" is refused (hvisor-tool
 * would fail to open it). */
static int copy_path(const cJSON *obj, const char *at, const char *name,
		     bool required, char *dst, size_t size)
{
	if (copy_string(obj, at, name, required, dst, size))
		return -1;
	if (!cJSON_GetObjectItemCaseSensitive(obj, name) || dst[0])
		return 0;
	cfg_fail("%s%s%s: must not be empty (\"null\" loads nothing)", at,
		 *at ? "." : "", name);
	return -1;
}

/* ---- modules ---- */

int zj_parse_modules(const cJSON *root, struct zone_desc *d)
{
	static const char *const keys[] = {"name", "filepath", "load_paddr",
					   NULL};
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "modules");
	const cJSON *item;
	unsigned i = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr)) {
		/* hvisor-tool skips a "modules" that is not an array. */
		log_info("modules: not an array; no modules are loaded");
		return 0;
	}
	if (cJSON_GetArraySize(arr) > ZONE_MAX_MODULES) {
		cfg_fail("modules: %d modules, this tool loads at most %d",
			 cJSON_GetArraySize(arr), ZONE_MAX_MODULES);
		return -1;
	}
	cJSON_ArrayForEach (item, arr) {
		struct zone_module *m = &d->modules[i];
		const cJSON *pa;
		char at[32];

		snprintf(at, sizeof at, "modules[%u]", i);
		if (zj_check_keys(item, at, keys, NULL) ||
		    copy_string(item, at, "name", true, m->name,
				sizeof m->name) ||
		    copy_path(item, at, "filepath", true, m->file,
			      sizeof m->file))
			return -1;
		/* hvisor-tool wants the address as a string here. */
		pa = cJSON_GetObjectItemCaseSensitive(item, "load_paddr");
		if (pa && !cJSON_IsString(pa)) {
			cfg_fail("%s.load_paddr: expected a string "
				 "(hvisor-tool refuses a number here)",
				 at);
			return -1;
		}
		if (cfg_member_u64(item, at, "load_paddr", true, NULL,
				   &m->load_paddr))
			return -1;
		d->module_count = ++i;
	}
	return 0;
}

/* ---- x86_64 ---- */

/* `file` is given: its two addresses must be too. `gpa` (may be NULL) is
 * stored in arch_config, `hpa` is where the file is loaded. */
static int file_with_addresses(const cJSON *ac, const char *file_key,
			       const char *gpa_key, uint64_t *gpa,
			       const char *hpa_key, uint64_t *hpa)
{
	bool present = false;
	uint64_t v = 0;

	if (gpa &&
	    cfg_member_u64(ac, "arch_config", gpa_key, false, &present, gpa))
		return -1;
	if (gpa && !present) {
		cfg_fail("arch_config.%s: missing (required with %s)", gpa_key,
			 file_key);
		return -1;
	}
	if (cfg_member_u64(ac, "arch_config", hpa_key, false, &present, &v))
		return -1;
	if (!present) {
		cfg_fail("arch_config.%s: missing (required with %s)", hpa_key,
			 file_key);
		return -1;
	}
	*hpa = v;
	return 0;
}

/* "boot_protocol" (a string) decides; without it the older boolean
 * "multiboot_enabled". Other architectures refuse multiboot2, as
 * hvisor-tool does. Called for every architecture. */
/* Top-level keys hvisor-tool reads only for a multiboot2 zone. */
static const char *const multiboot_keys[] = {
	"multiboot_info_paddr", "kernel_cmdline", "initramfs_filepath",
	"initramfs_load_gpa", NULL};

int zj_parse_boot_protocol(const cJSON *root, struct zone_desc *d)
{
	const cJSON *p =
		cJSON_GetObjectItemCaseSensitive(root, "boot_protocol");
	const cJSON *mb =
		cJSON_GetObjectItemCaseSensitive(root, "multiboot_enabled");
	bool multiboot = false;

	if (cJSON_IsString(p)) {
		char buf[40];

		multiboot = strcmp(p->valuestring, "multiboot2") == 0;
		if (!multiboot)
			log_warn(
				"boot_protocol: \"%s\" is not \"multiboot2\"; "
				"booting the default way (as hvisor-tool)",
				cfg_printable(p->valuestring, buf, sizeof buf));
	} else if (p) {
		cfg_fail("boot_protocol: expected a string (\"multiboot2\")");
		return -1;
	} else if (mb) {
		if (!cJSON_IsBool(mb)) {
			cfg_fail("multiboot_enabled: expected true or false");
			return -1;
		}
		multiboot = cJSON_IsTrue(mb);
	}
	if (multiboot && d->arch != ZONE_ARCH_X86_64) {
		cfg_fail("%s: multiboot2 is only for x86_64 zones, this one "
			 "is %s",
			 p ? "boot_protocol" : "multiboot_enabled",
			 zone_arch_name(d->arch));
		return -1;
	}
	d->x86.protocol = multiboot ? ZONE_BOOT_MULTIBOOT2 : ZONE_BOOT_LINUX;
	if (!multiboot)
		for (const char *const *k = multiboot_keys; *k; k++)
			if (cJSON_GetObjectItemCaseSensitive(root, *k))
				log_info("%s: ignored (read in multiboot2 "
					 "mode only, as hvisor-tool)",
					 *k);
	return 0;
}

/* The multiboot2 top-level keys (kernel_cmdline, multiboot_info_paddr,
 * initramfs_*), read only in that mode. */
static int parse_multiboot(const cJSON *root, const cJSON *ac,
			   struct zone_desc *d)
{
	struct zone_x86_boot *b = &d->x86;
	bool present = false;

	b->multiboot_info_paddr = ZONE_MBI_DEFAULT_GPA;
	if (cfg_member_u64(root, "", "multiboot_info_paddr", false, NULL,
			   &b->multiboot_info_paddr) ||
	    copy_string(root, "", "kernel_cmdline", false, b->kernel_cmdline,
			sizeof b->kernel_cmdline) ||
	    copy_path(root, "", "initramfs_filepath", false, b->initramfs_file,
		      sizeof b->initramfs_file))
		return -1;
	b->mb_cmdline_gpa = b->multiboot_info_paddr;
	if (cfg_member_u64(ac, "arch_config", "cmdline_load_gpa", false, NULL,
			   &b->mb_cmdline_gpa))
		return -1;
	if (cfg_member_u64(root, "", "initramfs_load_gpa", false, &present,
			   &b->initramfs_load_gpa))
		return -1;
	if (b->initramfs_file[0] && !present) {
		/* hvisor-tool silently skips the initramfs then. */
		log_warn("initramfs_filepath: no initramfs_load_gpa, so no "
			 "initramfs is loaded (as hvisor-tool)");
		b->initramfs_file[0] = '\0';
	}
	return 0;
}

int zj_parse_x86_boot(const cJSON *root, const cJSON *ac, struct zone_desc *d)
{
	struct zone_x86_boot *b = &d->x86;
	struct hvisor_arch_x86_64 *a = &d->arch_config.x86_64;
	bool multiboot = b->protocol == ZONE_BOOT_MULTIBOOT2;

	if (multiboot && parse_multiboot(root, ac, d))
		return -1;
	if (copy_path(ac, "arch_config", "boot_filepath", false, b->boot_file,
		      sizeof b->boot_file) ||
	    copy_path(ac, "arch_config", "setup_filepath", false, b->setup_file,
		      sizeof b->setup_file) ||
	    copy_path(ac, "arch_config", "initrd_filepath", false,
		      b->initrd_file, sizeof b->initrd_file) ||
	    copy_string(ac, "arch_config", "cmdline", false, b->cmdline,
			sizeof b->cmdline))
		return -1;
	b->has_cmdline = cJSON_GetObjectItemCaseSensitive(ac, "cmdline");
	if (b->boot_file[0] && multiboot &&
	    !cJSON_GetObjectItemCaseSensitive(ac, "boot_load_paddr")) {
		/* multiboot2 loads boot.bin only with its address. */
		log_warn("arch_config.boot_filepath: no boot_load_paddr, so "
			 "it is not loaded (as hvisor-tool in multiboot2 "
			 "mode)");
		b->boot_file[0] = '\0';
	}
	/* Each given file (or string) with the addresses it needs: the
	 * guest one stored in arch_config, the host one kept for loading. */
	const struct {
		bool given;
		const char *key, *gpa_key, *hpa_key;
		uint64_t *gpa, *hpa;
	} parts[] = {
		{b->boot_file[0], "boot_filepath", NULL, "boot_load_paddr",
		 NULL, &b->boot_load_paddr},
		{b->setup_file[0], "setup_filepath", "setup_load_gpa",
		 "setup_load_hpa", &a->setup_load_gpa, &b->setup_load_hpa},
		{b->has_cmdline, "cmdline", "cmdline_load_gpa",
		 "cmdline_load_hpa", &a->cmdline_load_gpa,
		 &b->cmdline_load_hpa},
		{b->initrd_file[0], "initrd_filepath", "initrd_load_gpa",
		 "initrd_load_hpa", &a->initrd_load_gpa, &b->initrd_load_hpa},
	};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i].given &&
		    file_with_addresses(ac, parts[i].key, parts[i].gpa_key,
					parts[i].gpa, parts[i].hpa_key,
					parts[i].hpa))
			return -1;
	/* The multiboot2 cmdline lands at mb_cmdline_gpa when non-empty;
	 * an arch_config "cmdline" above overrides it, as in hvisor-tool. */
	if (multiboot && b->kernel_cmdline[0] && !b->has_cmdline)
		a->cmdline_load_gpa = b->mb_cmdline_gpa;
	/* Likewise the initramfs, unless arch_config names an initrd. */
	if (multiboot && b->initramfs_file[0] && !b->initrd_file[0] &&
	    strcmp(b->initramfs_file, "null") != 0)
		a->initrd_load_gpa = b->initramfs_load_gpa;
	return 0;
}

/* ---- Image files ---- */

/* Size of an image file, or -1 (reported at `key`). "null" is no image;
 * with `missing_ok` a file that cannot be found is a warning and 0. */
static int image_size(const char *key, const char *file, bool missing_ok,
		      uint64_t *size)
{
	struct stat st;

	*size = 0;
	if (strcmp(file, "null") == 0)
		return 0;
	if (stat(file, &st) != 0) {
		if (missing_ok && errno == ENOENT) {
			log_warn("%s: %s: not found, counted as 0 bytes", key,
				 file);
			return 0;
		}
		cfg_fail("%s: %s: %s", key, file, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_fail("%s: %s: not a regular file", key, file);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The image [paddr, paddr+size) lies in one RAM region (physical). */
static int check_fits(const struct zone_desc *d, const char *what,
		      const char *key, uint64_t paddr, uint64_t size)
{
	for (unsigned i = 0; i < d->mem_count; i++) {
		const struct hvisor_memory_region *r = &d->mem[i];

		if (r->type == ZONE_MEM_RAM && paddr >= r->physical_start &&
		    paddr - r->physical_start <= r->size &&
		    size <= r->size - (paddr - r->physical_start))
			return 0;
	}
	cfg_fail("%s: the %s (0x%" PRIx64 " bytes at 0x%" PRIx64
		 ") does not fit in any ram region",
		 key, what, size, paddr);
	return -1;
}

static uint64_t round_up(uint64_t v, uint64_t page)
{
	return page ? (v + page - 1) / page * page : v;
}

/* The files only loaded, never sized into zone_config_t, must exist:
 * modules, and x86 boot.bin and setup. The x86 initrd's page-rounded size
 * is initrd_size. */
static int check_other_files(struct zone_desc *d, uint64_t page,
			     bool missing_ok)
{
	struct zone_x86_boot *b = &d->x86;
	uint64_t size;
	char key[40];

	for (unsigned i = 0; i < d->module_count; i++) {
		snprintf(key, sizeof key, "modules[%u].filepath", i);
		if (image_size(key, d->modules[i].file, missing_ok, &size))
			return -1;
	}
	if (d->arch != ZONE_ARCH_X86_64)
		return 0;
	if ((b->boot_file[0] && image_size("arch_config.boot_filepath",
					   b->boot_file, missing_ok, &size)) ||
	    (b->setup_file[0] && image_size("arch_config.setup_filepath",
					    b->setup_file, missing_ok, &size)))
		return -1;
	if (b->initrd_file[0]) {
		if (image_size("arch_config.initrd_filepath", b->initrd_file,
			       missing_ok, &size))
			return -1;
		d->arch_config.x86_64.initrd_size = round_up(size, page);
	} else if (b->protocol == ZONE_BOOT_MULTIBOOT2 &&
		   b->initramfs_file[0]) {
		if (image_size("initramfs_filepath", b->initramfs_file,
			       missing_ok, &size))
			return -1;
		d->arch_config.x86_64.initrd_size = round_up(size, page);
	}
	return 0;
}

int zj_check_images(struct zone_desc *d, uint64_t page_size, bool missing_ok)
{
	/* A multiboot2 kernel is an ELF loaded segment by segment: its
	 * placement and kernel_size come from the ELF when it is loaded. */
	bool whole = d->x86.protocol != ZONE_BOOT_MULTIBOOT2;
	uint64_t ksize, dsize;

	if (image_size("kernel_filepath", d->kernel_file, missing_ok, &ksize) ||
	    image_size("dtb_filepath", d->dtb_file, missing_ok, &dsize))
		return -1;
	if (whole && ksize &&
	    check_fits(d, "kernel", "kernel_load_paddr", d->kernel_load_paddr,
		       ksize))
		return -1;
	if (dsize &&
	    check_fits(d, "dtb", "dtb_load_paddr", d->dtb_load_paddr, dsize))
		return -1;
	if (whole && ksize && dsize &&
	    zj_ranges_overlap(d->kernel_load_paddr, ksize, d->dtb_load_paddr,
			      dsize)) {
		cfg_fail("dtb_load_paddr: the dtb (0x%" PRIx64
			 " bytes at 0x%" PRIx64 ") overlaps the kernel "
			 "(0x%" PRIx64 " bytes at 0x%" PRIx64 ")",
			 dsize, d->dtb_load_paddr, ksize, d->kernel_load_paddr);
		return -1;
	}
	if (check_other_files(d, page_size, missing_ok))
		return -1;
	d->kernel_bytes = ksize;
	d->dtb_bytes = dsize;
	d->kernel_size = whole ? round_up(ksize, page_size) : 0;
	d->dtb_size = round_up(dsize, page_size);
	return 0;
}

int zone_json_check_images(struct zone_desc *d, uint64_t page_size)
{
	return zj_check_images(d, page_size, false);
}
