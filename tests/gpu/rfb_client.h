/* SPDX-License-Identifier: MIT */
/*
 * A small RFB 3.8 client for the vnc suite (RFC 6143): no security,
 * 32 bpp true colour 0x00RRGGBB little-endian, Raw encoding and the
 * NewFBSize pseudo-encoding only. Every read has a timeout that only
 * guards against failure.
 */
#ifndef TESTS_GPU_RFB_CLIENT_H
#define TESTS_GPU_RFB_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#define RFB_WAIT_MS 10000

struct rfb {
	int fd;
	uint32_t w, h;
	char name[128];
	uint32_t *fb;     /* w * h pixels, 0x00RRGGBB */
	unsigned resizes; /* NewFBSize rectangles seen */
	/* The last FramebufferUpdate: its rectangle count, and the bounding
	 * box x, y, w, h of its Raw rectangles. */
	unsigned last_rects;
	uint32_t last_box[4];
};

/* Connect to a UNIX socket path, or to 127.0.0.1:port when path is NULL;
 * then the handshake up to ServerInit, SetPixelFormat and SetEncodings.
 * 0 or -errno. */
int rfb_open(struct rfb *c, const char *path, unsigned port);
void rfb_close(struct rfb *c);
/* FramebufferUpdateRequest for the whole screen. */
int rfb_request(struct rfb *c, bool incremental);
/* Read one server message and apply it. 0 or -errno. */
int rfb_read(struct rfb *c);
/* Ask for updates and apply them until the screen is want (w x h) or the
 * failure guard expires. 0 when it matched. */
int rfb_wait_picture(struct rfb *c, const uint32_t *want, uint32_t w,
		     uint32_t h);
int rfb_key(struct rfb *c, bool down, uint32_t keysym);
int rfb_pointer(struct rfb *c, uint8_t mask, uint16_t x, uint16_t y);

#endif
