/* SPDX-License-Identifier: MIT */
/*
 * Guest memory map unit tests: region bookkeeping and the bounds checks that
 * turn a guest physical address range into a host pointer.
 */
#include <errno.h>
#include <stdint.h>

#include "cunit_main.h"
#include "guestmem.h"

static void test_guestmem_add(void)
{
	struct guest_mem gm = {0};
	static uint8_t a[64];

	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x1000, 0, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, UINT64_MAX, 2, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 2, UINT64_MAX, a), -EINVAL);
	CU_ASSERT_EQUAL(gm.count, 0);

	/* Added out of order, kept sorted. */
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x3000, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x1000, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x5000, 0x1000, a), 0);
	CU_ASSERT_EQUAL(gm.count, 3);
	CU_ASSERT_EQUAL(gm.regions[0].gpa, 0x1000);
	CU_ASSERT_EQUAL(gm.regions[1].gpa, 0x3000);
	CU_ASSERT_EQUAL(gm.regions[2].gpa, 0x5000);

	/* Overlaps: same, left edge, right edge, containing, contained. */
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x3000, 0x1000, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x2800, 0x1000, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x3fff, 0x10, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x0, 0x10000, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x3100, 0x10, a), -EINVAL);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x1fff, 0x1002, a), -EINVAL);
	CU_ASSERT_EQUAL(gm.count, 3);

	/* Exactly adjacent is fine, and so is a region ending at 2^64-1. */
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x2000, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, UINT64_MAX - 0xfff, 0x1000, a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, UINT64_MAX, 1, a), -EINVAL);
	CU_ASSERT_EQUAL(gm.count, 6);
	for (unsigned i = 1; i < gm.count; i++)
		CU_ASSERT_TRUE(gm.regions[i - 1].gpa < gm.regions[i].gpa);

	guest_mem_clear(&gm);
	CU_ASSERT_EQUAL(gm.count, 0);
	CU_ASSERT_PTR_NULL(gm.regions);
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x1000, 1));
}

static void test_guestmem_ptr(void)
{
	struct guest_mem gm = {0};
	static uint8_t a[0x1000], b[0x1000], top[0x100];

	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x10000, sizeof(a), a), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, 0x11000, sizeof(b), b), 0);
	CU_ASSERT_EQUAL(guest_mem_add(&gm, UINT64_MAX - 0xff, 0x100, top), 0);

	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, 0x10000, 0x1000), a);
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, 0x10010, 16), a + 0x10);
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, 0x11ff0, 16), b + 0xff0);
	/* Past the end, below the start, spanning two (adjacent) regions. */
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x11ff0, 17));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0xffff, 1));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x0, 1));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x10ff0, 0x20));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x12000, 1));
	/* len 0 is treated as 1. */
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, 0x11fff, 0), b + 0xfff);
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x12000, 0));
	/* Overflow: none of these may wrap into a region. */
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, UINT64_MAX - 1, 4));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, UINT64_MAX, 2));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x10000, UINT64_MAX));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0x10, UINT64_MAX - 0x8));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, 0, UINT64_MAX));
	/* The top region works up to its last byte. */
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, UINT64_MAX, 1), top + 0xff);
	CU_ASSERT_PTR_EQUAL(guest_mem_ptr(&gm, UINT64_MAX - 0xff, 0x100), top);
	CU_ASSERT_PTR_NULL(guest_mem_ptr(&gm, UINT64_MAX - 0x100, 0x100));
	CU_ASSERT_PTR_NULL(guest_mem_ptr(NULL, 0x10000, 1));
	guest_mem_clear(&gm);
}

/* Many regions added in a scrambled order; every lookup lands right. */
static void test_guestmem_many(void)
{
	enum { N = 257 };
	struct guest_mem gm = {0};
	static uint8_t backing[N][64];

	for (unsigned k = 0; k < N; k++) {
		unsigned i = (k * 101) % N; /* 101 is prime to 257 */
		CU_ASSERT_EQUAL_FATAL(guest_mem_add(&gm,
						    0x100000ull + i * 0x100, 64,
						    backing[i]),
				      0);
	}
	CU_ASSERT_EQUAL(gm.count, N);
	unsigned bad = 0;
	for (unsigned i = 0; i < N; i++) {
		uint64_t base = 0x100000ull + i * 0x100;
		if (guest_mem_ptr(&gm, base, 64) != backing[i])
			bad++;
		if (guest_mem_ptr(&gm, base + 63, 1) != &backing[i][63])
			bad++;
		if (guest_mem_ptr(&gm, base + 64, 1) != NULL) /* the gap */
			bad++;
		if (guest_mem_ptr(&gm, base + 60, 8) != NULL)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	guest_mem_clear(&gm);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"guestmem_add", test_guestmem_add},
		{"guestmem_ptr", test_guestmem_ptr},
		{"guestmem_many", test_guestmem_many},
		{NULL, NULL},
	};
	return cunit_run("guestmem", tests);
}
