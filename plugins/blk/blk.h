/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 section 5.2): state shared by the plugin's parts.
 *   blk.c     JSON options, the image, features, config space, device ops
 *   request.c one request: header, checks, the file operation, the status
 *   pool.c    the worker threads that pop, run and complete requests, and
 *             the inline path queue_notify takes for page-cached reads
 */
#ifndef PLUGINS_BLK_H
#define PLUGINS_BLK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "hvd/plugin.h"

#define BLK_SECTOR_SHIFT 9
#define BLK_SECTOR_SIZE  (1u << BLK_SECTOR_SHIFT)

/* Limits we advertise and enforce (config space and request checks agree). */
#define BLK_SIZE_MAX        (1u << 20) /* bytes in one data segment */
#define BLK_SEG_MAX         254u       /* data segments in one request */
#define BLK_DISCARD_SEG_MAX 32u        /* ranges in one discard/write-zeroes */
#define BLK_DISCARD_ALIGN   8u         /* sectors: 4 KiB, the usual fs block */
#define BLK_DISCARD_SECTORS 0x3fffffu  /* sectors per range at most */

enum blk_discard_mode { BLK_DISCARD_UNMAP, BLK_DISCARD_IGNORE };

struct blk_pool;

struct blk {
	struct hvd_device *dev;
	const struct hvd_host_services *host;

	/* Options (fixed after create). */
	const char *path;
	bool readonly;
	bool direct;            /* O_DIRECT on fd */
	bool writeback_default; /* wce after every reset */
	enum blk_discard_mode discard;
	char serial[VIRTIO_BLK_ID_BYTES]; /* zero padded, no NUL when full */
	unsigned num_queues;
	uint16_t queue_size;

	/* The image. fd is what requests use; buffered_fd is a second, page
	 * cache descriptor used by direct mode for requests whose file offset
	 * or length O_DIRECT cannot take (the same fd when not direct). */
	int fd;
	int buffered_fd;
	uint64_t capacity; /* sectors */
	uint32_t dio_mem_align, dio_offset_align;

	/* Config space as the guest reads it: little-endian, built once in
	 * create(); only the writeback byte changes afterwards. */
	struct virtio_blk_config config;

	/* Set on activate from the negotiated features and the writeback
	 * byte; read by workers (atomic). */
	bool writethrough;
	uint64_t features;
	/* The device was marked NEEDS_RESET: no more chains until reset. */
	bool failed;
	/* The filesystem refused RWF_NOWAIT reads once: do not try again. */
	bool no_nowait_reads;

	struct blk_pool *pool;
};

/* What became of a popped chain (request.c). */
enum blk_outcome {
	BLK_QUICK,  /* pushed; no waiting: a read from page cache, or an
		     * answer without I/O */
	BLK_SLOW,   /* pushed after I/O that may wait (flush, a read the
		     * page cache did not hold, O_DIRECT) */
	BLK_WRITE,  /* pushed after a buffered writeback write: slow too,
		     * and serialised by the image's inode lock */
	BLK_DEFER,  /* untouched: the caller gives it back (vq_unpop) */
	BLK_FAILED, /* so broken that the device was marked NEEDS_RESET and
		     * blk->failed set; pushed, to free it */
};

/* request.c: run one popped chain to completion: check it, do the file
 * operation, write the status byte and push it. `iov` is scratch space of
 * at least BLK_REQ_IOV_MAX entries owned by the calling thread. Never
 * returns BLK_DEFER. */
#define BLK_REQ_IOV_MAX 1024u
enum blk_outcome blk_request_run(struct blk *blk, struct hvd_chain *chain,
				 struct iovec *iov);
/* The same for a chain popped on the dispatch thread (queue_notify), which
 * must not wait for the disk: only what would be BLK_QUICK is done; for
 * anything else (a write, a flush, a read the page cache does not hold
 * whole: preadv2 RWF_NOWAIT refused it) BLK_DEFER. */
enum blk_outcome blk_request_try_inline(struct blk *blk,
					struct hvd_chain *chain,
					struct iovec *iov);

/* pool.c */
struct blk_pool *blk_pool_new(struct blk *blk, unsigned workers);
void blk_pool_free(struct blk_pool *pool);
/* Start serving the device's queues (activate). */
void blk_pool_start(struct blk_pool *pool);
/* Queue `index` was kicked: have a worker drain it. Never blocks on I/O. */
void blk_pool_kick(struct blk_pool *pool, unsigned index);
/* On the dispatch thread, in queue_notify: serve what can be served without
 * waiting from queue `index` while no worker is at work, up to a budget
 * (what is left over it waits for the host's next call: the device polls
 * its rings). Returns true when nothing is left for a worker (else call
 * blk_pool_kick). */
bool blk_pool_serve_inline(struct blk_pool *pool, unsigned index);
/* The calling worker is about to wait for the disk (fdatasync, O_DIRECT,
 * fallocate): if it is the one watching the rings, pass that on first. */
void blk_pool_may_block(struct blk_pool *pool);
/* Stop popping and wait until every popped chain was pushed (reset). */
void blk_pool_quiesce(struct blk_pool *pool);

#endif
