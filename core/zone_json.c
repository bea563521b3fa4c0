/* SPDX-License-Identifier: MIT */
/*
 * Zone file decoding and validation (see zone_json.h): the top level,
 * memory, interrupts, ivc and the images; arch_config and PCI are in
 * zone_json_hw.c. The number, member and JSON-text helpers are the virtio
 * file's (config.h), so both files report errors the same way.
 */
#include "zone_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "zone_json_impl.h"

/* The options of the parse under way (one at a time per thread). */
static _Thread_local const struct zone_json_opts *cur_opts;

static const char *const top_keys[] = {
	"arch",
	"name",
	"zone_id",
	"cpus",
	"memory_regions",
	"interrupts",
	"ivc_configs",
	"kernel_filepath",
	"dtb_filepath",
	"kernel_load_paddr",
	"dtb_load_paddr",
	"entry_point",
	"arch_config",
	"pci_config",
	"num_pci_devs",
	"alloc_pci_devs",
	"modules",
	"boot_protocol",
	"multiboot_enabled",
	"multiboot_info_paddr",
	"kernel_cmdline",
	"initramfs_filepath",
	"initramfs_load_gpa",
	NULL,
};

static const struct zj_ignored top_ignored[] = {
	{"kernel_args", "hvisor-tool 69a33fa..9fb1b94 (2024-07 to 2025-02) "
			"required it but never passed it on; the command line "
			"is in the guest's device tree"},
	{NULL, NULL},
};

/* ---- Keys ---- */

int zj_check_keys(const cJSON *obj, const char *at, const char *const *known,
		  const struct zj_ignored *ignored)
{
	const cJSON *child;

	if (!cJSON_IsObject(obj)) {
		cfg_fail("%s: expected an object", *at ? at : "zone file");
		return -1;
	}
	cJSON_ArrayForEach (child, obj) {
		const char *k = child->string;
		const struct zj_ignored *ig = ignored;
		const char *const *kn = known;
		char path[160], buf[48];

		while (kn && *kn && strcmp(*kn, k) != 0)
			kn++;
		if (kn && *kn)
			continue;
		while (ig && ig->name && strcmp(ig->name, k) != 0)
			ig++;
		snprintf(path, sizeof path, "%s%s%s", at, *at ? "." : "",
			 cfg_printable(k, buf, sizeof buf));
		if (ig && ig->name) {
			log_info("%s: ignored (%s)", path, ig->why);
			continue;
		}
		if (cur_opts && cur_opts->strict) {
			cfg_fail("%s: unknown key (--strict)", path);
			return -1;
		}
		log_warn("%s: unknown key, ignored", path);
	}
	return 0;
}

/* ---- Small typed readers (zone_json_impl.h) ---- */

int zj_member_array(const cJSON *obj, const char *name, bool required,
		    unsigned max, const char *what, const cJSON **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (!item) {
		if (!required)
			return 0;
		cfg_fail("%s: missing", name);
		return -1;
	}
	if (!cJSON_IsArray(item)) {
		cfg_fail("%s: expected an array", name);
		return -1;
	}
	int n = cJSON_GetArraySize(item);
	if ((unsigned)n > max) {
		cfg_fail("%s: %d %s, at most %u fit in zone_config_t", name, n,
			 what, max);
		return -1;
	}
	*out = item;
	return 0;
}

int zj_member_string(const cJSON *obj, const char *at, const char *name,
		     bool required, const char **out)
{
	int rc = cfg_get_string(obj, at, name, out);

	if (rc == -ENOENT) {
		*out = NULL;
		if (!required)
			return 0;
		if (*at)
			cfg_fail("%s.%s: missing", at, name);
		else
			cfg_fail("%s: missing", name);
		return -1;
	}
	return rc ? -1 : 0;
}

/* A number member that must fit in `max` (a u8, a PCI device number...). */
int zj_member_small(const cJSON *obj, const char *at, const char *name,
		    bool required, uint64_t max, uint64_t *out)
{
	if (cfg_member_u64(obj, at, name, required, NULL, out))
		return -1;
	if (*out > max) {
		cfg_fail("%s.%s: %" PRIu64 " is out of range (0..%" PRIu64 ")",
			 at, name, *out, max);
		return -1;
	}
	return 0;
}

bool zj_ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- Top-level scalars ---- */

/* The architecture: --arch, else the file's "arch" ("riscv", as
 * hvisor's own riscv files say, is riscv64), else this build's (files
 * for hvisor-tool, which is built for one architecture, need not say). */
static int parse_arch(const cJSON *root, struct zone_desc *d)
{
	int forced = cur_opts ? cur_opts->arch_plus1 - 1 : -1;
	const char *s;
	int a = -1;

	if (zj_member_string(root, "", "arch", false, &s))
		return -1;
	if (s) {
		a = zone_arch_parse(s);
		if (a < 0) {
			char buf[40];
			cfg_fail(
				"arch: \"%s\" is not one of " ZONE_ARCH_CHOICES,
				cfg_printable(s, buf, sizeof buf));
			return -1;
		}
		if (forced >= 0 && forced != a) {
			cfg_fail("arch: the file is for %s, but --arch says %s",
				 zone_arch_name((enum zone_arch)a),
				 zone_arch_name((enum zone_arch)forced));
			return -1;
		}
	} else if (forced >= 0) {
		a = forced;
	} else {
		a = zone_arch_host();
		if (a < 0) {
			cfg_fail("arch: missing (one of arm64, riscv64, "
				 "loongarch64, x86_64; or give --arch)");
			return -1;
		}
		d->arch_from_host = true;
	}
	d->arch = (enum zone_arch)a;
	return 0;
}

static int parse_identity(const cJSON *root, struct zone_desc *d)
{
	const char *s;

	if (parse_arch(root, d))
		return -1;
	if (zj_member_string(root, "", "name", true, &s))
		return -1;
	size_t len = strlen(s);
	if (len == 0) {
		cfg_fail("name: must not be empty");
		return -1;
	}
	if (len > ZONE_NAME_LEN) {
		char buf[48];
		cfg_fail("name: \"%s\" is %zu bytes, at most %d fit in "
			 "zone_config_t",
			 cfg_printable(s, buf, sizeof buf), len, ZONE_NAME_LEN);
		return -1;
	}
	memcpy(d->name, s, len + 1);

	if (cfg_member_u32(root, "", "zone_id", &d->zone_id))
		return -1;
	if (d->zone_id == 0) {
		cfg_fail("zone_id: 0 is the root zone, which is never started");
		return -1;
	}
	return 0;
}

static int parse_cpus(const cJSON *root, struct zone_desc *d)
{
	const cJSON *arr, *item;
	unsigned i = 0;

	if (zj_member_array(root, "cpus", true, UINT32_MAX, "cpus", &arr))
		return -1;
	if (cJSON_GetArraySize(arr) == 0) {
		cfg_fail("cpus: expected at least one cpu");
		return -1;
	}
	cJSON_ArrayForEach (item, arr) {
		char path[32];
		uint64_t cpu;

		snprintf(path, sizeof path, "cpus[%u]", i++);
		if (cfg_item_u64(item, path, &cpu))
			return -1;
		if (cpu >= ZONE_MAX_CPUS) {
			cfg_fail("%s: cpu %" PRIu64 " is out of range (0..%d)",
				 path, cpu, ZONE_MAX_CPUS - 1);
			return -1;
		}
		d->cpus |= 1ull << cpu;
	}
	return 0;
}

static int parse_memory_type(const cJSON *region, const char *at,
			     uint32_t *type)
{
	static const char *const names[] = {[ZONE_MEM_RAM] = "ram",
					    [ZONE_MEM_IO] = "io",
					    [ZONE_MEM_VIRTIO] = "virtio"};
	const char *s;

	if (zj_member_string(region, at, "type", true, &s))
		return -1;
	for (uint32_t t = 0; t < sizeof names / sizeof names[0]; t++) {
		if (strcmp(s, names[t]) == 0) {
			*type = t;
			return 0;
		}
	}
	char buf[40];
	cfg_fail("%s.type: \"%s\" is not one of \"ram\", \"io\", \"virtio\"",
		 at, cfg_printable(s, buf, sizeof buf));
	return -1;
}

static int parse_memory(const cJSON *root, struct zone_desc *d)
{
	static const char *const keys[] = {"type", "physical_start",
					   "virtual_start", "size", NULL};
	const cJSON *arr, *item;
	unsigned i = 0;

	if (zj_member_array(root, "memory_regions", true, ZONE_MAX_MEM_REGIONS,
			    "regions", &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		struct hvisor_memory_region *r = &d->mem[i];
		char at[32];

		snprintf(at, sizeof at, "memory_regions[%u]", i);
		if (zj_check_keys(item, at, keys, NULL) ||
		    parse_memory_type(item, at, &r->type) ||
		    cfg_member_u64(item, at, "physical_start", true, NULL,
				   &r->physical_start) ||
		    cfg_member_u64(item, at, "virtual_start", true, NULL,
				   &r->virtual_start) ||
		    cfg_member_u64(item, at, "size", true, NULL, &r->size))
			return -1;
		if (r->size == 0) {
			cfg_fail("%s.size: must be greater than 0", at);
			return -1;
		}
		if (r->physical_start + r->size < r->physical_start ||
		    r->virtual_start + r->size < r->virtual_start) {
			cfg_fail("%s: region wraps around the address space",
				 at);
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			const struct hvisor_memory_region *o = &d->mem[j];

			/* The guest sees one address space; two RAM regions
			 * must not share host memory either. */
			if (zj_ranges_overlap(r->virtual_start, r->size,
					      o->virtual_start, o->size) ||
			    (r->type == ZONE_MEM_RAM &&
			     o->type == ZONE_MEM_RAM &&
			     zj_ranges_overlap(r->physical_start, r->size,
					       o->physical_start, o->size))) {
				cfg_fail("%s: 0x%" PRIx64 "+0x%" PRIx64
					 " overlaps memory_regions[%u]",
					 at, r->virtual_start, r->size, j);
				return -1;
			}
		}
		d->mem_count = ++i;
	}
	return 0;
}

static int parse_interrupts(const cJSON *root, struct zone_desc *d)
{
	const cJSON *arr, *item;
	unsigned i = 0;

	if (zj_member_array(root, "interrupts", true, UINT32_MAX, "interrupts",
			    &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		char path[32];
		uint64_t irq;

		snprintf(path, sizeof path, "interrupts[%u]", i++);
		if (cfg_item_u64(item, path, &irq))
			return -1;
		if (irq >= ZONE_MAX_IRQS) {
			cfg_fail("%s: irq %" PRIu64 " is out of range (0..%d)",
				 path, irq, ZONE_MAX_IRQS - 1);
			return -1;
		}
		d->irq_bitmap[irq / 32] |= 1u << (irq % 32);
	}
	return 0;
}

static int parse_ivc(const cJSON *root, struct zone_desc *d)
{
	static const char *const keys[] = {
		"ivc_id",         "peer_id",     "control_table_ipa",
		"shared_mem_ipa", "rw_sec_size", "out_sec_size",
		"interrupt_num",  "max_peers",   NULL};
	const cJSON *arr, *item;
	unsigned i = 0;

	if (zj_member_array(root, "ivc_configs", false, ZONE_MAX_IVC,
			    "ivc configs", &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		struct hvisor_ivc_config *c = &d->ivc[i];
		char at[32];

		snprintf(at, sizeof at, "ivc_configs[%u]", i);
		if (zj_check_keys(item, at, keys, NULL) ||
		    cfg_member_u32(item, at, "ivc_id", &c->ivc_id) ||
		    cfg_member_u32(item, at, "peer_id", &c->peer_id) ||
		    cfg_member_u64(item, at, "control_table_ipa", true, NULL,
				   &c->control_table_ipa) ||
		    cfg_member_u64(item, at, "shared_mem_ipa", true, NULL,
				   &c->shared_mem_ipa) ||
		    cfg_member_u32(item, at, "rw_sec_size", &c->rw_sec_size) ||
		    cfg_member_u32(item, at, "out_sec_size",
				   &c->out_sec_size) ||
		    cfg_member_u32(item, at, "interrupt_num",
				   &c->interrupt_num) ||
		    cfg_member_u32(item, at, "max_peers", &c->max_peers))
			return -1;
		d->ivc_count = ++i;
	}
	return 0;
}

/* A path member copied into dst (PATH_MAX bytes); "" refused. */
static int image_path(const cJSON *root, const char *key, char *dst)
{
	const char *s;

	if (zj_member_string(root, "", key, true, &s))
		return -1;
	if (!*s) {
		cfg_fail("%s: must not be empty (\"null\" loads nothing)", key);
		return -1;
	}
	if (strlen(s) >= PATH_MAX) {
		cfg_fail("%s: path too long", key);
		return -1;
	}
	strcpy(dst, s);
	return 0;
}

static int parse_images(const cJSON *root, struct zone_desc *d)
{
	if (image_path(root, "kernel_filepath", d->kernel_file))
		return -1;
	if (d->arch == ZONE_ARCH_X86_64) {
		/* x86 guests get ACPI, not a device tree: hvisor-tool never
		 * loads one there (dtb_load_paddr is still stored). */
		strcpy(d->dtb_file, "null");
		if (cJSON_GetObjectItemCaseSensitive(root, "dtb_filepath"))
			log_info("dtb_filepath: ignored (x86_64 zones have no "
				 "device tree)");
		if (cfg_member_u64(root, "", "dtb_load_paddr", false, NULL,
				   &d->dtb_load_paddr))
			return -1;
	} else if (image_path(root, "dtb_filepath", d->dtb_file) ||
		   cfg_member_u64(root, "", "dtb_load_paddr", true, NULL,
				  &d->dtb_load_paddr)) {
		return -1;
	}
	return cfg_member_u64(root, "", "kernel_load_paddr", true, NULL,
			      &d->kernel_load_paddr) ||
			       cfg_member_u64(root, "", "entry_point", true,
					      NULL, &d->entry_point)
		       ? -1
		       : 0;
}

/* ---- Values hvisor-tool reads differently ---- */

/* Keys whose string values are text, not numbers. */
static bool text_key(const char *k)
{
	static const char *const text[] = {"arch",
					   "name",
					   "type",
					   "kernel_filepath",
					   "dtb_filepath",
					   "filepath",
					   "boot_filepath",
					   "setup_filepath",
					   "initrd_filepath",
					   "cmdline",
					   "kernel_cmdline",
					   "initramfs_filepath",
					   "gic_version",
					   "boot_protocol",
					   "kernel_args",
					   NULL};

	for (const char *const *t = text; *t; t++)
		if (strcmp(*t, k) == 0)
			return true;
	return false;
}

/* hvisor-tool reads a numeric string with a leading 0 as octal: rewrite
 * it as hex so the shared number reader (decimal or 0x) gets the same
 * value. Digits 8 and 9 make it no number there: refused. */
static int octal_string(cJSON *item, const char *path)
{
	const char *v = item->valuestring;
	uint64_t n = 0;
	char hex[24];

	if (v[0] != '0' || v[1] < '0' || v[1] > '9')
		return 0;
	for (const char *p = v + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0; /* not all digits: the reader reports it */
		if (*p > '7') {
			cfg_fail(
				"%s: \"%s\" has a leading 0, which hvisor-tool "
				"reads as octal, and is not octal",
				path, v);
			return -1;
		}
		if (n >> 61) {
			cfg_fail("%s: out of range (more than 64 bits)", path);
			return -1;
		}
		n = n * 8 + (uint64_t)(*p - '0');
	}
	snprintf(hex, sizeof hex, "0x%" PRIx64, n);
	log_info("%s: \"%s\" read as octal (0x%" PRIx64 "), as hvisor-tool "
		 "does",
		 path, v, n);
	return cJSON_SetValuestring(item, hex) ? 0 : -1;
}

/* Walk every value below `item` (whose key, or the key of its array, is
 * `key`) with its path. */
static int check_value(cJSON *item, const char *key, char *path, size_t used,
		       size_t size)
{
	cJSON *child;
	unsigned i = 0;

	if (cJSON_IsString(item) && !text_key(key))
		return octal_string(item, path);
	if (cJSON_IsNumber(item) && item->valuedouble > INT32_MAX) {
		/* cJSON's int view of the number, which hvisor-tool uses,
		 * stops at INT32_MAX. */
		if (zj_strict()) {
			cfg_fail("%s: hvisor-tool reads JSON numbers as int "
				 "and would use 2147483647; write it as a "
				 "string (--strict)",
				 path);
			return -1;
		}
		log_warn(
			"%s: hvisor-tool reads JSON numbers as int and would "
			"use 2147483647 here; this tool keeps the value (write "
			"it as a string)",
			path);
		return 0;
	}
	cJSON_ArrayForEach (child, item) {
		const char *k = cJSON_IsObject(item) ? child->string : key;
		int n = cJSON_IsObject(item)
				? snprintf(path + used, size - used, "%s%s",
					   used ? "." : "", child->string)
				: snprintf(path + used, size - used, "[%u]", i);

		i++;
		if (n < 0 || (size_t)n >= size - used)
			continue; /* too deep to name: not a zone file key */
		if (check_value(child, k, path, used + (size_t)n, size))
			return -1;
	}
	path[used] = '\0';
	return 0;
}

int zj_check_values(cJSON *root)
{
	char path[256] = "";

	return check_value(root, "", path, 0, sizeof path);
}

/* ---- Entry points ---- */

int zone_json_parse_opts(const char *text, const char *source,
			 const struct zone_json_opts *opts,
			 struct zone_desc *out)
{
	static const struct zone_json_opts defaults;
	cJSON *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = cfg_parse_json(text, source);
	if (!root)
		return -1;
	cur_opts = opts ? opts : &defaults;
	if (zj_check_keys(root, "", top_keys, top_ignored) == 0 &&
	    zj_check_values(root) == 0 && parse_identity(root, out) == 0 &&
	    parse_cpus(root, out) == 0 && parse_memory(root, out) == 0 &&
	    parse_interrupts(root, out) == 0 && parse_ivc(root, out) == 0 &&
	    parse_images(root, out) == 0 &&
	    zj_parse_boot_protocol(root, out) == 0 &&
	    zj_parse_modules(root, out) == 0 &&
	    zj_parse_arch_config(root, out) == 0 &&
	    zj_parse_pci_config(root, out) == 0 &&
	    zj_parse_pci_devs(root, out) == 0)
		rc = 0;
	cur_opts = NULL;
	cJSON_Delete(root);
	return rc;
}

int zone_json_parse(const char *text, const char *source, struct zone_desc *out)
{
	return zone_json_parse_opts(text, source, NULL, out);
}

bool zj_strict(void)
{
	return cur_opts && cur_opts->strict;
}

int zone_json_load_opts(const char *file, uint64_t page_size,
			const struct zone_json_opts *opts,
			struct zone_desc *out)
{
	char *text = cfg_read_file(file);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -1;
	rc = zone_json_parse_opts(text, file, opts, out);
	free(text);
	if (rc == 0)
		rc = zj_check_images(out, page_size,
				     opts && opts->missing_images_ok);
	return rc;
}

int zone_json_load(const char *file, uint64_t page_size, struct zone_desc *out)
{
	return zone_json_load_opts(file, page_size, NULL, out);
}
