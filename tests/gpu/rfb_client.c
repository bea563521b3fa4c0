/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "rfb_client.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ENC_RAW        0
#define ENC_NEW_FBSIZE (-223)

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, RFB_WAIT_MS) != 1)
			return -ETIMEDOUT;
		ssize_t n = read(fd, p, len);
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -EIO;
}

static int dial(const char *path, unsigned port)
{
	int fd;
	if (path) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		strncpy(a.sun_path, path, sizeof a.sun_path - 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a)) {
			close(fd);
			return -1;
		}
		return fd;
	}
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Version, security None, ClientInit (shared), ServerInit. */
static int handshake(struct rfb *c)
{
	char version[12];
	uint8_t n, types[255], one = 1;
	uint32_t result, name_len;
	uint8_t init[20];
	int r = read_full(c->fd, version, 12);
	if (r)
		return r;
	if (memcmp(version, "RFB 003.00", 10))
		return -EPROTO;
	if ((r = write_full(c->fd, "RFB 003.008\n", 12)) ||
	    (r = read_full(c->fd, &n, 1)) || !n ||
	    (r = read_full(c->fd, types, n)))
		return r ? r : -EPROTO;
	if (!memchr(types, 1, n))
		return -EACCES;
	if ((r = write_full(c->fd, &one, 1)) ||
	    (r = read_full(c->fd, &result, 4)))
		return r;
	if (result)
		return -EACCES;
	if ((r = write_full(c->fd, &one, 1)) ||
	    (r = read_full(c->fd, init, sizeof init)) ||
	    (r = read_full(c->fd, &name_len, 4)))
		return r;
	c->w = (uint32_t)init[0] << 8 | init[1];
	c->h = (uint32_t)init[2] << 8 | init[3];
	name_len = be32toh(name_len);
	if (name_len >= sizeof c->name)
		return -EPROTO;
	if ((r = read_full(c->fd, c->name, name_len)))
		return r;
	c->name[name_len] = '\0';
	c->fb = calloc((size_t)c->w * c->h, sizeof *c->fb);
	return c->fb ? 0 : -ENOMEM;
}

/* 32 bpp, depth 24, little-endian, true colour, 0x00RRGGBB; then Raw and
 * NewFBSize only. */
static int set_format(struct rfb *c)
{
	uint8_t pf[20] = {0,   0, 0,   0, 32,  24, 0, 1, 0,
			  255, 0, 255, 0, 255, 16, 8, 0};
	uint8_t enc[12] = {2, 0, 0, 2};
	int32_t e[2] = {(int32_t)htobe32(ENC_RAW),
			(int32_t)htobe32((uint32_t)ENC_NEW_FBSIZE)};
	memcpy(enc + 4, e, sizeof e);
	int r = write_full(c->fd, pf, sizeof pf);
	return r ? r : write_full(c->fd, enc, sizeof enc);
}

int rfb_open(struct rfb *c, const char *path, unsigned port)
{
	memset(c, 0, sizeof *c);
	c->fd = dial(path, port);
	if (c->fd < 0)
		return -errno;
	int r = handshake(c);
	return r ? r : set_format(c);
}

void rfb_close(struct rfb *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->fb);
	c->fd = -1;
	c->fb = NULL;
}

int rfb_request(struct rfb *c, bool incremental)
{
	uint8_t m[10] = {3,
			 incremental,
			 0,
			 0,
			 0,
			 0,
			 (uint8_t)(c->w >> 8),
			 (uint8_t)c->w,
			 (uint8_t)(c->h >> 8),
			 (uint8_t)c->h};
	return write_full(c->fd, m, sizeof m);
}

static int read_rect(struct rfb *c)
{
	uint8_t h[12];
	int r = read_full(c->fd, h, sizeof h);
	if (r)
		return r;
	uint32_t x = (uint32_t)h[0] << 8 | h[1], y = (uint32_t)h[2] << 8 | h[3];
	uint32_t w = (uint32_t)h[4] << 8 | h[5],
		 hh = (uint32_t)h[6] << 8 | h[7];
	int32_t enc;
	memcpy(&enc, h + 8, 4);
	enc = (int32_t)be32toh((uint32_t)enc);
	if (enc == ENC_NEW_FBSIZE) {
		free(c->fb);
		c->w = w;
		c->h = hh;
		c->resizes++;
		c->fb = calloc((size_t)w * hh, sizeof *c->fb);
		return c->fb ? 0 : -ENOMEM;
	}
	if (enc != ENC_RAW || x + w > c->w || y + hh > c->h)
		return -EPROTO;
	uint32_t *b = c->last_box;
	if (!b[2]) {
		b[0] = x;
		b[1] = y;
		b[2] = w;
		b[3] = hh;
	} else {
		uint32_t x1 = x + w > b[0] + b[2] ? x + w : b[0] + b[2];
		uint32_t y1 = y + hh > b[1] + b[3] ? y + hh : b[1] + b[3];
		b[0] = x < b[0] ? x : b[0];
		b[1] = y < b[1] ? y : b[1];
		b[2] = x1 - b[0];
		b[3] = y1 - b[1];
	}
	for (uint32_t row = 0; row < hh && !r; row++) {
		uint32_t *dst = c->fb + (size_t)(y + row) * c->w + x;
		r = read_full(c->fd, dst, (size_t)w * 4);
		for (uint32_t i = 0; i < w; i++)
			dst[i] = le32toh(dst[i]);
	}
	return r;
}

int rfb_read(struct rfb *c)
{
	uint8_t type, h[3];
	int r = read_full(c->fd, &type, 1);
	if (r)
		return r;
	if (type == 2) /* Bell */
		return 0;
	if (type != 0) /* we asked for nothing else */
		return -EPROTO;
	if ((r = read_full(c->fd, h, 3)))
		return r;
	unsigned n = (unsigned)h[1] << 8 | h[2];
	c->last_rects = n;
	memset(c->last_box, 0, sizeof c->last_box);
	for (unsigned i = 0; i < n && !r; i++)
		r = read_rect(c);
	return r;
}

int rfb_wait_picture(struct rfb *c, const uint32_t *want, uint32_t w,
		     uint32_t h)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (c->w == w && c->h == h &&
		    !memcmp(c->fb, want, (size_t)w * h * 4))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > RFB_WAIT_MS / 1000)
			return -ETIMEDOUT;
		int r = rfb_request(c, true);
		if (!r)
			r = rfb_read(c);
		if (r)
			return r;
	}
}

int rfb_key(struct rfb *c, bool down, uint32_t keysym)
{
	uint8_t m[8] = {4, down, 0, 0};
	uint32_t k = htobe32(keysym);
	memcpy(m + 4, &k, 4);
	return write_full(c->fd, m, sizeof m);
}

int rfb_pointer(struct rfb *c, uint8_t mask, uint16_t x, uint16_t y)
{
	uint8_t m[6] = {5,
			mask,
			(uint8_t)(x >> 8),
			(uint8_t)x,
			(uint8_t)(y >> 8),
			(uint8_t)y};
	return write_full(c->fd, m, sizeof m);
}
