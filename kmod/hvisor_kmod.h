/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces between the parts of hvisor.ko:
 *   main.c     the /dev/hvisor misc device: ioctls, mmap, the daemon's state
 *   regions.c  which zone-0 physical ranges user space may map or load into
 *   irq.c      the hypervisor's wake-up interrupt (real build)
 *   fake.c     the in-kernel fake hypervisor and its debugfs (HVISOR_FAKE)
 *   scmi.c     clocks, resets and power domains for guests (ioctls 32-34)
 */
#ifndef HVISOR_KMOD_H
#define HVISOR_KMOD_H

#include <linux/types.h>

#include "hvisor/bridge.h"
#include "zone_config.h"

#define HVISOR_KMOD_NAME "hvisor"

/* Signals the serving daemon's eventfd, if any. Any context, irqs too. */
void hvisor_wake_daemon(void);

/* The wake-up interrupt: irq.c for the real hypervisor, fake.c otherwise. */
int hvisor_wakeup_irq_init(void);
void hvisor_wakeup_irq_exit(void);

/* lines.c: the interrupt protocol found at load (HVISOR_IRQ_MODEL_*), the
 * requests beyond the classic ones (LoongArch line drops, SET_BOOT_MODE,
 * GET_IRQ_MODEL), and the wake-up line's re-arm after each wake-up. */
int hvisor_lines_init(void);
long hvisor_lines_ioctl(unsigned int cmd, unsigned long arg);
void hvisor_wakeup_rearm(void); /* any context, irqs too */

/* scmi.c: ioctls 32-34 on the resources of the DT node "hvisor"; with no
 * such node the module loads and these fail with ENODEV. `set` is the
 * file's allowed set (hvisor/scmi.h: ALLOW, SEAL, ZONE), NULL until it
 * declares one; release frees it. */
struct hvisor_scmi_set;
int hvisor_scmi_init(void);
void hvisor_scmi_exit(void);
long hvisor_scmi_ioctl(struct hvisor_scmi_set **set, unsigned int cmd,
		       void __user *uarg);
void hvisor_scmi_release(struct hvisor_scmi_set *set);

/* Guest RAM that user space may map (regions.c). */
#define HVISOR_MAX_RAM_RANGES 256
struct file;
struct list_head;
struct vm_area_struct;
int hvisor_regions_init(void);
void hvisor_regions_exit(void);
/* Before START_ZONE: refuses a config whose RAM lies beyond the physical
 * width (EINVAL) or whose RAM or IO regions hold zone 0's RAM (EPERM), and
 * collects its RAM ranges into `fresh`; commit them once the zone runs,
 * discard them if it does not. */
int hvisor_regions_prepare(const struct hvisor_zone_config *cfg,
			   struct list_head *fresh);
void hvisor_regions_commit(struct list_head *fresh);
void hvisor_regions_discard(struct list_head *fresh);
int hvisor_regions_declare(u64 zone_id, u64 start, u64 size);
void hvisor_regions_forget_zone(u64 zone_id);
/* Every open file shares one address_space, so removal reaches them all. */
void hvisor_regions_open(struct file *file);
/* mmap of guest RAM (any offset but 0): EPERM unless allowed. */
int hvisor_regions_mmap(struct vm_area_struct *vma);
/* True if [start, start+size) is a non-empty physical range this CPU's page
 * tables can express without dropping address bits. */
bool hvisor_phys_range_ok(u64 start, u64 size);
/* True if the range overlaps zone 0's own RAM (never writable by user
 * space through this module). */
bool hvisor_zone0_owns(u64 start, u64 size);

#ifdef HVISOR_FAKE
int hvisor_fake_init(void);
void hvisor_fake_exit(void);
/* True if [start, start+size) lies in the fake hypervisor's guest RAM,
 * which is zone-0 memory the fake reserved and may therefore be mapped. */
bool hvisor_fake_owns(u64 start, u64 size);
/* The fake plays a LoongArch hypervisor (module parameter). */
bool hvisor_fake_loongarch(void);
#endif

#endif
