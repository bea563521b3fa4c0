/* SPDX-License-Identifier: MIT */
/*
 * QEMU's multi-process proxy wire format (QEMU 7.2,
 * include/hw/remote/mpqemu-link.h), as the rig speaks it: a 16-byte header
 * {int32 cmd; pad; uint64 size}, `size` payload bytes, fds as SCM_RIGHTS
 * with the header. PCI config, BAR and reset messages need a RET reply
 * carrying one uint64. Shared by the rig and its test's fake QEMU.
 */
#ifndef HVISOR_RIG_MPQEMU_H
#define HVISOR_RIG_MPQEMU_H

#include <stdint.h>

enum mpqemu_cmd {
	MPQEMU_SYNC_SYSMEM = 0,
	MPQEMU_RET = 1,
	MPQEMU_PCI_CFGWRITE = 2,
	MPQEMU_PCI_CFGREAD = 3,
	MPQEMU_BAR_WRITE = 4,
	MPQEMU_BAR_READ = 5,
	MPQEMU_SET_IRQFD = 6,
	MPQEMU_DEVICE_RESET = 7,
};

#define MPQEMU_MAX_FDS     8
#define MPQEMU_MAX_PAYLOAD 256 /* larger than any message we understand */

struct mpqemu_hdr {
	int32_t cmd;
	uint32_t pad;
	uint64_t size;
};
_Static_assert(sizeof(struct mpqemu_hdr) == 16, "mpqemu header");

struct mpqemu_pci_conf {
	uint32_t addr;
	uint32_t val;
	int32_t len;
};
_Static_assert(sizeof(struct mpqemu_pci_conf) == 12, "PciConfDataMsg");

struct mpqemu_bar {
	uint64_t addr; /* guest-physical */
	uint64_t val;
	uint32_t size;
	uint8_t memory;
	uint8_t pad[3];
};
_Static_assert(sizeof(struct mpqemu_bar) == 24, "BarAccessMsg");

struct mpqemu_sysmem {
	uint64_t gpas[MPQEMU_MAX_FDS];
	uint64_t sizes[MPQEMU_MAX_FDS];
	int64_t offsets[MPQEMU_MAX_FDS];
};
_Static_assert(sizeof(struct mpqemu_sysmem) == 192, "SyncSysmemMsg");

#endif
