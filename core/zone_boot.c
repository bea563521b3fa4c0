/* SPDX-License-Identifier: MIT */
/*
 * zone_boot.h. Order and sizes follow hvisor-tool (docs/hvisor-runtime.md
 * cites the upstream files): a multiboot2 kernel's segments come first
 * (instead of the whole kernel), then modules[], then the x86 arch_config
 * files (setup, cmdline, initrd; boot.bin only outside multiboot2), then
 * GET_ECAM_BASE and SET_BOOT_MODE. Every loaded size recorded in
 * zone_config_t is rounded up to the page, except the multiboot2 kernel's
 * (its PT_LOAD span).
 */
#include "zone_boot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "port.h"
#include "zone_cmd.h"

static uint64_t page_round(uint64_t size)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t p = pg > 0 ? (uint64_t)pg : 4096u;
	return (size + p - 1) & ~(p - 1);
}

/* The whole file in a malloc'd buffer (*size bytes), or NULL after
 * printing why. */
static uint8_t *read_whole(const char *what, const char *file, uint64_t *size)
{
	FILE *f = fopen(file, "rb");
	uint8_t *buf = NULL;
	long len = -1;

	if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) &&
	    fread(buf, 1, (size_t)len, f) == (size_t)len) {
		fclose(f);
		*size = (uint64_t)len;
		return buf;
	}
	fprintf(stderr, "hvisor: %s %s: %s\n", what, file,
		errno ? strerror(errno) : "short read");
	free(buf);
	if (f)
		fclose(f);
	return NULL;
}

static int load_bytes(struct port *port, const char *what, const void *buf,
		      uint64_t size, uint64_t paddr)
{
	if (size == 0)
		return ZONE_EXIT_OK; /* as hvisor-tool: no request at all */
	int rc = port_load_image(port, buf, size, paddr);
	if (rc < 0) {
		fprintf(stderr,
			"hvisor: the hypervisor refused to load the %s "
			"(0x%" PRIx64 " bytes) at 0x%" PRIx64 ": %s\n",
			what, size, paddr, strerror(-rc));
		return ZONE_EXIT_REFUSED;
	}
	return ZONE_EXIT_OK;
}

int zone_boot_load_file(struct port *port, const char *what, const char *file,
			uint64_t paddr, uint64_t *rounded)
{
	uint64_t size = 0;
	uint8_t *buf;
	int rc;

	if (rounded)
		*rounded = 0;
	if (strcmp(file, "null") == 0)
		return ZONE_EXIT_OK;
	errno = 0;
	buf = read_whole(what, file, &size);
	if (!buf)
		return ZONE_EXIT_USAGE;
	rc = load_bytes(port, what, buf, size, paddr);
	free(buf);
	if (rc == ZONE_EXIT_OK && rounded)
		*rounded = page_round(size);
	return rc;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* Guest-physical to host-physical for multiboot2: the offset of the first
 * RAM region (0 without one), as hvisor-tool. */
static uint64_t mb_offset(const struct zone_desc *d)
{
	for (unsigned i = 0; i < d->mem_count; i++)
		if (d->mem[i].type == ZONE_MEM_RAM)
			return d->mem[i].physical_start -
			       d->mem[i].virtual_start;
	return 0;
}

/* One PT_LOAD segment: its file bytes, then zeroes up to p_memsz. */
static int load_segment(struct port *port, const uint8_t *elf, uint64_t fsize,
			const uint8_t *ph, uint64_t offset)
{
	uint64_t off = le(ph + 8, 8), paddr = le(ph + 24, 8);
	uint64_t filesz = le(ph + 32, 8), memsz = le(ph + 40, 8);
	int rc;

	if (off > fsize || filesz > fsize - off || memsz < filesz) {
		fprintf(stderr, "hvisor: kernel_filepath: a PT_LOAD segment "
				"lies outside the file\n");
		return ZONE_EXIT_USAGE;
	}
	rc = load_bytes(port, "kernel segment", elf + off, filesz,
			paddr + offset);
	if (rc || memsz == filesz)
		return rc;
	uint8_t *zero = calloc(1, memsz - filesz);
	if (!zero) {
		fprintf(stderr, "hvisor: out of memory\n");
		return ZONE_EXIT_REFUSED;
	}
	rc = load_bytes(port, "kernel bss", zero, memsz - filesz,
			paddr + offset + filesz);
	free(zero);
	return rc;
}

/* The multiboot2 kernel: an ELF64 whose PT_LOAD segments go to their
 * p_paddr (a guest address) + the RAM offset. kernel_size = the span of
 * the segments, kernel_entry_gpa = e_entry. */
static int load_elf_kernel(struct port *port, struct zone_desc *d)
{
	uint64_t fsize = 0, lo = UINT64_MAX, hi = 0;
	uint8_t *elf;
	int rc = ZONE_EXIT_OK;

	errno = 0;
	elf = read_whole("kernel", d->kernel_file, &fsize);
	if (!elf)
		return ZONE_EXIT_USAGE;
	if (fsize < 64 || memcmp(elf, "\177ELF", 4) != 0 || elf[4] != 2) {
		fprintf(stderr,
			"hvisor: kernel_filepath %s: a multiboot2 "
			"kernel must be an ELF64 file\n",
			d->kernel_file);
		free(elf);
		return ZONE_EXIT_USAGE;
	}
	uint64_t phoff = le(elf + 32, 8), phentsize = le(elf + 54, 2);
	uint64_t phnum = le(elf + 56, 2), offset = mb_offset(d);
	for (uint64_t i = 0; i < phnum && rc == ZONE_EXIT_OK; i++) {
		uint64_t at = phoff + i * phentsize;
		if (phentsize < 56 || at > fsize || fsize - at < 56) {
			fprintf(stderr, "hvisor: kernel_filepath: program "
					"headers lie outside the file\n");
			rc = ZONE_EXIT_USAGE;
			break;
		}
		const uint8_t *ph = elf + at;
		if (le(ph, 4) != 1) /* PT_LOAD */
			continue;
		rc = load_segment(port, elf, fsize, ph, offset);
		uint64_t paddr = le(ph + 24, 8), memsz = le(ph + 40, 8);
		lo = paddr < lo ? paddr : lo;
		hi = paddr + memsz > hi ? paddr + memsz : hi;
	}
	d->kernel_size = lo == UINT64_MAX ? 0 : hi - lo;
	d->arch_config.x86_64.kernel_entry_gpa = le(elf + 24, 8);
	free(elf);
	return rc;
}

/* multiboot2 files other than the kernel: boot.bin, the top-level command
 * line and initramfs, all at guest addresses + the RAM offset. */
static int load_multiboot_files(struct port *port, struct zone_desc *d)
{
	struct zone_x86_boot *x = &d->x86;
	struct hvisor_arch_x86_64 *a = &d->arch_config.x86_64;
	uint64_t offset = mb_offset(d), size;
	int rc = ZONE_EXIT_OK;

	if (x->boot_file[0])
		rc = zone_boot_load_file(port, "boot file", x->boot_file,
					 x->boot_load_paddr + offset, NULL);
	if (rc == ZONE_EXIT_OK && x->kernel_cmdline[0]) {
		a->cmdline_load_gpa = x->mb_cmdline_gpa;
		rc = load_bytes(port, "kernel_cmdline", x->kernel_cmdline,
				strlen(x->kernel_cmdline) + 1,
				x->mb_cmdline_gpa + offset);
	}
	if (rc == ZONE_EXIT_OK && x->initramfs_file[0] &&
	    strcmp(x->initramfs_file, "null") != 0) {
		rc = zone_boot_load_file(port, "initramfs", x->initramfs_file,
					 x->initramfs_load_gpa + offset, &size);
		/* An arch_config initrd replaces it below, as upstream. */
		if (rc == ZONE_EXIT_OK && !x->initrd_file[0]) {
			a->initrd_load_gpa = x->initramfs_load_gpa;
			a->initrd_size = size;
		}
	}
	return rc;
}

/* The arch_config files (both protocols; boot.bin only for Linux). Their
 * *_gpa partners were stored by the parser. */
static int load_arch_files(struct port *port, struct zone_desc *d)
{
	struct zone_x86_boot *x = &d->x86;
	int rc = ZONE_EXIT_OK;

	if (x->protocol == ZONE_BOOT_LINUX && x->boot_file[0])
		rc = zone_boot_load_file(port, "boot file", x->boot_file,
					 x->boot_load_paddr, NULL);
	if (rc == ZONE_EXIT_OK && x->setup_file[0])
		rc = zone_boot_load_file(port, "setup file", x->setup_file,
					 x->setup_load_hpa, NULL);
	if (rc == ZONE_EXIT_OK && x->has_cmdline)
		rc = load_bytes(port, "cmdline", x->cmdline,
				strlen(x->cmdline) + 1, x->cmdline_load_hpa);
	if (rc == ZONE_EXIT_OK && x->initrd_file[0])
		rc = zone_boot_load_file(port, "initrd", x->initrd_file,
					 x->initrd_load_hpa,
					 &d->arch_config.x86_64.initrd_size);
	return rc;
}

static int load_modules(struct port *port, const struct zone_desc *d)
{
	for (unsigned i = 0; i < d->module_count; i++) {
		const struct zone_module *m = &d->modules[i];
		char what[ZONE_MODULE_NAME_LEN + 16];
		snprintf(what, sizeof what, "module '%s'", m->name);
		int rc = zone_boot_load_file(port, what, m->file, m->load_paddr,
					     NULL);
		if (rc)
			return rc;
	}
	return ZONE_EXIT_OK;
}

/* GET_ECAM_BASE: a non-zero answer replaces the first bus's ECAM base
 * (only that field, as upstream). */
static int apply_ecam_base(struct port *port, struct zone_desc *d)
{
	uint64_t base = 0;
	int rc;

	if (d->pci_bus_count == 0)
		return ZONE_EXIT_OK;
	rc = port_get_ecam_base(port, &base);
	if (rc < 0) {
		fprintf(stderr, "hvisor: GET_ECAM_BASE failed: %s\n",
			strerror(-rc));
		return ZONE_EXIT_REFUSED;
	}
	if (base && base != d->pci_bus[0].ecam_base) {
		printf("zone %" PRIu32 ": the hypervisor moved the ECAM base "
		       "0x%" PRIx64 " -> 0x%" PRIx64 "\n",
		       d->zone_id, d->pci_bus[0].ecam_base, base);
		d->pci_bus[0].ecam_base = base;
	}
	return ZONE_EXIT_OK;
}

bool zone_boot_whole_kernel(const struct zone_desc *d)
{
	return d->arch != ZONE_ARCH_X86_64 ||
	       d->x86.protocol != ZONE_BOOT_MULTIBOOT2;
}

int zone_boot_prepare(struct port *port, struct zone_desc *d)
{
	bool x86 = d->arch == ZONE_ARCH_X86_64;
	bool mb2 = !zone_boot_whole_kernel(d);
	int rc = ZONE_EXIT_OK;

	if (mb2 && (rc = load_elf_kernel(port, d)) == ZONE_EXIT_OK)
		rc = load_multiboot_files(port, d);
	if (rc == ZONE_EXIT_OK)
		rc = load_modules(port, d);
	if (rc == ZONE_EXIT_OK && x86)
		rc = load_arch_files(port, d);
	if (rc == ZONE_EXIT_OK)
		rc = apply_ecam_base(port, d);
	if (rc == ZONE_EXIT_OK && mb2) {
		int err = port_set_boot_mode(port, d->zone_id,
					     d->x86.multiboot_info_paddr);
		if (err < 0) {
			fprintf(stderr, "hvisor: SET_BOOT_MODE failed: %s\n",
				strerror(-err));
			rc = ZONE_EXIT_REFUSED;
		}
	}
	return rc;
}
