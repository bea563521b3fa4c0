/* SPDX-License-Identifier: MIT */
/*
 * hvd/iov.h: the segment helpers every plugin uses, on segment tables
 * with uneven and empty segments, offsets inside, at and past segment
 * boundaries, and tables shorter than the request.
 */
#include <string.h>

#include "cunit_main.h"
#include "hvd/iov.h"

/* 3 + 0 + 5 + 4 bytes over one backing array with a guard byte between
 * segments: a copy that overruns a segment changes a guard. */
#define GUARD 0xee
static uint8_t back[3 + 1 + 5 + 1 + 4 + 1];
static struct iovec seg[4];

static void setup(void)
{
	memset(back, GUARD, sizeof back);
	seg[0] = (struct iovec){back, 3};
	seg[1] = (struct iovec){back + 3, 0};
	seg[2] = (struct iovec){back + 4, 5};
	seg[3] = (struct iovec){back + 10, 4};
	for (unsigned i = 0; i < 4; i++)
		for (size_t k = 0; k < seg[i].iov_len; k++)
			((uint8_t *)seg[i].iov_base)[k] = (uint8_t)(i * 16 + k);
}

static bool guards_intact(void)
{
	return back[3] == GUARD && back[9] == GUARD && back[14] == GUARD;
}

static void test_length_and_seek(void)
{
	setup();
	CU_ASSERT_EQUAL(hvd_iov_length(seg, 4), 12);
	CU_ASSERT_EQUAL(hvd_iov_length(seg, 0), 0);
	size_t off = 3; /* the end of segment 0: skips the empty one */
	CU_ASSERT_EQUAL(hvd_iov_seek(seg, 4, &off), 2);
	CU_ASSERT_EQUAL(off, 0);
	off = 10;
	CU_ASSERT_EQUAL(hvd_iov_seek(seg, 4, &off), 3);
	CU_ASSERT_EQUAL(off, 2);
	off = 12;
	CU_ASSERT_EQUAL(hvd_iov_seek(seg, 4, &off), 4);
	CU_ASSERT_EQUAL(off, 0);
}

static void test_read(void)
{
	setup();
	uint8_t out[16];
	memset(out, 0, sizeof out);
	/* From byte 2 across the empty segment and into the last one. */
	CU_ASSERT_EQUAL(hvd_iov_read(seg, 4, 2, out, 8), 8);
	static const uint8_t want[] = {0x02, 0x20, 0x21, 0x22,
				       0x23, 0x24, 0x30, 0x31};
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof want), 0);
	CU_ASSERT_EQUAL(out[8], 0);
	/* Short: the segments end first. */
	CU_ASSERT_EQUAL(hvd_iov_read(seg, 4, 10, out, 16), 2);
	CU_ASSERT_EQUAL(out[0], 0x32);
	CU_ASSERT_EQUAL(out[1], 0x33);
	/* At and past the end, or with only part of the table. */
	CU_ASSERT_EQUAL(hvd_iov_read(seg, 4, 12, out, 1), 0);
	CU_ASSERT_EQUAL(hvd_iov_read(seg, 4, 100, out, 1), 0);
	CU_ASSERT_EQUAL(hvd_iov_read(seg, 1, 0, out, 16), 3);
	CU_ASSERT(guards_intact());
}

static void test_write(void)
{
	setup();
	uint8_t in[16];
	for (unsigned i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(0xa0 + i);
	CU_ASSERT_EQUAL(hvd_iov_write(seg, 4, 1, in, 16), 11);
	CU_ASSERT_EQUAL(back[0], 0x00); /* before the offset: untouched */
	CU_ASSERT_EQUAL(back[1], 0xa0);
	CU_ASSERT_EQUAL(back[2], 0xa1);
	CU_ASSERT_EQUAL(back[4], 0xa2);
	CU_ASSERT_EQUAL(back[8], 0xa6);
	CU_ASSERT_EQUAL(back[10], 0xa7);
	CU_ASSERT_EQUAL(back[13], 0xaa);
	CU_ASSERT(guards_intact());
	/* Round trip through a flat buffer at an offset. */
	uint8_t out[11];
	CU_ASSERT_EQUAL(hvd_iov_read(seg, 4, 1, out, sizeof out), sizeof out);
	CU_ASSERT_EQUAL(memcmp(out, in, sizeof out), 0);
}

static void test_slice(void)
{
	setup();
	struct iovec dst[4];
	/* Bytes [2, 11): the tail of 0, all of 2, the head of 3. */
	CU_ASSERT_EQUAL(hvd_iov_slice(seg, 4, 2, 9, dst, 4), 3);
	CU_ASSERT_PTR_EQUAL(dst[0].iov_base, back + 2);
	CU_ASSERT_EQUAL(dst[0].iov_len, 1);
	CU_ASSERT_PTR_EQUAL(dst[1].iov_base, back + 4);
	CU_ASSERT_EQUAL(dst[1].iov_len, 5);
	CU_ASSERT_PTR_EQUAL(dst[2].iov_base, back + 10);
	CU_ASSERT_EQUAL(dst[2].iov_len, 3);
	CU_ASSERT_EQUAL(hvd_iov_length(dst, 3), 9);
	/* Bounded by the destination table and by the source. */
	CU_ASSERT_EQUAL(hvd_iov_slice(seg, 4, 0, 100, dst, 2), 2);
	CU_ASSERT_EQUAL(hvd_iov_length(dst, 2), 8);
	CU_ASSERT_EQUAL(hvd_iov_slice(seg, 4, 0, 100, dst, 4), 3);
	CU_ASSERT_EQUAL(hvd_iov_length(dst, 3), 12);
	CU_ASSERT_EQUAL(hvd_iov_slice(seg, 4, 12, 1, dst, 4), 0);
	CU_ASSERT_EQUAL(hvd_iov_slice(seg, 4, 0, 0, dst, 4), 0);
}

/* The chain helpers see the readable part, then the writable part. */
static void test_chain(void)
{
	setup();
	struct hvd_chain c = {.num_out = 2, .num_in = 2, .iov = seg};
	uint8_t out[8] = {0};
	CU_ASSERT_EQUAL(hvd_chain_read(&c, 1, out, sizeof out), 2);
	CU_ASSERT_EQUAL(out[0], 0x01);
	CU_ASSERT_EQUAL(out[1], 0x02);
	static const uint8_t msg[] = "virtio";
	CU_ASSERT_EQUAL(hvd_chain_write(&c, 0, msg, 6), 6);
	CU_ASSERT_EQUAL(memcmp(back + 4, "virti", 5), 0);
	CU_ASSERT_EQUAL(back[10], 'o');
	CU_ASSERT_EQUAL(back[0], 0x00); /* the readable part is not written */
	CU_ASSERT(guards_intact());
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"length_and_seek", test_length_and_seek},
		{"read", test_read},
		{"write", test_write},
		{"slice", test_slice},
		{"chain", test_chain},
		{NULL, NULL},
	};
	return cunit_run("iov", tests);
}
