/* SPDX-License-Identifier: MIT */
/*
 * The hardware parts of a zone file: arch_config (the interrupt controller
 * and friends, per architecture) and PCI (buses and passed-through
 * devices), in both generations (zone_json.h).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "zone_json_impl.h"

/* One PCI bus takes 1 MiB of ECAM: 32 devices x 8 functions x 4 KiB. */
#define ECAM_BYTES_PER_BUS (1u << 20)

/* ---- arch_config ---- */

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

/* The UEFI parameters: memory_map_addr decides, the other two are then
 * required (as hvisor-tool). */
static int parse_uefi(const cJSON *ac, struct zone_arm64 *a)
{
	const struct u64_member m[] = {
		{"memory_map_addr", &a->memory_map_addr, true},
		{"memory_map_size", &a->memory_map_size, true},
		{"sys_map_addr", &a->sys_map_addr, true},
		{NULL, NULL, false},
	};

	if (!cJSON_GetObjectItemCaseSensitive(ac, "memory_map_addr")) {
		if (cJSON_GetObjectItemCaseSensitive(ac, "memory_map_size") ||
		    cJSON_GetObjectItemCaseSensitive(ac, "sys_map_addr"))
			log_info("arch_config: memory_map_size/sys_map_addr "
				 "ignored without memory_map_addr");
		return 0;
	}
	a->uefi = true;
	return read_members(ac, "arch_config", m);
}

static int parse_arm64(const cJSON *ac, struct zone_desc *d)
{
	static const char *const keys[] = {"gic_version",
					   "is_aarch32",
					   "gicd_base",
					   "gicd_size",
					   "gicr_base",
					   "gicr_size",
					   "gits_base",
					   "gits_size",
					   "gicc_base",
					   "gicc_size",
					   "gicc_offset",
					   "gich_base",
					   "gich_size",
					   "gicv_base",
					   "gicv_size",
					   "memory_map_addr",
					   "memory_map_size",
					   "sys_map_addr",
					   NULL};
	static const char *const v2_only[] = {
		"gicc_base", "gicc_size", "gicc_offset", "gich_base",
		"gich_size", "gicv_base", "gicv_size",   NULL};
	static const char *const v3_only[] = {"gicr_base", "gicr_size",
					      "gits_base", "gits_size", NULL};
	struct zone_arm64 *a = &d->arch_config.arm64;
	const char *version;

	if (zj_check_keys(ac, "arch_config", keys, NULL) ||
	    zj_member_string(ac, "arch_config", "gic_version", false, &version))
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
		if (zj_member_small(ac, "arch_config", "is_aarch32", true, 1,
				    &v))
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
		return parse_uefi(ac, a);
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
	return parse_uefi(ac, a);
}

static int parse_riscv64(const cJSON *ac, struct zone_desc *d)
{
	static const char *const keys[] = {"plic_base", "plic_size",
					   "aplic_base", "aplic_size", NULL};
	struct hvisor_arch_riscv64 *a = &d->arch_config.riscv64;
	const struct u64_member m[] = {
		{"plic_base", &a->plic_base, true},
		{"plic_size", &a->plic_size, true},
		{"aplic_base", &a->aplic_base, false},
		{"aplic_size", &a->aplic_size, false},
		{NULL, NULL, false},
	};

	return zj_check_keys(ac, "arch_config", keys, NULL) ||
			       read_members(ac, "arch_config", m)
		       ? -1
		       : 0;
}

/* A partner address given without its file: hvisor-tool does not read
 * it, so zone_config_t gets 0 there. */
static void unpartnered(const cJSON *ac, const char *key, const char *needs)
{
	if (cJSON_GetObjectItemCaseSensitive(ac, key))
		log_info("arch_config.%s: ignored without %s (hvisor-tool "
			 "reads it only with it)",
			 key, needs);
}

static int parse_x86_64(const cJSON *root, const cJSON *ac, struct zone_desc *d)
{
	static const char *const keys[] = {"ioapic_base",
					   "ioapic_size",
					   "kernel_entry_gpa",
					   "cmdline_load_gpa",
					   "setup_load_gpa",
					   "initrd_load_gpa",
					   "boot_filepath",
					   "boot_load_paddr",
					   "cmdline",
					   "cmdline_load_hpa",
					   "setup_filepath",
					   "setup_load_hpa",
					   "initrd_filepath",
					   "initrd_load_hpa",
					   "rsdp_memory_region_id",
					   "acpi_memory_region_id",
					   "uefi_memory_region_id",
					   "screen_base",
					   NULL};
	static const struct zj_ignored ignored[] = {
		{"initrd_size", "the size of the loaded initrd_filepath is "
				"used, as hvisor-tool does"},
		{NULL, NULL},
	};
	struct hvisor_arch_x86_64 *a = &d->arch_config.x86_64;
	bool multiboot = d->x86.protocol == ZONE_BOOT_MULTIBOOT2;
	const struct u64_member m[] = {
		{"ioapic_base", &a->ioapic_base, true},
		{"ioapic_size", &a->ioapic_size, true},
		{"rsdp_memory_region_id", &a->rsdp_memory_region_id, true},
		{"acpi_memory_region_id", &a->acpi_memory_region_id, true},
		{"uefi_memory_region_id", &a->uefi_memory_region_id, true},
		{"screen_base", &a->screen_base, true},
		{NULL, NULL, false},
	};

	if (zj_check_keys(ac, "arch_config", keys, ignored) ||
	    read_members(ac, "arch_config", m))
		return -1;
	if (multiboot) {
		/* The entry is the kernel ELF's, set when it is loaded. */
		if (cJSON_GetObjectItemCaseSensitive(ac, "kernel_entry_gpa"))
			log_info("arch_config.kernel_entry_gpa: ignored in "
				 "multiboot2 mode (the ELF entry is used)");
	} else if (cfg_member_u64(ac, "arch_config", "kernel_entry_gpa", true,
				  NULL, &a->kernel_entry_gpa)) {
		return -1;
	}
	if (zj_parse_x86_boot(root, ac, d))
		return -1;
	if (!d->x86.setup_file[0]) {
		unpartnered(ac, "setup_load_gpa", "setup_filepath");
		unpartnered(ac, "setup_load_hpa", "setup_filepath");
	}
	if (!d->x86.initrd_file[0]) {
		unpartnered(ac, "initrd_load_gpa", "initrd_filepath");
		unpartnered(ac, "initrd_load_hpa", "initrd_filepath");
	}
	if (!d->x86.has_cmdline) {
		if (!multiboot)
			unpartnered(ac, "cmdline_load_gpa", "cmdline");
		unpartnered(ac, "cmdline_load_hpa", "cmdline");
	}
	if (!d->x86.boot_file[0])
		unpartnered(ac, "boot_load_paddr", "boot_filepath");
	return 0;
}

int zj_parse_arch_config(const cJSON *root, struct zone_desc *d)
{
	const cJSON *ac = cJSON_GetObjectItemCaseSensitive(root, "arch_config");

	if (d->arch == ZONE_ARCH_LOONGARCH64) {
		/* hvisor-tool never reads a loongarch64 arch_config: its one
		 * placeholder field is written as 0. */
		if (ac)
			log_info("arch_config: ignored on loongarch64 (the "
				 "placeholder is written as 0, as "
				 "hvisor-tool does)");
		return 0;
	}
	if (!ac) {
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
	case ZONE_ARCH_X86_64:
	case ZONE_ARCH_COUNT:
		break;
	}
	return parse_x86_64(root, ac, d);
}

/* ---- PCI ---- */

static int parse_pci_bus(const cJSON *obj, const char *at, bool older,
			 struct hvisor_pci_config *b)
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

	if (zj_check_keys(obj, at, keys, NULL) || read_members(obj, at, m))
		return -1;
	if (older) {
		/* The older single bus spans its whole ECAM window. */
		uint64_t buses = b->ecam_size / ECAM_BYTES_PER_BUS;
		end = buses == 0 ? 0 : (buses > 256 ? 255 : buses - 1);
	}
	if (zj_member_small(obj, at, "bus_range_begin", !older, 255, &begin) ||
	    zj_member_small(obj, at, "bus_range_end", !older, 255, &end) ||
	    zj_member_small(obj, at, "domain", !older, 255, &domain))
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

int zj_parse_pci_config(const cJSON *root, struct zone_desc *d)
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
	if (zj_member_array(root, "pci_config", false, ZONE_MAX_PCI_BUS,
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
			 struct hvisor_pci_dev *p)
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
	if (zj_check_keys(item, at, keys, NULL) ||
	    zj_member_small(item, at, "domain", true, 255, &dom) ||
	    zj_member_small(item, at, "bus", true, 255, &bus) ||
	    zj_member_small(item, at, "device", true, 31, &dev) ||
	    zj_member_small(item, at, "function", true, 7, &fn))
		return -1;
	/* The guest sees the device where it is unless told otherwise. */
	uint64_t vbus = bus, vdev = dev, vfn = fn;
	if (zj_member_small(item, at, "v_bus", false, 255, &vbus) ||
	    zj_member_small(item, at, "v_device", false, 31, &vdev) ||
	    zj_member_small(item, at, "v_function", false, 7, &vfn) ||
	    zj_member_small(item, at, "dev_type", false, UINT32_MAX, &type))
		return -1;
	*p = (struct hvisor_pci_dev){
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

int zj_parse_pci_devs(const cJSON *root, struct zone_desc *d)
{
	const cJSON *arr, *item;
	uint64_t declared = 0;
	bool has_declared = false;
	unsigned i = 0;

	if (cfg_member_u64(root, "", "num_pci_devs", false, &has_declared,
			   &declared) ||
	    zj_member_array(root, "alloc_pci_devs", false, ZONE_MAX_PCI_DEVS,
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
