/* SPDX-License-Identifier: MIT */
/*
 * Guest memory of one zone: guest-physical ranges mapped into the daemon.
 * The only way the core turns a guest address into a pointer.
 */
#ifndef CORE_GUESTMEM_H
#define CORE_GUESTMEM_H

#include <stdint.h>

struct guest_region {
	uint64_t gpa;  /* zone's guest-physical start (zonex_ipa) */
	uint64_t size; /* bytes, > 0 */
	uint8_t *hva;  /* where it is mapped in the daemon */
};

struct guest_mem {
	struct guest_region *regions; /* sorted by gpa, non-overlapping */
	unsigned count;
};

/* Add a region (keeps the array sorted). Returns 0, -EINVAL for a zero size,
 * wrap-around or overlap with an existing region, -ENOMEM. */
int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *hva);
void guest_mem_clear(struct guest_mem *gm); /* frees the array only */

/* Host pointer for [gpa, gpa + len) if it lies entirely inside one region,
 * else NULL. Overflow-safe for any gpa/len; len 0 is treated as 1. */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

#endif
