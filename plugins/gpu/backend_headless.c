/* SPDX-License-Identifier: MIT */
/*
 * The headless backend: the frame is kept in memory only, and when
 * `snapshot` is set each presented picture (cursor drawn in) is written as
 * a binary PPM (P6) to `snapshot` (scanout 0) or `snapshot.N` (scanout N),
 * at most GPU_SNAPSHOT_FPS times a second. A file is written next to its
 * name and renamed, so a reader never sees half a picture.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

/* 10 pictures a second at most. */
#define GPU_SNAPSHOT_FPS 10u

/* The scanout's picture as PPM rows into f; 0 or -errno. */
static int write_ppm(const struct gpu *gpu, uint32_t sid, FILE *f)
{
	uint32_t w, h;
	if (!gpu_scanout_size(gpu, sid, &w, &h))
		return -ENOENT;
	uint32_t *xrgb = malloc((size_t)w * sizeof *xrgb);
	uint8_t *row = malloc((size_t)w * 3);
	int r = xrgb && row ? 0 : -ENOMEM;
	if (!r && fprintf(f, "P6\n%u %u\n255\n", w, h) < 0)
		r = -EIO;
	for (uint32_t y = 0; y < h && !r; y++) {
		gpu_scanout_row(gpu, sid, y, xrgb);
		for (uint32_t x = 0; x < w; x++) {
			row[x * 3] = (uint8_t)(xrgb[x] >> 16);
			row[x * 3 + 1] = (uint8_t)(xrgb[x] >> 8);
			row[x * 3 + 2] = (uint8_t)xrgb[x];
		}
		if (fwrite(row, 3, w, f) != w)
			r = -EIO;
	}
	free(row);
	free(xrgb);
	return r;
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
	int r = write_ppm(gpu, sid, f);
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

const struct gpu_backend_ops gpu_backend_headless = {
	.name = "headless",
	.max_fps = GPU_SNAPSHOT_FPS,
	.present = headless_present,
};
