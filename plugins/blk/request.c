/* SPDX-License-Identifier: MIT */
/*
 * One virtio-blk request (virtio 1.2 section 5.2.6), run on a worker, or
 * on the dispatch thread when it is a read the page cache holds whole.
 *
 * The chain is guest memory the guest can change under us at any time, so
 * the header and every discard range are copied once into our own memory
 * and only the copies are checked and used. Data buffers are handed to the
 * kernel as they are: whatever the guest scribbles into them concurrently
 * is its own problem, never ours. Any range check is done in 64-bit sector
 * arithmetic that cannot overflow.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blk.h"
#include "hvd/iov.h"

/* A request's view of its chain after splitting off header and status. */
struct blk_req {
	struct hvd_chain *chain;
	uint32_t type;
	uint64_t sector;
	uint8_t *status; /* last byte of the last writable buffer */
	struct iovec *data;
	unsigned data_count;
	size_t data_len;
	uint32_t written; /* bytes written to the guest besides the status */
	bool waited;      /* did I/O that may wait for the disk */
};

/* Reads as plain preadv/preadv2 system calls (preadv2 only with flags:
 * kernels before 4.6 lack it). glibc's wrappers are cancellation points:
 * each call updates the thread's cancel state twice with atomics, and no
 * blk thread is ever cancelled. At 4K randread QD32 (bench_blk, release,
 * 12 runs alternated with the wrappers) the daemon took a median 0.835 us
 * per read against 0.87, and the row 0.43-0.48 of 2-thread preadv (median
 * 0.45) against 0.41-0.46 (0.43), higher in 8 of the 12 pairs; QD1 level
 * (issue 16). Writes keep pwritev: its wrapper is ~0.6% of a 4K buffered
 * write (perf), and tests/blk interposes it to hold a writer. */
static ssize_t read_syscall(int fd, const struct iovec *iov, unsigned count,
			    off_t off, int flags)
{
	/* The offset goes as two longs, low first (one on 64-bit). */
	unsigned long lo = (unsigned long)off;
	unsigned long hi =
		(unsigned long)(((uint64_t)off >> (sizeof(long) * 4)) >>
				(sizeof(long) * 4));
	if (!flags)
		return syscall(SYS_preadv, fd, iov, count, lo, hi);
	return syscall(SYS_preadv2, fd, iov, count, lo, hi, flags);
}

/* Whole transfer or an error: short transfers (signals, huge requests) are
 * resumed where they stopped. Modifies iov. Returns 0 or -errno. */
static int transfer(int fd, bool write, struct iovec *iov, unsigned count,
		    off_t off)
{
	while (count > 0) {
		ssize_t n = write ? pwritev(fd, iov, (int)count, off)
				  : read_syscall(fd, iov, count, off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* the image shrank under us */
		off += n;
		while (count > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			count--;
		}
		if (count > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static bool in_capacity(const struct blk *blk, uint64_t sector,
			uint64_t sectors)
{
	return sector <= blk->capacity && sectors <= blk->capacity - sector;
}

static bool writethrough(const struct blk *blk)
{
	return __atomic_load_n(&blk->writethrough, __ATOMIC_ACQUIRE);
}

static int sync_data(const struct blk *blk)
{
	blk_pool_may_block(blk->pool);
	return fdatasync(blk->fd) ? -errno : 0;
}

static bool iov_aligned(const struct iovec *iov, unsigned count, size_t align)
{
	for (unsigned i = 0; i < count; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (align - 1))
			return false;
	return true;
}

/* O_DIRECT with guest buffers that do not meet the memory alignment: go
 * through an aligned bounce buffer, at most BLK_SIZE_MAX at a time. The
 * request's size is the guest's choice (its segments may all be the same
 * buffer), so it must not decide how much we allocate. `off` and `len` are
 * multiples of dio_offset_align, and so is every piece. */
static int transfer_bounced(const struct blk *blk, bool write,
			    const struct iovec *iov, unsigned count, size_t len,
			    off_t off)
{
	size_t piece = len < BLK_SIZE_MAX ? len : BLK_SIZE_MAX;
	piece -= piece % blk->dio_offset_align;
	if (piece == 0)
		piece = blk->dio_offset_align;
	void *buf = NULL;
	if (posix_memalign(&buf, blk->dio_mem_align, piece))
		return -ENOMEM;
	int err = 0;
	for (size_t done = 0; done < len && !err;) {
		size_t n = len - done < piece ? len - done : piece;
		if (write)
			hvd_iov_read(iov, count, done, buf, n);
		struct iovec one = {buf, n};
		err = transfer(blk->fd, write, &one, 1, off + (off_t)done);
		if (!err && !write)
			hvd_iov_write(iov, count, done, buf, n);
		done += n;
	}
	free(buf);
	return err;
}

/* The whole read from page cache, or false without waiting for the disk
 * (RWF_NOWAIT: nothing or part of it was cached; the buffers may then hold
 * part of the data, which a full read overwrites). */
static bool read_nowait(struct blk *blk, struct blk_req *req, off_t off)
{
	if (__atomic_load_n(&blk->no_nowait_reads, __ATOMIC_RELAXED))
		return false;
	ssize_t n = read_syscall(blk->fd, req->data, req->data_count, off,
				 RWF_NOWAIT);
	if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
		__atomic_store_n(&blk->no_nowait_reads, true, __ATOMIC_RELAXED);
	return n == (ssize_t)req->data_len;
}

/* A buffered read that would wait for the disk is not done by the worker
 * watching the rings until it has passed that role on: try RWF_NOWAIT
 * first (served from page cache or refused), then the blocking way. */
static bool read_cached(struct blk *blk, struct blk_req *req, off_t off)
{
	if (read_nowait(blk, req, off))
		return true;
	blk_pool_may_block(blk->pool);
	return false;
}

/* The checks of a read or write before any I/O: VIRTIO_BLK_S_OK if the
 * request may go ahead. */
static uint8_t rw_check(const struct blk *blk, const struct blk_req *req,
			bool write)
{
	if (write && blk->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (req->data_len % BLK_SECTOR_SIZE || req->data_count > BLK_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	for (unsigned i = 0; i < req->data_count; i++)
		if (req->data[i].iov_len > BLK_SIZE_MAX)
			return VIRTIO_BLK_S_IOERR;
	if (!in_capacity(blk, req->sector, req->data_len >> BLK_SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_rw(struct blk *blk, struct blk_req *req, bool write)
{
	uint8_t bad = rw_check(blk, req, write);
	if (bad != VIRTIO_BLK_S_OK)
		return bad;
	if (req->data_len == 0)
		return VIRTIO_BLK_S_OK;

	off_t off = (off_t)(req->sector << BLK_SECTOR_SHIFT);
	int err;
	req->waited = true;
	if (blk->direct)
		blk_pool_may_block(blk->pool); /* no page cache to hit */
	if (!blk->direct) {
		req->waited = write || !read_cached(blk, req, off);
		err = req->waited ? transfer(blk->fd, write, req->data,
					     req->data_count, off)
				  : 0;
	} else if (((uint64_t)off | req->data_len) &
		   (blk->dio_offset_align - 1)) {
		/* The filesystem cannot take this range with O_DIRECT. */
		err = transfer(blk->buffered_fd, write, req->data,
			       req->data_count, off);
	} else if (iov_aligned(req->data, req->data_count,
			       blk->dio_mem_align)) {
		err = transfer(blk->fd, write, req->data, req->data_count, off);
	} else {
		err = transfer_bounced(blk, write, req->data, req->data_count,
				       req->data_len, off);
	}
	/* Durability: a write is acknowledged only after pwritev returned,
	 * and in writethrough mode only after the data is on stable
	 * storage. */
	if (!err && write && writethrough(blk))
		err = sync_data(blk);
	if (err) {
		blk->host->log(blk->dev, HVD_LOG_WARN,
			       "%s at sector %llu (%zu bytes): %s",
			       write ? "write" : "read",
			       (unsigned long long)req->sector, req->data_len,
			       strerror(-err));
		return VIRTIO_BLK_S_IOERR;
	}
	if (!write)
		req->written = (uint32_t)req->data_len;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(struct blk *blk, struct blk_req *req)
{
	size_t n = req->data_len < VIRTIO_BLK_ID_BYTES ? req->data_len
						       : VIRTIO_BLK_ID_BYTES;
	size_t done = 0;
	for (unsigned i = 0; i < req->data_count && done < n; i++) {
		size_t take = req->data[i].iov_len;
		if (take > n - done)
			take = n - done;
		memcpy(req->data[i].iov_base, blk->serial + done, take);
		done += take;
	}
	req->written = (uint32_t)n;
	return VIRTIO_BLK_S_OK;
}

/* Zero a range by writing zeroes: the fallback when the filesystem has no
 * fallocate mode for it. Goes through the page-cache descriptor so that no
 * alignment rule applies. */
static int write_zero_bytes(const struct blk *blk, off_t off, uint64_t len)
{
	static const uint8_t zeroes[65536];
	while (len > 0) {
		size_t n = len < sizeof zeroes ? (size_t)len : sizeof zeroes;
		struct iovec one = {(void *)zeroes, n};
		int err = transfer(blk->buffered_fd, true, &one, 1, off);
		if (err)
			return err;
		off += (off_t)n;
		len -= n;
	}
	return 0;
}

static int zero_range(const struct blk *blk, off_t off, uint64_t len,
		      bool unmap)
{
	int mode = FALLOC_FL_KEEP_SIZE |
		   (unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
	if (fallocate(blk->fd, mode, off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	return write_zero_bytes(blk, off, len);
}

static uint8_t do_discard_or_zero(struct blk *blk, struct blk_req *req)
{
	bool discard = req->type == VIRTIO_BLK_T_DISCARD;
	struct virtio_blk_discard_write_zeroes ranges[BLK_DISCARD_SEG_MAX];
	size_t each = sizeof ranges[0];

	if (blk->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (req->data_len == 0 || req->data_len % each ||
	    req->data_len / each > BLK_DISCARD_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	unsigned count = (unsigned)(req->data_len / each);
	hvd_iov_read(req->data, req->data_count, 0, ranges, req->data_len);

	/* Check every range before touching the file: a request is done
	 * whole or not at all. */
	for (unsigned i = 0; i < count; i++) {
		uint64_t sector = le64toh(ranges[i].sector);
		uint32_t sectors = le32toh(ranges[i].num_sectors);
		uint32_t flags = le32toh(ranges[i].flags);
		if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		if (discard && (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (sectors > BLK_DISCARD_SECTORS ||
		    !in_capacity(blk, sector, sectors))
			return VIRTIO_BLK_S_IOERR;
		if (discard && ((sector | sectors) % BLK_DISCARD_ALIGN))
			return VIRTIO_BLK_S_IOERR;
	}
	if (discard && blk->discard == BLK_DISCARD_IGNORE)
		return VIRTIO_BLK_S_OK;
	req->waited = true;
	blk_pool_may_block(blk->pool); /* fallocate may write or wait */

	for (unsigned i = 0; i < count; i++) {
		off_t off =
			(off_t)(le64toh(ranges[i].sector) << BLK_SECTOR_SHIFT);
		uint64_t len = (uint64_t)le32toh(ranges[i].num_sectors)
			       << BLK_SECTOR_SHIFT;
		bool unmap = discard || ((le32toh(ranges[i].flags) &
					  VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) &&
					 blk->discard == BLK_DISCARD_UNMAP);
		int err;
		if (len == 0)
			continue;
		if (discard) {
			/* Discard is a hint: a filesystem without hole
			 * punching simply keeps the data. */
			err = fallocate(blk->fd,
					FALLOC_FL_KEEP_SIZE |
						FALLOC_FL_PUNCH_HOLE,
					off, (off_t)len)
				      ? -errno
				      : 0;
			if (err == -EOPNOTSUPP || err == -ENOSYS)
				err = 0;
		} else {
			err = zero_range(blk, off, len, unmap);
		}
		if (!err && !discard && writethrough(blk))
			err = sync_data(blk);
		if (err) {
			blk->host->log(
				blk->dev, HVD_LOG_WARN, "%s at sector %llu: %s",
				discard ? "discard" : "write zeroes",
				(unsigned long long)(off >> BLK_SECTOR_SHIFT),
				strerror(-err));
			return VIRTIO_BLK_S_IOERR;
		}
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t execute(struct blk *blk, struct blk_req *req)
{
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		return do_rw(blk, req, false);
	case VIRTIO_BLK_T_OUT:
		return do_rw(blk, req, true);
	case VIRTIO_BLK_T_FLUSH:
		/* Covers every write completed before: they all returned
		 * from pwritev, so their data is in the file's pages. */
		req->waited = true;
		if (blk->readonly)
			return VIRTIO_BLK_S_OK;
		if (sync_data(blk)) {
			blk->host->log(blk->dev, HVD_LOG_WARN,
				       "flush failed: %m");
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		return do_get_id(blk, req);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return do_discard_or_zero(blk, req);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Types whose data travels device -> driver (in the writable buffers). */
static bool data_is_writable(uint32_t type)
{
	return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

/* Split a chain into header, data and status (5.2.6). Returns 1 with
 * *req filled, or 0 when the chain was answered already: pushed with
 * IOERR for a header it cannot hold, or, without a writable status byte,
 * pushed unanswered with the device marked NEEDS_RESET (then also
 * blk->failed). */
static int parse(struct blk *blk, struct hvd_chain *chain, struct iovec *iov,
		 struct blk_req *req)
{
	const struct hvd_host_services *host = blk->host;
	const struct iovec *out = chain->iov;
	const struct iovec *in = chain->iov + chain->num_out;

	/* The status byte is the last writable byte (5.2.6). */
	uint8_t *status = NULL;
	for (unsigned i = chain->num_in; i > 0 && !status; i--)
		if (in[i - 1].iov_len > 0)
			status = (uint8_t *)in[i - 1].iov_base +
				 in[i - 1].iov_len - 1;
	if (!status) {
		__atomic_store_n(&blk->failed, true, __ATOMIC_RELEASE);
		host->needs_reset(blk->dev,
				  "request without a writable status byte");
		host->vq_push(chain, 0);
		return 0;
	}

	struct virtio_blk_outhdr hdr;
	if (chain->num_out + chain->num_in > BLK_REQ_IOV_MAX ||
	    hvd_chain_read(chain, 0, &hdr, sizeof hdr) != sizeof hdr) {
		*status = VIRTIO_BLK_S_IOERR;
		host->vq_push(chain, 1);
		return 0;
	}

	*req = (struct blk_req){
		.chain = chain,
		.type = le32toh(hdr.type),
		.sector = le64toh(hdr.sector),
		.status = status,
		.data = iov,
	};
	if (data_is_writable(req->type)) {
		req->data_len = chain->in_bytes - 1;
		req->data_count =
			hvd_iov_slice(in, chain->num_in, 0, req->data_len, iov,
				      BLK_REQ_IOV_MAX);
	} else {
		req->data_len = chain->out_bytes - sizeof hdr;
		req->data_count =
			hvd_iov_slice(out, chain->num_out, sizeof hdr,
				      req->data_len, iov, BLK_REQ_IOV_MAX);
	}
	return 1;
}

static void finish(struct blk *blk, struct blk_req *req, uint8_t status)
{
	*req->status = status;
	blk->host->vq_push(req->chain, req->written + 1);
}

/* The outcome of a chain parse() already answered. */
static enum blk_outcome answered(const struct blk *blk)
{
	return __atomic_load_n(&blk->failed, __ATOMIC_ACQUIRE) ? BLK_FAILED
							       : BLK_QUICK;
}

enum blk_outcome blk_request_run(struct blk *blk, struct hvd_chain *chain,
				 struct iovec *iov)
{
	struct blk_req req;
	if (!parse(blk, chain, iov, &req))
		return answered(blk);
	finish(blk, &req, execute(blk, &req));
	if (!req.waited)
		return BLK_QUICK;
	/* A writethrough write waited for fdatasync too: several of those
	 * in flight share the disk's flushes, so they count as slow. */
	return req.type == VIRTIO_BLK_T_OUT && !blk->direct &&
			       !writethrough(blk)
		       ? BLK_WRITE
		       : BLK_SLOW;
}

enum blk_outcome blk_request_try_inline(struct blk *blk,
					struct hvd_chain *chain,
					struct iovec *iov)
{
	struct blk_req req;
	if (!parse(blk, chain, iov, &req))
		return answered(blk);
	if (req.type == VIRTIO_BLK_T_GET_ID) {
		finish(blk, &req, do_get_id(blk, &req));
		return BLK_QUICK;
	}
	/* Only a buffered read can be done without waiting: anything else
	 * goes back untouched (parsing wrote nothing). */
	if (req.type != VIRTIO_BLK_T_IN || blk->direct)
		return BLK_DEFER;
	uint8_t status = rw_check(blk, &req, false);
	if (status == VIRTIO_BLK_S_OK && req.data_len > 0) {
		if (!read_nowait(blk, &req,
				 (off_t)(req.sector << BLK_SECTOR_SHIFT)))
			return BLK_DEFER;
		req.written = (uint32_t)req.data_len;
	}
	finish(blk, &req, status);
	return BLK_QUICK;
}
