/* SPDX-License-Identifier: MIT */
/*
 * zone_config_t and zone_info_t as the hypervisor reads and writes them
 * (docs/hvisor-interface.md, layout of hvisor-tool's CONFIG_MAGIC_VERSION
 * 0x06). HVISOR_ZONE_START copies exactly sizeof(struct hvisor_zone_config)
 * from user space, so the module and its callers must agree byte for byte;
 * the arch_config member depends on the target architecture. Usable from
 * the kernel module and from user-space test programs.
 */
#ifndef HVISOR_ZONE_CONFIG_H
#define HVISOR_ZONE_CONFIG_H

#ifdef __KERNEL__
#include <linux/stddef.h>
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#define HVISOR_CONFIG_VERSION     0x06
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

struct hvisor_pci_dev {
	uint8_t domain, bus, device, function, v_bus, v_device, v_function;
	uint32_t dev_type;
};

#if defined(__aarch64__)
struct hvisor_arch_config {
	uint8_t is_aarch32;
	union {
		struct {
			uint64_t tag; /* 0 */
			uint64_t gicd_base, gicd_size, gicc_base, gicc_size;
			uint64_t gicc_offset, gich_base, gich_size;
			uint64_t gicv_base, gicv_size;
		} v2;
		struct {
			uint64_t tag; /* 1 */
			uint64_t gicd_base, gicd_size, gicr_base, gicr_size;
			uint64_t gits_base, gits_size;
		} v3;
	} gic;
	union {
		struct {
			uint64_t tag;
			uint64_t memory_map_addr, memory_map_size;
			uint64_t sys_map_addr;
		} uefi;
		uint64_t no_uefi_tag;
	} uefi;
};
#define HVISOR_ARCH_CONFIG_SIZE 120
#elif defined(__riscv)
struct hvisor_arch_config {
	uint64_t plic_base, plic_size, aplic_base, aplic_size;
};
#define HVISOR_ARCH_CONFIG_SIZE 32
#elif defined(__x86_64__)
struct hvisor_arch_config {
	uint64_t ioapic_base, ioapic_size;
	uint64_t kernel_entry_gpa, cmdline_load_gpa, setup_load_gpa;
	uint64_t initrd_load_gpa, initrd_size;
	uint64_t rsdp_memory_region_id, acpi_memory_region_id;
	uint64_t uefi_memory_region_id, screen_base;
};
#define HVISOR_ARCH_CONFIG_SIZE 88
#elif defined(__loongarch__)
struct hvisor_arch_config {
	uint64_t dummy; /* the hypervisor defines no fields yet */
};
#define HVISOR_ARCH_CONFIG_SIZE 8
#else
#error "zone_config_t: unsupported architecture"
#endif

struct hvisor_zone_config {
	uint32_t zone_id;
	uint64_t cpus; /* bitmap */
	uint32_t num_memory_regions;
	struct hvisor_memory_region memory_regions[HVISOR_MAX_MEMORY_REGIONS];
	uint32_t interrupts_bitmap[HVISOR_IRQ_BITMAP_WORDS];
	uint32_t num_ivc_configs;
	struct hvisor_ivc_config ivc_configs[HVISOR_MAX_IVC_CONFIGS];
	uint64_t entry_point, kernel_load_paddr, kernel_size;
	uint64_t dtb_load_paddr, dtb_size;
	char name[HVISOR_NAME_MAXLEN];
	struct hvisor_arch_config arch_config;
	uint64_t num_pci_bus;
	struct hvisor_pci_config pci_config[HVISOR_MAX_PCI_BUS];
	uint64_t num_pci_devs;
	struct hvisor_pci_dev alloc_pci_devs[HVISOR_MAX_PCI_DEVS];
};

struct hvisor_zone_info {
	uint32_t zone_id;
	uint64_t cpus;
	char name[HVISOR_NAME_MAXLEN];
	uint8_t is_err;
};

/* Offsets worked out by hand from the field list, so a change in any member
 * shows up here rather than as a zone the hypervisor misreads. */
_Static_assert(sizeof(struct hvisor_memory_region) == 32, "memory_region");
_Static_assert(sizeof(struct hvisor_ivc_config) == 40, "ivc_config");
_Static_assert(sizeof(struct hvisor_pci_config) == 104, "pci_config");
_Static_assert(sizeof(struct hvisor_pci_dev) == 12, "pci_dev");
_Static_assert(sizeof(struct hvisor_arch_config) == HVISOR_ARCH_CONFIG_SIZE,
	       "arch_zone_config");
_Static_assert(offsetof(struct hvisor_zone_config, memory_regions) == 24,
	       "memory_regions");
_Static_assert(offsetof(struct hvisor_zone_config, interrupts_bitmap) == 2072,
	       "interrupts_bitmap");
_Static_assert(offsetof(struct hvisor_zone_config, ivc_configs) == 2208,
	       "ivc_configs");
_Static_assert(offsetof(struct hvisor_zone_config, name) == 2328, "name");
_Static_assert(offsetof(struct hvisor_zone_config, arch_config) == 2360,
	       "arch_config");
_Static_assert(sizeof(struct hvisor_zone_config) ==
		       2360 + HVISOR_ARCH_CONFIG_SIZE + 8 + 4 * 104 + 8 +
			       32 * 12,
	       "zone_config_t");
_Static_assert(sizeof(struct hvisor_zone_info) == 56, "zone_info_t");

#endif
