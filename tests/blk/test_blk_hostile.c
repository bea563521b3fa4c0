/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk against a hostile guest: what a request may make the daemon
 * allocate must not grow with the size the guest claims. A guest with a
 * few MiB of RAM can describe a 254 MiB request by pointing every segment
 * at the same buffer.
 */
#include <sys/resource.h>

#include "blk_guest.h"

#define MIB      (1024u * 1024u)
#define SEGMENTS 254u /* BLK_SEG_MAX */

static long peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* An O_DIRECT read of SEGMENTS MiB into guest buffers that are not aligned
 * for O_DIRECT (so it goes through a bounce buffer), all the same MiB of
 * guest RAM. The image is sparse: reading it costs no page cache. */
static void test_bounce_does_not_follow_request_size(void)
{
	struct blkt t;
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, MIB, 0);
	CU_ASSERT_FATAL(truncate(t.img, (off_t)(SEGMENTS + 2) * MIB) == 0);
	CU_ASSERT_FATAL(blkt_start_daemon(&t, ", \"cache\": \"direct\"") == 0);
	blkt_bring_up(&t, F_V1 | F_BLK(SEG_MAX) | F_BLK(SIZE_MAX), 1, 256);

	struct treq r;
	treq_init(&t, &r, VIRTIO_BLK_T_IN, 0, 0);
	uint64_t gpa;
	uint8_t *data = galloc(&t, MIB + 1, 4096, &gpa);
	memset(data, 0x5a, MIB + 1);
	static struct hvd_guest_buf bufs[SEGMENTS + 2];
	bufs[0] = (struct hvd_guest_buf){r.hdr_gpa, 16, false};
	for (unsigned i = 1; i <= SEGMENTS; i++)
		bufs[i] = (struct hvd_guest_buf){gpa + 1, MIB, true};
	bufs[SEGMENTS + 1] = (struct hvd_guest_buf){r.status_gpa, 1, true};

	long before = peak_rss_kib();
	CU_ASSERT_FATAL(
		hvd_guest_vq_add(t.vq[0], bufs, SEGMENTS + 2, false, &r) >= 0);
	hvd_guest_vq_kick(t.vq[0]);
	uint32_t used = 0;
	CU_ASSERT_PTR_EQUAL(treq_wait(&t, 0, &used), &r);
	long grown_mib = (peak_rss_kib() - before) / 1024;
	CU_ASSERT_EQUAL(*r.status, VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(used, SEGMENTS * MIB + 1);
	CU_ASSERT(data[1] == 0 && data[MIB] == 0); /* the image's zeroes */
	CU_ASSERT(grown_mib < 64);
	if (grown_mib >= 64)
		fprintf(stderr, "peak RSS grew by %ld MiB\n", grown_mib);
	blkt_teardown(&t);
}

/* The bounce buffer taken in pieces: a 3 MiB write and read through it,
 * over segments whose boundaries fall anywhere in a piece, keep every
 * byte in its place. */
static void test_bounce_in_pieces(void)
{
	struct blkt t;
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, 4 * MIB, 0xaa);
	CU_ASSERT_FATAL(blkt_start_daemon(&t, ", \"cache\": \"direct\"") == 0);
	blkt_bring_up(&t, F_V1 | F_BLK(SEG_MAX) | F_BLK(SIZE_MAX), 1, 256);
	static const uint32_t seg[5] = {700000, 900000, 600000, 500000,
					3 * MIB - 2700000};
	uint64_t gpa;
	uint8_t *data = galloc(&t, 3 * MIB + 1, 4096, &gpa);
	static uint8_t pattern[3 * MIB], file[3 * MIB];
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + i / 4099);
	for (int pass = 0; pass < 2; pass++) {
		bool write = pass == 0;
		if (write)
			memcpy(data + 1, pattern, sizeof pattern);
		else
			memset(data, 0, 3 * MIB + 1);
		struct treq r;
		treq_init(&t, &r, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			  2048, 0);
		struct hvd_guest_buf bufs[7];
		bufs[0] = (struct hvd_guest_buf){r.hdr_gpa, 16, false};
		uint64_t at = gpa + 1;
		for (unsigned i = 0; i < 5; i++) {
			bufs[1 + i] =
				(struct hvd_guest_buf){at, seg[i], !write};
			at += seg[i];
		}
		bufs[6] = (struct hvd_guest_buf){r.status_gpa, 1, true};
		CU_ASSERT_FATAL(hvd_guest_vq_add(t.vq[0], bufs, 7, false, &r) >=
				0);
		hvd_guest_vq_kick(t.vq[0]);
		CU_ASSERT_PTR_EQUAL(treq_wait(&t, 0, NULL), &r);
		CU_ASSERT_EQUAL(*r.status, VIRTIO_BLK_S_OK);
	}
	CU_ASSERT(memcmp(data + 1, pattern, sizeof pattern) == 0);
	int fd = open(t.img, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, file, sizeof file, 2048 * SECTOR),
			(ssize_t)sizeof file);
	close(fd);
	CU_ASSERT(memcmp(file, pattern, sizeof file) == 0);
	blkt_teardown(&t);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"bounce buffer does not follow the request size",
		 test_bounce_does_not_follow_request_size},
		{"bounce buffer in pieces", test_bounce_in_pieces},
		{NULL, NULL},
	};
	return cunit_run("blk hostile", tests);
}
