/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 section 5.2): a raw image file as a block device.
 *
 * JSON keys: "img" (required), "readonly", "serial" (GET_ID, <= 20 bytes),
 * "cache" ("writeback" default, "writethrough", "direct" = O_DIRECT with a
 * volatile cache the guest flushes), "num_queues", "queue_size", "discard"
 * ("unmap" default: punch holes; "ignore": accept and do nothing).
 *
 * This file: options, the image, features and config space, and the device
 * callbacks, which serve page-cached reads inline or hand work to the
 * worker pool (pool.c); requests themselves are in request.c.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "blk.h"

#define BLK_DEFAULT_QUEUE_SIZE 256u
#define BLK_WORKERS            4u
#define BLK_PHYS_BLOCK_EXP     3u /* 4 KiB physical blocks = 8 sectors */

_Static_assert(sizeof(struct virtio_blk_config) == 72,
	       "virtio 1.2 blk config layout up to secure erase");

/* Log why creation fails and return `err`. */
__attribute__((format(printf, 3, 4))) static int fail(struct blk *blk, int err,
						      const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	blk->host->log(blk->dev, HVD_LOG_ERROR, "%s", msg);
	return err;
}

/* Optional string key limited to `choices`; *index gets the match. */
static int option_choice(struct blk *blk, const char *key,
			 const char *const *choices, unsigned *index)
{
	const char *value;
	int rc = blk->host->cfg_string(blk->dev, key, &value);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	for (unsigned i = 0; choices[i]; i++) {
		if (strcmp(value, choices[i]) == 0) {
			*index = i;
			return 0;
		}
	}
	blk->host->log(blk->dev, HVD_LOG_ERROR,
		       "%s: \"%s\" is not one of the accepted values", key,
		       value);
	return -EINVAL;
}

static int parse_options(struct blk *blk)
{
	static const char *const keys[] = {
		"img",        "readonly",   "serial",  "cache",
		"num_queues", "queue_size", "discard", NULL};
	static const char *const caches[] = {"writeback", "writethrough",
					     "direct", NULL};
	static const char *const discards[] = {"unmap", "ignore", NULL};
	const struct hvd_host_services *host = blk->host;
	int rc;

	if ((rc = host->cfg_check_keys(blk->dev, keys)))
		return rc;
	rc = host->cfg_string(blk->dev, "img", &blk->path);
	if (rc == -ENOENT)
		return fail(blk, -EINVAL, "img: missing (the raw image path)");
	if (rc)
		return rc;
	if (host->cfg_bool(blk->dev, "readonly", &blk->readonly) == -EINVAL)
		return -EINVAL;

	const char *serial = NULL;
	rc = host->cfg_string(blk->dev, "serial", &serial);
	if (rc == -EINVAL)
		return rc;
	if (serial && strlen(serial) > VIRTIO_BLK_ID_BYTES)
		return fail(blk, -EINVAL,
			    "serial: \"%s\" is longer than 20 bytes", serial);
	if (serial)
		memcpy(blk->serial, serial, strlen(serial));

	unsigned cache = 0, discard = 0;
	if ((rc = option_choice(blk, "cache", caches, &cache)) ||
	    (rc = option_choice(blk, "discard", discards, &discard)))
		return rc;
	blk->writeback_default = cache != 1;
	blk->direct = cache == 2;
	blk->discard = discard == 0 ? BLK_DISCARD_UNMAP : BLK_DISCARD_IGNORE;

	uint64_t queues = 1, qsize = BLK_DEFAULT_QUEUE_SIZE;
	if ((rc = blk->host->cfg_u64_range(blk->dev, "num_queues", 1,
					   HVD_MAX_QUEUES, &queues)) ||
	    (rc = blk->host->cfg_u64_range(blk->dev, "queue_size", 2, 32768,
					   &qsize)))
		return rc;
	if (qsize & (qsize - 1))
		return fail(blk, -EINVAL,
			    "queue_size: %llu is not a power of two",
			    (unsigned long long)qsize);
	blk->num_queues = (unsigned)queues;
	blk->queue_size = (uint16_t)qsize;
	return 0;
}

/* Alignment O_DIRECT needs here: from statx when the kernel reports it,
 * else the conservative 4 KiB for both. */
static void direct_alignment(struct blk *blk)
{
	blk->dio_mem_align = 4096;
	blk->dio_offset_align = 4096;
#ifdef STATX_DIOALIGN
	struct statx stx;
	if (statx(blk->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_mem_align &&
	    stx.stx_dio_offset_align) {
		blk->dio_mem_align = stx.stx_dio_mem_align;
		blk->dio_offset_align = stx.stx_dio_offset_align;
	}
#endif
}

static int open_image(struct blk *blk)
{
	int flags = (blk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	blk->fd = blk->buffered_fd = -1;
	blk->buffered_fd = open(blk->path, flags);
	if (blk->buffered_fd < 0) {
		int err = errno;
		blk->host->log(blk->dev, HVD_LOG_ERROR,
			       "img: cannot open %s: %s", blk->path,
			       strerror(err));
		return -err;
	}
	struct stat st;
	uint64_t bytes = 0;
	if (fstat(blk->buffered_fd, &st)) {
		int err = errno;
		blk->host->log(blk->dev, HVD_LOG_ERROR, "img: %s: fstat: %s",
			       blk->path, strerror(err));
		return -err;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(blk->buffered_fd, BLKGETSIZE64, &bytes)) {
			int err = errno;
			blk->host->log(blk->dev, HVD_LOG_ERROR,
				       "img: %s: size: %s", blk->path,
				       strerror(err));
			return -err;
		}
	} else if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else {
		return fail(blk, -EINVAL,
			    "img: %s is neither a file nor a block device",
			    blk->path);
	}
	/* A partial last sector is not addressable (and never written). */
	blk->capacity = bytes >> BLK_SECTOR_SHIFT;

	if (!blk->direct) {
		blk->fd = blk->buffered_fd;
		return 0;
	}
	blk->fd = open(blk->path, flags | O_DIRECT);
	if (blk->fd < 0) {
		int err = errno;
		blk->host->log(blk->dev, HVD_LOG_ERROR,
			       "img: cannot open %s with O_DIRECT (cache "
			       "\"direct\"): %s",
			       blk->path, strerror(err));
		return -err;
	}
	direct_alignment(blk);
	return 0;
}

static uint64_t offered_features(const struct blk *blk)
{
	uint64_t f =
		(1ull << VIRTIO_BLK_F_SIZE_MAX) |
		(1ull << VIRTIO_BLK_F_SEG_MAX) |
		(1ull << VIRTIO_BLK_F_BLK_SIZE) |
		(1ull << VIRTIO_BLK_F_TOPOLOGY) | (1ull << VIRTIO_BLK_F_FLUSH) |
		(1ull << VIRTIO_BLK_F_CONFIG_WCE) |
		(1ull << VIRTIO_BLK_F_DISCARD) |
		(1ull << VIRTIO_BLK_F_WRITE_ZEROES) | (1ull << VIRTIO_BLK_F_MQ);
	if (blk->readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	return f;
}

static void build_config(struct blk *blk)
{
	struct virtio_blk_config *c = &blk->config;
	/* A chain holds at most queue_size descriptors without INDIRECT;
	 * header and status take two of them. */
	uint32_t seg_max = BLK_SEG_MAX;
	if (seg_max > blk->queue_size - 2u)
		seg_max = blk->queue_size > 2 ? blk->queue_size - 2u : 1u;

	memset(c, 0, sizeof *c);
	c->capacity = htole64(blk->capacity);
	c->size_max = htole32(BLK_SIZE_MAX);
	c->seg_max = htole32(seg_max);
	c->blk_size = htole32(BLK_SECTOR_SIZE);
	c->physical_block_exp = BLK_PHYS_BLOCK_EXP;
	c->alignment_offset = 0;
	c->min_io_size = htole16(1);
	c->opt_io_size = htole32(0);
	c->wce = blk->writeback_default;
	c->num_queues = htole16((uint16_t)blk->num_queues);
	c->max_discard_sectors = htole32(BLK_DISCARD_SECTORS);
	c->max_discard_seg = htole32(BLK_DISCARD_SEG_MAX);
	c->discard_sector_alignment = htole32(BLK_DISCARD_ALIGN);
	c->max_write_zeroes_sectors = htole32(BLK_DISCARD_SECTORS);
	c->max_write_zeroes_seg = htole32(BLK_DISCARD_SEG_MAX);
	c->write_zeroes_may_unmap = blk->discard == BLK_DISCARD_UNMAP;
}

static void blk_destroy(void *state)
{
	struct blk *blk = state;
	if (!blk)
		return;
	blk_pool_free(blk->pool);
	if (blk->fd >= 0 && blk->fd != blk->buffered_fd)
		close(blk->fd);
	if (blk->buffered_fd >= 0)
		close(blk->buffered_fd);
	free(blk);
}

static int blk_create(struct hvd_device *dev, struct hvd_device_info *info,
		      void **state)
{
	struct blk *blk = calloc(1, sizeof *blk);
	if (!blk)
		return -ENOMEM;
	blk->dev = dev;
	blk->host = hvd_host(dev);
	blk->fd = blk->buffered_fd = -1;
	int rc = parse_options(blk);
	if (!rc)
		rc = open_image(blk);
	if (!rc && !(blk->pool = blk_pool_new(blk, BLK_WORKERS)))
		rc = fail(blk, -ENOMEM, "cannot start I/O threads");
	if (rc) {
		blk_destroy(blk);
		return rc;
	}
	build_config(blk);
	info->num_queues = blk->num_queues;
	info->queue_max_size = blk->queue_size;
	info->config_size = sizeof blk->config;
	info->features = offered_features(blk);
	/* Page-cached reads are served on the dispatch thread while it
	 * polls, a budget per call (pool.c, blk_pool_serve_inline). */
	info->flags = HVD_DEVICE_F_POLL_RINGS;
	*state = blk;
	blk->host->log(dev, HVD_LOG_INFO,
		       "%s: %llu sectors, %s, cache %s%s, %u queue(s)",
		       blk->path, (unsigned long long)blk->capacity,
		       blk->readonly ? "read-only" : "read-write",
		       blk->writeback_default ? "writeback" : "writethrough",
		       blk->direct ? " (O_DIRECT)" : "", blk->num_queues);
	return 0;
}

/* Writethrough unless the driver can flush and left the cache on: without
 * FLUSH a volatile cache could lose acknowledged writes (5.2.5). */
static void update_cache_mode(struct blk *blk)
{
	bool flush = blk->features & (1ull << VIRTIO_BLK_F_FLUSH);
	bool wce = __atomic_load_n(&blk->config.wce, __ATOMIC_ACQUIRE);
	__atomic_store_n(&blk->writethrough, !(flush && wce), __ATOMIC_RELEASE);
}

static int blk_features_ok(void *state, uint64_t features)
{
	struct blk *blk = state;
	/* A driver that cannot flush must see (and get) writethrough: 5.2.5
	 * wants writeback 0 when CONFIG_WCE comes without FLUSH. */
	if (!(features & (1ull << VIRTIO_BLK_F_FLUSH)))
		__atomic_store_n(&blk->config.wce, 0, __ATOMIC_RELEASE);
	return 0;
}

static int blk_activate(void *state, uint64_t features)
{
	struct blk *blk = state;
	blk->features = features;
	update_cache_mode(blk);
	blk_pool_start(blk->pool);
	return 0;
}

static void blk_reset(void *state)
{
	struct blk *blk = state;
	blk_pool_quiesce(blk->pool);
	__atomic_store_n(&blk->failed, false, __ATOMIC_RELEASE);
	/* The writeback byte is device state the driver may have changed. */
	__atomic_store_n(&blk->config.wce, blk->writeback_default,
			 __ATOMIC_RELEASE);
	blk->features = 0;
}

static void blk_config_read(void *state, uint32_t offset, void *buf,
			    uint32_t len)
{
	struct blk *blk = state;
	memcpy(buf, (const uint8_t *)&blk->config + offset, len);
}

static void blk_config_write(void *state, uint32_t offset, const void *buf,
			     uint32_t len)
{
	struct blk *blk = state;
	/* Only the writeback byte is writable, and only with CONFIG_WCE. The
	 * host runs this on the dispatch thread with features stable. */
	const uint32_t wce_at = offsetof(struct virtio_blk_config, wce);
	if (len != 1 || offset != wce_at ||
	    !(blk->host->features(blk->dev) &
	      (1ull << VIRTIO_BLK_F_CONFIG_WCE))) {
		blk->host->log(blk->dev, HVD_LOG_DEBUG,
			       "ignored config write at %u (%u bytes)", offset,
			       len);
		return;
	}
	uint8_t v = *(const uint8_t *)buf ? 1 : 0;
	__atomic_store_n(&blk->config.wce, v, __ATOMIC_RELEASE);
	if (blk->features)
		update_cache_mode(blk);
}

/* The ABI asks queue_notify to "pop what is quick, hand slow work to a
 * thread": a read the page cache holds whole (RWF_NOWAIT) is quick, so it
 * is served right here while the pool is idle; anything else goes to the
 * pool (pool.c). */
static void blk_queue_notify(void *state, unsigned index)
{
	struct blk *blk = state;
	if (!blk_pool_serve_inline(blk->pool, index))
		blk_pool_kick(blk->pool, index);
}

static const struct hvd_device_ops blk_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = blk_create,
	.destroy = blk_destroy,
	.features_ok = blk_features_ok,
	.activate = blk_activate,
	.reset = blk_reset,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.queue_notify = blk_queue_notify,
};

HVD_PLUGIN_DEFINE("blk", VIRTIO_ID_BLOCK, "virtio block device (raw image)",
		  "1.0", &blk_ops);
