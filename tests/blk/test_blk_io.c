/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk data path through the whole daemon (mock guest -> bridge ->
 * dispatch -> blk plugin -> worker -> used ring -> interrupt), checked
 * against the image file's real bytes: reads, writes, multi-segment and
 * indirect chains, flush, discard, write-zeroes, GET_ID, 64 requests in
 * flight, several queues.
 */
#include "blk_guest.h"

#define IMG_SIZE (4u << 20) /* 8192 sectors */

static struct blkt t;
static const uint64_t want_all =
	F_V1 | F_INDIRECT | F_EVENT_IDX | F_BLK(FLUSH) | F_BLK(DISCARD) |
	F_BLK(WRITE_ZEROES) | F_BLK(CONFIG_WCE) | F_BLK(MQ);

static void setup(const char *extra)
{
	blkt_setup(&t, IMG_SIZE, 0, extra, want_all);
}

/* Random data written through the device lands in the file byte for byte,
 * and what the file holds comes back through the device. */
static void test_write_read_random(void)
{
	setup("");
	unsigned seed = 7;
	static uint8_t buf[65536], file[65536], back[65536];
	for (int round = 0; round < 8; round++) {
		uint32_t len = (uint32_t)(1 + rand_r(&seed) % 128) * SECTOR;
		uint64_t sector = (uint64_t)rand_r(&seed) %
				  (IMG_SIZE / SECTOR - len / SECTOR + 1);
		fill_random(buf, len, &seed);
		CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_OUT, sector, buf, len),
				VIRTIO_BLK_S_OK);
		file_read(&t, sector * SECTOR, file, len);
		CU_ASSERT(memcmp(file, buf, len) == 0);

		/* The other way: the test writes the file, the guest reads. */
		fill_random(file, len, &seed);
		file_write(&t, sector * SECTOR, file, len);
		memset(back, 0, len);
		CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, sector, back, len),
				VIRTIO_BLK_S_OK);
		CU_ASSERT(memcmp(back, file, len) == 0);
	}
	CU_ASSERT_EQUAL(file_size(&t), IMG_SIZE);
	blkt_teardown(&t);
}

/* Reads of data that is not in page cache (the image just dropped from
 * it) take the blocking way and still return the file's bytes. */
static void test_read_uncached(void)
{
	setup("");
	unsigned seed = 5;
	static uint8_t file[65536], back[65536];
	fill_random(file, sizeof file, &seed);
	file_write(&t, 1 << 20, file, sizeof file);
	int fd = open(t.img, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fdatasync(fd), 0);
	CU_ASSERT_EQUAL(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, (1 << 20) / SECTOR, back,
			       sizeof back),
			VIRTIO_BLK_S_OK);
	CU_ASSERT(memcmp(back, file, sizeof back) == 0);
	blkt_teardown(&t);
}

/* The used length of a read counts data plus status; of a write only the
 * status byte. */
static void test_used_lengths(void)
{
	setup("");
	struct treq r;
	uint32_t len = 0;
	treq_init(&t, &r, VIRTIO_BLK_T_IN, 0, 4096);
	CU_ASSERT_EQUAL(treq_run(&t, &r, false, &len), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(len, 4097);
	treq_init(&t, &r, VIRTIO_BLK_T_OUT, 0, 4096);
	CU_ASSERT_EQUAL(treq_run(&t, &r, false, &len), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(len, 1);
	blkt_teardown(&t);
}

/* Data scattered over odd-sized segments, direct and indirect, with the
 * header and status sharing nothing with the data. */
static void run_segmented(bool indirect)
{
	static const uint32_t seg_len[] = {100, 924, 512, 1, 511, 2048};
	enum { NSEG = sizeof seg_len / sizeof seg_len[0], TOTAL = 4096 };
	unsigned seed = indirect ? 11 : 12;
	uint8_t pattern[TOTAL], file[TOTAL];
	fill_random(pattern, TOTAL, &seed);

	for (int dir = 0; dir < 2; dir++) {
		bool write = dir == 0;
		struct treq r;
		treq_init(&t, &r, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			  40, 0);
		struct hvd_guest_buf bufs[NSEG + 2];
		uint8_t *seg[NSEG];
		bufs[0] = (struct hvd_guest_buf){r.hdr_gpa, 16, false};
		uint32_t off = 0;
		for (unsigned i = 0; i < NSEG; i++) {
			uint64_t gpa;
			seg[i] = galloc(&t, seg_len[i], 1, &gpa);
			bufs[i + 1] =
				(struct hvd_guest_buf){gpa, seg_len[i], !write};
			if (write)
				memcpy(seg[i], pattern + off, seg_len[i]);
			else
				memset(seg[i], 0, seg_len[i]);
			off += seg_len[i];
		}
		bufs[NSEG + 1] = (struct hvd_guest_buf){r.status_gpa, 1, true};
		CU_ASSERT_FATAL(hvd_guest_vq_add(t.vq[0], bufs, NSEG + 2,
						 indirect, &r) >= 0);
		hvd_guest_vq_kick(t.vq[0]);
		uint32_t used = 0;
		CU_ASSERT_PTR_EQUAL(treq_wait(&t, 0, &used), &r);
		CU_ASSERT_EQUAL(*r.status, VIRTIO_BLK_S_OK);
		if (write) {
			file_read(&t, 40 * SECTOR, file, TOTAL);
			CU_ASSERT(memcmp(file, pattern, TOTAL) == 0);
			CU_ASSERT_EQUAL(used, 1);
		} else {
			off = 0;
			for (unsigned i = 0; i < NSEG; i++) {
				CU_ASSERT(memcmp(seg[i], pattern + off,
						 seg_len[i]) == 0);
				off += seg_len[i];
			}
			CU_ASSERT_EQUAL(used, TOTAL + 1);
		}
	}
}

static void test_multi_segment(void)
{
	setup("");
	run_segmented(false);
	blkt_teardown(&t);
}

static void test_indirect(void)
{
	setup("");
	CU_ASSERT(t.features & F_INDIRECT);
	run_segmented(true);
	blkt_teardown(&t);
}

/* A header split over two descriptors, and the status byte at the end of
 * a longer writable buffer: both are legal layouts (5.2.6, no framing). */
static void test_unusual_framing(void)
{
	setup("");
	uint64_t gpa;
	uint8_t *hdr = galloc(&t, 16, 16, &gpa);
	uint8_t *in = NULL;
	uint64_t in_gpa;
	in = galloc(&t, SECTOR + 1, 1, &in_gpa);
	struct virtio_blk_outhdr h = {htole32(VIRTIO_BLK_T_IN), 0, htole64(3)};
	memcpy(hdr, &h, sizeof h);
	uint8_t sector[SECTOR];
	memset(sector, 0x5a, sizeof sector);
	file_write(&t, 3 * SECTOR, sector, sizeof sector);
	in[SECTOR] = 0xee;
	struct hvd_guest_buf bufs[3] = {{gpa, 5, false},
					{gpa + 5, 11, false},
					{in_gpa, SECTOR + 1, true}};
	CU_ASSERT_FATAL(hvd_guest_vq_add(t.vq[0], bufs, 3, false, in) >= 0);
	hvd_guest_vq_kick(t.vq[0]);
	uint32_t used = 0;
	CU_ASSERT_PTR_EQUAL(treq_wait(&t, 0, &used), in);
	CU_ASSERT_EQUAL(in[SECTOR], VIRTIO_BLK_S_OK);
	CU_ASSERT(all_bytes(in, SECTOR, 0x5a));
	CU_ASSERT_EQUAL(used, SECTOR + 1);
	blkt_teardown(&t);
}

/* A flush submitted after writes completes after them, and once it has
 * completed their data is in the file. Also for writethrough mode. */
static void run_flush(void)
{
	enum { N = 16 };
	struct treq w[N], f;
	for (unsigned i = 0; i < N; i++) {
		treq_init(&t, &w[i], VIRTIO_BLK_T_OUT, i * 8, 4096);
		memset(w[i].data, 0x10 + i, 4096);
		CU_ASSERT_FATAL(treq_add(&t, 0, &w[i], false) >= 0);
	}
	hvd_guest_vq_kick(t.vq[0]);
	unsigned done = 0;
	while (done < N) {
		struct treq *r = treq_wait(&t, 0, NULL);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT_EQUAL(*r->status, VIRTIO_BLK_S_OK);
		done++;
	}
	treq_init(&t, &f, VIRTIO_BLK_T_FLUSH, 0, 0);
	CU_ASSERT_EQUAL(treq_run(&t, &f, false, NULL), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < N; i++) {
		uint8_t buf[4096];
		file_read(&t, (uint64_t)i * 4096, buf, sizeof buf);
		CU_ASSERT(all_bytes(buf, sizeof buf, (uint8_t)(0x10 + i)));
	}
}

static void test_flush(void)
{
	setup("");
	CU_ASSERT(t.features & F_BLK(FLUSH));
	run_flush();
	blkt_teardown(&t);
}

static void test_flush_writethrough(void)
{
	setup(", \"cache\": \"writethrough\"");
	CU_ASSERT_EQUAL(hvd_guest_config_read(t.gd, 32, 1), 0);
	run_flush();
	blkt_teardown(&t);
}

/* O_DIRECT with guest buffers that are not aligned for it (bounce) and
 * with aligned ones; the file holds what was written either way. */
static void test_direct(void)
{
	setup(", \"cache\": \"direct\"");
	unsigned seed = 3;
	uint8_t pattern[8192], file[8192];
	fill_random(pattern, sizeof pattern, &seed);
	struct treq r;
	treq_init(&t, &r, VIRTIO_BLK_T_OUT, 16, 0);
	uint64_t gpa;
	uint8_t *odd = galloc(&t, sizeof pattern + 1, 4096, &gpa);
	memcpy(odd + 1, pattern, sizeof pattern);
	struct hvd_guest_buf bufs[3] = {{r.hdr_gpa, 16, false},
					{gpa + 1, sizeof pattern, false},
					{r.status_gpa, 1, true}};
	CU_ASSERT_FATAL(hvd_guest_vq_add(t.vq[0], bufs, 3, false, &r) >= 0);
	hvd_guest_vq_kick(t.vq[0]);
	CU_ASSERT_PTR_EQUAL(treq_wait(&t, 0, NULL), &r);
	CU_ASSERT_EQUAL(*r.status, VIRTIO_BLK_S_OK);
	file_read(&t, 16 * SECTOR, file, sizeof file);
	CU_ASSERT(memcmp(file, pattern, sizeof file) == 0);

	/* Aligned read, and a one-sector read at an odd sector. */
	uint8_t back[8192];
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, 16, back, sizeof back),
			VIRTIO_BLK_S_OK);
	CU_ASSERT(memcmp(back, pattern, sizeof back) == 0);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, 17, back, SECTOR),
			VIRTIO_BLK_S_OK);
	CU_ASSERT(memcmp(back, pattern + SECTOR, SECTOR) == 0);
	blkt_teardown(&t);
}

/* Discard punches a hole (the file reads zero there, keeps its size and
 * gives blocks back); write-zeroes zeroes an arbitrary sector range and
 * leaves its neighbours alone. */
static void test_discard_and_write_zeroes(void)
{
	blkt_setup(&t, IMG_SIZE, 0xaa, "", want_all);
	struct stat before, after;
	CU_ASSERT_FATAL(stat(t.img, &before) == 0);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_DISCARD, 1024, 2048, 0),
			VIRTIO_BLK_S_OK);
	CU_ASSERT_FATAL(stat(t.img, &after) == 0);
	CU_ASSERT_EQUAL(after.st_size, before.st_size);
	CU_ASSERT(after.st_blocks < before.st_blocks);
	static uint8_t buf[2048 * SECTOR];
	file_read(&t, 1024 * SECTOR, buf, sizeof buf);
	CU_ASSERT(all_bytes(buf, sizeof buf, 0));
	file_read(&t, 1023 * SECTOR, buf, SECTOR);
	CU_ASSERT(all_bytes(buf, SECTOR, 0xaa));

	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_WRITE_ZEROES, 3, 5, 0),
			VIRTIO_BLK_S_OK);
	file_read(&t, 0, buf, 16 * SECTOR);
	CU_ASSERT(all_bytes(buf, 3 * SECTOR, 0xaa));
	CU_ASSERT(all_bytes(buf + 3 * SECTOR, 5 * SECTOR, 0));
	CU_ASSERT(all_bytes(buf + 8 * SECTOR, 8 * SECTOR, 0xaa));
	/* With UNMAP allowed ("discard": "unmap" is the default). */
	CU_ASSERT_EQUAL(hvd_guest_config_read(t.gd, 56, 1), 1);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_WRITE_ZEROES, 4096, 16,
				      VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
			VIRTIO_BLK_S_OK);
	file_read(&t, 4095 * SECTOR, buf, 18 * SECTOR);
	CU_ASSERT(all_bytes(buf, SECTOR, 0xaa));
	CU_ASSERT(all_bytes(buf + SECTOR, 16 * SECTOR, 0));
	CU_ASSERT(all_bytes(buf + 17 * SECTOR, SECTOR, 0xaa));
	CU_ASSERT_EQUAL(file_size(&t), IMG_SIZE);

	/* Several ranges in one request. */
	struct treq r;
	treq_init(&t, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0,
		  2 * sizeof(struct virtio_blk_discard_write_zeroes));
	struct virtio_blk_discard_write_zeroes *rg = (void *)r.data;
	rg[0] = (struct virtio_blk_discard_write_zeroes){htole64(100),
							 htole32(1), 0};
	rg[1] = (struct virtio_blk_discard_write_zeroes){htole64(200),
							 htole32(2), 0};
	CU_ASSERT_EQUAL(treq_run(&t, &r, false, NULL), VIRTIO_BLK_S_OK);
	file_read(&t, 99 * SECTOR, buf, 3 * SECTOR);
	CU_ASSERT(all_bytes(buf, SECTOR, 0xaa));
	CU_ASSERT(all_bytes(buf + SECTOR, SECTOR, 0));
	CU_ASSERT(all_bytes(buf + 2 * SECTOR, SECTOR, 0xaa));
	file_read(&t, 200 * SECTOR, buf, 3 * SECTOR);
	CU_ASSERT(all_bytes(buf, 2 * SECTOR, 0));
	CU_ASSERT(all_bytes(buf + 2 * SECTOR, SECTOR, 0xaa));
	blkt_teardown(&t);
}

/* "discard": "ignore" accepts a valid discard and keeps the data. */
static void test_discard_ignore(void)
{
	blkt_setup(&t, IMG_SIZE, 0xaa, ", \"discard\": \"ignore\"", want_all);
	CU_ASSERT_EQUAL(hvd_guest_config_read(t.gd, 56, 1), 0);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_DISCARD, 8, 8, 0),
			VIRTIO_BLK_S_OK);
	uint8_t buf[8 * SECTOR];
	file_read(&t, 8 * SECTOR, buf, sizeof buf);
	CU_ASSERT(all_bytes(buf, sizeof buf, 0xaa));
	blkt_teardown(&t);
}

static void check_get_id(const char *serial, const uint8_t expect[20])
{
	char extra[128];
	snprintf(extra, sizeof extra, ", \"serial\": \"%s\"", serial);
	setup(extra);
	struct treq r;
	treq_init(&t, &r, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES);
	memset(r.data, 0xff, VIRTIO_BLK_ID_BYTES);
	uint32_t used = 0;
	CU_ASSERT_EQUAL(treq_run(&t, &r, false, &used), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(used, VIRTIO_BLK_ID_BYTES + 1);
	CU_ASSERT(memcmp(r.data, expect, VIRTIO_BLK_ID_BYTES) == 0);
	blkt_teardown(&t);
}

/* GET_ID: short serials are zero padded, a 20-byte one has no NUL. */
static void test_get_id(void)
{
	uint8_t expect[20] = "hvisor-disk-1";
	check_get_id("hvisor-disk-1", expect);
	memcpy(expect, "ABCDEFGHIJKLMNOPQRST", 20);
	check_get_id("ABCDEFGHIJKLMNOPQRST", expect);
}

/* 64 requests made available at once, one kick: every one completes with
 * its own data in the file, and the reads return what was written. */
static void test_64_in_flight(void)
{
	setup("");
	enum { N = 64, LEN = 4096 };
	static struct treq w[N];
	for (unsigned i = 0; i < N; i++) {
		treq_init(&t, &w[i], VIRTIO_BLK_T_OUT, (uint64_t)i * 16, LEN);
		memset(w[i].data, (int)(i + 1), LEN);
		CU_ASSERT_FATAL(treq_add(&t, 0, &w[i], false) >= 0);
	}
	hvd_guest_vq_kick(t.vq[0]);
	treq_wait_all(&t, 0, w, N);
	for (unsigned i = 0; i < N; i++)
		CU_ASSERT_EQUAL(*w[i].status, VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < N; i++) {
		uint8_t buf[LEN];
		file_read(&t, (uint64_t)i * 16 * SECTOR, buf, LEN);
		CU_ASSERT(all_bytes(buf, LEN, (uint8_t)(i + 1)));
		treq_init(&t, &w[i], VIRTIO_BLK_T_IN, (uint64_t)i * 16, LEN);
		CU_ASSERT_FATAL(treq_add(&t, 0, &w[i], true) >= 0);
	}
	hvd_guest_vq_kick(t.vq[0]);
	for (unsigned n = 0; n < N; n++) {
		struct treq *r = treq_wait(&t, 0, NULL);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT_EQUAL(*r->status, VIRTIO_BLK_S_OK);
		CU_ASSERT(all_bytes(r->data, LEN, (uint8_t)(r - w + 1)));
	}
	blkt_teardown(&t);
}

/* Four queues, each writing its own region at once. */
static void test_multi_queue(void)
{
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, IMG_SIZE, 0);
	CU_ASSERT_FATAL(blkt_start_daemon(&t, ", \"num_queues\": 4") == 0);
	blkt_bring_up(&t, want_all, 4, 64);
	CU_ASSERT(t.features & F_BLK(MQ));
	CU_ASSERT_EQUAL(hvd_guest_config_read(t.gd, 34, 2), 4);
	enum { PER_Q = 16, LEN = 2048 };
	static struct treq w[4][PER_Q];
	for (unsigned q = 0; q < 4; q++) {
		for (unsigned i = 0; i < PER_Q; i++) {
			uint64_t sector = (q * PER_Q + i) * (LEN / SECTOR);
			treq_init(&t, &w[q][i], VIRTIO_BLK_T_OUT, sector, LEN);
			memset(w[q][i].data, (int)(q * PER_Q + i + 1), LEN);
			CU_ASSERT_FATAL(treq_add(&t, q, &w[q][i], false) >= 0);
		}
	}
	for (unsigned q = 0; q < 4; q++)
		hvd_guest_vq_kick(t.vq[q]);
	for (unsigned q = 0; q < 4; q++) {
		for (unsigned i = 0; i < PER_Q; i++) {
			struct treq *r = treq_wait(&t, q, NULL);
			CU_ASSERT_FATAL(r != NULL);
			CU_ASSERT(r >= w[q] && r < w[q] + PER_Q);
			CU_ASSERT_EQUAL(*r->status, VIRTIO_BLK_S_OK);
		}
	}
	for (unsigned n = 0; n < 4 * PER_Q; n++) {
		uint8_t buf[LEN];
		file_read(&t, (uint64_t)n * LEN, buf, LEN);
		CU_ASSERT(all_bytes(buf, LEN, (uint8_t)(n + 1)));
	}
	blkt_teardown(&t);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"write/read random data vs file", test_write_read_random},
		{"used lengths", test_used_lengths},
		{"read of data not in page cache", test_read_uncached},
		{"multi-segment requests", test_multi_segment},
		{"indirect requests", test_indirect},
		{"split header, status in data buffer", test_unusual_framing},
		{"flush after writes", test_flush},
		{"flush in writethrough mode", test_flush_writethrough},
		{"O_DIRECT with unaligned guest buffers", test_direct},
		{"discard and write-zeroes in the file",
		 test_discard_and_write_zeroes},
		{"discard ignore", test_discard_ignore},
		{"GET_ID", test_get_id},
		{"64 requests in flight", test_64_in_flight},
		{"multi-queue", test_multi_queue},
		{NULL, NULL},
	};
	return cunit_run("blk-io", tests);
}
