/* SPDX-License-Identifier: MIT */
/*
 * Zone file decoding and validation (see zone_json.h). The number, member
 * and JSON-text helpers are the virtio file's (config.h), so both files
 * report errors the same way.
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

/* One PCI bus takes 1 MiB of ECAM: 32 devices x 8 functions x 4 KiB. */
#define ECAM_BYTES_PER_BUS (1u << 20)

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
	NULL,
};

/* ---- Small typed readers ---------------------------------------------------
 * Return 0, or -1 with the error reported. */

/* An array member: *out NULL when absent and optional. */
static int member_array(const cJSON *obj, const char *name, bool required,
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

static int member_string(const cJSON *obj, const char *at, const char *name,
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
static int member_small(const cJSON *obj, const char *at, const char *name,
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

/* [a, a+alen) and [b, b+blen) intersect; neither wraps. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- Top-level scalars ------------------------------------------------------
 */

static int parse_identity(const cJSON *root, struct zone_desc *d)
{
	const char *s;

	if (member_string(root, "", "arch", false, &s))
		return -1;
	if (s) {
		int a = zone_arch_parse(s);
		if (a < 0) {
			char buf[40];
			cfg_fail("arch: \"%s\" is not one of arm64, riscv64, "
				 "loongarch64, x86_64",
				 cfg_printable(s, buf, sizeof buf));
			return -1;
		}
		d->arch = (enum zone_arch)a;
	} else {
		/* hvisor-tool is built for one architecture and its files
		 * need not say which: default to ours. */
		int a = zone_arch_host();
		if (a < 0) {
			cfg_fail("arch: missing (one of arm64, riscv64, "
				 "loongarch64, x86_64)");
			return -1;
		}
		d->arch = (enum zone_arch)a;
		d->arch_from_host = true;
	}

	if (member_string(root, "", "name", true, &s))
		return -1;
	size_t len = strlen(s);
	if (len == 0) {
		cfg_fail("name: must not be empty");
		return -1;
	}
	if (len > ZONE_NAME_LEN - 1) {
		char buf[48];
		cfg_fail("name: \"%s\" is %zu bytes, at most %d fit in "
			 "zone_config_t",
			 cfg_printable(s, buf, sizeof buf), len,
			 ZONE_NAME_LEN - 1);
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

	if (member_array(root, "cpus", true, UINT32_MAX, "cpus", &arr))
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

	if (member_string(region, at, "type", true, &s))
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

	if (member_array(root, "memory_regions", true, ZONE_MAX_MEM_REGIONS,
			 "regions", &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		struct zone_mem_region *r = &d->mem[i];
		char at[32];

		snprintf(at, sizeof at, "memory_regions[%u]", i);
		if (cfg_check_keys(item, at, keys, NULL) ||
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
			const struct zone_mem_region *o = &d->mem[j];

			/* The guest sees one address space; two RAM regions
			 * must not share host memory either. */
			if (ranges_overlap(r->virtual_start, r->size,
					   o->virtual_start, o->size) ||
			    (r->type == ZONE_MEM_RAM &&
			     o->type == ZONE_MEM_RAM &&
			     ranges_overlap(r->physical_start, r->size,
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

	if (member_array(root, "interrupts", true, UINT32_MAX, "interrupts",
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

	if (member_array(root, "ivc_configs", false, ZONE_MAX_IVC,
			 "ivc configs", &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		struct zone_ivc *c = &d->ivc[i];
		char at[32];

		snprintf(at, sizeof at, "ivc_configs[%u]", i);
		if (cfg_check_keys(item, at, keys, NULL) ||
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

static int parse_images(const cJSON *root, struct zone_desc *d)
{
	const char *kernel, *dtb;

	if (member_string(root, "", "kernel_filepath", true, &kernel) ||
	    member_string(root, "", "dtb_filepath", true, &dtb))
		return -1;
	if (!*kernel || !*dtb) {
		cfg_fail("%s: must not be empty",
			 *kernel ? "dtb_filepath" : "kernel_filepath");
		return -1;
	}
	if (strlen(kernel) >= sizeof d->kernel_file ||
	    strlen(dtb) >= sizeof d->dtb_file) {
		cfg_fail("%s: path too long", strlen(kernel) >= PATH_MAX
						      ? "kernel_filepath"
						      : "dtb_filepath");
		return -1;
	}
	strcpy(d->kernel_file, kernel);
	strcpy(d->dtb_file, dtb);
	return cfg_member_u64(root, "", "kernel_load_paddr", true, NULL,
			      &d->kernel_load_paddr) ||
			       cfg_member_u64(root, "", "dtb_load_paddr", true,
					      NULL, &d->dtb_load_paddr) ||
			       cfg_member_u64(root, "", "entry_point", true,
					      NULL, &d->entry_point)
		       ? -1
		       : 0;
}

/* ---- arch_config
 * ------------------------------------------------------------- */

/* Members of `names` that are present in obj are read into the fields at
 * the same index of `out`; the rest are left alone. */
struct u64_member {
	const char *name;
	uint64_t *out;
	bool required;
};

static int read_members(const cJSON *obj, const char *at,
			const struct u64_member *m)
{
	for (; m->name; m++)
		if (cfg_member_u64(obj, at, m->name, m->required, NULL, m->out))
			return -1;
	return 0;
}

/* Keys of the GIC the configuration does not use. hvisor-tool's older
 * files listed every GIC key whatever the version, so they are ignored,
 * with a warning when they hold something. */
static void warn_unused(const cJSON *obj, const char *const *keys,
			unsigned version)
{
	for (; *keys; keys++) {
		uint64_t v = 0;
		bool present = false;

		if (cfg_member_u64(obj, "arch_config", *keys, false, &present,
				   &v) == 0 &&
		    present && v != 0)
			log_warn("arch_config.%s: not used by a GICv%u "
				 "configuration, ignored",
				 *keys, version);
	}
}

static int parse_arm64(const cJSON *ac, struct zone_desc *d)
{
	static const char *const keys[] = {
		"gic_version", "is_aarch32", "gicd_base",   "gicd_size",
		"gicr_base",   "gicr_size",  "gits_base",   "gits_size",
		"gicc_base",   "gicc_size",  "gicc_offset", "gich_base",
		"gich_size",   "gicv_base",  "gicv_size",   NULL};
	static const char *const v2_only[] = {
		"gicc_base", "gicc_size", "gicc_offset", "gich_base",
		"gich_size", "gicv_base", "gicv_size",   NULL};
	static const char *const v3_only[] = {"gicr_base", "gicr_size",
					      "gits_base", "gits_size", NULL};
	struct zone_arm64 *a = &d->arch_config.arm64;
	const char *version;

	if (cfg_check_keys(ac, "arch_config", keys, NULL) ||
	    member_string(ac, "arch_config", "gic_version", false, &version))
		return -1;
	if (version) {
		if (strcmp(version, "v2") == 0) {
			a->gic_version = 2;
		} else if (strcmp(version, "v3") == 0) {
			a->gic_version = 3;
		} else {
			char buf[40];
			cfg_fail("arch_config.gic_version: \"%s\" is not "
				 "\"v2\" or \"v3\"",
				 cfg_printable(version, buf, sizeof buf));
			return -1;
		}
	} else if (cJSON_GetObjectItemCaseSensitive(ac, "gicr_base")) {
		a->gic_version = 3; /* older files: GICv3 unless said */
		d->gic_version_implied = true;
	} else if (cJSON_GetObjectItemCaseSensitive(ac, "gicc_base")) {
		a->gic_version = 2;
		d->gic_version_implied = true;
	} else {
		cfg_fail("arch_config.gic_version: missing, and neither "
			 "gicr_base (GICv3) nor gicc_base (GICv2) is given");
		return -1;
	}

	const cJSON *is32 = cJSON_GetObjectItemCaseSensitive(ac, "is_aarch32");
	if (cJSON_IsBool(is32)) {
		a->is_aarch32 = cJSON_IsTrue(is32);
	} else if (is32) {
		uint64_t v = 0;
		if (member_small(ac, "arch_config", "is_aarch32", true, 1, &v))
			return -1;
		a->is_aarch32 = (uint8_t)v;
	}

	if (a->gic_version == 3) {
		const struct u64_member m[] = {
			{"gicd_base", &a->gicd_base, true},
			{"gicd_size", &a->gicd_size, true},
			{"gicr_base", &a->gicr_base, true},
			{"gicr_size", &a->gicr_size, true},
			{"gits_base", &a->gits_base, false},
			{"gits_size", &a->gits_size, false},
			{NULL, NULL, false},
		};
		if (read_members(ac, "arch_config", m))
			return -1;
		warn_unused(ac, v2_only, 3);
		return 0;
	}
	const struct u64_member m[] = {
		{"gicd_base", &a->gicd_base, true},
		{"gicd_size", &a->gicd_size, true},
		{"gicc_base", &a->gicc_base, true},
		{"gicc_size", &a->gicc_size, true},
		{"gicc_offset", &a->gicc_offset, true},
		{"gich_base", &a->gich_base, true},
		{"gich_size", &a->gich_size, true},
		{"gicv_base", &a->gicv_base, true},
		{"gicv_size", &a->gicv_size, true},
		{NULL, NULL, false},
	};
	if (read_members(ac, "arch_config", m))
		return -1;
	warn_unused(ac, v3_only, 2);
	return 0;
}

static int parse_riscv64(const cJSON *ac, struct zone_desc *d)
{
	static const char *const keys[] = {"plic_base", "plic_size",
					   "aplic_base", "aplic_size", NULL};
	struct zone_riscv64 *a = &d->arch_config.riscv64;
	const struct u64_member m[] = {
		{"plic_base", &a->plic_base, true},
		{"plic_size", &a->plic_size, true},
		{"aplic_base", &a->aplic_base, false},
		{"aplic_size", &a->aplic_size, false},
		{NULL, NULL, false},
	};

	return cfg_check_keys(ac, "arch_config", keys, NULL) ||
			       read_members(ac, "arch_config", m)
		       ? -1
		       : 0;
}

static int parse_x86_64(const cJSON *ac, struct zone_desc *d)
{
	static const char *const keys[] = {
		"ioapic_base",           "ioapic_size",
		"kernel_entry_gpa",      "cmdline_load_gpa",
		"setup_load_gpa",        "initrd_load_gpa",
		"initrd_size",           "rsdp_memory_region_id",
		"acpi_memory_region_id", "uefi_memory_region_id",
		"screen_base",           NULL};
	/* hvisor-tool also loads these for x86 guests; this tool does not
	 * yet, and says so rather than starting a zone without them. */
	static const char *const boot_files[] = {
		"boot_filepath",    "boot_load_paddr", "cmdline",
		"cmdline_load_hpa", "setup_filepath",  "setup_load_hpa",
		"initrd_filepath",  "initrd_load_hpa", NULL};
	struct zone_x86_64 *a = &d->arch_config.x86_64;
	const struct u64_member m[] = {
		{"ioapic_base", &a->ioapic_base, true},
		{"ioapic_size", &a->ioapic_size, true},
		{"kernel_entry_gpa", &a->kernel_entry_gpa, true},
		{"cmdline_load_gpa", &a->cmdline_load_gpa, false},
		{"setup_load_gpa", &a->setup_load_gpa, false},
		{"initrd_load_gpa", &a->initrd_load_gpa, false},
		{"initrd_size", &a->initrd_size, false},
		{"rsdp_memory_region_id", &a->rsdp_memory_region_id, false},
		{"acpi_memory_region_id", &a->acpi_memory_region_id, false},
		{"uefi_memory_region_id", &a->uefi_memory_region_id, false},
		{"screen_base", &a->screen_base, false},
		{NULL, NULL, false},
	};

	for (const char *const *k = boot_files; *k; k++) {
		if (cJSON_GetObjectItemCaseSensitive(ac, *k)) {
			cfg_fail("arch_config.%s: loading x86 boot files is "
				 "not supported by this tool yet",
				 *k);
			return -1;
		}
	}
	return cfg_check_keys(ac, "arch_config", keys, NULL) ||
			       read_members(ac, "arch_config", m)
		       ? -1
		       : 0;
}

static int parse_arch_config(const cJSON *root, struct zone_desc *d)
{
	static const char *const loongarch_keys[] = {"dummy", NULL};
	const cJSON *ac = cJSON_GetObjectItemCaseSensitive(root, "arch_config");

	if (!ac) {
		/* loongarch64's arch_config is a placeholder. */
		if (d->arch == ZONE_ARCH_LOONGARCH64)
			return 0;
		cfg_fail("arch_config: missing (required for %s)",
			 zone_arch_name(d->arch));
		return -1;
	}
	switch (d->arch) {
	case ZONE_ARCH_ARM64:
		return parse_arm64(ac, d);
	case ZONE_ARCH_RISCV64:
		return parse_riscv64(ac, d);
	case ZONE_ARCH_LOONGARCH64:
		return cfg_check_keys(ac, "arch_config", loongarch_keys,
				      NULL) ||
				       cfg_member_u64(
					       ac, "arch_config", "dummy",
					       false, NULL,
					       &d->arch_config.loongarch64
							.dummy)
			       ? -1
			       : 0;
	case ZONE_ARCH_X86_64:
	case ZONE_ARCH_COUNT:
		break;
	}
	return parse_x86_64(ac, d);
}

/* ---- PCI
 * ----------------------------------------------------------------------- */

static int parse_pci_bus(const cJSON *obj, const char *at, bool older,
			 struct zone_pci_bus *b)
{
	static const char *const keys[] = {
		"ecam_base",     "ecam_size",      "io_base",
		"io_size",       "pci_io_base",    "mem32_base",
		"mem32_size",    "pci_mem32_base", "mem64_base",
		"mem64_size",    "pci_mem64_base", "bus_range_begin",
		"bus_range_end", "domain",         NULL};
	const struct u64_member m[] = {
		{"ecam_base", &b->ecam_base, true},
		{"ecam_size", &b->ecam_size, true},
		{"io_base", &b->io_base, true},
		{"io_size", &b->io_size, true},
		{"pci_io_base", &b->pci_io_base, true},
		{"mem32_base", &b->mem32_base, true},
		{"mem32_size", &b->mem32_size, true},
		{"pci_mem32_base", &b->pci_mem32_base, true},
		{"mem64_base", &b->mem64_base, true},
		{"mem64_size", &b->mem64_size, true},
		{"pci_mem64_base", &b->pci_mem64_base, true},
		{NULL, NULL, false},
	};
	uint64_t begin = 0, end = 0, domain = 0;

	if (cfg_check_keys(obj, at, keys, NULL) || read_members(obj, at, m))
		return -1;
	if (older) {
		/* The older single bus spans its whole ECAM window. */
		uint64_t buses = b->ecam_size / ECAM_BYTES_PER_BUS;
		end = buses == 0 ? 0 : (buses > 256 ? 255 : buses - 1);
	}
	if (member_small(obj, at, "bus_range_begin", !older, 255, &begin) ||
	    member_small(obj, at, "bus_range_end", !older, 255, &end) ||
	    member_small(obj, at, "domain", !older, 255, &domain))
		return -1;
	if (begin > end) {
		cfg_fail("%s.bus_range_begin: %" PRIu64
			 " is above bus_range_end %" PRIu64,
			 at, begin, end);
		return -1;
	}
	b->bus_range_begin = (uint32_t)begin;
	b->bus_range_end = (uint32_t)end;
	b->domain = (uint8_t)domain;
	return 0;
}

static int parse_pci_config(const cJSON *root, struct zone_desc *d)
{
	const cJSON *pc = cJSON_GetObjectItemCaseSensitive(root, "pci_config");
	const cJSON *item;
	unsigned i = 0;

	if (!pc)
		return 0;
	if (cJSON_IsObject(pc)) {
		d->older_pci_config = true;
		d->pci_bus_count = 1;
		return parse_pci_bus(pc, "pci_config", true, &d->pci_bus[0]);
	}
	if (!cJSON_IsArray(pc)) {
		cfg_fail("pci_config: expected an array of buses (or, in "
			 "older files, one object)");
		return -1;
	}
	if (member_array(root, "pci_config", false, ZONE_MAX_PCI_BUS,
			 "pci buses", &pc))
		return -1;
	cJSON_ArrayForEach (item, pc) {
		char at[32];

		snprintf(at, sizeof at, "pci_config[%u]", i);
		if (parse_pci_bus(item, at, false, &d->pci_bus[i]))
			return -1;
		d->pci_bus_count = ++i;
	}
	return 0;
}

static int parse_pci_dev(const cJSON *item, const char *at, struct zone_desc *d,
			 struct zone_pci_dev *p)
{
	static const char *const keys[] = {"domain",     "bus",      "device",
					   "function",   "v_bus",    "v_device",
					   "v_function", "dev_type", NULL};
	uint64_t dom = 0, bus = 0, dev = 0, fn = 0, type = 0;

	if (cJSON_IsNumber(item) || cJSON_IsString(item)) {
		uint64_t packed;

		/* Older files: bus << 8 | device << 3 | function. */
		if (cfg_item_u64(item, at, &packed))
			return -1;
		if (packed > 0xffff) {
			cfg_fail("%s: 0x%" PRIx64 " is not a PCI address "
				 "(bus << 8 | device << 3 | function)",
				 at, packed);
			return -1;
		}
		d->older_pci_devs = true;
		p->bus = p->v_bus = (uint8_t)(packed >> 8);
		p->device = p->v_device = (uint8_t)((packed >> 3) & 0x1f);
		p->function = p->v_function = (uint8_t)(packed & 7);
		p->dev_type = ZONE_PCI_DEV_PHYSICAL;
		return 0;
	}
	if (cfg_check_keys(item, at, keys, NULL) ||
	    member_small(item, at, "domain", true, 255, &dom) ||
	    member_small(item, at, "bus", true, 255, &bus) ||
	    member_small(item, at, "device", true, 31, &dev) ||
	    member_small(item, at, "function", true, 7, &fn))
		return -1;
	/* The guest sees the device where it is unless told otherwise. */
	uint64_t vbus = bus, vdev = dev, vfn = fn;
	if (member_small(item, at, "v_bus", false, 255, &vbus) ||
	    member_small(item, at, "v_device", false, 31, &vdev) ||
	    member_small(item, at, "v_function", false, 7, &vfn) ||
	    member_small(item, at, "dev_type", false, UINT32_MAX, &type))
		return -1;
	*p = (struct zone_pci_dev){
		.domain = (uint8_t)dom,
		.bus = (uint8_t)bus,
		.device = (uint8_t)dev,
		.function = (uint8_t)fn,
		.v_bus = (uint8_t)vbus,
		.v_device = (uint8_t)vdev,
		.v_function = (uint8_t)vfn,
		.dev_type = (uint32_t)type,
	};
	return 0;
}

static int parse_pci_devs(const cJSON *root, struct zone_desc *d)
{
	const cJSON *arr, *item;
	uint64_t declared = 0;
	bool has_declared = false;
	unsigned i = 0;

	if (cfg_member_u64(root, "", "num_pci_devs", false, &has_declared,
			   &declared) ||
	    member_array(root, "alloc_pci_devs", false, ZONE_MAX_PCI_DEVS,
			 "pci devices", &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		char at[32];

		snprintf(at, sizeof at, "alloc_pci_devs[%u]", i);
		if (parse_pci_dev(item, at, d, &d->pci_dev[i]))
			return -1;
		d->pci_dev_count = ++i;
	}
	/* hvisor-tool counts the array and never reads num_pci_devs, and
	 * files in the wild disagree with it (the example says 1
	 * next to two entries): the array wins, as there. */
	if (has_declared && declared != d->pci_dev_count) {
		if (!arr && declared > 0) {
			cfg_fail("num_pci_devs: %" PRIu64 " but alloc_pci_devs "
				 "is missing",
				 declared);
			return -1;
		}
		log_warn("num_pci_devs: says %" PRIu64 " but alloc_pci_devs "
			 "has %u entries; using the entries",
			 declared, d->pci_dev_count);
	}
	return 0;
}

/* ---- Entry points
 * ---------------------------------------------------------------- */

int zone_json_parse(const char *text, const char *source, struct zone_desc *out)
{
	cJSON *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = cfg_parse_json(text, source);
	if (!root)
		return -1;
	if (cfg_check_keys(root, "", top_keys, NULL) == 0 &&
	    parse_identity(root, out) == 0 && parse_cpus(root, out) == 0 &&
	    parse_memory(root, out) == 0 && parse_interrupts(root, out) == 0 &&
	    parse_ivc(root, out) == 0 && parse_images(root, out) == 0 &&
	    parse_arch_config(root, out) == 0 &&
	    parse_pci_config(root, out) == 0 && parse_pci_devs(root, out) == 0)
		rc = 0;
	cJSON_Delete(root);
	return rc;
}

/* Size of an image file, or -1 (reported at `key`). "null" is no image. */
static int image_size(const char *key, const char *file, uint64_t *size)
{
	struct stat st;

	*size = 0;
	if (strcmp(file, "null") == 0)
		return 0;
	if (stat(file, &st) != 0) {
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
		const struct zone_mem_region *r = &d->mem[i];

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

int zone_json_check_images(struct zone_desc *d, uint64_t page_size)
{
	uint64_t ksize, dsize;

	if (image_size("kernel_filepath", d->kernel_file, &ksize) ||
	    image_size("dtb_filepath", d->dtb_file, &dsize))
		return -1;
	if (ksize && check_fits(d, "kernel", "kernel_load_paddr",
				d->kernel_load_paddr, ksize))
		return -1;
	if (dsize &&
	    check_fits(d, "dtb", "dtb_load_paddr", d->dtb_load_paddr, dsize))
		return -1;
	if (ksize && dsize &&
	    ranges_overlap(d->kernel_load_paddr, ksize, d->dtb_load_paddr,
			   dsize)) {
		cfg_fail("dtb_load_paddr: the dtb (0x%" PRIx64
			 " bytes at 0x%" PRIx64 ") overlaps the kernel "
			 "(0x%" PRIx64 " bytes at 0x%" PRIx64 ")",
			 dsize, d->dtb_load_paddr, ksize, d->kernel_load_paddr);
		return -1;
	}
	d->kernel_size = round_up(ksize, page_size);
	d->dtb_size = round_up(dsize, page_size);
	return 0;
}

int zone_json_load(const char *file, uint64_t page_size, struct zone_desc *out)
{
	char *text = cfg_read_file(file);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -1;
	rc = zone_json_parse(text, file, out);
	free(text);
	if (rc == 0)
		rc = zone_json_check_images(out, page_size);
	return rc;
}
