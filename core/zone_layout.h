/* SPDX-License-Identifier: MIT */
/*
 * zone_config_t and zone_info_t: the bytes `hvisor zone start|list`
 * exchange with the hypervisor (docs/hvisor-interface.md; the layouts are
 * declared once, in interface/hvisor/zone_config.h).
 *
 * The layouts are written field by field at explicit little-endian offsets,
 * never through host structs, so every architecture's zone_config_t builds
 * and can be checked on any host. The offsets follow C natural alignment
 * (each scalar aligned to its size, each struct padded to its largest
 * member), which is how the hypervisor and hvisor-tool declare them.
 *
 * This tool writes layout version ZONE_LAYOUT_VERSION (0x06, the version
 * hvisor-tool declares in 2026). The hypervisor reports its own through
 * CONFIG_CHECK; a different version is refused before any zone is started.
 */
#ifndef CORE_ZONE_LAYOUT_H
#define CORE_ZONE_LAYOUT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvisor/zone_config.h"

/* CONFIG_MAGIC_VERSION values of the two layouts this tool writes
 * (docs/hvisor-interface.md, "Zone configuration"): 0x05 is hvisor v0.4's,
 * 0x06 hvisor-tool's since 2026-08. They differ in alloc_pci_devs[] (8 or
 * 12 bytes each) and in the aarch64 arch_config (88 or 120 bytes). The
 * hypervisor's CONFIG_CHECK answer picks one; 0x06 is the default of
 * --dry-run and --dump-config. */
#define ZONE_LAYOUT_V05     0x05u
#define ZONE_LAYOUT_V06     0x06u
#define ZONE_LAYOUT_VERSION ZONE_LAYOUT_V06

/* Limits and zone_info_t from the shared declaration of the layouts. */
#define ZONE_MAX_MEM_REGIONS HVISOR_MAX_MEMORY_REGIONS
#define ZONE_IRQ_WORDS       HVISOR_IRQ_BITMAP_WORDS
#define ZONE_MAX_IRQS        (ZONE_IRQ_WORDS * 32)
#define ZONE_MAX_IVC         HVISOR_MAX_IVC_CONFIGS
#define ZONE_NAME_LEN        HVISOR_NAME_MAXLEN /* 32 bytes: no NUL */
#define ZONE_MAX_PCI_BUS     HVISOR_MAX_PCI_BUS
#define ZONE_MAX_PCI_DEVS    HVISOR_MAX_PCI_DEVS
#define ZONE_MAX_CPUS        64 /* u64 cpus bitmap */
/* Larger than zone_config_t of every architecture and layout. */
#define ZONE_CONFIG_MAX_SIZE 4096

#define ZONE_INFO_SIZE       sizeof(struct hvisor_zone_info)
#define ZONE_INFO_OFF_ID     offsetof(struct hvisor_zone_info, zone_id)
#define ZONE_INFO_OFF_CPUS   offsetof(struct hvisor_zone_info, cpus)
#define ZONE_INFO_OFF_NAME   offsetof(struct hvisor_zone_info, name)
#define ZONE_INFO_OFF_IS_ERR offsetof(struct hvisor_zone_info, is_err)

enum zone_arch {
	ZONE_ARCH_ARM64,
	ZONE_ARCH_RISCV64,
	ZONE_ARCH_LOONGARCH64,
	ZONE_ARCH_X86_64,
	ZONE_ARCH_COUNT,
};

/* memory_region.type */
enum zone_mem_type {
	ZONE_MEM_RAM = 0,
	ZONE_MEM_IO = 1,
	ZONE_MEM_VIRTIO = 2,
};

/* hv_pci_dev.dev_type of a passed-through physical device. */
#define ZONE_PCI_DEV_PHYSICAL 0u

/* A decoded zone uses the shared declarations (hvisor/zone_config.h) for
 * the parts whose fields are the same as in zone_config_t: struct
 * hvisor_memory_region (type: enum zone_mem_type), hvisor_ivc_config,
 * hvisor_pci_config, hvisor_pci_dev (0x06 fields; 0x05 drops the v_*) and
 * the riscv64, loongarch64 and x86_64 arch_configs. */

struct zone_arm64 {
	uint8_t is_aarch32;
	unsigned gic_version; /* 2 or 3 */
	/* GICv2: gicd, gicc (+offset), gich, gicv. GICv3: gicd, gicr, gits. */
	uint64_t gicd_base, gicd_size;
	uint64_t gicc_base, gicc_size, gicc_offset;
	uint64_t gich_base, gich_size, gicv_base, gicv_size;
	uint64_t gicr_base, gicr_size, gits_base, gits_size;
	/* UEFI parameters (layout 0x06 only): "memory_map_addr",
	 * "memory_map_size", "sys_map_addr", all three or none. */
	bool uefi;
	uint64_t memory_map_addr, memory_map_size, sys_map_addr;
};

/* Extra images hvisor-tool loads after the kernel and dtb, on every
 * architecture: "modules": [{"name", "filepath", "load_paddr"}]. Nothing
 * about them goes into zone_config_t. hvisor-tool has no count limit; 32
 * is ours (the published files use one). */
#define ZONE_MAX_MODULES     32
#define ZONE_MODULE_NAME_LEN 64
/* Longest x86 command line kept, NUL included (Linux x86: 2048). */
#define ZONE_CMDLINE_MAX 4096
/* multiboot2: where the boot information goes without
 * "multiboot_info_paddr" (a guest physical address). */
#define ZONE_MBI_DEFAULT_GPA 0x9000000u

struct zone_module {
	char name[ZONE_MODULE_NAME_LEN]; /* for messages only */
	char file[PATH_MAX];
	uint64_t load_paddr; /* host physical, like kernel_load_paddr */
};

enum zone_boot_protocol {
	ZONE_BOOT_LINUX,      /* boot.bin + setup + kernel body (default) */
	ZONE_BOOT_MULTIBOOT2, /* "boot_protocol": "multiboot2", or the older
			       * "multiboot_enabled": true */
};

/* x86_64 boot inputs that are loaded rather than stored: the keys of
 * arch_config (and, for multiboot2, of the top level) naming files and
 * host addresses. A file "" was not given; "null" is given but loads
 * nothing (as hvisor-tool). Each *_gpa partner is stored in
 * arch_config.x86_64 by the parser, following hvisor-tool: only when its
 * file/string is given. initrd_size is never read from the file: the
 * loader sets it to the page-rounded size it loaded. */
struct zone_x86_boot {
	enum zone_boot_protocol protocol;
	/* arch_config.boot_filepath at boot_load_paddr: a host physical
	 * address; in multiboot2 mode a guest one (+ the RAM offset). */
	char boot_file[PATH_MAX];
	uint64_t boot_load_paddr;
	/* arch_config.setup_filepath at setup_load_hpa (setup_load_gpa in
	 * arch_config.x86_64). */
	char setup_file[PATH_MAX];
	uint64_t setup_load_hpa;
	/* arch_config.cmdline, loaded with its NUL at cmdline_load_hpa
	 * (cmdline_load_gpa in arch_config.x86_64). */
	bool has_cmdline;
	char cmdline[ZONE_CMDLINE_MAX];
	uint64_t cmdline_load_hpa;
	/* arch_config.initrd_filepath at initrd_load_hpa (initrd_load_gpa
	 * in arch_config.x86_64). */
	char initrd_file[PATH_MAX];
	uint64_t initrd_load_hpa;
	/* multiboot2 only, top-level keys. kernel_filepath is an ELF64. */
	uint64_t multiboot_info_paddr; /* default ZONE_MBI_DEFAULT_GPA */
	char kernel_cmdline[ZONE_CMDLINE_MAX]; /* "" = none */
	/* arch_config.cmdline_load_gpa, or the MBI address when absent */
	uint64_t mb_cmdline_gpa;
	char initramfs_file[PATH_MAX]; /* "" or "null" = none */
	uint64_t initramfs_load_gpa;
};

/* A zone configuration decoded from either JSON generation: what goes into
 * zone_config_t plus the image files to load. */
struct zone_desc {
	enum zone_arch arch;
	uint32_t zone_id;
	uint64_t cpus; /* bitmap */
	char name[ZONE_NAME_LEN + 1];
	unsigned mem_count;
	struct hvisor_memory_region mem[ZONE_MAX_MEM_REGIONS];
	uint32_t irq_bitmap[ZONE_IRQ_WORDS];
	unsigned ivc_count;
	struct hvisor_ivc_config ivc[ZONE_MAX_IVC];
	uint64_t entry_point;
	uint64_t kernel_load_paddr, kernel_size;
	uint64_t dtb_load_paddr, dtb_size;
	union {
		struct zone_arm64 arm64;
		struct hvisor_arch_riscv64 riscv64;
		struct hvisor_arch_loongarch64 loongarch64;
		struct hvisor_arch_x86_64 x86_64;
	} arch_config;
	unsigned pci_bus_count;
	struct hvisor_pci_config pci_bus[ZONE_MAX_PCI_BUS];
	unsigned pci_dev_count;
	struct hvisor_pci_dev pci_dev[ZONE_MAX_PCI_DEVS];

	/* Not part of zone_config_t. */
	char kernel_file[PATH_MAX]; /* "null": no image (as hvisor-tool) */
	char dtb_file[PATH_MAX];    /* x86_64: always "null" (no DTB) */
	unsigned module_count;
	struct zone_module modules[ZONE_MAX_MODULES];
	struct zone_x86_boot x86;         /* arch x86_64 only */
	uint64_t kernel_bytes, dtb_bytes; /* file sizes when checked */
	bool arch_from_host;      /* "arch" absent: the build's architecture */
	bool older_pci_config;    /* pci_config was one object */
	bool older_pci_devs;      /* alloc_pci_devs were packed numbers */
	bool gic_version_implied; /* no gic_version: implied by the keys */
};

/* One scalar the encoder wrote: its path in zone_config_t (e.g.
 * "memory_regions[3].size"), byte offset, size and value (char arrays:
 * value 0). */
struct zone_field {
	char name[48];
	uint32_t offset, size;
	uint64_t value;
};

struct zone_field_list {
	struct zone_field *v;
	size_t count, cap;
	bool oom; /* a field could not be recorded */
};

/* "arm64", ... or "?" */
const char *zone_arch_name(enum zone_arch arch);
/* The enum for a name, or -1. Besides the four names, what `uname -m`
 * says on an arm64 host ("aarch64") and "riscv" (riscv64) are taken. */
int zone_arch_parse(const char *name);
/* What zone_arch_parse takes, for the messages that refuse a name. */
#define ZONE_ARCH_CHOICES \
	"arm64 (or aarch64), riscv64 (or riscv), loongarch64, x86_64"
/* The architecture this binary was built for, or -1 if none of the four. */
int zone_arch_host(void);

/* true for ZONE_LAYOUT_V05 and ZONE_LAYOUT_V06. */
bool zone_layout_known(uint64_t version);

/* NULL when layout `version` can hold everything in d, else why not (the
 * JSON path first): 0x05 has no UEFI parameters, no guest-side PCI
 * address, and only dev_type 0 and 1. */
const char *zone_layout_unfit(const struct zone_desc *d, unsigned version,
			      char *why, size_t size);

/* sizeof(zone_config_t) for `arch` in layout `version` (0 if unknown). */
size_t zone_layout_size(enum zone_arch arch, unsigned version);

/* Writes zone_config_t for desc->arch in layout `version` (a known one)
 * into buf (ZONE_CONFIG_MAX_SIZE bytes, zeroed first) and returns its
 * size. With `fields`, every scalar written is appended to it in offset
 * order (unused array slots included). */
size_t zone_layout_encode(const struct zone_desc *d, unsigned version,
			  uint8_t *buf, struct zone_field_list *fields);
void zone_field_list_free(struct zone_field_list *l);
/* The recorded field called `name`, or NULL. */
const struct zone_field *zone_field_find(const struct zone_field_list *l,
					 const char *name);

struct zone_info {
	uint32_t zone_id;
	uint64_t cpus;
	char name[ZONE_NAME_LEN + 1]; /* always terminated */
	bool is_err;
};

/* Decode one zone_info_t (ZONE_INFO_SIZE bytes). */
void zone_info_decode(const uint8_t *bytes, struct zone_info *out);

#endif
