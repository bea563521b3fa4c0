/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk control and error paths: features and config space byte for
 * byte, the writeback byte, read-only disks, capacity/alignment/type
 * errors, a chain without a status byte, reset in the middle of I/O, and
 * JSON mistakes refused at creation.
 */
#include <sched.h>
#include <stddef.h>
#include <time.h>

#include "blk_guest.h"

#define IMG_SIZE ((1u << 20) + 100u) /* 2048 whole sectors + a partial one */
#define CAPACITY 2048u

static struct blkt t;
static const uint64_t want_all =
	F_V1 | F_INDIRECT | F_EVENT_IDX | F_BLK(FLUSH) | F_BLK(DISCARD) |
	F_BLK(WRITE_ZEROES) | F_BLK(CONFIG_WCE) | F_BLK(MQ) | F_BLK(RO) |
	F_BLK(SIZE_MAX) | F_BLK(SEG_MAX) | F_BLK(BLK_SIZE) | F_BLK(TOPOLOGY);

static uint64_t cfg(size_t offset, unsigned size)
{
	return hvd_guest_config_read(t.gd, (uint32_t)offset, size);
}

#define CFG(field)                                     \
	cfg(offsetof(struct virtio_blk_config, field), \
	    sizeof(((struct virtio_blk_config *)0)->field))

static uint64_t offered(void)
{
	hvd_guest_reg_write(t.gd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = hvd_guest_reg_read(t.gd, VIRTIO_MMIO_DEVICE_FEATURES);
	hvd_guest_reg_write(t.gd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = hvd_guest_reg_read(t.gd, VIRTIO_MMIO_DEVICE_FEATURES);
	return hi << 32 | lo;
}

/* Exactly the features of the issue, and every config field where virtio
 * 1.2 section 5.2.4 puts it, little-endian. */
static void test_features_and_config(void)
{
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, IMG_SIZE, 0);
	CU_ASSERT_FATAL(
		blkt_start_daemon(
			&t, ", \"queue_size\": 64, \"num_queues\": 2") == 0);
	blkt_bring_up(&t, want_all, 2, 64);
	CU_ASSERT_EQUAL(offered(), F_V1 | F_INDIRECT | F_EVENT_IDX |
					   F_BLK(SIZE_MAX) | F_BLK(SEG_MAX) |
					   F_BLK(BLK_SIZE) | F_BLK(TOPOLOGY) |
					   F_BLK(FLUSH) | F_BLK(CONFIG_WCE) |
					   F_BLK(DISCARD) |
					   F_BLK(WRITE_ZEROES) | F_BLK(MQ));
	CU_ASSERT_EQUAL(CFG(capacity), CAPACITY);
	CU_ASSERT_EQUAL(CFG(size_max), 1u << 20);
	CU_ASSERT_EQUAL(CFG(seg_max), 62); /* queue_size 64 - header, status */
	CU_ASSERT_EQUAL(CFG(geometry.cylinders), 0);
	CU_ASSERT_EQUAL(CFG(blk_size), 512);
	CU_ASSERT_EQUAL(CFG(physical_block_exp), 3);
	CU_ASSERT_EQUAL(CFG(alignment_offset), 0);
	CU_ASSERT_EQUAL(CFG(min_io_size), 1);
	CU_ASSERT_EQUAL(CFG(wce), 1);
	CU_ASSERT_EQUAL(CFG(num_queues), 2);
	CU_ASSERT_EQUAL(CFG(max_discard_sectors), 0x3fffff);
	CU_ASSERT_EQUAL(CFG(max_discard_seg), 32);
	CU_ASSERT_EQUAL(CFG(discard_sector_alignment), 8);
	CU_ASSERT_EQUAL(CFG(max_write_zeroes_sectors), 0x3fffff);
	CU_ASSERT_EQUAL(CFG(max_write_zeroes_seg), 32);
	CU_ASSERT_EQUAL(CFG(write_zeroes_may_unmap), 1);
	/* Byte-wise reads agree with the wide ones (little-endian). */
	uint8_t bytes[8];
	for (unsigned i = 0; i < 8; i++)
		bytes[i] = (uint8_t)cfg(i, 1);
	static const uint8_t cap_le[8] = {0x00, 0x08, 0, 0, 0, 0, 0, 0};
	CU_ASSERT(memcmp(bytes, cap_le, 8) == 0);
	CU_ASSERT_EQUAL(cfg(8, 2) | cfg(10, 2) << 16, 1u << 20);
	blkt_teardown(&t);
}

/* The padding bytes of the config layout read 0, before FEATURES_OK and
 * after DRIVER_OK, whatever was written to them. */
static void test_padding_zero(void)
{
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, IMG_SIZE, 0);
	CU_ASSERT_FATAL(blkt_start_daemon(&t, "") == 0);
	const size_t pads[] = {offsetof(struct virtio_blk_config, unused),
			       offsetof(struct virtio_blk_config, unused1),
			       offsetof(struct virtio_blk_config, unused1) + 1,
			       offsetof(struct virtio_blk_config, unused1) + 2};
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(cfg(pads[i], 1), 0);
	blkt_bring_up(&t, want_all, 1, 64);
	for (unsigned i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(hvd_guest_config_write(t.gd, (uint32_t)pads[i],
						       1, 0xff),
				0);
		CU_ASSERT_EQUAL(cfg(pads[i], 1), 0);
	}
	blkt_teardown(&t);
}

/* CONFIG_WCE: the writeback byte is writable and returns to the configured
 * mode on reset; no other config byte is writable. */
static void test_writeback_byte(void)
{
	blkt_setup(&t, IMG_SIZE, 0, "", want_all);
	CU_ASSERT_EQUAL(CFG(wce), 1);
	CU_ASSERT_EQUAL(hvd_guest_config_write(t.gd, 32, 1, 0), 0);
	CU_ASSERT_EQUAL(CFG(wce), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_write(t.gd, 0, 4, 7), 0);
	CU_ASSERT_EQUAL(CFG(capacity), CAPACITY);
	/* Writes still work in the now writethrough mode. */
	uint8_t buf[SECTOR];
	memset(buf, 0x42, sizeof buf);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_OUT, 1, buf, SECTOR),
			VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(hvd_guest_reset(t.gd), 0);
	CU_ASSERT_EQUAL(CFG(wce), 1);
	/* Without CONFIG_WCE negotiated the byte is read-only. */
	blkt_bring_up(&t, want_all & ~F_BLK(CONFIG_WCE), 1, 128);
	CU_ASSERT_EQUAL(hvd_guest_config_write(t.gd, 32, 1, 0), 0);
	CU_ASSERT_EQUAL(CFG(wce), 1);
	/* A driver without FLUSH is told the cache is writethrough. */
	blkt_bring_up(&t, want_all & ~F_BLK(FLUSH), 1, 128);
	CU_ASSERT_EQUAL(CFG(wce), 0);
	blkt_bring_up(&t, want_all, 1, 128);
	CU_ASSERT_EQUAL(CFG(wce), 1);
	blkt_teardown(&t);
}

/* A read-only disk: RO offered, reads work, writes, discard and
 * write-zeroes fail with IOERR and leave the file alone. */
static void test_readonly(void)
{
	blkt_setup(&t, IMG_SIZE, 0x33, ", \"readonly\": true", want_all);
	CU_ASSERT(offered() & F_BLK(RO));
	CU_ASSERT(t.features & F_BLK(RO));
	uint8_t buf[4096];
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, 0, buf, sizeof buf),
			VIRTIO_BLK_S_OK);
	CU_ASSERT(all_bytes(buf, sizeof buf, 0x33));
	memset(buf, 0x44, sizeof buf);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_OUT, 0, buf, sizeof buf),
			VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_DISCARD, 0, 8, 0),
			VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0),
			VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_FLUSH, 0, NULL, 0),
			VIRTIO_BLK_S_OK);
	file_read(&t, 0, buf, sizeof buf);
	CU_ASSERT(all_bytes(buf, sizeof buf, 0x33));
	blkt_teardown(&t);
}

/* Ranges past the capacity (never growing the file), lengths that are not
 * whole sectors, bad discard/write-zeroes ranges, unknown types. */
static void test_range_and_type_errors(void)
{
	blkt_setup(&t, IMG_SIZE, 0x11, "", want_all);
	static uint8_t buf[2 * SECTOR];
	memset(buf, 0x99, sizeof buf);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, CAPACITY - 1, buf, SECTOR),
			VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(
		blk_io(&t, VIRTIO_BLK_T_IN, CAPACITY - 1, buf, 2 * SECTOR),
		VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, CAPACITY, buf, SECTOR),
			VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, UINT64_MAX, buf, SECTOR),
			VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(
		blk_io(&t, VIRTIO_BLK_T_OUT, CAPACITY - 1, buf, 2 * SECTOR),
		VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_OUT, CAPACITY, buf, SECTOR),
			VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_OUT, 0, buf, 100),
			VIRTIO_BLK_S_IOERR);
	/* Nothing of that reached the file: size and the tail unchanged. */
	CU_ASSERT_EQUAL(file_size(&t), IMG_SIZE);
	file_read(&t, (CAPACITY - 1) * SECTOR, buf, SECTOR + 100);
	CU_ASSERT(all_bytes(buf, SECTOR + 100, 0x11));
	file_read(&t, 0, buf, SECTOR);
	CU_ASSERT(all_bytes(buf, SECTOR, 0x11));

	/* Discard: misaligned start or length, past the end, the UNMAP flag
	 * (UNSUPP for discard, 5.2.6.2), unknown flags. */
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_DISCARD, 3, 8, 0),
			VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_DISCARD, 8, 5, 0),
			VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(
		blk_range_cmd(&t, VIRTIO_BLK_T_DISCARD, CAPACITY - 8, 16, 0),
		VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_DISCARD, 8, 8,
				      VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
			VIRTIO_BLK_S_UNSUPP);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 2),
			VIRTIO_BLK_S_UNSUPP);
	CU_ASSERT_EQUAL(blk_range_cmd(&t, VIRTIO_BLK_T_WRITE_ZEROES,
				      CAPACITY - 1, 2, 0),
			VIRTIO_BLK_S_IOERR);
	file_read(&t, 0, buf, 2 * SECTOR);
	CU_ASSERT(all_bytes(buf, 2 * SECTOR, 0x11));
	CU_ASSERT_EQUAL(file_size(&t), IMG_SIZE);

	/* Unknown and unsupported types. */
	CU_ASSERT_EQUAL(blk_io(&t, 99, 0, buf, SECTOR), VIRTIO_BLK_S_UNSUPP);
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_SECURE_ERASE, 0, NULL, 0),
			VIRTIO_BLK_S_UNSUPP);

	/* A header shorter than 16 bytes. */
	struct treq r;
	treq_init(&t, &r, VIRTIO_BLK_T_IN, 0, 0);
	struct hvd_guest_buf bufs[2] = {{r.hdr_gpa, 8, false},
					{r.status_gpa, 1, true}};
	CU_ASSERT_FATAL(hvd_guest_vq_add(t.vq[0], bufs, 2, false, &r) >= 0);
	hvd_guest_vq_kick(t.vq[0]);
	CU_ASSERT_PTR_EQUAL(treq_wait(&t, 0, NULL), &r);
	CU_ASSERT_EQUAL(*r.status, VIRTIO_BLK_S_IOERR);
	/* The device still serves. */
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, 0, buf, SECTOR),
			VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(hvd_guest_status(t.gd) & VIRTIO_CONFIG_S_NEEDS_RESET,
			0);
	blkt_teardown(&t);
}

/* No writable byte for the status: the device needs a reset, and serves
 * again after one. */
static void test_no_status_byte(void)
{
	blkt_setup(&t, IMG_SIZE, 0, "", want_all);
	struct treq r;
	treq_init(&t, &r, VIRTIO_BLK_T_OUT, 0, SECTOR);
	struct hvd_guest_buf bufs[2] = {{r.hdr_gpa, 16, false},
					{r.data_gpa, SECTOR, false}};
	uint64_t irqs = hvd_guest_irq_count(t.gd);
	CU_ASSERT_FATAL(hvd_guest_vq_add(t.vq[0], bufs, 2, false, &r) >= 0);
	hvd_guest_vq_kick(t.vq[0]);
	CU_ASSERT_EQUAL(hvd_guest_wait_irq(t.gd, irqs, FIX_TIMEOUT_MS), 0);
	CU_ASSERT(hvd_guest_status(t.gd) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CU_ASSERT(hvd_guest_ack_interrupt(t.gd) & VIRTIO_MMIO_INT_CONFIG);
	blkt_bring_up(&t, want_all, 1, 128);
	uint8_t buf[SECTOR];
	CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, 0, buf, SECTOR),
			VIRTIO_BLK_S_OK);
	blkt_teardown(&t);
}

/* A reset while 64 large writes are in flight: it returns with every
 * request finished or never started, the old rings and buffers are not
 * touched afterwards, each request the old used ring reports done is in
 * the file, and the device serves again. */
static void test_reset_during_io(void)
{
	enum { N = 64, LEN = 65536 };
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, 8u << 20, 0);
	/* Writethrough: every write waits for fdatasync, so the reset lands
	 * while requests are still being worked on. */
	CU_ASSERT_FATAL(
		blkt_start_daemon(&t, ", \"cache\": \"writethrough\"") == 0);
	blkt_bring_up(&t, want_all, 1, 256);
	static struct treq w[N];
	for (unsigned i = 0; i < N; i++) {
		treq_init(&t, &w[i], VIRTIO_BLK_T_OUT,
			  (uint64_t)i * (LEN / SECTOR), LEN);
		memset(w[i].data, (int)(i + 1), LEN);
		CU_ASSERT_FATAL(treq_add(&t, 0, &w[i], false) >= 0);
	}
	struct vring_used *old_used = hvd_guest_vq_used(t.vq[0]);
	hvd_guest_vq_kick(t.vq[0]);
	/* Reset once the first completion shows: I/O is under way then. */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (__atomic_load_n(&old_used->idx, __ATOMIC_ACQUIRE) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		CU_ASSERT_FATAL(now.tv_sec - start.tv_sec < 5);
		sched_yield();
	}
	CU_ASSERT_EQUAL_FATAL(hvd_guest_reset(t.gd), 0);

	uint16_t done = __atomic_load_n(&old_used->idx, __ATOMIC_ACQUIRE);
	uint8_t status_after_reset[N];
	for (unsigned i = 0; i < N; i++)
		status_after_reset[i] = *w[i].status;

	/* New rings, more I/O: a worker that still held an old chain would
	 * write into the old ring or status bytes meanwhile. */
	blkt_bring_up(&t, want_all, 1, 128);
	uint8_t buf[SECTOR];
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(blk_io(&t, VIRTIO_BLK_T_IN, 0, buf, SECTOR),
				VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(__atomic_load_n(&old_used->idx, __ATOMIC_ACQUIRE),
			done);
	for (unsigned i = 0; i < N; i++)
		CU_ASSERT_EQUAL(*w[i].status, status_after_reset[i]);

	/* Every completion the old ring shows is in the file. */
	static uint8_t file[LEN];
	CU_ASSERT(done >= 1 && done <= N);
	for (uint16_t u = 0; u < done && u < N; u++) {
		uint32_t head = le32toh(old_used->ring[u].id);
		/* Heads are 3 descriptors apart in submission order. */
		unsigned i = head / 3;
		CU_ASSERT_FATAL(i < N);
		CU_ASSERT_EQUAL(*w[i].status, VIRTIO_BLK_S_OK);
		file_read(&t, (uint64_t)i * LEN, file, LEN);
		CU_ASSERT(all_bytes(file, LEN, (uint8_t)(i + 1)));
	}
	blkt_teardown(&t);
}

/* Mistakes in the device's JSON stop creation (the daemon does not start). */
static void test_bad_json(void)
{
	static const char *const bad[] = {
		", \"colour\": \"blue\"",
		", \"cache\": \"sometimes\"",
		", \"discard\": \"maybe\"",
		", \"serial\": \"123456789012345678901\"",
		", \"queue_size\": 100",
		", \"queue_size\": 65536",
		", \"num_queues\": 0",
		", \"num_queues\": 65",
		", \"readonly\": \"yes please\"",
		NULL,
	};
	for (unsigned i = 0; bad[i]; i++) {
		memset(&t, 0, sizeof t);
		blkt_make_image(&t, IMG_SIZE, 0);
		CU_ASSERT_NOT_EQUAL(blkt_start_daemon(&t, bad[i]), 0);
		CU_ASSERT_PTR_NULL(t.fx.daemon);
		blkt_teardown(&t);
	}
	/* And the good ones are accepted together. */
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, IMG_SIZE, 0);
	CU_ASSERT_EQUAL(blkt_start_daemon(&t,
					  ", \"readonly\": false, \"serial\": "
					  "\"x\", \"cache\": \"writethrough\", "
					  "\"num_queues\": 3, \"queue_size\": "
					  "1024, \"discard\": \"ignore\""),
			0);
	blkt_teardown(&t);
	/* A missing image. */
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, IMG_SIZE, 0);
	unlink(t.img);
	CU_ASSERT_NOT_EQUAL(blkt_start_daemon(&t, ""), 0);
	blkt_teardown(&t);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"features and config space", test_features_and_config},
		{"5.2.5.2 padding bytes read 0", test_padding_zero},
		{"writeback byte", test_writeback_byte},
		{"read-only", test_readonly},
		{"range, alignment and type errors",
		 test_range_and_type_errors},
		{"no status byte -> NEEDS_RESET", test_no_status_byte},
		{"reset during I/O", test_reset_during_io},
		{"bad JSON refused", test_bad_json},
		{NULL, NULL},
	};
	return cunit_run("blk-ctrl", tests);
}
