/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu (virtio 1.2 section 5.7), 2D only: shared state of the plugin's
 * files. gpu.c: device life, config space, queues, chain I/O; cmd.c: the
 * control and cursor commands and the host resources; edid.c: the EDID
 * block; snapshot.c: the headless backend's PPM snapshots.
 *
 * All state is touched only from device callbacks (queue_notify on the
 * dispatch thread, the snapshot timer on the event-loop thread), which the
 * daemon never runs at once for one device: no lock.
 */
#ifndef PLUGINS_GPU_GPU_H
#define PLUGINS_GPU_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_gpu.h>

#include "hvd/plugin.h"

#define GPU_CTRLQ   0u
#define GPU_CURSORQ 1u
/* The spec's cursor size (virtio 1.2 5.7.6.10: "64x64"). */
#define GPU_CURSOR_DIM 64u
/* Resources per device at most, whatever max_memory allows: lookups walk
 * a list, and a guest of 1x1 resources must not make that list huge. */
#define GPU_MAX_RESOURCES 4096u
/* Backing entries per ATTACH_BACKING at most (Linux sends one per page of
 * a resource that is not contiguous: 16384 covers a 64 MiB buffer). */
#define GPU_MAX_ENTRIES 16384u
/* Bytes per pixel of every supported format. */
#define GPU_BPP 4u

struct gpu_entry {
	uint8_t *hva;
	uint64_t start; /* offset of this entry in the backing */
	uint32_t len;
};

struct gpu_resource {
	struct gpu_resource *next;
	uint32_t id;
	uint32_t format;
	uint32_t width, height;
	uint8_t *pixels; /* width * GPU_BPP per row, host copy */
	struct gpu_entry *entries;
	uint32_t nr_entries;
	uint64_t backing_len;
	uint64_t charged; /* bytes counted against max_memory */
};

struct gpu_scanout {
	uint32_t resource_id; /* 0: disabled */
	struct virtio_gpu_rect r;
	uint64_t flushes; /* flushes that touched this scanout */
};

struct gpu_cursor {
	bool visible;
	uint32_t scanout;
	uint32_t x, y;
	uint32_t hot_x, hot_y;
	uint32_t format;
	/* Straight (not premultiplied) RGBA, copied at UPDATE_CURSOR. */
	uint8_t rgba[GPU_CURSOR_DIM * GPU_CURSOR_DIM * 4];
};

struct gpu {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	/* Configuration. */
	uint32_t width, height;
	uint32_t num_scanouts;
	uint64_t max_memory;
	const char *snapshot; /* NULL: no snapshots */
	/* Device state, cleared by reset. */
	struct gpu_resource *resources;
	uint32_t nr_resources;
	uint64_t used_memory;
	struct gpu_scanout scanouts[VIRTIO_GPU_MAX_SCANOUTS];
	struct gpu_cursor cursor;
	uint32_t events_read;
	/* Snapshots (snapshot.c). */
	uint32_t snap_dirty; /* bit per scanout waiting to be written */
	struct hvd_timer *snap_timer;
	uint64_t snap_last_ns;
	/* Serving the rest of a long queue from the event loop. */
	struct hvd_timer *resume_timer;
	/* A request's readable bytes, gathered (GPU_REQ_MAX). */
	uint8_t *req;
};

/* Largest request: ATTACH_BACKING with GPU_MAX_ENTRIES entries. */
#define GPU_REQ_MAX                                          \
	(sizeof(struct virtio_gpu_resource_attach_backing) + \
	 GPU_MAX_ENTRIES * sizeof(struct virtio_gpu_mem_entry))

/* cmd.c */
/* Serve one control-queue request; returns bytes written to resp, or a
 * negative errno when the request is too short (the caller resets). */
int gpu_ctrl_command(struct gpu *gpu, const void *req, size_t req_len,
		     void *resp, size_t resp_room);
/* Serve one cursor-queue request: 0, or -EPROTO when too short. *type is
 * set to the response type to report where the chain has room for one. */
int gpu_cursor_command(struct gpu *gpu, const void *req, size_t req_len,
		       uint32_t *type);
void gpu_resources_free(struct gpu *gpu);
struct gpu_resource *gpu_resource_find(struct gpu *gpu, uint32_t id);

/* cursor.c: blend the cursor over row y of a scanout's RGB picture. */
void gpu_cursor_blend_row(const struct gpu *gpu, uint32_t scanout, uint32_t y,
			  uint8_t *rgb, uint32_t w);

/* edid.c: a 128-byte EDID 1.4 block for one mode; returns its size. */
size_t gpu_edid_build(uint8_t *out, size_t room, uint32_t width,
		      uint32_t height);

/* snapshot.c */
/* The scanout's picture changed: write it (rate-limited). */
void gpu_snapshot_mark(struct gpu *gpu, uint32_t scanout);
void gpu_snapshot_cancel(struct gpu *gpu);
/* The byte offsets of red, green, blue and alpha (-1: none) in a pixel of
 * `format`; false for an unsupported format. */
bool gpu_format_layout(uint32_t format, int *r, int *g, int *b, int *a);

#endif
