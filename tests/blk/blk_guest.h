/* SPDX-License-Identifier: MIT */
/*
 * Guest-side helpers for the virtio-blk suites: an image file in a private
 * temp directory, a daemon serving it (in-process through the mock), and
 * requests built the way a virtio-blk driver builds them (header, data,
 * status byte in separate descriptors unless a test says otherwise).
 */
#ifndef TESTS_BLK_GUEST_H
#define TESTS_BLK_GUEST_H

#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit_main.h"
#include "daemon_fixture.h"

#define BLK_BASE 0xa003c00ull
#define BLK_IRQ  77u
#define SECTOR   512u

#define F_V1        (1ull << VIRTIO_F_VERSION_1)
#define F_INDIRECT  (1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_BLK(bit)  (1ull << VIRTIO_BLK_F_##bit)

/* One test's world: the image, the daemon, the guest driver. */
struct blkt {
	char dir[64];
	char img[96];
	struct fixture fx;
	struct hvd_guest_dev *gd;
	struct hvd_guest_vq *vq[8];
	uint64_t features;
	bool irq_every_event; /* set before blkt_start_daemon: --no-irq-merge */
};

/* A request as the guest laid it out in its RAM. */
struct treq {
	struct virtio_blk_outhdr *hdr;
	uint8_t *data;
	uint8_t *status;
	uint64_t hdr_gpa, data_gpa, status_gpa;
	uint32_t len;
};

static inline void blkt_make_image(struct blkt *t, uint64_t size, int fill)
{
	/* /var/tmp: a disk filesystem (O_DIRECT, hole punching) even where
	 * /tmp is tmpfs. */
	snprintf(t->dir, sizeof t->dir, "/var/tmp/blk-test-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(t->dir) != NULL);
	snprintf(t->img, sizeof t->img, "%s/disk.img", t->dir);
	int fd = open(t->img, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	uint8_t buf[65536];
	memset(buf, fill, sizeof buf);
	for (uint64_t off = 0; off < size; off += sizeof buf) {
		size_t n = size - off < sizeof buf ? size - off : sizeof buf;
		CU_ASSERT_FATAL(pwrite(fd, buf, n, (off_t)off) == (ssize_t)n);
	}
	close(fd);
}

/* Start the daemon serving t->img with extra JSON members `extra`. */
static inline int blkt_start_daemon(struct blkt *t, const char *extra)
{
	char dev[512];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"blk\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 77, \"img\": \"%s\"%s}",
		 t->img, extra);
	memset(&t->fx, 0, sizeof t->fx);
	t->fx.irq_every_event = t->irq_every_event;
	if (fixture_start(&t->fx, dev))
		return -1;
	t->gd = hvd_guest_open(t->fx.mock, 1, BLK_BASE, BLK_IRQ);
	return t->gd ? 0 : -1;
}

/* Negotiate `want` (minus what the device does not offer), set up
 * `queues` queues of `qsize`, DRIVER_OK. */
static inline void blkt_bring_up(struct blkt *t, uint64_t want, unsigned queues,
				 uint16_t qsize)
{
	CU_ASSERT_EQUAL_FATAL(hvd_guest_probe(t->gd), VIRTIO_ID_BLOCK);
	CU_ASSERT_FATAL(hvd_guest_negotiate(t->gd, want, &t->features) == 0);
	for (unsigned i = 0; i < queues; i++) {
		t->vq[i] = hvd_guest_vq_setup(t->gd, i, qsize);
		CU_ASSERT_FATAL(t->vq[i] != NULL);
	}
	CU_ASSERT_FATAL(hvd_guest_driver_ok(t->gd) == 0);
}

/* Image of `size` bytes filled with `fill`, daemon, one queue of 256. */
static inline void blkt_setup(struct blkt *t, uint64_t size, int fill,
			      const char *extra, uint64_t want)
{
	memset(t, 0, sizeof *t);
	blkt_make_image(t, size, fill);
	CU_ASSERT_FATAL(blkt_start_daemon(t, extra) == 0);
	blkt_bring_up(t, want, 1, 256);
}

static inline void blkt_teardown(struct blkt *t)
{
	hvd_guest_close(t->gd);
	t->gd = NULL;
	if (t->fx.mock)
		fixture_stop(&t->fx);
	unlink(t->img);
	rmdir(t->dir);
}

static inline void *galloc(struct blkt *t, uint64_t size, uint64_t align,
			   uint64_t *gpa)
{
	void *p = NULL;
	*gpa = hvd_guest_alloc(t->gd, size, align, &p);
	CU_ASSERT_FATAL(*gpa != 0 && p != NULL);
	return p;
}

/* Header, a data buffer of `len` bytes and a status byte in guest RAM. */
static inline void treq_init(struct blkt *t, struct treq *r, uint32_t type,
			     uint64_t sector, uint32_t len)
{
	r->hdr = galloc(t, sizeof *r->hdr, 16, &r->hdr_gpa);
	r->data = len ? galloc(t, len, 512, &r->data_gpa) : NULL;
	if (!len)
		r->data_gpa = 0;
	r->status = galloc(t, 1, 1, &r->status_gpa);
	r->len = len;
	r->hdr->type = htole32(type);
	r->hdr->ioprio = 0;
	r->hdr->sector = htole64(sector);
	*r->status = 0xee; /* no status value: proves the device wrote it */
}

/* Does the device write into the data buffer for this type? */
static inline bool treq_data_in(const struct treq *r)
{
	uint32_t type = le32toh(r->hdr->type);
	return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

/* Put the request on queue `q` as header / data / status. */
static inline int treq_add(struct blkt *t, unsigned q, struct treq *r,
			   bool indirect)
{
	struct hvd_guest_buf bufs[3];
	unsigned n = 0;
	bufs[n++] = (struct hvd_guest_buf){r->hdr_gpa, sizeof *r->hdr, false};
	if (r->len)
		bufs[n++] = (struct hvd_guest_buf){r->data_gpa, r->len,
						   treq_data_in(r)};
	bufs[n++] = (struct hvd_guest_buf){r->status_gpa, 1, true};
	return hvd_guest_vq_add(t->vq[q], bufs, n, indirect, r);
}

/* Wait for one completion on queue `q`; returns the request. */
static inline struct treq *treq_wait(struct blkt *t, unsigned q, uint32_t *len)
{
	void *token = NULL;
	uint32_t l = 0;
	if (hvd_guest_vq_wait_used(t->vq[q], &token, &l, FIX_TIMEOUT_MS))
		return NULL;
	if (len)
		*len = l;
	return token;
}

/* Wait for `n` completions on queue `q`, each one of reqs[0..n) and
 * each exactly once. */
static inline void treq_wait_all(struct blkt *t, unsigned q, struct treq *reqs,
				 unsigned n)
{
	bool seen[256] = {false};
	CU_ASSERT_FATAL(n <= 256);
	for (unsigned k = 0; k < n; k++) {
		struct treq *r = treq_wait(t, q, NULL);
		CU_ASSERT_FATAL(r != NULL);
		unsigned i = (unsigned)(r - reqs);
		CU_ASSERT_FATAL(i < n && !seen[i]);
		seen[i] = true;
	}
}

/* Submit one request on queue 0, wait for it; returns its status byte. */
static inline int treq_run(struct blkt *t, struct treq *r, bool indirect,
			   uint32_t *len)
{
	if (treq_add(t, 0, r, indirect) < 0)
		return -1;
	hvd_guest_vq_kick(t->vq[0]);
	struct treq *done = treq_wait(t, 0, len);
	CU_ASSERT_PTR_EQUAL(done, r);
	return done == r ? *r->status : -1;
}

/* One-shot request helpers on queue 0. */
static inline int blk_io(struct blkt *t, uint32_t type, uint64_t sector,
			 void *buf, uint32_t len)
{
	struct treq r;
	treq_init(t, &r, type, sector, len);
	if (type != VIRTIO_BLK_T_IN && buf)
		memcpy(r.data, buf, len);
	int st = treq_run(t, &r, false, NULL);
	if (type == VIRTIO_BLK_T_IN && buf && st == VIRTIO_BLK_S_OK)
		memcpy(buf, r.data, len);
	return st;
}

static inline int blk_range_cmd(struct blkt *t, uint32_t type, uint64_t sector,
				uint32_t sectors, uint32_t flags)
{
	struct treq r;
	treq_init(t, &r, type, 0,
		  sizeof(struct virtio_blk_discard_write_zeroes));
	struct virtio_blk_discard_write_zeroes *range = (void *)r.data;
	range->sector = htole64(sector);
	range->num_sectors = htole32(sectors);
	range->flags = htole32(flags);
	return treq_run(t, &r, false, NULL);
}

/* The image's bytes as the file has them now. */
static inline void file_read(struct blkt *t, uint64_t off, void *buf,
			     size_t len)
{
	int fd = open(t->img, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static inline void file_write(struct blkt *t, uint64_t off, const void *buf,
			      size_t len)
{
	int fd = open(t->img, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static inline off_t file_size(struct blkt *t)
{
	struct stat st;
	CU_ASSERT_FATAL(stat(t->img, &st) == 0);
	return st.st_size;
}

static inline void fill_random(void *buf, size_t len, unsigned *seed)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rand_r(seed);
}

static inline bool all_bytes(const void *buf, size_t len, uint8_t v)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

#endif
