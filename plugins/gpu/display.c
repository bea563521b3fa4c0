/* SPDX-License-Identifier: MIT */
/*
 * What every backend shares. A flush or a cursor change marks its scanout
 * dirty; a timer on the event-loop thread presents the dirty scanouts, at
 * most max_fps times a second, so a guest flushing in a loop costs one
 * present per period and the dispatch thread never waits for a backend.
 * Scanout pictures reach backends as rows of 0x00RRGGBB words, whatever the
 * resource's format, with the cursor drawn in.
 */
#include <endian.h>
#include <time.h>

#include "gpu.h"

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

bool gpu_scanout_size(const struct gpu *gpu, uint32_t sid, uint32_t *w,
		      uint32_t *h)
{
	const struct gpu_scanout *s = &gpu->scanouts[sid];
	if (!s->resource_id)
		return false;
	*w = le32toh(s->r.width);
	*h = le32toh(s->r.height);
	return true;
}

void gpu_scanout_row(const struct gpu *gpu, uint32_t sid, uint32_t y,
		     uint32_t *xrgb)
{
	const struct gpu_scanout *s = &gpu->scanouts[sid];
	const struct gpu_resource *res =
		gpu_resource_find((struct gpu *)gpu, s->resource_id);
	uint32_t x0 = le32toh(s->r.x), y0 = le32toh(s->r.y);
	uint32_t w = le32toh(s->r.width);
	int ro = 0, go = 0, bo = 0, ao = -1;
	gpu_format_layout(res->format, &ro, &go, &bo, &ao);
	/* SET_SCANOUT checked the rectangle against the resource. */
	const uint8_t *p =
		res->pixels + ((uint64_t)(y0 + y) * res->width + x0) * GPU_BPP;
	for (uint32_t x = 0; x < w; x++, p += GPU_BPP)
		xrgb[x] = (uint32_t)p[ro] << 16 | (uint32_t)p[go] << 8 | p[bo];
	gpu_cursor_blend_row(gpu, sid, y, xrgb, w);
}

static void present_fire(void *opaque)
{
	struct gpu *gpu = opaque;
	gpu_display_cancel(gpu);
	gpu->present_last_ns = now_ns();
	uint32_t dirty = gpu->dirty;
	gpu->dirty = 0;
	for (uint32_t i = 0; i < gpu->num_scanouts; i++)
		if (dirty & 1u << i && gpu->scanouts[i].resource_id)
			gpu->backend->present(gpu, i);
}

void gpu_display_mark(struct gpu *gpu, uint32_t scanout)
{
	if (!gpu->scanouts[scanout].resource_id)
		return;
	gpu->dirty |= 1u << scanout;
	if (gpu->present_timer)
		return; /* folded into the present already planned */
	uint64_t period = 1000000000ull / gpu->backend->max_fps;
	uint64_t now = now_ns(), due = gpu->present_last_ns
					       ? gpu->present_last_ns + period
					       : now;
	gpu->present_timer = gpu->host->timer_add(
		gpu->dev, due > now ? due - now : 1, 0, present_fire, gpu);
}

void gpu_display_blank(struct gpu *gpu, uint32_t scanout)
{
	gpu->dirty &= ~(1u << scanout);
	if (gpu->backend->blank)
		gpu->backend->blank(gpu, scanout);
}

void gpu_display_cancel(struct gpu *gpu)
{
	if (gpu->present_timer)
		gpu->host->timer_cancel(gpu->present_timer);
	gpu->present_timer = NULL;
}

void gpu_display_resize(struct gpu *gpu, uint32_t scanout, uint32_t width,
			uint32_t height, bool enabled)
{
	struct gpu_mode *m = &gpu->modes[scanout];
	if (m->width == width && m->height == height && m->enabled == enabled)
		return;
	m->width = width;
	m->height = height;
	m->enabled = enabled;
	gpu->events_read |= VIRTIO_GPU_EVENT_DISPLAY;
	gpu->host->config_changed(gpu->dev);
}
