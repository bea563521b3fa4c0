/* SPDX-License-Identifier: MIT */
/*
 * Zone files as users have them (docs/hvisor-interface.md, "Zone file
 * keys"): keys some hvisor or hvisor-tool version reads, unknown keys and
 * --strict, hvisor-tool's value rules, modules[], the x86 boot keys and
 * multiboot2, aarch64 UEFI parameters, and what layout 0x05 cannot hold.
 * Bad input is refused with its JSON path.
 */
#include "hvisor/zone_config.h"
#include "zone/zone_json_fixture.h"

#define X86_CFG                                                        \
	", \"arch_config\": {\"ioapic_base\": \"0xfec00000\", "        \
	"\"ioapic_size\": \"0x1000\", \"kernel_entry_gpa\": "          \
	"\"0x100000\", \"rsdp_memory_region_id\": 0, "                 \
	"\"acpi_memory_region_id\": 0, \"uefi_memory_region_id\": 0, " \
	"\"screen_base\": 0"

/* An x86_64 file (OTHER_ARCH) with `extra` arch_config keys and `top`
 * top-level keys, loaded: the error, or "" when it loaded. */
static const char *x86_error(const char *extra, const char *top)
{
	static char msg[512];
	char text[4096];

	snprintf(text, sizeof text, OTHER_ARCH("x86_64", X86_CFG "%s}%s"),
		 extra, top);
	int rc = load_text(text);
	snprintf(msg, sizeof msg, "%s", rc ? cfg_last_error() : "");
	return msg;
}

static void test_known_keys_accepted(void)
{
	/* hvisor's own files carry kernel_args: accepted even strictly. */
	opts.strict = true;
	CHECK_ERROR("kernel_args", "\"console=ttyAMA0\"", "");
	opts.strict = false;
	/* "riscv" is hvisor's name for riscv64. */
	CU_ASSERT_STRING_EQUAL(
		error_with2("arch", "\"riscv\"", "arch_config",
			    "{\"plic_base\": \"0xc000000\", \"plic_size\": "
			    "\"0x4000000\"}"),
		"");
	CU_ASSERT_EQUAL(desc.arch, ZONE_ARCH_RISCV64);
	/* loongarch64's arch_config is never read: any content, 0 out. */
	CU_ASSERT_STRING_EQUAL(error_with2("arch", "\"loongarch64\"",
					   "arch_config",
					   "{\"dummy\": \"0x1234\"}"),
			       "");
	CU_ASSERT_EQUAL(desc.arch_config.loongarch64.dummy, 0);
}

static void test_unknown_keys_everywhere(void)
{
	static const char *const paths[] = {
		"colour",
		"arch_config.colour",
	};

	for (unsigned i = 0; i < 2; i++) {
		char want[96];

		CU_ASSERT_STRING_EQUAL(error_with(paths[i], "1"), "");
		opts.strict = true;
		snprintf(want, sizeof want, "%s: unknown key (--strict)",
			 paths[i]);
		CU_ASSERT_STRING_EQUAL(error_with(paths[i], "1"), want);
		opts.strict = false;
	}
	/* Nested objects name their element. */
	opts.strict = true;
	CU_ASSERT_STRING_EQUAL(
		error_with("memory_regions",
			   "[{\"type\": \"ram\", \"physical_start\": "
			   "\"0x50000000\", \"virtual_start\": \"0x50000000\", "
			   "\"size\": \"0x1000000\", \"colour\": 1}]"),
		"memory_regions[0].colour: unknown key (--strict)");
	opts.strict = false;
}

static void test_values_as_hvisor_tool(void)
{
	/* A leading 0 is octal: 0100 = 64. */
	CHECK_ERROR("interrupts", "[\"0100\"]", "");
	CU_ASSERT_EQUAL(desc.irq_bitmap[2], 1u);
	CHECK_ERROR("interrupts", "[\"089\"]",
		    "interrupts[0]: \"089\" has a leading 0, which hvisor-tool "
		    "reads as octal, and is not octal");
	/* A path or name is text, never a number. */
	CHECK_ERROR("name", "\"0123\"", "");
	CU_ASSERT_STRING_EQUAL(desc.name, "0123");
	/* JSON numbers above INT32_MAX: kept, but an error when strict. */
	CHECK_ERROR("entry_point", "2147483648", "");
	CU_ASSERT_EQUAL(desc.entry_point, 0x80000000u);
	opts.strict = true;
	CHECK_ERROR("entry_point", "2147483648",
		    "entry_point: hvisor-tool reads JSON numbers as int and "
		    "would use 2147483647; write it as a string (--strict)");
	opts.strict = false;
}

static void test_modules(void)
{
	CHECK_ERROR("modules",
		    "[{\"name\": \"ramdisk\", \"filepath\": \"./linux2.dtb\", "
		    "\"load_paddr\": \"0x50800000\"}]",
		    "");
	CU_ASSERT_EQUAL(desc.module_count, 1);
	CU_ASSERT_EQUAL(desc.modules[0].load_paddr, 0x50800000u);
	CU_ASSERT_STRING_EQUAL(desc.modules[0].file, "./linux2.dtb");
	CHECK_ERROR("modules",
		    "[{\"name\": \"m\", \"filepath\": \"./x\", "
		    "\"load_paddr\": 5}]",
		    "modules[0].load_paddr: expected a string (hvisor-tool "
		    "refuses a number here)");
	CHECK_ERROR("modules", "[{\"name\": \"m\", \"load_paddr\": \"0x0\"}]",
		    "modules[0].filepath: missing");
	CHECK_ERROR("modules",
		    "[{\"name\": \"m\", \"filepath\": \"./nope\", "
		    "\"load_paddr\": \"0x0\"}]",
		    "modules[0].filepath: ./nope: No such file or directory");
	/* Not an array: hvisor-tool loads no modules and goes on. */
	CHECK_ERROR("modules", "{}", "");
	CU_ASSERT_EQUAL(desc.module_count, 0);
	char *many = repeat("{\"name\": \"m%u\", \"filepath\": \"./Image\", "
			    "\"load_paddr\": \"0x0\"}",
			    ZONE_MAX_MODULES + 1);
	CHECK_ERROR("modules", many,
		    "modules: 33 modules, this tool loads at most 32");
	free(many);
}

static void test_x86_boot_keys(void)
{
	static const char boot[] =
		", \"boot_filepath\": \"./linux2.dtb\", \"boot_load_paddr\": "
		"\"0x80008000\", \"setup_filepath\": \"./linux2.dtb\", "
		"\"setup_load_gpa\": \"0xd000\", \"setup_load_hpa\": "
		"\"0x8000d000\", \"cmdline\": \"console=ttyS0\", "
		"\"cmdline_load_gpa\": \"0xc000\", \"cmdline_load_hpa\": "
		"\"0x8000c000\", \"initrd_filepath\": \"./Image\", "
		"\"initrd_load_gpa\": \"0x400000\", \"initrd_load_hpa\": "
		"\"0x80400000\", \"initrd_size\": \"0x1\"";

	CU_ASSERT_STRING_EQUAL(x86_error(boot, ""), "");
	CU_ASSERT_EQUAL(desc.x86.protocol, ZONE_BOOT_LINUX);
	CU_ASSERT_STRING_EQUAL(desc.x86.boot_file, "./linux2.dtb");
	CU_ASSERT_EQUAL(desc.x86.boot_load_paddr, 0x80008000u);
	CU_ASSERT_EQUAL(desc.x86.setup_load_hpa, 0x8000d000u);
	CU_ASSERT_STRING_EQUAL(desc.x86.cmdline, "console=ttyS0");
	CU_ASSERT_EQUAL(desc.x86.cmdline_load_hpa, 0x8000c000u);
	CU_ASSERT_EQUAL(desc.x86.initrd_load_hpa, 0x80400000u);
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.setup_load_gpa, 0xd000);
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.cmdline_load_gpa, 0xc000);
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.initrd_load_gpa, 0x400000);
	/* initrd_size: the page-rounded file, never the JSON value. */
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.initrd_size, 0x3000);

	/* A gpa without its file is not read (0, as hvisor-tool). */
	CU_ASSERT_STRING_EQUAL(
		x86_error(", \"cmdline_load_gpa\": \"0xc000\"", ""), "");
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.cmdline_load_gpa, 0);
	CU_ASSERT_FALSE(desc.x86.has_cmdline);

	/* Partners are required together. */
	CU_ASSERT_STRING_EQUAL(
		x86_error(", \"boot_filepath\": \"./boot.bin\"", ""),
		"arch_config.boot_load_paddr: missing (required with "
		"boot_filepath)");
	CU_ASSERT_STRING_EQUAL(
		x86_error(", \"setup_filepath\": \"./s\", \"setup_load_gpa\": "
			  "\"0xd000\"",
			  ""),
		"arch_config.setup_load_hpa: missing (required with "
		"setup_filepath)");
	CU_ASSERT_STRING_EQUAL(x86_error(", \"cmdline\": 7", ""),
			       "arch_config.cmdline: expected a string");
	CU_ASSERT_STRING_EQUAL(x86_error(", \"initrd_filepath\": \"\"", ""),
			       "arch_config.initrd_filepath: must not be "
			       "empty (\"null\" loads nothing)");
	/* No dtb on x86. */
	CU_ASSERT_STRING_EQUAL(x86_error("", ""), "");
	CU_ASSERT_STRING_EQUAL(desc.dtb_file, "null");
}

static void test_multiboot2(void)
{
	/* The ELF entry replaces kernel_entry_gpa; defaults as upstream. */
	CU_ASSERT_STRING_EQUAL(
		x86_error("", ", \"boot_protocol\": \"multiboot2\", "
			      "\"kernel_cmdline\": \"quiet\", "
			      "\"initramfs_filepath\": \"./linux2.dtb\", "
			      "\"initramfs_load_gpa\": \"0x2000000\""),
		"");
	CU_ASSERT_EQUAL(desc.x86.protocol, ZONE_BOOT_MULTIBOOT2);
	CU_ASSERT_EQUAL(desc.x86.multiboot_info_paddr, ZONE_MBI_DEFAULT_GPA);
	CU_ASSERT_STRING_EQUAL(desc.x86.kernel_cmdline, "quiet");
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.cmdline_load_gpa,
			ZONE_MBI_DEFAULT_GPA);
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.initrd_load_gpa, 0x2000000);
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.initrd_size, 0x1000);
	CU_ASSERT_EQUAL(desc.kernel_size, 0); /* set from the ELF at load */
	/* The older boolean. */
	CU_ASSERT_STRING_EQUAL(
		x86_error("", ", \"multiboot_enabled\": true, "
			      "\"multiboot_info_paddr\": \"0x8000000\""),
		"");
	CU_ASSERT_EQUAL(desc.x86.protocol, ZONE_BOOT_MULTIBOOT2);
	CU_ASSERT_EQUAL(desc.x86.multiboot_info_paddr, 0x8000000);
	/* Another protocol name boots the default way. */
	CU_ASSERT_STRING_EQUAL(x86_error("", ", \"boot_protocol\": \"efi\""),
			       "");
	CU_ASSERT_EQUAL(desc.x86.protocol, ZONE_BOOT_LINUX);
	CU_ASSERT_STRING_EQUAL(x86_error("", ", \"boot_protocol\": 2"),
			       "boot_protocol: expected a string "
			       "(\"multiboot2\")");
	CU_ASSERT_STRING_EQUAL(x86_error("", ", \"multiboot_enabled\": 1"),
			       "multiboot_enabled: expected true or false");
	/* Without multiboot2 its keys are not read (info line). */
	CU_ASSERT_STRING_EQUAL(x86_error("", ", \"kernel_cmdline\": \"quiet\""),
			       "");
	CU_ASSERT_STRING_EQUAL(desc.x86.kernel_cmdline, "");
	CU_ASSERT_EQUAL(desc.arch_config.x86_64.cmdline_load_gpa, 0);
	/* Only x86 boots multiboot2. */
	CHECK_ERROR("boot_protocol", "\"multiboot2\"",
		    "boot_protocol: multiboot2 is only for x86_64 zones, this "
		    "one is arm64");
}

static void test_uefi_and_layout_0x05(void)
{
	static struct hvisor_zone_config_arm64_v06 x;
	char why[160];

	CHECK_ERROR("arch_config.memory_map_addr", "\"0x60000000\"",
		    "arch_config.memory_map_size: missing");
	CU_ASSERT_STRING_EQUAL(
		error_with2("arch_config.memory_map_addr", "\"0x60000000\"",
			    "arch_config.memory_map_size", "\"0x1000\""),
		"arch_config.sys_map_addr: missing");
	cJSON *root = cJSON_Parse(BASE);
	CU_ASSERT_FATAL(root != NULL);
	mutate(root, "arch_config.memory_map_addr", "\"0x60000000\"");
	mutate(root, "arch_config.memory_map_size", "\"0x1000\"");
	mutate(root, "arch_config.sys_map_addr", "\"0x60001000\"");
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	CU_ASSERT_EQUAL_FATAL(load_text(text), 0);
	free(text);
	CU_ASSERT_EQUAL_FATAL(
		zone_layout_encode(&desc, ZONE_LAYOUT_V06, buf, NULL),
		sizeof x);
	memcpy(&x, buf, sizeof x);
	CU_ASSERT_EQUAL(x.arch_config.uefi.uefi.tag, HVISOR_UEFI_TAG);
	CU_ASSERT_EQUAL(x.arch_config.uefi.uefi.memory_map_addr, 0x60000000);
	CU_ASSERT_EQUAL(x.arch_config.uefi.uefi.memory_map_size, 0x1000);
	CU_ASSERT_EQUAL(x.arch_config.uefi.uefi.sys_map_addr, 0x60001000);
	/* hvisor v0.4 has no place for them. */
	CU_ASSERT_PTR_NOT_NULL(
		zone_layout_unfit(&desc, ZONE_LAYOUT_V05, why, sizeof why));
	CU_ASSERT_STRING_EQUAL(why, "arch_config.memory_map_addr: layout 0x05 "
				    "has no UEFI parameters");
	CU_ASSERT_PTR_NULL(
		zone_layout_unfit(&desc, ZONE_LAYOUT_V06, why, sizeof why));

	/* A moved device or a virtio-pci dev_type does not fit 0x05. */
	CHECK_ERROR("alloc_pci_devs",
		    "[{\"domain\": 0, \"bus\": 1, \"device\": 0, \"function\": "
		    "0, \"v_device\": 4}]",
		    "");
	CU_ASSERT_PTR_NOT_NULL(
		zone_layout_unfit(&desc, ZONE_LAYOUT_V05, why, sizeof why));
	CU_ASSERT_STRING_EQUAL(why, "alloc_pci_devs[0].v_bus: layout 0x05 "
				    "cannot move a device (no v_bus, v_device, "
				    "v_function)");
	CHECK_ERROR("alloc_pci_devs",
		    "[{\"domain\": 0, \"bus\": 1, \"device\": 0, \"function\": "
		    "0, \"dev_type\": 2}]",
		    "");
	CU_ASSERT_PTR_NOT_NULL(
		zone_layout_unfit(&desc, ZONE_LAYOUT_V05, why, sizeof why));
	CU_ASSERT_STRING_EQUAL(why, "alloc_pci_devs[0].dev_type: layout 0x05 "
				    "knows only 0 (physical) and 1 (virtual)");
}

/* A 32-byte name fills char name[32] with no NUL, as hvisor-tool. */
static void test_full_name(void)
{
	static struct hvisor_zone_config_arm64_v05 x;

	CHECK_ERROR("name", "\"abcdefghijklmnopqrstuvwxyz012345\"", "");
	CU_ASSERT_EQUAL_FATAL(
		zone_layout_encode(&desc, ZONE_LAYOUT_V05, buf, NULL),
		sizeof x);
	memcpy(&x, buf, sizeof x);
	CU_ASSERT_EQUAL(memcmp(x.name, "abcdefghijklmnopqrstuvwxyz012345", 32),
			0);
	CU_ASSERT_EQUAL(x.arch_config.is_aarch32, 0);
}

int main(void)
{
	if (fixture_setup())
		return 2;
	static const struct cunit_test tests[] = {
		{"keys upstream reads are accepted", test_known_keys_accepted},
		{"unknown keys: warning, --strict error",
		 test_unknown_keys_everywhere},
		{"values read as hvisor-tool reads them",
		 test_values_as_hvisor_tool},
		{"modules[]", test_modules},
		{"x86 boot keys", test_x86_boot_keys},
		{"x86 multiboot2", test_multiboot2},
		{"aarch64 UEFI and what 0x05 cannot hold",
		 test_uefi_and_layout_0x05},
		{"32-byte name", test_full_name},
		{NULL, NULL},
	};
	int rc = cunit_run("zone_compat", tests);
	fixture_cleanup();
	return rc;
}
