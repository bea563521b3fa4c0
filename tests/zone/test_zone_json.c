/* SPDX-License-Identifier: MIT */
/*
 * The zone file decoder: both generations decode to the expected
 * zone_config_t bytes (built from the shared declarations in
 * interface/hvisor/zone_config.h), and every validation error comes with its
 * JSON path.
 */
#include "hvisor/zone_config.h"
#include "zone/zone_json_fixture.h"
#include "zone/zone_test_files.h"

/* ---- Both generations, byte for byte ---------------------------------------
 */

static void test_older_example_bytes(void)
{
	static struct hvisor_zone_config_arm64_v06 x;

	CU_ASSERT_EQUAL_FATAL(load_text(OLDER_EXAMPLE), 0);
	CU_ASSERT_TRUE(desc.older_pci_config);
	CU_ASSERT_TRUE(desc.older_pci_devs);
	CU_ASSERT_TRUE(desc.gic_version_implied);

	memset(&x, 0, sizeof x);
	x.zone_id = 1;
	x.cpus = 0xc;
	x.num_memory_regions = 3;
	x.memory_regions[0] = (struct hvisor_memory_region){
		0, 0x50000000, 0x50000000, 0x30000000};
	x.memory_regions[1] =
		(struct hvisor_memory_region){2, 0xa003800, 0xa003800, 0x200};
	x.memory_regions[2] =
		(struct hvisor_memory_region){2, 0xa003c00, 0xa003c00, 0x200};
	x.interrupts_bitmap[1] = 0xf << 3;                    /* 35..38 */
	x.interrupts_bitmap[2] = 1 << 11 | 1 << 12 | 1 << 14; /* 75 76 78 */
	x.entry_point = 0x50400000;
	x.kernel_load_paddr = 0x50400000;
	x.kernel_size = 0x3000;
	x.dtb_load_paddr = 0x50000000;
	x.dtb_size = 0x1000;
	strcpy(x.name, "linux2");
	x.arch_config.gic.tag = 1;
	x.arch_config.gic.v3 = (struct hvisor_gicv3){
		0x8000000, 0x10000, 0x80a0000, 0xf60000, 0x8080000, 0x20000};
	x.arch_config.uefi.no_uefi_tag = 1;
	x.num_pci_bus = 1;
	x.pci_config[0] = (struct hvisor_pci_config){
		.ecam_base = 0x4010000000,
		.ecam_size = 0x10000000,
		.io_base = 0x3eff0000,
		.io_size = 0x10000,
		.mem32_base = 0x10000000,
		.mem32_size = 0x2eff0000,
		.pci_mem32_base = 0x10000000,
		.mem64_base = 0x8000000000,
		.mem64_size = 0x8000000000,
		.pci_mem64_base = 0x8000000000,
		.bus_range_end = 255, /* 256 MiB of ECAM = 256 buses */
	};
	/* alloc_pci_devs [0, 24]: 00:00.0 and 00:03.0; num_pci_devs (1)
	 * is ignored as hvisor-tool ignores it. */
	x.num_pci_devs = 2;
	x.alloc_pci_devs[1].device = 3;
	x.alloc_pci_devs[1].v_device = 3;

	size_t n = zone_layout_encode(&desc, ZONE_LAYOUT_V06, buf, NULL);
	CU_ASSERT_EQUAL(n, sizeof x);
	CU_ASSERT_EQUAL(n, 3296);
	CU_ASSERT_EQUAL(memcmp(buf, &x, sizeof x), 0);
}

static void test_newer_example_bytes(void)
{
	static struct hvisor_zone_config_arm64_v06 x;

	CU_ASSERT_EQUAL_FATAL(load_text(NEWER_EXAMPLE), 0);
	CU_ASSERT_FALSE(desc.older_pci_config);
	CU_ASSERT_FALSE(desc.older_pci_devs);
	CU_ASSERT_FALSE(desc.gic_version_implied);

	memset(&x, 0, sizeof x);
	x.zone_id = 2;
	x.cpus = 2;
	x.num_memory_regions = 2;
	x.memory_regions[0] = (struct hvisor_memory_region){
		0, 0x60000000, 0x40000000, 0x1000000};
	x.memory_regions[1] =
		(struct hvisor_memory_region){1, 0x9000000, 0x9000000, 0x1000};
	x.interrupts_bitmap[1] = 1 << 1;    /* 33 */
	x.interrupts_bitmap[31] = 1u << 31; /* 1023 */
	x.num_ivc_configs = 1;
	x.ivc_configs[0] = (struct hvisor_ivc_config){
		5, 0, 0xd0000000, 0xd0001000, 0x1000, 0x800, 66, 2};
	x.entry_point = 0x40000000;
	x.kernel_load_paddr = 0x60000000;
	x.kernel_size = 0x3000;
	/* dtb "null": nothing loaded, size 0 (as hvisor-tool). */
	strcpy(x.name, "rtos-a32");
	x.arch_config.is_aarch32 = 1;
	x.arch_config.gic.tag = 0;
	x.arch_config.gic.v2 =
		(struct hvisor_gicv2){0x8000000, 0x10000, 0x8010000, 0x10000, 0,
				      0x8030000, 0x10000, 0x8040000, 0x10000};
	x.arch_config.uefi.no_uefi_tag = 1;
	x.num_pci_bus = 2;
	x.pci_config[0] = (struct hvisor_pci_config){
		.ecam_base = 0x4010000000,
		.ecam_size = 0x1000000,
		.io_base = 0x3eff0000,
		.io_size = 0x10000,
		.mem32_base = 0x10000000,
		.mem32_size = 0x2eff0000,
		.pci_mem32_base = 0x10000000,
		.mem64_base = 0x8000000000,
		.mem64_size = 0x8000000000,
		.pci_mem64_base = 0x8000000000,
		.bus_range_end = 15,
	};
	x.pci_config[1] = (struct hvisor_pci_config){
		.ecam_base = 0x4020000000,
		.ecam_size = 0x100000,
		.mem64_base = 0x9000000000,
		.mem64_size = 0x100000000,
		.pci_mem64_base = 0x9000000000,
		.bus_range_begin = 32,
		.bus_range_end = 32,
		.domain = 1,
	};
	x.num_pci_devs = 2;
	x.alloc_pci_devs[0] = (struct hvisor_pci_dev){0, 0, 3, 0, 0, 3, 0, 0};
	x.alloc_pci_devs[1] = (struct hvisor_pci_dev){1, 32, 1, 2, 0, 5, 0, 1};

	size_t n = zone_layout_encode(&desc, ZONE_LAYOUT_V06, buf, NULL);
	CU_ASSERT_EQUAL(n, sizeof x);
	CU_ASSERT_EQUAL(memcmp(buf, &x, sizeof x), 0);
}

static void test_riscv64_bytes(void)
{
	static struct hvisor_zone_config_riscv64_v06 x;

	CU_ASSERT_EQUAL_FATAL(
		load_text(OTHER_ARCH("riscv64",
				     ", \"arch_config\": {\"plic_base\": "
				     "\"0xc000000\", \"plic_size\": "
				     "\"0x4000000\", \"aplic_base\": "
				     "\"0xd000000\", \"aplic_size\": "
				     "\"0x8000\"}")),
		0);
	size_t n = zone_layout_encode(&desc, ZONE_LAYOUT_V06, buf, NULL);
	CU_ASSERT_EQUAL_FATAL(n, sizeof x);
	memcpy(&x, buf, sizeof x);
	CU_ASSERT_EQUAL(x.arch_config.plic_base, 0xc000000);
	CU_ASSERT_EQUAL(x.arch_config.plic_size, 0x4000000);
	CU_ASSERT_EQUAL(x.arch_config.aplic_base, 0xd000000);
	CU_ASSERT_EQUAL(x.arch_config.aplic_size, 0x8000);
	CU_ASSERT_EQUAL(x.num_pci_bus, 0);
	CU_ASSERT_EQUAL(x.num_pci_devs, 1);
	CU_ASSERT_EQUAL(x.alloc_pci_devs[0].bus, 1);
	CU_ASSERT_EQUAL(x.alloc_pci_devs[0].v_bus, 1);
	CU_ASSERT_STRING_EQUAL(x.name, "z");
}

static void test_loongarch64_bytes(void)
{
	static struct hvisor_zone_config_loongarch64_v06 x;

	/* Its arch_config is a placeholder: the key may be absent. */
	CU_ASSERT_EQUAL_FATAL(load_text(OTHER_ARCH("loongarch64", "")), 0);
	size_t n = zone_layout_encode(&desc, ZONE_LAYOUT_V06, buf, NULL);
	CU_ASSERT_EQUAL_FATAL(n, sizeof x);
	memcpy(&x, buf, sizeof x);
	CU_ASSERT_EQUAL(x.arch_config.dummy, 0);
	CU_ASSERT_EQUAL(x.num_pci_devs, 1);
	CU_ASSERT_EQUAL(x.alloc_pci_devs[0].bus, 1);
}

static void test_x86_64_bytes(void)
{
	static struct hvisor_zone_config_x86_64_v06 x;

	CU_ASSERT_EQUAL_FATAL(
		load_text(OTHER_ARCH(
			"x86_64",
			", \"arch_config\": {\"ioapic_base\": "
			"\"0xfec00000\", \"ioapic_size\": \"0x1000\", "
			"\"kernel_entry_gpa\": \"0x100000\", "
			"\"rsdp_memory_region_id\": 0, "
			"\"acpi_memory_region_id\": 1, "
			"\"uefi_memory_region_id\": 2, "
			"\"screen_base\": \"0xfd000000\"}")),
		0);
	size_t n = zone_layout_encode(&desc, ZONE_LAYOUT_V06, buf, NULL);
	CU_ASSERT_EQUAL_FATAL(n, sizeof x);
	memcpy(&x, buf, sizeof x);
	CU_ASSERT_EQUAL(x.arch_config.ioapic_base, 0xfec00000);
	CU_ASSERT_EQUAL(x.arch_config.ioapic_size, 0x1000);
	CU_ASSERT_EQUAL(x.arch_config.kernel_entry_gpa, 0x100000);
	CU_ASSERT_EQUAL(x.arch_config.initrd_size, 0);
	CU_ASSERT_EQUAL(x.arch_config.acpi_memory_region_id, 1);
	CU_ASSERT_EQUAL(x.arch_config.uefi_memory_region_id, 2);
	CU_ASSERT_EQUAL(x.arch_config.screen_base, 0xfd000000);
	/* No device tree on x86: dtb_filepath is not loaded. */
	CU_ASSERT_STRING_EQUAL(desc.dtb_file, "null");
	CU_ASSERT_EQUAL(x.dtb_size, 0);
	CU_ASSERT_EQUAL(x.dtb_load_paddr, 0x80000000);
	CU_ASSERT_EQUAL(x.num_pci_devs, 1);
}

/* ---- Validation errors
 * ---------------------------------------------------------- */

static void test_base_is_valid(void)
{
	CHECK_ERROR("name", "\"base\"", "");
}

static void test_overlapping_regions(void)
{
	CHECK_ERROR("memory_regions",
		    "[{\"type\": \"ram\", \"physical_start\": \"0x50000000\", "
		    "\"virtual_start\": \"0x50000000\", \"size\": "
		    "\"0x1000000\"}, {\"type\": \"virtio\", "
		    "\"physical_start\": \"0x50800000\", \"virtual_start\": "
		    "\"0x50800000\", \"size\": \"0x200\"}]",
		    "memory_regions[1]: 0x50800000+0x200 overlaps "
		    "memory_regions[0]");
	/* Two RAM regions sharing host memory, at different guest
	 * addresses. */
	CHECK_ERROR("memory_regions",
		    "[{\"type\": \"ram\", \"physical_start\": \"0x50000000\", "
		    "\"virtual_start\": \"0x50000000\", \"size\": "
		    "\"0x1000000\"}, {\"type\": \"ram\", \"physical_start\": "
		    "\"0x50800000\", \"virtual_start\": \"0x80000000\", "
		    "\"size\": \"0x1000000\"}]",
		    "memory_regions[1]: 0x80000000+0x1000000 overlaps "
		    "memory_regions[0]");
	CHECK_ERROR("memory_regions",
		    "[{\"type\": \"ram\", \"physical_start\": \"0x50000000\", "
		    "\"virtual_start\": \"0x50000000\", \"size\": \"0\"}]",
		    "memory_regions[0].size: must be greater than 0");
	CHECK_ERROR("memory_regions",
		    "[{\"type\": \"rom\", \"physical_start\": \"0x0\", "
		    "\"virtual_start\": \"0x0\", \"size\": \"0x1000\"}]",
		    "memory_regions[0].type: \"rom\" is not one of \"ram\", "
		    "\"io\", \"virtio\"");
}

static void test_image_must_fit(void)
{
	CHECK_ERROR("kernel_load_paddr", "\"0x50ffff00\"",
		    "kernel_load_paddr: the kernel (0x2710 bytes at "
		    "0x50ffff00) does not fit in any ram region");
	CHECK_ERROR("kernel_load_paddr", "\"0x40000000\"",
		    "kernel_load_paddr: the kernel (0x2710 bytes at "
		    "0x40000000) does not fit in any ram region");
	/* Exactly at the end of RAM still fits. */
	CHECK_ERROR("kernel_load_paddr", "\"0x50ffd8f0\"", "");
	CHECK_ERROR("dtb_load_paddr", "\"0x51000000\"",
		    "dtb_load_paddr: the dtb (0xbb8 bytes at 0x51000000) does "
		    "not fit in any ram region");
	CHECK_ERROR("dtb_load_paddr", "\"0x50201000\"",
		    "dtb_load_paddr: the dtb (0xbb8 bytes at 0x50201000) "
		    "overlaps the kernel (0x2710 bytes at 0x50200000)");
	/* A virtio region is not RAM. */
	CHECK_ERROR("memory_regions",
		    "[{\"type\": \"virtio\", \"physical_start\": "
		    "\"0x50000000\", \"virtual_start\": \"0x50000000\", "
		    "\"size\": \"0x1000000\"}]",
		    "kernel_load_paddr: the kernel (0x2710 bytes at "
		    "0x50200000) does not fit in any ram region");
}

static void test_missing_files(void)
{
	CHECK_ERROR("kernel_filepath", "\"./nope\"",
		    "kernel_filepath: ./nope: No such file or directory");
	CHECK_ERROR("dtb_filepath", "\"/\"",
		    "dtb_filepath: /: not a regular "
		    "file");
	CHECK_ERROR("kernel_filepath", NULL, "kernel_filepath: missing");
	CHECK_ERROR("kernel_filepath", "\"\"",
		    "kernel_filepath: must not be empty (\"null\" loads "
		    "nothing)");
}

static void test_cpus_and_irqs(void)
{
	CHECK_ERROR("cpus", "[1, 64]",
		    "cpus[1]: cpu 64 is out of range (0..63)");
	CHECK_ERROR("cpus", "[63]", "");
	CHECK_ERROR("cpus", "[]", "cpus: expected at least one cpu");
	CHECK_ERROR("cpus", "[-1]", "cpus[0]: must not be negative");
	CHECK_ERROR("interrupts", "[32, 1024]",
		    "interrupts[1]: irq 1024 is out of range (0..1023)");
	CHECK_ERROR("interrupts", "[1023]", "");
	CHECK_ERROR("interrupts", "{}", "interrupts: expected an array");
}

static void test_name_length(void)
{
	/* 32 bytes fill char name[32] with no NUL, as hvisor-tool. */
	CHECK_ERROR("name", "\"abcdefghijklmnopqrstuvwxyz012345\"", "");
	CU_ASSERT_STRING_EQUAL(desc.name, "abcdefghijklmnopqrstuvwxyz012345");
	CHECK_ERROR("name", "\"abcdefghijklmnopqrstuvwxyz0123456\"",
		    "name: \"abcdefghijklmnopqrstuvwxyz0123456\" is 33 bytes, "
		    "at most 32 fit in zone_config_t");
	CHECK_ERROR("name", "\"\"", "name: must not be empty");
	CHECK_ERROR("name", "7", "name: expected a string");
}

static void test_too_many(void)
{
	/* RAM first, then 63 or 64 small io regions. */
	static const char ram[] =
		"{\"type\": \"ram\", \"physical_start\": \"0x50000000\", "
		"\"virtual_start\": \"0x50000000\", \"size\": \"0x1000000\"}";
	char *regions = malloc(16384);
	CU_ASSERT_FATAL(regions != NULL);
	for (unsigned n = 64; n <= 65; n++) {
		size_t used = (size_t)snprintf(regions, 16384, "[%s", ram);
		for (unsigned i = 1; i < n; i++)
			used += (size_t)snprintf(
				regions + used, 16384 - used,
				", {\"type\": \"io\", \"physical_start\": "
				"\"0x%x\", \"virtual_start\": \"0x%x\", "
				"\"size\": \"0x1000\"}",
				0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000);
		snprintf(regions + used, 16384 - used, "]");
		CHECK_ERROR("memory_regions", regions,
			    n == 64 ? ""
				    : "memory_regions: 65 regions, at most 64 "
				      "fit in zone_config_t");
	}
	free(regions);

	char *ivc = repeat("{\"ivc_id\": %u, \"peer_id\": 0, "
			   "\"control_table_ipa\": \"0xd0000000\", "
			   "\"shared_mem_ipa\": \"0xd0001000\", "
			   "\"rw_sec_size\": 0, \"out_sec_size\": 0, "
			   "\"interrupt_num\": 66, \"max_peers\": 2}",
			   3);
	CHECK_ERROR("ivc_configs", ivc,
		    "ivc_configs: 3 ivc configs, at most 2 fit in "
		    "zone_config_t");
	free(ivc);

	char *buses = repeat(
		"{\"ecam_base\": \"0x%u0000000\", \"ecam_size\": \"0x100000\", "
		"\"io_base\": \"0\", \"io_size\": \"0\", \"pci_io_base\": "
		"\"0\", \"mem32_base\": \"0\", \"mem32_size\": \"0\", "
		"\"pci_mem32_base\": \"0\", \"mem64_base\": \"0\", "
		"\"mem64_size\": \"0\", \"pci_mem64_base\": \"0\", "
		"\"bus_range_begin\": 0, \"bus_range_end\": 0, \"domain\": 0}",
		5);
	CHECK_ERROR("pci_config", buses,
		    "pci_config: 5 pci buses, at most 4 fit in zone_config_t");
	free(buses);

	char *devs = repeat("%u", 33);
	CHECK_ERROR("alloc_pci_devs", devs,
		    "alloc_pci_devs: 33 pci devices, at most 32 fit in "
		    "zone_config_t");
	free(devs);
}

static void test_pci_errors(void)
{
	CHECK_ERROR("alloc_pci_devs",
		    "[{\"domain\": 0, \"bus\": 0, \"device\": 32, "
		    "\"function\": 0}]",
		    "alloc_pci_devs[0].device: 32 is out of range (0..31)");
	CHECK_ERROR("alloc_pci_devs", "[65536]",
		    "alloc_pci_devs[0]: 0x10000 is not a PCI address (bus << 8 "
		    "| device << 3 | function)");
	CHECK_ERROR("alloc_pci_devs", "[{\"bus\": 0}]",
		    "alloc_pci_devs[0].domain: missing");
	CU_ASSERT_STRING_EQUAL(
		error_with2("num_pci_devs", "2", "alloc_pci_devs", NULL),
		"num_pci_devs: 2 but alloc_pci_devs is missing");
	CHECK_ERROR("pci_config", "7",
		    "pci_config: expected an array of buses (or, in older "
		    "files, one object)");
	/* A mismatching count next to the array only warns. */
	CHECK_ERROR("num_pci_devs", "3", "");
}

static void test_identity_and_keys(void)
{
	/* Unknown keys warn; --strict makes them errors. */
	CHECK_ERROR("colour", "\"blue\"", "");
	CHECK_ERROR("arch_config.colour", "1", "");
	opts.strict = true;
	CHECK_ERROR("colour", "\"blue\"", "colour: unknown key (--strict)");
	CHECK_ERROR("arch_config.colour", "1",
		    "arch_config.colour: unknown key (--strict)");
	opts.strict = false;
	CHECK_ERROR("zone_id", "0",
		    "zone_id: 0 is the root zone, which is never started");
	CHECK_ERROR("zone_id", "4294967296",
		    "zone_id: out of range (more than 32 bits)");
	CHECK_ERROR("arch", "\"mips\"",
		    "arch: \"mips\" is not one of arm64 (or aarch64), riscv64 "
		    "(or riscv), loongarch64, x86_64");
	CHECK_ERROR("kernel_load_paddr", "\"zz\"",
		    "kernel_load_paddr: invalid number 'zz'");
	CHECK_ERROR("arch_config", NULL,
		    "arch_config: missing (required for arm64)");
	CHECK_ERROR("arch_config.gic_version", "\"v4\"",
		    "arch_config.gic_version: \"v4\" is not \"v2\" or \"v3\"");
	CHECK_ERROR("arch_config.gicd_size", NULL,
		    "arch_config.gicd_size: missing");
	CHECK_ERROR(
		"arch_config",
		"{\"gicd_base\": \"0x8000000\", \"gicd_size\": \"0x10000\"}",
		"arch_config.gic_version: missing, and neither gicr_base "
		"(GICv3) nor gicc_base (GICv2) is given");
	CHECK_ERROR("arch_config.is_aarch32", "2",
		    "arch_config.is_aarch32: 2 is out of range (0..1)");
}

static void test_other_arch_errors(void)
{
	CU_ASSERT_NOT_EQUAL(
		load_text(OTHER_ARCH("x86_64",
				     ", \"arch_config\": {\"ioapic_base\": "
				     "\"0xfec00000\", \"ioapic_size\": "
				     "\"0x1000\", \"kernel_entry_gpa\": "
				     "\"0x100000\", \"cmdline\": \"quiet\"}")),
		0);
	CU_ASSERT_STRING_EQUAL(cfg_last_error(),
			       "arch_config.rsdp_memory_region_id: missing");
	CU_ASSERT_NOT_EQUAL(
		load_text(OTHER_ARCH("riscv64",
				     ", \"arch_config\": {\"plic_base\": "
				     "\"0xc000000\"}")),
		0);
	CU_ASSERT_STRING_EQUAL(cfg_last_error(),
			       "arch_config.plic_size: missing");
}

/* No "arch": the file is for the machine the tool was built for. */
static void test_arch_defaults_to_host(void)
{
	const char *msg = error_with("arch", NULL);

	/* BASE's arch_config is arm64's: another host architecture's
	 * parser misses its first required key (loongarch64 reads none). */
	switch (zone_arch_host()) {
	case ZONE_ARCH_ARM64:
	case ZONE_ARCH_LOONGARCH64:
		CU_ASSERT_STRING_EQUAL(msg, "");
		CU_ASSERT_TRUE(desc.arch_from_host);
		break;
	case ZONE_ARCH_X86_64:
		CU_ASSERT_STRING_EQUAL(msg, "arch_config.ioapic_base: missing");
		break;
	case ZONE_ARCH_RISCV64:
		CU_ASSERT_STRING_EQUAL(msg, "arch_config.plic_base: missing");
		break;
	default:
		CU_ASSERT_STRING_EQUAL(msg, "arch: missing (one of arm64, "
					    "riscv64, loongarch64, x86_64; "
					    "or give --arch)");
		break;
	}
	/* --arch decides for a file without "arch", and must agree with
	 * one that has it. */
	opts.arch_plus1 = ZONE_ARCH_ARM64 + 1;
	CU_ASSERT_STRING_EQUAL(error_with("arch", NULL), "");
	CU_ASSERT_FALSE(desc.arch_from_host);
	CU_ASSERT_EQUAL(desc.arch, ZONE_ARCH_ARM64);
	opts.arch_plus1 = ZONE_ARCH_RISCV64 + 1;
	CU_ASSERT_STRING_EQUAL(error_with("arch", "\"arm64\""),
			       "arch: the file is for arm64, but --arch says "
			       "riscv64");
	opts.arch_plus1 = 0;
}

static void test_syntax_error(void)
{
	CU_ASSERT_NOT_EQUAL(load_text("{\"name\": \"x\",\n \"zone_id\" 1}"), 0);
	CU_ASSERT_STRING_EQUAL(cfg_last_error(),
			       "zone.json:2: JSON syntax error near '1}'");
	CU_ASSERT_NOT_EQUAL(load_text("{\"name\": \"a\", \"name\": \"b\"}"), 0);
	CU_ASSERT_STRING_EQUAL(cfg_last_error(), "name: duplicate key");
}

int main(void)
{
	if (fixture_setup())
		return 2;

	static const struct cunit_test tests[] = {
		{"older example: exact bytes", test_older_example_bytes},
		{"newer example: exact bytes", test_newer_example_bytes},
		{"riscv64 file", test_riscv64_bytes},
		{"loongarch64 file", test_loongarch64_bytes},
		{"x86_64 file", test_x86_64_bytes},
		{"the base file is valid", test_base_is_valid},
		{"overlapping memory regions", test_overlapping_regions},
		{"images must fit in ram", test_image_must_fit},
		{"missing files", test_missing_files},
		{"cpus and irqs in range", test_cpus_and_irqs},
		{"name length", test_name_length},
		{"too many regions/ivc/pci", test_too_many},
		{"pci errors", test_pci_errors},
		{"identity and unknown keys", test_identity_and_keys},
		{"other architectures' errors", test_other_arch_errors},
		{"arch defaults to the host", test_arch_defaults_to_host},
		{"syntax errors", test_syntax_error},
		{NULL, NULL},
	};
	int rc = cunit_run("zone_json", tests);
	fixture_cleanup();
	return rc;
}
