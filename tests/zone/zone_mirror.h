/* SPDX-License-Identifier: MIT */
/*
 * Test-only C declarations of zone_config_t as the facts page describes it
 * (shared/docs/hvisor-interface.md), one struct per architecture. They are
 * the independent reference the byte serialiser is checked against: the
 * compiler lays them out with natural alignment, as the hypervisor's
 * compiler does. They describe 64-bit little-endian targets, so the tests
 * using them run on such hosts (x86_64 and arm64 CI machines are).
 */
#ifndef TESTS_ZONE_MIRROR_H
#define TESTS_ZONE_MIRROR_H

#include <stdint.h>

struct t_mem {
	uint32_t type;
	uint64_t physical_start, virtual_start, size;
};

struct t_ivc {
	uint32_t ivc_id, peer_id;
	uint64_t control_table_ipa, shared_mem_ipa;
	uint32_t rw_sec_size, out_sec_size, interrupt_num, max_peers;
};

struct t_pci_bus {
	uint64_t ecam_base, ecam_size, io_base, io_size, pci_io_base;
	uint64_t mem32_base, mem32_size, pci_mem32_base;
	uint64_t mem64_base, mem64_size, pci_mem64_base;
	uint32_t bus_range_begin, bus_range_end;
	uint8_t domain;
};

struct t_pci_dev {
	uint8_t domain, bus, device, function, v_bus, v_device, v_function;
	uint32_t dev_type;
};

struct t_gicv2 {
	uint64_t gicd_base, gicd_size, gicc_base, gicc_size, gicc_offset;
	uint64_t gich_base, gich_size, gicv_base, gicv_size;
};

struct t_gicv3 {
	uint64_t gicd_base, gicd_size, gicr_base, gicr_size, gits_base,
		gits_size;
};

struct t_arm64 {
	uint8_t is_aarch32;
	struct {
		uint64_t tag;
		union {
			struct t_gicv2 v2;
			struct t_gicv3 v3;
		};
	} gic;
	union {
		struct {
			uint64_t tag;
			uint64_t memory_map_addr, memory_map_size, sys_map_addr;
		} uefi;
		uint64_t no_uefi_tag;
	} uefi;
};

struct t_riscv64 {
	uint64_t plic_base, plic_size, aplic_base, aplic_size;
};

struct t_loongarch64 {
	uint64_t dummy;
};

struct t_x86_64 {
	uint64_t ioapic_base, ioapic_size, kernel_entry_gpa, cmdline_load_gpa;
	uint64_t setup_load_gpa, initrd_load_gpa, initrd_size;
	uint64_t rsdp_memory_region_id, acpi_memory_region_id;
	uint64_t uefi_memory_region_id, screen_base;
};

#define T_ZONE_CONFIG(tag, arch_type)                                 \
	struct tag {                                                  \
		uint32_t zone_id;                                     \
		uint64_t cpus;                                        \
		uint32_t num_memory_regions;                          \
		struct t_mem memory_regions[64];                      \
		uint32_t interrupts_bitmap[1024 / 32];                \
		uint32_t num_ivc_configs;                             \
		struct t_ivc ivc_configs[2];                          \
		uint64_t entry_point, kernel_load_paddr, kernel_size; \
		uint64_t dtb_load_paddr, dtb_size;                    \
		char name[32];                                        \
		arch_type arch_config;                                \
		uint64_t num_pci_bus;                                 \
		struct t_pci_bus pci_config[4];                       \
		uint64_t num_pci_devs;                                \
		struct t_pci_dev alloc_pci_devs[32];                  \
	}

T_ZONE_CONFIG(t_zone_arm64, struct t_arm64);
T_ZONE_CONFIG(t_zone_riscv64, struct t_riscv64);
T_ZONE_CONFIG(t_zone_loongarch64, struct t_loongarch64);
T_ZONE_CONFIG(t_zone_x86_64, struct t_x86_64);

#endif
