/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu 2D commands (virtio 1.2 5.7.6.7-5.7.6.10) and the host
 * resources they manage. Every number from the guest is checked before it
 * is used, in 64-bit arithmetic so that no sum or product wraps; a bad
 * command gets the spec's error type and changes nothing.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

struct gpu_resource *gpu_resource_find(struct gpu *gpu, uint32_t id)
{
	for (struct gpu_resource *res = gpu->resources; res; res = res->next)
		if (res->id == id)
			return res;
	return NULL;
}

static void backing_free(struct gpu *gpu, struct gpu_resource *res)
{
	uint64_t bytes = (uint64_t)res->nr_entries * sizeof *res->entries;
	gpu->used_memory -= bytes;
	res->charged -= bytes;
	free(res->entries);
	res->entries = NULL;
	res->nr_entries = 0;
	res->backing_len = 0;
}

static void resource_free(struct gpu *gpu, struct gpu_resource *res)
{
	backing_free(gpu, res);
	gpu->used_memory -= res->charged;
	gpu->nr_resources--;
	free(res->pixels);
	free(res);
}

void gpu_resources_free(struct gpu *gpu)
{
	while (gpu->resources) {
		struct gpu_resource *res = gpu->resources;
		gpu->resources = res->next;
		resource_free(gpu, res);
	}
}

/* rect lies inside a w x h surface and is not empty. */
static bool rect_inside(const struct virtio_gpu_rect *r, uint32_t w, uint32_t h)
{
	uint64_t x = le32toh(r->x), y = le32toh(r->y);
	uint64_t rw = le32toh(r->width), rh = le32toh(r->height);
	return rw && rh && x + rw <= w && y + rh <= h;
}

static uint32_t create_2d(struct gpu *gpu, const void *req)
{
	const struct virtio_gpu_resource_create_2d *c = req;
	uint32_t id = le32toh(c->resource_id);
	uint32_t format = le32toh(c->format);
	uint64_t w = le32toh(c->width), h = le32toh(c->height);
	int ro, go, bo, ao;
	if (id == 0 || gpu_resource_find(gpu, id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!gpu_format_layout(format, &ro, &go, &bo, &ao) || !w || !h)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	/* w, h < 2^32: w * h fits in 64 bits; times 4 only once it is known
	 * to be below max_memory / 4. */
	if (w * h > gpu->max_memory / GPU_BPP)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	uint64_t bytes = w * h * GPU_BPP + sizeof(struct gpu_resource);
	if (gpu->nr_resources >= GPU_MAX_RESOURCES ||
	    bytes > gpu->max_memory - gpu->used_memory)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	struct gpu_resource *res = calloc(1, sizeof *res);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	/* Zeroed: a scanout of a never-transferred resource is black. */
	res->pixels = calloc(w * h, GPU_BPP);
	if (!res->pixels) {
		free(res);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	res->id = id;
	res->format = format;
	res->width = (uint32_t)w;
	res->height = (uint32_t)h;
	res->charged = bytes;
	gpu->used_memory += bytes;
	gpu->nr_resources++;
	res->next = gpu->resources;
	gpu->resources = res;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* A scanout or the cursor showing a resource lets go of it. */
static void forget_resource(struct gpu *gpu, uint32_t id)
{
	for (uint32_t i = 0; i < gpu->num_scanouts; i++)
		if (gpu->scanouts[i].resource_id == id) {
			memset(&gpu->scanouts[i], 0, sizeof gpu->scanouts[i]);
			gpu_display_blank(gpu, i);
		}
}

static uint32_t unref(struct gpu *gpu, const void *req)
{
	const struct virtio_gpu_resource_unref *u = req;
	uint32_t id = le32toh(u->resource_id);
	struct gpu_resource **link = &gpu->resources;
	while (*link && (*link)->id != id)
		link = &(*link)->next;
	if (!*link)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	struct gpu_resource *res = *link;
	*link = res->next;
	forget_resource(gpu, id);
	resource_free(gpu, res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t set_scanout(struct gpu *gpu, const void *req)
{
	const struct virtio_gpu_set_scanout *s = req;
	uint32_t sid = le32toh(s->scanout_id), id = le32toh(s->resource_id);
	if (sid >= gpu->num_scanouts)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	struct gpu_scanout *out = &gpu->scanouts[sid];
	if (id == 0) { /* disable the scanout */
		memset(out, 0, sizeof *out);
		gpu_display_blank(gpu, sid);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	struct gpu_resource *res = gpu_resource_find(gpu, id);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&s->r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	out->resource_id = id;
	out->r = s->r;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t flush(struct gpu *gpu, const void *req)
{
	const struct virtio_gpu_resource_flush *f = req;
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(f->resource_id));
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&f->r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	for (uint32_t i = 0; i < gpu->num_scanouts; i++) {
		if (gpu->scanouts[i].resource_id != res->id)
			continue;
		gpu->scanouts[i].flushes++;
		gpu_display_mark(gpu, i);
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* The entry holding backing offset `off` (< backing_len): binary search
 * over the entries' start offsets. */
static const struct gpu_entry *entry_at(const struct gpu_resource *res,
					uint64_t off)
{
	uint32_t lo = 0, hi = res->nr_entries - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (res->entries[mid].start <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	return &res->entries[lo];
}

/* len bytes of the backing at off (off + len <= backing_len) to dst. */
static void backing_read(const struct gpu_resource *res, uint64_t off,
			 uint8_t *dst, uint64_t len)
{
	const struct gpu_entry *e = entry_at(res, off);
	while (len) {
		uint64_t in = off - e->start;
		uint64_t n = e->len - in;
		if (n > len)
			n = len;
		memcpy(dst, e->hva + in, n);
		dst += n;
		off += n;
		len -= n;
		e++;
	}
}

/* The guest's backing has the resource's layout (stride = width * 4, as
 * the Linux driver and QEMU use it); row `row` of the rect starts at
 * offset + row * stride. */
static uint32_t transfer_2d(struct gpu *gpu, const void *req)
{
	const struct virtio_gpu_transfer_to_host_2d *t = req;
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(t->resource_id));
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->nr_entries)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!rect_inside(&t->r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	uint64_t x = le32toh(t->r.x), y = le32toh(t->r.y);
	uint64_t w = le32toh(t->r.width), h = le32toh(t->r.height);
	uint64_t offset = le64toh(t->offset);
	uint64_t stride = (uint64_t)res->width * GPU_BPP;
	uint64_t row_len = w * GPU_BPP;
	/* The last row ends at offset + (h-1)*stride + row_len, which is at
	 * most the resource's size (<= max_memory <= 2^36): only the offset
	 * can make the sum wrap, and it is checked without adding. */
	uint64_t span = (h - 1) * stride + row_len;
	if (offset > res->backing_len || span > res->backing_len - offset)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	gpu->xfer = (struct gpu_transfer){
		.res = res,
		.src = offset,
		.dst = y * stride + x * GPU_BPP,
		.stride = stride,
		.row_len = row_len,
		.rows = h,
	};
	/* Larger than a slice: the caller copies the rest from the event
	 * loop before it replies. */
	gpu_transfer_step(gpu);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

bool gpu_transfer_step(struct gpu *gpu)
{
	struct gpu_transfer *t = &gpu->xfer;
	/* At least one row, however long. */
	uint64_t n = GPU_TRANSFER_SLICE / t->row_len;
	n = n ? n : 1;
	if (n > t->rows)
		n = t->rows;
	for (; n; n--, t->rows--) {
		backing_read(t->res, t->src, t->res->pixels + t->dst,
			     t->row_len);
		t->src += t->stride;
		t->dst += t->stride;
	}
	return t->rows == 0;
}

static uint32_t attach_backing(struct gpu *gpu, const void *req, size_t req_len)
{
	const struct virtio_gpu_resource_attach_backing *a = req;
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(a->resource_id));
	uint32_t n = le32toh(a->nr_entries);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (res->nr_entries)
		return VIRTIO_GPU_RESP_ERR_UNSPEC; /* already has backing */
	if (n == 0 || n > GPU_MAX_ENTRIES ||
	    (uint64_t)n * sizeof(struct virtio_gpu_mem_entry) >
		    req_len - sizeof *a)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	uint64_t bytes = (uint64_t)n * sizeof(struct gpu_entry);
	if (bytes > gpu->max_memory - gpu->used_memory)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	struct gpu_entry *entries = calloc(n, sizeof *entries);
	if (!entries)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	const uint8_t *raw = (const uint8_t *)req + sizeof *a;
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct virtio_gpu_mem_entry m;
		memcpy(&m, raw + i * sizeof m, sizeof m);
		uint32_t len = le32toh(m.length);
		entries[i].hva =
			gpu->host->guest_ptr(gpu->dev, le64toh(m.addr), len);
		if (!len || !entries[i].hva) {
			free(entries);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
		entries[i].start = total;
		entries[i].len = len;
		total += len; /* < 2^14 entries of < 2^32 bytes: no wrap */
	}
	res->entries = entries;
	res->nr_entries = n;
	res->backing_len = total;
	res->charged += bytes;
	gpu->used_memory += bytes;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t detach_backing(struct gpu *gpu, const void *req)
{
	const struct virtio_gpu_resource_detach_backing *d = req;
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(d->resource_id));
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->nr_entries)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	backing_free(gpu, res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static size_t display_info(struct gpu *gpu, void *resp)
{
	struct virtio_gpu_resp_display_info *d = resp;
	for (uint32_t i = 0; i < gpu->num_scanouts; i++) {
		const struct gpu_mode *m = &gpu->modes[i];
		d->pmodes[i].r.width = htole32(m->width);
		d->pmodes[i].r.height = htole32(m->height);
		d->pmodes[i].enabled = htole32(m->enabled);
	}
	d->hdr.type = htole32(VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	return sizeof *d;
}

static size_t get_edid(struct gpu *gpu, const void *req, void *resp)
{
	const struct virtio_gpu_cmd_get_edid *g = req;
	struct virtio_gpu_resp_edid *e = resp;
	if (le32toh(g->scanout) >= gpu->num_scanouts) {
		e->hdr.type = htole32(VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
		return sizeof e->hdr;
	}
	const struct gpu_mode *m = &gpu->modes[le32toh(g->scanout)];
	/* A disabled output still describes the mode it would take. */
	size_t n = gpu_edid_build(e->edid, sizeof e->edid,
				  m->width ? m->width : gpu->width,
				  m->height ? m->height : gpu->height);
	e->size = htole32((uint32_t)n);
	e->hdr.type = htole32(VIRTIO_GPU_RESP_OK_EDID);
	return sizeof *e;
}

/* Request size of each command with a fixed layout, 0 for unknown. */
static size_t request_size(uint32_t type)
{
	switch (type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
		return sizeof(struct virtio_gpu_ctrl_hdr);
	case VIRTIO_GPU_CMD_GET_EDID:
		return sizeof(struct virtio_gpu_cmd_get_edid);
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
		return sizeof(struct virtio_gpu_resource_create_2d);
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
		return sizeof(struct virtio_gpu_resource_unref);
	case VIRTIO_GPU_CMD_SET_SCANOUT:
		return sizeof(struct virtio_gpu_set_scanout);
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
		return sizeof(struct virtio_gpu_resource_flush);
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
		return sizeof(struct virtio_gpu_transfer_to_host_2d);
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
		return sizeof(struct virtio_gpu_resource_attach_backing);
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
		return sizeof(struct virtio_gpu_resource_detach_backing);
	default:
		return sizeof(struct virtio_gpu_ctrl_hdr);
	}
}

/* The response's size when all goes well (errors are a bare header). */
static size_t response_size(uint32_t type)
{
	if (type == VIRTIO_GPU_CMD_GET_DISPLAY_INFO)
		return sizeof(struct virtio_gpu_resp_display_info);
	if (type == VIRTIO_GPU_CMD_GET_EDID)
		return sizeof(struct virtio_gpu_resp_edid);
	return sizeof(struct virtio_gpu_ctrl_hdr);
}

static uint32_t run(struct gpu *gpu, uint32_t type, const void *req,
		    size_t req_len)
{
	switch (type) {
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
		return create_2d(gpu, req);
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
		return unref(gpu, req);
	case VIRTIO_GPU_CMD_SET_SCANOUT:
		return set_scanout(gpu, req);
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
		return flush(gpu, req);
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
		return transfer_2d(gpu, req);
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
		return attach_backing(gpu, req, req_len);
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
		return detach_backing(gpu, req);
	default: /* 3D, blob, UUID, capsets: not offered */
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
}

int gpu_ctrl_command(struct gpu *gpu, const void *req, size_t req_len,
		     void *resp, size_t resp_room)
{
	const struct virtio_gpu_ctrl_hdr *hdr = req;
	if (req_len < sizeof *hdr)
		return -EPROTO;
	uint32_t type = le32toh(hdr->type);
	if (req_len < request_size(type) || resp_room < response_size(type))
		return -EPROTO;
	struct virtio_gpu_ctrl_hdr *out = resp;
	size_t n = sizeof *out;
	if (type == VIRTIO_GPU_CMD_GET_DISPLAY_INFO)
		n = display_info(gpu, resp);
	else if (type == VIRTIO_GPU_CMD_GET_EDID)
		n = get_edid(gpu, req, resp);
	else
		out->type = htole32(run(gpu, type, req, req_len));
	/* Commands complete in order, so a fence is done with its reply. */
	if (hdr->flags & htole32(VIRTIO_GPU_FLAG_FENCE)) {
		out->flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		out->fence_id = hdr->fence_id;
		out->ctx_id = hdr->ctx_id;
	}
	return (int)n;
}
