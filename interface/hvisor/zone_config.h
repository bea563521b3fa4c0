/* SPDX-License-Identifier: MIT */
/*
 * zone_config_t and zone_info_t: what HVISOR_ZONE_START hands the
 * hypervisor and ZONE_LIST gets back. This header is the one description
 * of these layouts in the tree: the kernel module copies zone_config_t by
 * it, the zone command (core/zone_layout.c) writes its bytes at the
 * offsets it gives, and the tests compare against it.
 *
 * Two layout generations exist, named by the CONFIG_CHECK value
 * (docs/hvisor-interface.md, "Zone configuration"):
 *   0x05  hvisor v0.4: alloc_pci_devs[] entries of 8 bytes, and an aarch64
 *         arch_config without the UEFI union (88 bytes);
 *   0x06  hvisor-tool since 2026-08: 12-byte entries with the guest-side
 *         address (v_bus, v_device, v_function), aarch64 arch_config of
 *         120 bytes.
 * Every struct is declared for all four architectures and both versions
 * with fixed-width members, so any 64-bit little-endian host with natural
 * alignment (all four targets, and the build machines) lays them out as
 * the target does; the _Static_asserts below pin the offsets the facts
 * give.
 */
#ifndef INTERFACE_HVISOR_ZONE_CONFIG_H
#define INTERFACE_HVISOR_ZONE_CONFIG_H

#ifdef __KERNEL__
#include <linux/stddef.h>
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#define HVISOR_CONFIG_VERSION_V05 0x05
#define HVISOR_CONFIG_VERSION_V06 0x06
/* The version the fake hypervisor and the mock report by default. */
#define HVISOR_CONFIG_VERSION HVISOR_CONFIG_VERSION_V06

#define HVISOR_MAX_MEMORY_REGIONS 64
#define HVISOR_IRQ_BITMAP_WORDS   (1024 / 32)
#define HVISOR_MAX_IVC_CONFIGS    2
#define HVISOR_NAME_MAXLEN        32
#define HVISOR_MAX_PCI_BUS        4
#define HVISOR_MAX_PCI_DEVS       32
#define HVISOR_MAX_ZONES          32

#define HVISOR_MEM_TYPE_RAM    0
#define HVISOR_MEM_TYPE_IO     1
#define HVISOR_MEM_TYPE_VIRTIO 2

/* Tags of the aarch64 unions (u64, Rust enum order). */
#define HVISOR_GIC_TAG_V2  0
#define HVISOR_GIC_TAG_V3  1
#define HVISOR_UEFI_TAG    0 /* UEFI parameters follow */
#define HVISOR_NO_UEFI_TAG 1

struct hvisor_memory_region {
	uint32_t type;
	uint64_t physical_start; /* zone-0 physical */
	uint64_t virtual_start;  /* guest physical (IPA) */
	uint64_t size;
};

struct hvisor_ivc_config {
	uint32_t ivc_id, peer_id;
	uint64_t control_table_ipa, shared_mem_ipa;
	uint32_t rw_sec_size, out_sec_size, interrupt_num, max_peers;
};

struct hvisor_pci_config {
	uint64_t ecam_base, ecam_size, io_base, io_size, pci_io_base;
	uint64_t mem32_base, mem32_size, pci_mem32_base;
	uint64_t mem64_base, mem64_size, pci_mem64_base;
	uint32_t bus_range_begin, bus_range_end;
	uint8_t domain;
};

/* alloc_pci_devs[] entry, 0x05: dev_type is a u32-sized enum. */
struct hvisor_pci_dev_v05 {
	uint8_t domain, bus, device, function;
	uint32_t dev_type;
};

/* alloc_pci_devs[] entry, 0x06. */
struct hvisor_pci_dev {
	uint8_t domain, bus, device, function, v_bus, v_device, v_function;
	uint32_t dev_type;
};

struct hvisor_gicv2 {
	uint64_t gicd_base, gicd_size, gicc_base, gicc_size, gicc_offset;
	uint64_t gich_base, gich_size, gicv_base, gicv_size;
};

struct hvisor_gicv3 {
	uint64_t gicd_base, gicd_size, gicr_base, gicr_size;
	uint64_t gits_base, gits_size;
};

/* aarch64 union gic: u64 tag, then the variant (sized by the larger). */
struct hvisor_gic {
	uint64_t tag;
	union {
		struct hvisor_gicv2 v2;
		struct hvisor_gicv3 v3;
	};
};

/* aarch64 union uefi (0x06 only). */
union hvisor_uefi {
	struct {
		uint64_t tag; /* HVISOR_UEFI_TAG */
		uint64_t memory_map_addr, memory_map_size, sys_map_addr;
	} uefi;
	uint64_t no_uefi_tag; /* HVISOR_NO_UEFI_TAG */
};

struct hvisor_arch_arm64_v05 {
	uint8_t is_aarch32;
	struct hvisor_gic gic;
};

struct hvisor_arch_arm64 {
	uint8_t is_aarch32;
	struct hvisor_gic gic;
	union hvisor_uefi uefi;
};

struct hvisor_arch_riscv64 {
	uint64_t plic_base, plic_size, aplic_base, aplic_size;
};

struct hvisor_arch_loongarch64 {
	uint64_t dummy; /* a placeholder: no fields are defined */
};

struct hvisor_arch_x86_64 {
	uint64_t ioapic_base, ioapic_size;
	uint64_t kernel_entry_gpa, cmdline_load_gpa, setup_load_gpa;
	uint64_t initrd_load_gpa, initrd_size;
	uint64_t rsdp_memory_region_id, acpi_memory_region_id;
	uint64_t uefi_memory_region_id, screen_base;
};

/* zone_config_t with a given arch_config and alloc_pci_devs entry. */
#define HVISOR_ZONE_CONFIG(tag, arch_type, dev_type)                          \
	struct tag {                                                          \
		uint32_t zone_id;                                             \
		uint64_t cpus; /* bitmap */                                   \
		uint32_t num_memory_regions;                                  \
		struct hvisor_memory_region                                   \
			memory_regions[HVISOR_MAX_MEMORY_REGIONS];            \
		uint32_t interrupts_bitmap[HVISOR_IRQ_BITMAP_WORDS];          \
		uint32_t num_ivc_configs;                                     \
		struct hvisor_ivc_config ivc_configs[HVISOR_MAX_IVC_CONFIGS]; \
		uint64_t entry_point, kernel_load_paddr, kernel_size;         \
		uint64_t dtb_load_paddr, dtb_size;                            \
		char name[HVISOR_NAME_MAXLEN]; /* no NUL when 32 bytes */     \
		arch_type arch_config;                                        \
		uint64_t num_pci_bus;                                         \
		struct hvisor_pci_config pci_config[HVISOR_MAX_PCI_BUS];      \
		uint64_t num_pci_devs;                                        \
		dev_type alloc_pci_devs[HVISOR_MAX_PCI_DEVS];                 \
	}

HVISOR_ZONE_CONFIG(hvisor_zone_config_arm64_v05, struct hvisor_arch_arm64_v05,
		   struct hvisor_pci_dev_v05);
HVISOR_ZONE_CONFIG(hvisor_zone_config_arm64_v06, struct hvisor_arch_arm64,
		   struct hvisor_pci_dev);
HVISOR_ZONE_CONFIG(hvisor_zone_config_riscv64_v05, struct hvisor_arch_riscv64,
		   struct hvisor_pci_dev_v05);
HVISOR_ZONE_CONFIG(hvisor_zone_config_riscv64_v06, struct hvisor_arch_riscv64,
		   struct hvisor_pci_dev);
HVISOR_ZONE_CONFIG(hvisor_zone_config_loongarch64_v05,
		   struct hvisor_arch_loongarch64, struct hvisor_pci_dev_v05);
HVISOR_ZONE_CONFIG(hvisor_zone_config_loongarch64_v06,
		   struct hvisor_arch_loongarch64, struct hvisor_pci_dev);
HVISOR_ZONE_CONFIG(hvisor_zone_config_x86_64_v05, struct hvisor_arch_x86_64,
		   struct hvisor_pci_dev_v05);
HVISOR_ZONE_CONFIG(hvisor_zone_config_x86_64_v06, struct hvisor_arch_x86_64,
		   struct hvisor_pci_dev);

struct hvisor_zone_info {
	uint32_t zone_id;
	uint64_t cpus;
	char name[HVISOR_NAME_MAXLEN];
	uint8_t is_err;
};

/* The offsets and sizes the facts give (docs/hvisor-interface.md, tables
 * "identical in both versions" and "offsets of the PCI tail"). */
_Static_assert(sizeof(struct hvisor_memory_region) == 32, "memory_region");
_Static_assert(sizeof(struct hvisor_ivc_config) == 40, "ivc_config");
_Static_assert(sizeof(struct hvisor_pci_config) == 104, "pci_config");
_Static_assert(sizeof(struct hvisor_pci_dev_v05) == 8, "pci_dev 0x05");
_Static_assert(sizeof(struct hvisor_pci_dev) == 12, "pci_dev 0x06");
_Static_assert(sizeof(struct hvisor_arch_arm64_v05) == 88, "arm64 0x05");
_Static_assert(sizeof(struct hvisor_arch_arm64) == 120, "arm64 0x06");
_Static_assert(sizeof(struct hvisor_arch_riscv64) == 32, "riscv64");
_Static_assert(sizeof(struct hvisor_arch_loongarch64) == 8, "loongarch64");
_Static_assert(sizeof(struct hvisor_arch_x86_64) == 88, "x86_64");
_Static_assert(offsetof(struct hvisor_zone_config_arm64_v06, memory_regions) ==
		       24,
	       "memory_regions");
_Static_assert(offsetof(struct hvisor_zone_config_arm64_v06,
			interrupts_bitmap) == 2072,
	       "interrupts_bitmap");
_Static_assert(offsetof(struct hvisor_zone_config_arm64_v06, ivc_configs) ==
		       2208,
	       "ivc_configs");
_Static_assert(offsetof(struct hvisor_zone_config_arm64_v06, entry_point) ==
		       2288,
	       "entry_point");
_Static_assert(offsetof(struct hvisor_zone_config_arm64_v06, name) == 2328,
	       "name");
_Static_assert(offsetof(struct hvisor_zone_config_arm64_v05, arch_config) ==
		       2360,
	       "arch_config");
_Static_assert(offsetof(struct hvisor_zone_config_arm64_v06, num_pci_bus) ==
		       2480,
	       "arm64 0x06 pci tail");
_Static_assert(offsetof(struct hvisor_zone_config_arm64_v05, alloc_pci_devs) ==
		       2880,
	       "arm64 0x05 pci devs");
_Static_assert(sizeof(struct hvisor_zone_config_arm64_v05) == 3136, "arm64");
_Static_assert(sizeof(struct hvisor_zone_config_arm64_v06) == 3296, "arm64");
_Static_assert(sizeof(struct hvisor_zone_config_riscv64_v05) == 3080, "rv64");
_Static_assert(sizeof(struct hvisor_zone_config_riscv64_v06) == 3208, "rv64");
_Static_assert(sizeof(struct hvisor_zone_config_loongarch64_v05) == 3056,
	       "loongarch64");
_Static_assert(sizeof(struct hvisor_zone_config_loongarch64_v06) == 3184,
	       "loongarch64");
_Static_assert(sizeof(struct hvisor_zone_config_x86_64_v05) == 3136, "x86");
_Static_assert(sizeof(struct hvisor_zone_config_x86_64_v06) == 3264, "x86");
_Static_assert(sizeof(struct hvisor_zone_info) == 56, "zone_info_t");

/* The layouts of the machine this is compiled for (the kernel module and
 * programs running next to it): struct hvisor_zone_config is its 0x06
 * zone_config_t, HVISOR_ZONE_CONFIG_SIZE(v) the size for version v (0 for
 * another version). */
#if defined(__aarch64__)
#define HVISOR_HOST_CONFIG(v) hvisor_zone_config_arm64_##v
#elif defined(__riscv) && __riscv_xlen == 64
#define HVISOR_HOST_CONFIG(v) hvisor_zone_config_riscv64_##v
#elif defined(__loongarch64)
#define HVISOR_HOST_CONFIG(v) hvisor_zone_config_loongarch64_##v
#elif defined(__x86_64__)
#define HVISOR_HOST_CONFIG(v) hvisor_zone_config_x86_64_##v
#endif

#ifdef HVISOR_HOST_CONFIG
#define hvisor_zone_config HVISOR_HOST_CONFIG(v06)
#define HVISOR_ZONE_CONFIG_SIZE(v)                        \
	((v) == HVISOR_CONFIG_VERSION_V05                 \
		 ? sizeof(struct HVISOR_HOST_CONFIG(v05)) \
	 : (v) == HVISOR_CONFIG_VERSION_V06               \
		 ? sizeof(struct HVISOR_HOST_CONFIG(v06)) \
		 : 0)
#endif

#endif
