/* SPDX-License-Identifier: MIT */
/*
 * Requests the blk plugin serves on the dispatch thread in queue_notify
 * (reads the page cache holds, GET_ID) and what it hands to its workers
 * (reads that need the disk, writes, whatever comes after them, the part
 * of a batch beyond the inline budget): the data is the file's either way,
 * a write and a read of the same sector keep what the spec allows, a reset
 * with such reads in flight leaves the old rings alone, and a malformed
 * chain among them still marks the device NEEDS_RESET.
 */
#include <sys/mman.h>

#include "blk_guest.h"

#define IMG_SIZE (4u << 20) /* 8192 sectors */
#define PAGE     4096u

static struct blkt t;
static const uint64_t want_all =
	F_V1 | F_INDIRECT | F_EVENT_IDX | F_BLK(FLUSH) | F_BLK(DISCARD) |
	F_BLK(WRITE_ZEROES) | F_BLK(CONFIG_WCE) | F_BLK(MQ);

/* The image holds `seed`-random bytes, written through the page cache (so
 * cached until dropped). */
static void setup_random_image(unsigned seed)
{
	blkt_setup(&t, IMG_SIZE, 0, "", want_all);
	static uint8_t buf[IMG_SIZE];
	fill_random(buf, sizeof buf, &seed);
	file_write(&t, 0, buf, sizeof buf);
}

/* Whether any page of [off, off + len) of the image is in page cache. */
static bool any_cached(uint64_t off, size_t len)
{
	int fd = open(t.img, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
	CU_ASSERT_FATAL(map != MAP_FAILED);
	unsigned char vec[64];
	CU_ASSERT_FATAL(len / PAGE <= sizeof vec);
	CU_ASSERT_EQUAL(mincore(map, len, vec), 0);
	bool any = false;
	for (size_t i = 0; i < len / PAGE; i++)
		any |= vec[i] & 1;
	munmap(map, len);
	close(fd);
	return any;
}

/* Drop the whole image from page cache (a part may share a large folio
 * with the rest and stay), then read [0, warm) back into it, and check
 * that [off, off + len) is not cached: a read of it cannot be served
 * inline. */
static void drop_from_cache(uint64_t off, size_t len, size_t warm)
{
	int fd = open(t.img, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fdatasync(fd), 0);
	CU_ASSERT_EQUAL(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	static uint8_t buf[1 << 20];
	CU_ASSERT_FATAL(warm <= sizeof buf);
	CU_ASSERT_EQUAL(pread(fd, buf, warm, 0), (ssize_t)warm);
	close(fd);
	CU_ASSERT_FATAL(!any_cached(off, len));
}

/* Returns the chain's head descriptor. */
static int add_read(struct treq *r, uint64_t off, uint32_t len)
{
	treq_init(&t, r, VIRTIO_BLK_T_IN, off / SECTOR, len);
	memset(r->data, 0xee, len);
	int head = treq_add(&t, 0, r, true);
	CU_ASSERT_FATAL(head >= 0);
	return head;
}

static bool matches_file(const struct treq *r, uint64_t off)
{
	static uint8_t file[65536];
	file_read(&t, off, file, r->len);
	return memcmp(r->data, file, r->len) == 0;
}

/* One batch, one kick: cached reads before and after one the page cache
 * does not hold, a write in between, a GET_ID and more cached reads than
 * one kick serves inline. Every read returns the file's bytes. */
static void test_cached_and_uncached(void)
{
	setup_random_image(3);
	enum { N = 40 };
	static struct treq r[N];
	drop_from_cache(3u << 20, 4 * PAGE, 128 * PAGE);
	add_read(&r[0], 0, PAGE);
	add_read(&r[1], 8 * PAGE, 2 * PAGE);
	add_read(&r[2], 3u << 20, 4 * PAGE); /* needs the disk */
	add_read(&r[3], 16 * PAGE, PAGE);
	treq_init(&t, &r[4], VIRTIO_BLK_T_OUT, (2u << 20) / SECTOR, PAGE);
	memset(r[4].data, 0x77, PAGE);
	CU_ASSERT_FATAL(treq_add(&t, 0, &r[4], true) >= 0);
	treq_init(&t, &r[5], VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES);
	CU_ASSERT_FATAL(treq_add(&t, 0, &r[5], true) >= 0);
	for (unsigned i = 6; i < N; i++)
		add_read(&r[i], (uint64_t)(32 + i) * PAGE, PAGE); /* cached */
	hvd_guest_vq_kick(t.vq[0]);
	treq_wait_all(&t, 0, r, N);
	for (unsigned i = 0; i < N; i++)
		CU_ASSERT_EQUAL(*r[i].status, VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < N; i++)
		if (i != 4 && i != 5)
			CU_ASSERT(matches_file(
				&r[i], le64toh(r[i].hdr->sector) * SECTOR));
	uint8_t back[PAGE];
	file_read(&t, 2u << 20, back, PAGE);
	CU_ASSERT(all_bytes(back, PAGE, 0x77));

	/* The uncached range again, alone: the first read after the drop
	 * takes the worker's way, the second finds the pages it brought. */
	drop_from_cache(3u << 20, 4 * PAGE, 0);
	for (int k = 0; k < 2; k++) {
		add_read(&r[0], 3u << 20, 4 * PAGE);
		hvd_guest_vq_kick(t.vq[0]);
		CU_ASSERT_PTR_EQUAL(treq_wait(&t, 0, NULL), &r[0]);
		CU_ASSERT_EQUAL(*r[0].status, VIRTIO_BLK_S_OK);
		CU_ASSERT(matches_file(&r[0], 3u << 20));
	}
	CU_ASSERT(any_cached(3u << 20, 4 * PAGE));
	blkt_teardown(&t);
}

/* A read and a write of the same sector in one batch are in flight
 * together: the read may see the old or the new block (virtio 1.2 5.2.6.4:
 * no order between requests in flight), but each of its sectors is one of
 * the two, and once both are done the block is the new one. */
static void test_read_write_same_sector(void)
{
	setup_random_image(9);
	const uint64_t off = 64 * PAGE;
	static uint8_t old[PAGE];
	struct treq rd, wr;
	for (int order = 0; order < 2; order++) {
		file_read(&t, off, old, PAGE);
		uint8_t fill = (uint8_t)(0x30 + order);
		treq_init(&t, &wr, VIRTIO_BLK_T_OUT, off / SECTOR, PAGE);
		memset(wr.data, fill, PAGE);
		if (order == 0)
			add_read(&rd, off, PAGE);
		CU_ASSERT_FATAL(treq_add(&t, 0, &wr, false) >= 0);
		if (order == 1)
			add_read(&rd, off, PAGE);
		hvd_guest_vq_kick(t.vq[0]);
		for (int k = 0; k < 2; k++) {
			struct treq *r = treq_wait(&t, 0, NULL);
			CU_ASSERT_FATAL(r == &rd || r == &wr);
			CU_ASSERT_EQUAL(*r->status, VIRTIO_BLK_S_OK);
		}
		for (unsigned s = 0; s < PAGE / SECTOR; s++) {
			const uint8_t *got = rd.data + s * SECTOR;
			CU_ASSERT(all_bytes(got, SECTOR, fill) ||
				  memcmp(got, old + s * SECTOR, SECTOR) == 0);
		}
		uint8_t back[PAGE];
		CU_ASSERT_EQUAL(
			blk_io(&t, VIRTIO_BLK_T_IN, off / SECTOR, back, PAGE),
			VIRTIO_BLK_S_OK);
		CU_ASSERT(all_bytes(back, PAGE, fill));
	}
	blkt_teardown(&t);
}

/* A reset right behind the kick of a batch of cached reads: it returns
 * with each read done or never started; the old rings and buffers are
 * not touched afterwards, every read the old ring reports holds the
 * file's bytes, and the device serves again. */
static void test_reset_with_reads_in_flight(void)
{
	setup_random_image(11);
	enum { N = 48 };
	static struct treq r[N];
	int heads[N];
	for (unsigned i = 0; i < N; i++)
		heads[i] = add_read(&r[i], (uint64_t)i * 2 * PAGE, 2 * PAGE);
	struct vring_used *old_used = hvd_guest_vq_used(t.vq[0]);
	hvd_guest_vq_kick(t.vq[0]);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_reset(t.gd), 0);

	uint16_t done = __atomic_load_n(&old_used->idx, __ATOMIC_ACQUIRE);
	static uint8_t snapshot[N][2 * PAGE];
	for (unsigned i = 0; i < N; i++)
		memcpy(snapshot[i], r[i].data, 2 * PAGE);
	blkt_bring_up(&t, want_all, 1, 128);
	uint8_t buf[PAGE];
	for (int i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, 0, buf, PAGE),
				VIRTIO_BLK_S_OK);
		CU_ASSERT(matches_file(&(struct treq){.data = buf, .len = PAGE},
				       0));
	}
	CU_ASSERT_EQUAL(__atomic_load_n(&old_used->idx, __ATOMIC_ACQUIRE),
			done);
	for (unsigned i = 0; i < N; i++)
		CU_ASSERT(memcmp(snapshot[i], r[i].data, 2 * PAGE) == 0);
	CU_ASSERT(done <= N);
	for (uint16_t u = 0; u < done && u < N; u++) {
		uint32_t head = le32toh(old_used->ring[u].id);
		unsigned i = 0;
		while (i < N && (uint32_t)heads[i] != head)
			i++;
		CU_ASSERT_FATAL(i < N);
		CU_ASSERT_EQUAL(*r[i].status, VIRTIO_BLK_S_OK);
		CU_ASSERT(matches_file(&r[i], (uint64_t)i * 2 * PAGE));
	}
	blkt_teardown(&t);
}

/* Good reads, then a read without a writable status byte, in one batch:
 * the reads complete with the file's bytes, the device needs a reset and
 * serves again after one. */
static void test_malformed_among_reads(void)
{
	setup_random_image(13);
	struct treq r[3];
	add_read(&r[0], 0, PAGE);
	add_read(&r[1], 4 * PAGE, PAGE);
	treq_init(&t, &r[2], VIRTIO_BLK_T_IN, 0, PAGE);
	struct hvd_guest_buf bufs[2] = {{r[2].hdr_gpa, 16, false},
					{r[2].data_gpa, PAGE, false}};
	CU_ASSERT_FATAL(hvd_guest_vq_add(t.vq[0], bufs, 2, false, &r[2]) >= 0);
	hvd_guest_vq_kick(t.vq[0]);
	for (int k = 0; k < 2; k++) {
		struct treq *done = treq_wait(&t, 0, NULL);
		CU_ASSERT_FATAL(done == &r[0] || done == &r[1]);
		CU_ASSERT_EQUAL(*done->status, VIRTIO_BLK_S_OK);
		CU_ASSERT(matches_file(done, done == &r[0] ? 0 : 4 * PAGE));
	}
	CU_ASSERT(hvd_guest_status(t.gd) & VIRTIO_CONFIG_S_NEEDS_RESET);
	blkt_bring_up(&t, want_all, 1, 128);
	uint8_t buf[PAGE];
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, 0, buf, PAGE),
			VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(hvd_guest_status(t.gd) & VIRTIO_CONFIG_S_NEEDS_RESET,
			0);
	blkt_teardown(&t);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"cached, uncached and deferred reads in one batch",
		 test_cached_and_uncached},
		{"read and write of one sector in flight together",
		 test_read_write_same_sector},
		{"reset with reads in flight", test_reset_with_reads_in_flight},
		{"malformed chain among reads -> NEEDS_RESET",
		 test_malformed_among_reads},
		{NULL, NULL},
	};
	return cunit_run("blk-inline", tests);
}
