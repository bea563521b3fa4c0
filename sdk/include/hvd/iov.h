/* SPDX-License-Identifier: MIT */
/*
 * hvd/iov.h - helpers over a descriptor chain's segments (struct iovec
 * arrays, as in struct hvd_chain): total length, copy to and from a flat
 * buffer at a byte offset, slice. Header-only (static inline): nothing here
 * is part of the plugin ABI, and a plugin carries its own copy.
 *
 * Every helper is bounded by the segment table it is given: it never reads
 * or writes outside iov[0..count) and returns how much it really did, so a
 * chain shorter than the caller hoped for shows up as a short count, never
 * as an overrun. Offsets past the end are not an error: they copy nothing.
 */
#ifndef HVD_IOV_H
#define HVD_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes in iov[0..count). */
static inline size_t hvd_iov_length(const struct iovec *iov, unsigned count)
{
	size_t n = 0;
	for (unsigned i = 0; i < count; i++)
		n += iov[i].iov_len;
	return n;
}

/* The segment that holds byte *off of iov[0..count): its index, with *off
 * made relative to it. `count` when the segments end first. */
static inline unsigned hvd_iov_seek(const struct iovec *iov, unsigned count,
				    size_t *off)
{
	unsigned i = 0;
	while (i < count && *off >= iov[i].iov_len)
		*off -= iov[i++].iov_len;
	return i;
}

/* Copy between the segments from byte `off` on and buf[0..len): into buf
 * when `to_buf`, else out of it. Returns the bytes copied. */
static inline size_t hvd_iov_copy(const struct iovec *iov, unsigned count,
				  size_t off, void *buf, size_t len,
				  bool to_buf)
{
	size_t done = 0;
	for (unsigned i = hvd_iov_seek(iov, count, &off);
	     i < count && done < len; i++, off = 0) {
		size_t n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		uint8_t *seg = (uint8_t *)iov[i].iov_base + off;
		uint8_t *flat = (uint8_t *)buf + done;
		if (to_buf)
			memcpy(flat, seg, n);
		else
			memcpy(seg, flat, n);
		done += n;
	}
	return done;
}

/* Read `len` bytes from the segments, starting `off` bytes in, into buf.
 * Returns the bytes read (fewer when the segments end first). */
static inline size_t hvd_iov_read(const struct iovec *iov, unsigned count,
				  size_t off, void *buf, size_t len)
{
	return hvd_iov_copy(iov, count, off, buf, len, true);
}

/* Write `len` bytes of buf into the segments, starting `off` bytes in.
 * Returns the bytes written (fewer when the segments end first). */
static inline size_t hvd_iov_write(const struct iovec *iov, unsigned count,
				   size_t off, const void *buf, size_t len)
{
	return hvd_iov_copy(iov, count, off, (void *)buf, len, false);
}

/* Describe bytes [off, off + len) of the segments in dst[0..dst_max),
 * pointing into the same memory (no copy). Returns the entries used; the
 * slice is shorter than len when the segments or dst run out first. */
static inline unsigned hvd_iov_slice(const struct iovec *iov, unsigned count,
				     size_t off, size_t len, struct iovec *dst,
				     unsigned dst_max)
{
	unsigned n = 0;
	for (unsigned i = hvd_iov_seek(iov, count, &off);
	     i < count && len > 0 && n < dst_max; i++, off = 0) {
		size_t take = iov[i].iov_len - off;
		if (take == 0)
			continue; /* an empty segment takes no entry */
		if (take > len)
			take = len;
		dst[n].iov_base = (uint8_t *)iov[i].iov_base + off;
		dst[n].iov_len = take;
		n++;
		len -= take;
	}
	return n;
}

/* ---- On a popped chain: its readable part, then its writable part ---- */

/* Read from the chain's readable (driver -> device) buffers. */
static inline size_t hvd_chain_read(const struct hvd_chain *c, size_t off,
				    void *buf, size_t len)
{
	return hvd_iov_read(c->iov, c->num_out, off, buf, len);
}

/* Write into the chain's writable (device -> driver) buffers. The count
 * returned is what vq_push reports as written when the write is all. */
static inline size_t hvd_chain_write(const struct hvd_chain *c, size_t off,
				     const void *buf, size_t len)
{
	return hvd_iov_write(c->iov + c->num_out, c->num_in, off, buf, len);
}

#ifdef __cplusplus
}
#endif
#endif /* HVD_IOV_H */
