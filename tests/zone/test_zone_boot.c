/* SPDX-License-Identifier: MIT */
/*
 * zone_boot_prepare against the mock hypervisor: x86_64 boot files, the
 * multiboot2 ELF kernel, modules[], GET_ECAM_BASE and SET_BOOT_MODE. The
 * zone_desc is filled here as the zone-file parser leaves it; what lands
 * in the mock's RAM (host physical = zone0 address, guest physical =
 * zonex address) is compared byte by byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_main.h"
#include "hvd/mock.h"
#include "port.h"
#include "zone_boot.h"
#include "zone_cmd.h"
#include "zone_json.h"

/* The qemu-x86_64 example's shape: guest RAM at GPA 0 is host 0x40300000. */
#define HPA      0x40300000u
#define RAM_SIZE 0x1000000u

static char tmpdir[64];
static struct hvd_mock *mock;
static struct port *port;
static struct zone_desc *d;

static void write_file(const char *name, const void *data, size_t len,
		       char *path)
{
	snprintf(path, PATH_MAX, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fwrite(data, 1, len, f) == len);
	fclose(f);
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/hvd-zboot.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(tmpdir) != NULL);
	mock = hvd_mock_new();
	CU_ASSERT_FATAL(mock != NULL);
	CU_ASSERT_FATAL(hvd_mock_add_ram(mock, 1, HPA, 0, RAM_SIZE) == 0);
	/* Non-zero RAM, so zero fill and exact lengths are visible. */
	memset(hvd_mock_guest_ptr(mock, 1, 0, RAM_SIZE), 0xee, RAM_SIZE);
	port = port_open_mock_fd(hvd_mock_connect_fd(mock));
	CU_ASSERT_FATAL(port != NULL);
	d = calloc(1, sizeof *d);
	CU_ASSERT_FATAL(d != NULL);
	d->arch = ZONE_ARCH_X86_64;
	d->zone_id = 1;
	d->mem_count = 1;
	d->mem[0] =
		(struct hvisor_memory_region){ZONE_MEM_RAM, HPA, 0, RAM_SIZE};
	strcpy(d->kernel_file, "null");
	strcpy(d->dtb_file, "null");
}

static void teardown(void)
{
	char cmd[128];
	free(d);
	port_close(port);
	hvd_mock_free(mock);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static const uint8_t *guest(uint64_t gpa, uint64_t len)
{
	const uint8_t *p = hvd_mock_guest_ptr(mock, 1, gpa, len);
	CU_ASSERT_FATAL(p != NULL);
	return p;
}

static void test_linux_boot_files(void)
{
	static uint8_t boot[300], setup_bin[5000], initrd[9000], mod[100];
	setup();
	fill(boot, sizeof boot, 1);
	fill(setup_bin, sizeof setup_bin, 2);
	fill(initrd, sizeof initrd, 3);
	fill(mod, sizeof mod, 4);
	struct zone_x86_boot *x = &d->x86;
	write_file("boot.bin", boot, sizeof boot, x->boot_file);
	x->boot_load_paddr = HPA + 0x8000;
	write_file("setup.bin", setup_bin, sizeof setup_bin, x->setup_file);
	x->setup_load_hpa = HPA + 0xd000;
	x->has_cmdline = true;
	strcpy(x->cmdline, "console=ttyS0 root=/dev/vda");
	x->cmdline_load_hpa = HPA + 0xc000;
	write_file("initrd", initrd, sizeof initrd, x->initrd_file);
	x->initrd_load_hpa = HPA + 0x800000;
	d->arch_config.x86_64.initrd_load_gpa = 0x800000;
	d->module_count = 1;
	strcpy(d->modules[0].name, "extra");
	write_file("mod", mod, sizeof mod, d->modules[0].file);
	d->modules[0].load_paddr = HPA + 0x900000;

	CU_ASSERT_EQUAL(zone_boot_prepare(port, d), ZONE_EXIT_OK);
	CU_ASSERT_EQUAL(memcmp(guest(0x8000, sizeof boot), boot, sizeof boot),
			0);
	CU_ASSERT_EQUAL(memcmp(guest(0xd000, sizeof setup_bin), setup_bin,
			       sizeof setup_bin),
			0);
	/* The command line goes with its NUL, and nothing more. */
	const uint8_t *c = guest(0xc000, 64);
	CU_ASSERT_EQUAL(memcmp(c, x->cmdline, strlen(x->cmdline) + 1), 0);
	CU_ASSERT_EQUAL(c[strlen(x->cmdline) + 1], 0xee);
	CU_ASSERT_EQUAL(
		memcmp(guest(0x800000, sizeof initrd), initrd, sizeof initrd),
		0);
	CU_ASSERT_EQUAL(guest(0x800000 + sizeof initrd, 1)[0], 0xee);
	CU_ASSERT_EQUAL(memcmp(guest(0x900000, sizeof mod), mod, sizeof mod),
			0);
	/* initrd_size: the loaded size rounded up to the page. */
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	CU_ASSERT_EQUAL(d->arch_config.x86_64.initrd_size,
			(sizeof initrd + pg - 1) / pg * pg);
	CU_ASSERT_EQUAL(hvd_mock_boot_mode(mock, NULL, NULL, NULL), -ENOENT);
	teardown();
}

/* An ELF64 with two PT_LOAD segments: the first has a bss tail. */
static size_t make_elf(uint8_t *elf, size_t cap)
{
	memset(elf, 0, cap);
	memcpy(elf, "\177ELF\2\1\1", 7);
	uint64_t entry = 0x100010, phoff = 64;
	memcpy(elf + 24, &entry, 8);
	memcpy(elf + 32, &phoff, 8);
	uint16_t phentsize = 56, phnum = 2;
	memcpy(elf + 54, &phentsize, 2);
	memcpy(elf + 56, &phnum, 2);
	struct {
		uint32_t type, flags;
		uint64_t offset, vaddr, paddr, filesz, memsz, align;
	} ph[2] = {
		{1, 5, 0x100, 0x100000, 0x100000, 0x20, 0x1000, 0x1000},
		{1, 6, 0x120, 0x200000, 0x200000, 0x10, 0x10, 0x1000},
	};
	memcpy(elf + phoff, ph, sizeof ph);
	fill(elf + 0x100, 0x30, 9);
	return 0x130;
}

static void test_multiboot2(void)
{
	static uint8_t elf[0x200], boot[64];
	setup();
	size_t n = make_elf(elf, sizeof elf);
	write_file("kernel.elf", elf, n, d->kernel_file);
	struct zone_x86_boot *x = &d->x86;
	x->protocol = ZONE_BOOT_MULTIBOOT2;
	x->multiboot_info_paddr = 0x90000; /* a JSON value inside RAM */
	strcpy(x->kernel_cmdline, "mb2 cmdline");
	x->mb_cmdline_gpa = x->multiboot_info_paddr;
	fill(boot, sizeof boot, 5);
	write_file("boot.bin", boot, sizeof boot, x->boot_file);
	x->boot_load_paddr = 0x8000; /* a guest address in this mode */
	d->pci_bus_count = 1;
	d->pci_bus[0].ecam_base = 0xe0000000;
	hvd_mock_set_ecam_base(mock, 0xb0000000);

	CU_ASSERT_FALSE(zone_boot_whole_kernel(d));
	CU_ASSERT_EQUAL(zone_boot_prepare(port, d), ZONE_EXIT_OK);
	CU_ASSERT_EQUAL(memcmp(guest(0x100000, 0x20), elf + 0x100, 0x20), 0);
	const uint8_t *bss = guest(0x100020, 0x1000 - 0x20);
	for (unsigned i = 0; i < 0x1000 - 0x20; i++)
		CU_ASSERT_EQUAL_FATAL(bss[i], 0);
	CU_ASSERT_EQUAL(guest(0x101000, 1)[0], 0xee);
	CU_ASSERT_EQUAL(memcmp(guest(0x200000, 0x10), elf + 0x120, 0x10), 0);
	CU_ASSERT_EQUAL(d->kernel_size, 0x200010 - 0x100000);
	CU_ASSERT_EQUAL(d->arch_config.x86_64.kernel_entry_gpa, 0x100010);
	CU_ASSERT_EQUAL(memcmp(guest(0x8000, sizeof boot), boot, sizeof boot),
			0);
	CU_ASSERT_EQUAL(memcmp(guest(x->mb_cmdline_gpa, 12), "mb2 cmdline", 12),
			0);
	CU_ASSERT_EQUAL(d->arch_config.x86_64.cmdline_load_gpa,
			x->mb_cmdline_gpa);
	CU_ASSERT_EQUAL(d->pci_bus[0].ecam_base, 0xb0000000);
	uint32_t zone = 0, enabled = 0;
	uint64_t mbi = 0;
	CU_ASSERT_EQUAL(hvd_mock_boot_mode(mock, &zone, &enabled, &mbi), 0);
	CU_ASSERT_EQUAL(zone, 1);
	CU_ASSERT_EQUAL(enabled, 1);
	CU_ASSERT_EQUAL(mbi, x->multiboot_info_paddr);
	teardown();
}

/* The same from a zone file: what the parser leaves is what the loader
 * needs (top-level multiboot2 keys, GPAs + the first RAM offset). */
static void test_multiboot2_from_file(void)
{
	static uint8_t elf[0x200];
	char kernel[PATH_MAX], file[PATH_MAX], json[PATH_MAX + 1024];
	setup();
	size_t n = make_elf(elf, sizeof elf);
	write_file("kernel.elf", elf, n, kernel);
	snprintf(json, sizeof json,
		 "{\"arch\": \"x86_64\", \"name\": \"mb\", \"zone_id\": 1, "
		 "\"cpus\": [1], \"memory_regions\": [{\"type\": \"ram\", "
		 "\"physical_start\": \"0x40300000\", \"virtual_start\": "
		 "\"0x0\", \"size\": \"0x1000000\"}], \"interrupts\": [], "
		 "\"ivc_configs\": [], \"kernel_filepath\": \"%s\", "
		 "\"kernel_load_paddr\": \"0x40400000\", \"entry_point\": "
		 "\"0x8000\", \"boot_protocol\": \"multiboot2\", "
		 "\"multiboot_info_paddr\": \"0x90000\", \"kernel_cmdline\": "
		 "\"mb2 from file\", \"arch_config\": {\"ioapic_base\": "
		 "\"0xfec00000\", \"ioapic_size\": \"0x1000\", "
		 "\"rsdp_memory_region_id\": \"0x0\", "
		 "\"acpi_memory_region_id\": \"0x0\", "
		 "\"uefi_memory_region_id\": \"0x0\", \"screen_base\": "
		 "\"0x0\"}, \"pci_config\": []}",
		 kernel);
	write_file("mb.json", json, strlen(json), file);
	free(d);
	d = calloc(1, sizeof *d);
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_FATAL(zone_json_load(file, 4096, d) == 0);
	CU_ASSERT_EQUAL(zone_boot_prepare(port, d), ZONE_EXIT_OK);
	CU_ASSERT_EQUAL(memcmp(guest(0x100000, 0x20), elf + 0x100, 0x20), 0);
	CU_ASSERT_EQUAL(memcmp(guest(0x90000, 14), "mb2 from file", 14), 0);
	CU_ASSERT_EQUAL(d->arch_config.x86_64.kernel_entry_gpa, 0x100010);
	CU_ASSERT_EQUAL(d->arch_config.x86_64.cmdline_load_gpa, 0x90000);
	uint64_t mbi = 0;
	CU_ASSERT_EQUAL(hvd_mock_boot_mode(mock, NULL, NULL, &mbi), 0);
	CU_ASSERT_EQUAL(mbi, 0x90000);
	teardown();
}

static void test_ecam_zero_keeps_json(void)
{
	setup();
	d->arch = ZONE_ARCH_ARM64;
	d->pci_bus_count = 2;
	d->pci_bus[0].ecam_base = 0x30000000;
	d->pci_bus[1].ecam_base = 0x40000000;
	CU_ASSERT_EQUAL(zone_boot_prepare(port, d), ZONE_EXIT_OK);
	CU_ASSERT_EQUAL(d->pci_bus[0].ecam_base, 0x30000000);
	/* Only the first bus is ever replaced. */
	hvd_mock_set_ecam_base(mock, 0x50000000);
	CU_ASSERT_EQUAL(zone_boot_prepare(port, d), ZONE_EXIT_OK);
	CU_ASSERT_EQUAL(d->pci_bus[0].ecam_base, 0x50000000);
	CU_ASSERT_EQUAL(d->pci_bus[1].ecam_base, 0x40000000);
	teardown();
}

static void test_bad_inputs(void)
{
	static uint8_t junk[100];
	setup();
	d->module_count = 1;
	strcpy(d->modules[0].name, "gone");
	snprintf(d->modules[0].file, PATH_MAX, "%s/missing", tmpdir);
	d->modules[0].load_paddr = HPA;
	CU_ASSERT_EQUAL(zone_boot_prepare(port, d), ZONE_EXIT_USAGE);
	d->module_count = 0;
	d->x86.protocol = ZONE_BOOT_MULTIBOOT2;
	write_file("notelf", junk, sizeof junk, d->kernel_file);
	CU_ASSERT_EQUAL(zone_boot_prepare(port, d), ZONE_EXIT_USAGE);
	CU_ASSERT_EQUAL(hvd_mock_boot_mode(mock, NULL, NULL, NULL), -ENOENT);
	teardown();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"x86 Linux boot files and modules", test_linux_boot_files},
		{"x86 multiboot2 ELF, cmdline, ECAM, boot mode",
		 test_multiboot2},
		{"x86 multiboot2 zone file", test_multiboot2_from_file},
		{"ECAM: 0 keeps the file's, only bus 0 moves",
		 test_ecam_zero_keeps_json},
		{"unreadable module, non-ELF multiboot2 kernel",
		 test_bad_inputs},
		{NULL, NULL},
	};
	return cunit_run("zone_boot", tests);
}
