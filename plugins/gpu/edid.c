/* SPDX-License-Identifier: MIT */
/*
 * An EDID 1.4 base block (VESA E-EDID, 128 bytes, no extensions) for one
 * mode: header, vendor "HVD", sRGB colour, one detailed timing with
 * reduced-blanking-style porches, the monitor's name, and a checksum that
 * makes the 128 bytes sum to 0 mod 256.
 */
#include <string.h>

#include "gpu.h"

#define EDID_LEN 128u
/* Porches of the detailed timing, in the spirit of CVT reduced blanking
 * (+hsync, -vsync). */
#define H_FRONT 48u
#define H_SYNC  32u
#define H_BLANK 160u
#define V_FRONT 3u
#define V_SYNC  6u
/* The pixel clock field is 16 bits of 10 kHz. */
#define MAX_CLOCK_10KHZ 65535u

/* Three letters, 5 bits each ('A' = 1), big-endian. */
static void put_vendor(uint8_t *e, const char id[3])
{
	unsigned v = (unsigned)(id[0] - 'A' + 1) << 10 |
		     (unsigned)(id[1] - 'A' + 1) << 5 |
		     (unsigned)(id[2] - 'A' + 1);
	e[8] = (uint8_t)(v >> 8);
	e[9] = (uint8_t)v;
}

/* sRGB primaries and D65 white as 10-bit binary fractions. */
static void put_chromaticity(uint8_t *e)
{
	/* Rx Ry Gx Gy Bx By Wx Wy, each round(value * 1024). */
	static const unsigned c[8] = {655, 338, 307, 614, 154, 61, 320, 337};
	e[25] = (uint8_t)((c[0] & 3) << 6 | (c[1] & 3) << 4 | (c[2] & 3) << 2 |
			  (c[3] & 3));
	e[26] = (uint8_t)((c[4] & 3) << 6 | (c[5] & 3) << 4 | (c[6] & 3) << 2 |
			  (c[7] & 3));
	for (int i = 0; i < 8; i++)
		e[27 + i] = (uint8_t)(c[i] >> 2);
}

/* Millimetres of `px` pixels at 96 dots per inch. */
static uint32_t mm_at_96dpi(uint32_t px)
{
	return (px * 254u + 480u) / 960u;
}

static void put_timing(uint8_t *d, uint32_t w, uint32_t h)
{
	uint32_t vblank = V_FRONT + V_SYNC + (h / 30 > 6 ? h / 30 : 6);
	uint64_t total = (uint64_t)(w + H_BLANK) * (h + vblank);
	/* 60 Hz, or less when that clock does not fit the field. */
	uint64_t clock = total * 60 / 10000;
	if (clock > MAX_CLOCK_10KHZ)
		clock = MAX_CLOCK_10KHZ;
	uint32_t wmm = mm_at_96dpi(w), hmm = mm_at_96dpi(h);
	d[0] = (uint8_t)clock;
	d[1] = (uint8_t)(clock >> 8);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)H_BLANK;
	d[4] = (uint8_t)((w >> 8) << 4 | H_BLANK >> 8);
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)vblank;
	d[7] = (uint8_t)((h >> 8) << 4 | vblank >> 8);
	d[8] = (uint8_t)H_FRONT;
	d[9] = (uint8_t)H_SYNC;
	d[10] = (uint8_t)((V_FRONT & 15) << 4 | (V_SYNC & 15));
	d[11] = (uint8_t)((H_FRONT >> 8) << 6 | (H_SYNC >> 8) << 4 |
			  (V_FRONT >> 4) << 2 | V_SYNC >> 4);
	d[12] = (uint8_t)wmm;
	d[13] = (uint8_t)hmm;
	d[14] = (uint8_t)((wmm >> 8) << 4 | (hmm >> 8 & 15));
	d[17] = 0x1a; /* digital separate sync, +hsync, -vsync */
}

/* A display descriptor with a text field (name, serial): up to 13
 * characters, ended by a newline and padded with spaces. */
static void put_text(uint8_t *d, uint8_t tag, const char *text)
{
	size_t n = strlen(text);
	d[3] = tag;
	memset(d + 5, ' ', 13);
	memcpy(d + 5, text, n);
	d[5 + n] = '\n';
}

size_t gpu_edid_build(uint8_t *out, size_t room, uint32_t width,
		      uint32_t height)
{
	static const uint8_t header[8] = {0,    0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0};
	if (room < EDID_LEN)
		return 0;
	uint8_t *e = out;
	memset(e, 0, EDID_LEN);
	memcpy(e, header, sizeof header);
	put_vendor(e, "HVD");
	e[10] = 1;           /* product code */
	e[17] = 2026 - 1990; /* model year */
	e[18] = 1;
	e[19] = 4;    /* EDID 1.4 */
	e[20] = 0xa0; /* digital input, 8 bits per colour */
	e[21] = (uint8_t)((mm_at_96dpi(width) + 5) / 10);
	e[22] = (uint8_t)((mm_at_96dpi(height) + 5) / 10);
	e[23] = 120;  /* gamma 2.2 */
	e[24] = 0x06; /* RGB 4:4:4, sRGB, preferred mode is native */
	put_chromaticity(e);
	for (int i = 38; i < 54; i++)
		e[i] = 1; /* standard timings: unused */
	put_timing(e + 54, width, height);
	put_text(e + 72, 0xfc, "hvisor gpu");
	put_text(e + 90, 0xff, "0");
	e[108 + 3] = 0x10; /* dummy descriptor */
	unsigned sum = 0;
	for (unsigned i = 0; i < EDID_LEN - 1; i++)
		sum += e[i];
	e[EDID_LEN - 1] = (uint8_t)(256 - sum % 256);
	return EDID_LEN;
}
