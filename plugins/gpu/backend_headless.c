/* SPDX-License-Identifier: MIT */
/*
 * The headless backend: the frame is kept in memory only, and when
 * `snapshot` is set each presented picture (cursor drawn in) is written as
 * a binary PPM (P6), or a PNG when the name ends in ".png" (png.c), to
 * `snapshot` (scanout 0) or `snapshot.N` (scanout N),
 * at most GPU_SNAPSHOT_FPS times a second. A file is written next to its
 * name and renamed, so a reader never sees half a picture.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpu.h"

/* 10 pictures a second at most. */
#define GPU_SNAPSHOT_FPS 10u

void gpu_scanout_rgb_row(const struct gpu *gpu, uint32_t sid, uint32_t y,
			 uint32_t *xrgb, uint8_t *rgb)
{
	uint32_t w, h;
	gpu_scanout_size(gpu, sid, &w, &h);
	gpu_scanout_row(gpu, sid, y, xrgb);
	for (uint32_t x = 0; x < w; x++) {
		rgb[x * 3] = (uint8_t)(xrgb[x] >> 16);
		rgb[x * 3 + 1] = (uint8_t)(xrgb[x] >> 8);
		rgb[x * 3 + 2] = (uint8_t)xrgb[x];
	}
}

/* The scanout's picture as PPM rows into f; 0 or -errno. */
static int write_ppm(FILE *f, const struct gpu *gpu, uint32_t sid, uint32_t w,
		     uint32_t h)
{
	uint32_t *xrgb = malloc((size_t)w * sizeof *xrgb);
	uint8_t *row = malloc((size_t)w * 3);
	int r = xrgb && row ? 0 : -ENOMEM;
	if (!r && fprintf(f, "P6\n%u %u\n255\n", w, h) < 0)
		r = -EIO;
	for (uint32_t y = 0; y < h && !r; y++) {
		gpu_scanout_rgb_row(gpu, sid, y, xrgb, row);
		if (fwrite(row, 3, w, f) != w)
			r = -EIO;
	}
	free(row);
	free(xrgb);
	return r;
}

/* A name ending in ".png" (any case) means PNG, anything else PPM. */
static bool wants_png(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && !strcasecmp(path + n - 4, ".png");
}

static int write_picture(const struct gpu *gpu, uint32_t sid, FILE *f)
{
	uint32_t w, h;
	if (!gpu_scanout_size(gpu, sid, &w, &h))
		return -ENOENT;
#ifdef HVD_GPU_PNG
	if (wants_png(gpu->snapshot))
		return gpu_png_write(f, gpu, sid, w, h);
#endif
	return write_ppm(f, gpu, sid, w, h);
}

static int write_snapshot(const struct gpu *gpu, uint32_t sid)
{
	char path[4096], tmp[4096 + 8];
	if (sid)
		snprintf(path, sizeof path, "%s.%u", gpu->snapshot, sid);
	else
		snprintf(path, sizeof path, "%s", gpu->snapshot);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	int r = write_picture(gpu, sid, f);
	if (fclose(f) && !r)
		r = -EIO;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		remove(tmp);
	return r;
}

static void headless_present(struct gpu *gpu, uint32_t sid)
{
	if (!gpu->snapshot)
		return;
	int r = write_snapshot(gpu, sid);
	if (r)
		gpu->host->log(gpu->dev, HVD_LOG_WARN,
			       "snapshot of scanout %u: %s", sid, strerror(-r));
}

static int headless_open(struct gpu *gpu)
{
#ifndef HVD_GPU_PNG
	if (gpu->snapshot && wants_png(gpu->snapshot))
		return gpu->host->cfg_error(gpu->dev, "snapshot",
					    "%s: PNG is not built in (zlib was "
					    "missing); name a .ppm file",
					    gpu->snapshot);
#endif
	return 0;
}

const struct gpu_backend_ops gpu_backend_headless = {
	.name = "headless",
	.max_fps = GPU_SNAPSHOT_FPS,
	.open = headless_open,
	.present = headless_present,
};
