/* SPDX-License-Identifier: MIT */
/*
 * Guest memory of one zone. Every guest-physical address the daemon touches
 * is turned into a host pointer here, so the arithmetic is written to be
 * overflow-safe for any 64-bit input: all range ends are inclusive ("last")
 * so a region may end exactly at UINT64_MAX without wrapping to 0.
 */
#include "guestmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Index of the first region whose start is > gpa (0..count). The region that
 * may contain gpa is the one just before it. */
static unsigned upper_bound(const struct guest_mem *gm, uint64_t gpa)
{
	unsigned lo = 0, hi = gm->count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (gm->regions[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t region_last(const struct guest_region *r)
{
	return r->gpa + (r->size - 1); /* checked not to wrap on add */
}

int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *hva)
{
	if (!gm || size == 0 || !hva)
		return -EINVAL;
	if (size - 1 > UINT64_MAX - gpa)
		return -EINVAL; /* [gpa, gpa + size) wraps around */
	uint64_t last = gpa + (size - 1);

	unsigned pos = upper_bound(gm, gpa);
	/* The array is sorted and non-overlapping, so only the neighbours of
	 * the insertion point can overlap the new range. */
	if (pos > 0 && region_last(&gm->regions[pos - 1]) >= gpa)
		return -EINVAL;
	if (pos < gm->count && gm->regions[pos].gpa <= last)
		return -EINVAL;

	struct guest_region *r =
		realloc(gm->regions, (gm->count + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	gm->regions = r;
	memmove(&r[pos + 1], &r[pos], (gm->count - pos) * sizeof(*r));
	r[pos] = (struct guest_region){.gpa = gpa, .size = size, .hva = hva};
	gm->count++;
	return 0;
}

void guest_mem_clear(struct guest_mem *gm)
{
	if (!gm)
		return;
	free(gm->regions);
	gm->regions = NULL;
	gm->count = 0;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (!gm || gm->count == 0)
		return NULL;
	if (len == 0)
		len = 1; /* a zero-length access still names one address */
	if (len - 1 > UINT64_MAX - gpa)
		return NULL; /* the range itself wraps */
	uint64_t last = gpa + (len - 1);

	unsigned pos = upper_bound(gm, gpa);
	if (pos == 0)
		return NULL; /* below the first region */
	const struct guest_region *r = &gm->regions[pos - 1];
	/* r->gpa <= gpa holds; the whole range must end inside r. */
	if (last > region_last(r))
		return NULL;
	return r->hva + (gpa - r->gpa);
}
