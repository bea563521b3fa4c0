/* SPDX-License-Identifier: MIT */
/*
 * The headless backend's snapshots: after a flush (or a cursor change) the
 * scanout's picture, cursor drawn in, is written as a binary PPM (P6) to
 * `snapshot` (scanout 0) or `snapshot.N` (scanout N). At most one write
 * per GPU_SNAPSHOT_PERIOD_NS: flushes in between are folded into the next
 * write. Writing runs from a timer on the event-loop thread, not on the
 * dispatch thread; a file is written next to its name and renamed, so a
 * reader never sees half a picture.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu.h"

/* 10 pictures a second at most. */
#define GPU_SNAPSHOT_PERIOD_NS 100000000ull

bool gpu_format_layout(uint32_t format, int *r, int *g, int *b, int *a)
{
	/* Formats are named by their byte order in memory. */
	static const struct {
		uint32_t format;
		int8_t r, g, b, a;
	} map[] = {
		{VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 2, 1, 0, 3},
		{VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 2, 1, 0, -1},
		{VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, 1, 2, 3, 0},
		{VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, 1, 2, 3, -1},
		{VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 0, 1, 2, 3},
		{VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, 3, 2, 1, -1},
		{VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, 3, 2, 1, 0},
		{VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 0, 1, 2, -1},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (map[i].format != format)
			continue;
		*r = map[i].r;
		*g = map[i].g;
		*b = map[i].b;
		*a = map[i].a;
		return true;
	}
	return false;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The scanout's picture as PPM rows into f; 0 or -errno. */
static int write_ppm(const struct gpu *gpu, uint32_t sid, FILE *f)
{
	const struct gpu_scanout *s = &gpu->scanouts[sid];
	const struct gpu_resource *res =
		gpu_resource_find((struct gpu *)gpu, s->resource_id);
	if (!res)
		return -ENOENT;
	uint32_t x0 = le32toh(s->r.x), y0 = le32toh(s->r.y);
	uint32_t w = le32toh(s->r.width), h = le32toh(s->r.height);
	int ro = 0, go = 0, bo = 0, ao = -1;
	gpu_format_layout(res->format, &ro, &go, &bo, &ao);
	uint8_t *row = malloc((size_t)w * 3);
	if (!row)
		return -ENOMEM;
	int r = fprintf(f, "P6\n%u %u\n255\n", w, h) < 0 ? -EIO : 0;
	for (uint32_t y = 0; y < h && !r; y++) {
		const uint8_t *p =
			res->pixels +
			((uint64_t)(y0 + y) * res->width + x0) * GPU_BPP;
		for (uint32_t x = 0; x < w; x++, p += GPU_BPP) {
			row[x * 3] = p[ro];
			row[x * 3 + 1] = p[go];
			row[x * 3 + 2] = p[bo];
		}
		gpu_cursor_blend_row(gpu, sid, y, row, w);
		if (fwrite(row, 3, w, f) != w)
			r = -EIO;
	}
	free(row);
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

static void snapshot_fire(void *opaque)
{
	struct gpu *gpu = opaque;
	gpu_snapshot_cancel(gpu);
	gpu->snap_last_ns = now_ns();
	uint32_t dirty = gpu->snap_dirty;
	gpu->snap_dirty = 0;
	for (uint32_t i = 0; i < gpu->num_scanouts; i++) {
		if (!(dirty & 1u << i) || !gpu->scanouts[i].resource_id)
			continue;
		int r = write_snapshot(gpu, i);
		if (r)
			gpu->host->log(gpu->dev, HVD_LOG_WARN,
				       "snapshot of scanout %u: %s", i,
				       strerror(-r));
	}
}

void gpu_snapshot_mark(struct gpu *gpu, uint32_t scanout)
{
	if (!gpu->snapshot || !gpu->scanouts[scanout].resource_id)
		return;
	gpu->snap_dirty |= 1u << scanout;
	if (gpu->snap_timer)
		return; /* folded into the write already planned */
	uint64_t now = now_ns(),
		 due = gpu->snap_last_ns
			       ? gpu->snap_last_ns + GPU_SNAPSHOT_PERIOD_NS
			       : now;
	gpu->snap_timer = gpu->host->timer_add(
		gpu->dev, due > now ? due - now : 1, 0, snapshot_fire, gpu);
}

void gpu_snapshot_cancel(struct gpu *gpu)
{
	if (gpu->snap_timer)
		gpu->host->timer_cancel(gpu->snap_timer);
	gpu->snap_timer = NULL;
}
