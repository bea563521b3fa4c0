/* SPDX-License-Identifier: MIT */
/*
 * The virtio bridge page shared by hvisor and the zone-0 daemon, and the
 * /dev/hvisor ioctl numbers. Layout fixed by the hypervisor: see
 * docs/hvisor-interface.md. Shared by the daemon, the mock hypervisor and
 * tests; nothing here knows about virtio devices.
 */
#ifndef HVISOR_BRIDGE_H
#define HVISOR_BRIDGE_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/stddef.h>
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#endif

#define HVISOR_MAX_REQ  32u /* power of two */
#define HVISOR_MAX_DEVS 8u
#define HVISOR_MAX_CPUS 32u

struct hvisor_device_req {
	uint64_t src_cpu;
	uint64_t address;
	uint64_t size;
	uint64_t value;
	uint32_t src_zone;
	uint8_t is_write;
	uint8_t need_interrupt; /* 1 only for QUEUE_NOTIFY writes: no wait */
	uint16_t padding;
};

struct hvisor_device_res {
	uint32_t target_zone;
	uint32_t irq_id;
};

struct hvisor_bridge {
	uint32_t req_front, req_rear; /* hypervisor produces at rear */
	uint32_t res_front, res_rear; /* daemon produces at rear */
	struct hvisor_device_req req_list[HVISOR_MAX_REQ];
	struct hvisor_device_res res_list[HVISOR_MAX_REQ];
	uint64_t cfg_flags[HVISOR_MAX_CPUS];
	uint64_t cfg_values[HVISOR_MAX_CPUS];
	uint64_t mmio_addrs[HVISOR_MAX_DEVS]; /* legacy */
	uint8_t mmio_avail;                   /* set once devices exist */
	uint8_t need_wakeup;                  /* daemon is about to sleep */
};

_Static_assert(sizeof(struct hvisor_device_req) == 40, "device_req");
_Static_assert(sizeof(struct hvisor_device_res) == 8, "device_res");
_Static_assert(offsetof(struct hvisor_bridge, req_list) == 16, "req_list");
_Static_assert(offsetof(struct hvisor_bridge, res_list) == 16 + 40 * 32,
	       "res_list");
_Static_assert(offsetof(struct hvisor_bridge, cfg_flags) == 1552, "cfg_flags");
_Static_assert(offsetof(struct hvisor_bridge, cfg_values) == 1808,
	       "cfg_values");
_Static_assert(offsetof(struct hvisor_bridge, mmio_addrs) == 2064,
	       "mmio_addrs");
_Static_assert(offsetof(struct hvisor_bridge, mmio_avail) == 2128,
	       "mmio_avail");
_Static_assert(offsetof(struct hvisor_bridge, need_wakeup) == 2129,
	       "need_wakeup");
_Static_assert(sizeof(struct hvisor_bridge) <= 4096, "bridge fits a page");

#define HVISOR_RING_NEXT(i) (((i) + 1u) & (HVISOR_MAX_REQ - 1u))

/* /dev/hvisor ioctls (magic 1). */
struct hvisor_zone_list_args {
	uint64_t cnt;
	void *zones; /* zone_info_t[cnt] */
};

struct hvisor_image_desc {
	uint64_t user_buffer;
	uint64_t size;
	uint64_t load_paddr;
};

#define HVISOR_INIT_VIRTIO   _IO(1, 0)
#define HVISOR_GET_TASK      _IO(1, 1)
#define HVISOR_FINISH_REQ    _IO(1, 2)
#define HVISOR_ZONE_START    _IOW(1, 3, void *)
#define HVISOR_ZONE_SHUTDOWN _IOW(1, 4, uint64_t)
#define HVISOR_ZONE_LIST     _IOR(1, 5, struct hvisor_zone_list_args *)
#define HVISOR_CONFIG_CHECK  _IOR(1, 6, uint64_t *)
#define HVISOR_SET_EVENTFD   _IOW(1, 7, int)
#define HVISOR_LOAD_IMAGE    _IOW(1, 8, struct hvisor_image_desc)
#define HVISOR_SET_BOOT_MODE _IOW(1, 9, void *) /* copies 16 bytes */
#define HVISOR_GET_ECAM_BASE _IOR(1, 10, uint64_t *)

/* SET_BOOT_MODE's argument (x86_64 multiboot2 zones; docs/hvisor-runtime.md).
 */
struct hvisor_boot_mode {
	uint32_t zone_id;
	uint32_t multiboot_enabled; /* always 1 when sent */
	uint64_t multiboot_info_paddr;
};
_Static_assert(sizeof(struct hvisor_boot_mode) == 16, "boot mode");

/*
 * LoongArch interrupt lines (docs/hvisor-runtime.md, "LoongArch interrupts").
 * hvisor v0.4 generation: CLEAR_INJECT_IRQ (_IO(1, 6), numerically distinct
 * from CONFIG_CHECK) makes the hypervisor drop every injected guest line.
 * Current generation: DEASSERT_IRQ drops one (zone, irq) line.
 */
struct hvisor_irq_line {
	uint32_t zone_id;
	uint32_t irq_id;
};
_Static_assert(sizeof(struct hvisor_irq_line) == 8, "irq line");
#define HVISOR_CLEAR_INJECT_IRQ _IO(1, 6)
#define HVISOR_DEASSERT_IRQ     _IOW(1, 11, struct hvisor_irq_line)

/*
 * Extension of this project's module (kmod/), not in hvisor-tool's: declares
 * guest RAM of a zone that was not started through the module (e.g. started
 * by the hypervisor at boot), so that mmap accepts it. Zones
 * started with HVISOR_ZONE_START are known from their zone_config_t. Size 0
 * forgets every declaration for zone_id; ZONE_SHUTDOWN forgets them too.
 * Ranges that overlap zone 0's own RAM are refused (EPERM).
 */
struct hvisor_ram_decl {
	uint64_t zone_id;
	uint64_t physical_start; /* zone-0 physical address (the mmap offset) */
	uint64_t size;
};
#define HVISOR_DECLARE_RAM _IOW(1, 0x40, struct hvisor_ram_decl)

/*
 * Extension of this project's module: which interrupt protocol the module
 * found the hypervisor speaking (HVISOR_IRQ_MODEL_*). hvisor-tool's module
 * lacks it (ENOTTY); the daemon then decides from the build's architecture
 * and CONFIG_CHECK itself.
 */
#define HVISOR_IRQ_MODEL_EDGE           0 /* wake-up irq; nothing to drop */
#define HVISOR_IRQ_MODEL_LOONGARCH_V04  1 /* no wake-up; CLEAR_INJECT_IRQ */
#define HVISOR_IRQ_MODEL_LOONGARCH_LINE 2 /* wake-up; DEASSERT_IRQ */
#define HVISOR_GET_IRQ_MODEL            _IOR(1, 0x41, uint64_t)

#endif
