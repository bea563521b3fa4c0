/* SPDX-License-Identifier: MIT */
/*
 * A port's scrollback: the guest output no reader has taken yet, in a ring
 * of fixed capacity. Appending to a full ring drops the oldest bytes and
 * reports how many, so the newest output is what a reader finds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

int sb_init(struct scrollback *sb, size_t cap)
{
	memset(sb, 0, sizeof *sb);
	if (!cap)
		return 0;
	sb->buf = malloc(cap);
	if (!sb->buf)
		return -ENOMEM;
	sb->cap = cap;
	return 0;
}

void sb_free(struct scrollback *sb)
{
	free(sb->buf);
	memset(sb, 0, sizeof *sb);
}

/* Append len bytes; returns how many old (or, beyond cap, new) bytes were
 * dropped to make room. */
size_t sb_append(struct scrollback *sb, const uint8_t *src, size_t len)
{
	size_t dropped = 0;
	if (len >= sb->cap) {
		/* Only the last cap bytes of src survive. */
		dropped = sb->len + len - sb->cap;
		src += len - sb->cap;
		len = sb->cap;
		sb->head = 0;
		sb->len = 0;
	} else if (sb->len + len > sb->cap) {
		size_t over = sb->len + len - sb->cap;
		sb_consume(sb, over);
		dropped = over;
	}
	size_t tail = (sb->head + sb->len) % (sb->cap ? sb->cap : 1);
	while (len) {
		size_t n = sb->cap - tail;
		if (n > len)
			n = len;
		memcpy(sb->buf + tail, src, n);
		src += n;
		len -= n;
		sb->len += n;
		tail = 0;
	}
	return dropped;
}

/* The held bytes as at most two iovecs, oldest first; returns the count. */
unsigned sb_peek(const struct scrollback *sb, struct iovec iov[2])
{
	if (!sb->len)
		return 0;
	size_t first = sb->cap - sb->head;
	if (first > sb->len)
		first = sb->len;
	iov[0].iov_base = sb->buf + sb->head;
	iov[0].iov_len = first;
	if (first == sb->len)
		return 1;
	iov[1].iov_base = sb->buf;
	iov[1].iov_len = sb->len - first;
	return 2;
}

void sb_consume(struct scrollback *sb, size_t n)
{
	if (n >= sb->len) {
		sb->head = 0;
		sb->len = 0;
		return;
	}
	sb->head = (sb->head + n) % sb->cap;
	sb->len -= n;
}
