/* SPDX-License-Identifier: MIT */
/*
 * Snapshots as PNG (W3C PNG 2nd edition: signature, IHDR, IDAT, IEND;
 * each chunk length, type, data, CRC-32 of type + data): 8-bit RGB, no
 * interlace, filter type 0 on every row, the rows deflated with zlib at
 * its fastest level (snapshots are frequent, files are transient) and cut
 * into IDAT chunks of up to 64 KiB.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "gpu.h"

#define PNG_IDAT_MAX 65536u

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t head[8], crc[4];
	be32(head, len);
	memcpy(head + 4, type, 4);
	uLong c = crc32(0, head + 4, 4);
	if (len)
		c = crc32(c, data, len);
	be32(crc, (uint32_t)c);
	if (fwrite(head, 1, 8, f) != 8 ||
	    (len && fwrite(data, 1, len, f) != len) ||
	    fwrite(crc, 1, 4, f) != 4)
		return -EIO;
	return 0;
}

/* Deflate what z holds; every full or final output buffer is an IDAT. */
static int deflate_out(FILE *f, z_stream *z, uint8_t *out, int flush)
{
	int r = 0;
	do {
		z->next_out = out;
		z->avail_out = PNG_IDAT_MAX;
		if (deflate(z, flush) == Z_STREAM_ERROR)
			return -EIO;
		uint32_t have = PNG_IDAT_MAX - z->avail_out;
		if (have)
			r = chunk(f, "IDAT", out, have);
	} while (!r && z->avail_out == 0);
	return r;
}

int gpu_png_write(FILE *f, const struct gpu *gpu, uint32_t sid, uint32_t w,
		  uint32_t h)
{
	static const uint8_t sig[8] = {0x89, 'P',  'N',  'G',
				       '\r', '\n', 0x1a, '\n'};
	uint8_t ihdr[13] = {0};
	be32(ihdr, w);
	be32(ihdr + 4, h);
	ihdr[8] = 8; /* bits per sample */
	ihdr[9] = 2; /* truecolour; compression, filter, interlace 0 */
	z_stream z = {0};
	uint8_t *line = malloc(1 + (size_t)w * 3), *out = malloc(PNG_IDAT_MAX);
	uint32_t *xrgb = malloc((size_t)w * sizeof *xrgb);
	int r = line && out && xrgb ? 0 : -ENOMEM;
	if (!r && deflateInit(&z, Z_BEST_SPEED) != Z_OK)
		r = -ENOMEM;
	else if (!r && fwrite(sig, 1, 8, f) != 8)
		r = -EIO;
	if (!r)
		r = chunk(f, "IHDR", ihdr, sizeof ihdr);
	for (uint32_t y = 0; y < h && !r; y++) {
		line[0] = 0; /* filter: none */
		gpu_scanout_rgb_row(gpu, sid, y, xrgb, line + 1);
		z.next_in = line;
		z.avail_in = 1 + w * 3;
		r = deflate_out(f, &z, out, y + 1 < h ? Z_NO_FLUSH : Z_FINISH);
	}
	if (!r)
		r = chunk(f, "IEND", NULL, 0);
	deflateEnd(&z);
	free(xrgb);
	free(out);
	free(line);
	return r;
}
