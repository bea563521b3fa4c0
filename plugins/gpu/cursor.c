/* SPDX-License-Identifier: MIT */
/*
 * The cursor queue (virtio 1.2 5.7.6.10): UPDATE_CURSOR takes a copy of a
 * resource of at most 64x64 as the cursor image, MOVE_CURSOR only moves
 * it. Backends get it drawn into the scanout rows (gpu_scanout_row).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "gpu.h"

/* Copy the resource's pixels to the cursor as RGBA; a format without
 * alpha is opaque. */
static void cursor_load(struct gpu_cursor *c, const struct gpu_resource *res)
{
	int ro = 0, go = 0, bo = 0, ao = -1;
	gpu_format_layout(res->format, &ro, &go, &bo, &ao);
	memset(c->rgba, 0, sizeof c->rgba);
	for (uint32_t y = 0; y < res->height; y++) {
		for (uint32_t x = 0; x < res->width; x++) {
			const uint8_t *p =
				res->pixels +
				((uint64_t)y * res->width + x) * GPU_BPP;
			uint8_t *q = c->rgba + (y * GPU_CURSOR_DIM + x) * 4;
			q[0] = p[ro];
			q[1] = p[go];
			q[2] = p[bo];
			q[3] = ao < 0 ? 255 : p[ao];
		}
	}
}

static uint32_t update(struct gpu *gpu,
		       const struct virtio_gpu_update_cursor *u)
{
	uint32_t id = le32toh(u->resource_id);
	struct gpu_cursor *c = &gpu->cursor;
	if (id == 0) {
		c->visible = false;
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	struct gpu_resource *res = gpu_resource_find(gpu, id);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	uint32_t hx = le32toh(u->hot_x), hy = le32toh(u->hot_y);
	if (res->width > GPU_CURSOR_DIM || res->height > GPU_CURSOR_DIM ||
	    hx >= GPU_CURSOR_DIM || hy >= GPU_CURSOR_DIM)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	cursor_load(c, res);
	c->hot_x = hx;
	c->hot_y = hy;
	c->visible = true;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

int gpu_cursor_command(struct gpu *gpu, const void *req, size_t req_len,
		       uint32_t *type)
{
	const struct virtio_gpu_update_cursor *u = req;
	if (req_len < sizeof *u)
		return -EPROTO;
	uint32_t cmd = le32toh(u->hdr.type);
	uint32_t sid = le32toh(u->pos.scanout_id);
	if (cmd != VIRTIO_GPU_CMD_UPDATE_CURSOR &&
	    cmd != VIRTIO_GPU_CMD_MOVE_CURSOR) {
		*type = VIRTIO_GPU_RESP_ERR_UNSPEC;
		return 0;
	}
	if (sid >= gpu->num_scanouts) {
		*type = VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
		return 0;
	}
	*type = VIRTIO_GPU_RESP_OK_NODATA;
	if (cmd == VIRTIO_GPU_CMD_UPDATE_CURSOR)
		*type = update(gpu, u);
	if (*type != VIRTIO_GPU_RESP_OK_NODATA)
		return 0;
	uint32_t old = gpu->cursor.scanout;
	gpu->cursor.scanout = sid;
	gpu->cursor.x = le32toh(u->pos.x);
	gpu->cursor.y = le32toh(u->pos.y);
	gpu_display_mark(gpu, old);
	if (old != sid)
		gpu_display_mark(gpu, sid);
	return 0;
}

/* Blend the cursor over row `y` of a scanout's 0x00RRGGBB picture of
 * width w (scanout coordinates). */
void gpu_cursor_blend_row(const struct gpu *gpu, uint32_t scanout, uint32_t y,
			  uint32_t *xrgb, uint32_t w)
{
	const struct gpu_cursor *c = &gpu->cursor;
	if (!c->visible || c->scanout != scanout)
		return;
	/* The image's top-left corner, in 64-bit: x - hot_x may be < 0. */
	int64_t left = (int64_t)c->x - c->hot_x;
	int64_t cy = (int64_t)y - ((int64_t)c->y - c->hot_y);
	if (cy < 0 || cy >= GPU_CURSOR_DIM)
		return;
	for (uint32_t cx = 0; cx < GPU_CURSOR_DIM; cx++) {
		int64_t x = left + cx;
		if (x < 0 || x >= w)
			continue;
		const uint8_t *p = c->rgba + (cy * GPU_CURSOR_DIM + cx) * 4;
		uint32_t out = 0;
		for (int i = 0; i < 3; i++) {
			unsigned shift = 16 - 8 * i;
			unsigned q = (xrgb[x] >> shift) & 0xff;
			out |= (uint32_t)((p[i] * p[3] + q * (255 - p[3]) +
					   127) /
					  255)
			       << shift;
		}
		xrgb[x] = out;
	}
}
