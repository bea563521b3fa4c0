/* SPDX-License-Identifier: MIT */
/*
 * Shared between kmod_test.c (subcommands, protocol checks) and
 * isolation.c (the refusals that keep zone 0 and the guests apart).
 */
#ifndef KMOD_TEST_H
#define KMOD_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvisor/bridge.h"
#include "zone_config.h"

#define DEBUGFS   "/sys/kernel/debug/hvisor/"
#define ZONE_ID   1
#define GUEST_RAM 0x50000000ull /* zone 1's view of the fake RAM */
#define DEV_BASE  0x0a000000ull

extern int failures;
void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int open_dev(void);
/* ioctl returning -errno, so checks can name the error they expect */
long dev_ioctl(int fd, unsigned long req, void *arg);
/* The fake hypervisor's guest RAM (debugfs "ram"). */
void fake_ram(uint64_t *phys, uint64_t *size);
/* mmap result as 0 or -errno; unmaps on success */
int try_map(int fd, uint64_t phys, size_t len, int flags);
/* ZONE_START of zone `id` with `nregions` regions: [0] of `type` at
 * phys+size, [1] a virtio device; zone_start: [0] is RAM. */
int zone_start_typed(int fd, uint32_t id, uint32_t type, uint64_t phys,
		     uint64_t size, uint32_t nregions);
int zone_start(int fd, uint32_t id, uint64_t phys, uint64_t size,
	       uint32_t nregions);
bool listed(int fd, uint32_t id, const char *name);
/* A physical page of zone 0's own RAM, from /proc/iomem. */
uint64_t zone0_ram_page(void);

/* isolation.c */
/* Drops CAP_SYS_RAWIO from this process (root keeps the rest). */
int drop_rawio(void);
void test_isolation(void);
void test_not_owner(bool someone_owns);
void cmd_bridge_phys(const char *out);
void test_still_reserved(const char *phys);
void test_lockdown(void);

/* scmi_test.c */
void test_scmi_absent(void);
void test_scmi_dt(void);
void test_scmi_sets(void);

#endif
