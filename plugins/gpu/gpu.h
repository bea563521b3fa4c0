/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu (virtio 1.2 section 5.7), 2D only: shared state of the plugin's
 * files. gpu.c: device life, config space, queues, chain I/O; cmd.c: the
 * control and cursor commands and the host resources; edid.c: the EDID
 * block; display.c: what every backend shares (the present timer, scanout
 * rows in one pixel format, display-change events); backend_*.c: one file
 * per backend, each an ops table.
 *
 * All state is touched only from device callbacks (queue_notify on the
 * dispatch thread, timers and fd watches on the event-loop thread), which
 * the daemon never runs at once for one device: no lock. A backend that
 * runs a thread of its own (e.g. a network server) hands its events to the
 * device through an fd watch, never by touching this state.
 */
#ifndef PLUGINS_GPU_GPU_H
#define PLUGINS_GPU_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/virtio_gpu.h>

#include "hvd/iov.h"
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
/* A TRANSFER_TO_HOST_2D of more bytes than this is copied from the event
 * loop, this many bytes a pass, while the control queue waits; smaller
 * ones inline. 4 MiB: a whole 1280x800 frame took 0.34-0.36 ms inline
 * (plugins/gpu/README.md). */
#define GPU_TRANSFER_SLICE (4u << 20)

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

/* A transfer's rows still to copy (cmd.c). */
struct gpu_transfer {
	struct gpu_resource *res;
	uint64_t src;     /* backing offset of the next row */
	uint64_t dst;     /* offset of the next row in res->pixels */
	uint64_t stride;  /* of both */
	uint64_t row_len; /* bytes a row */
	uint64_t rows;    /* rows left */
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

/* What a scanout shows the guest as its display (GET_DISPLAY_INFO, EDID).
 * Starts as the configured width x height, enabled; a backend changes it
 * with gpu_display_resize(). */
struct gpu_mode {
	uint32_t width, height;
	bool enabled;
};

struct gpu;

/* A display backend: one table per backend_*.c file. Hooks run on the
 * daemon's main thread (open, close), the event-loop thread (present from
 * the timer) or the thread that resets the device (the present still
 * pending, then blank); always one device callback at a time. */
struct gpu_backend_ops {
	const char *name;
	/* Pictures shown per second at most: flushes in between are folded
	 * into the next present. */
	unsigned max_fps;
	/* At create, after the JSON was read: take the output. 0, or -errno
	 * after logging why. Optional. */
	int (*open)(struct gpu *gpu);
	/* At destroy: give everything back. Optional. */
	void (*close)(struct gpu *gpu);
	/* Show scanout `sid`: its resource's pixels changed, or the cursor.
	 * Called only for a scanout showing a resource. */
	void (*present)(struct gpu *gpu, uint32_t sid);
	/* The guest disabled scanout `sid` (SET_SCANOUT with resource 0) or
	 * reset the device. Optional. */
	void (*blank)(struct gpu *gpu, uint32_t sid);
};

extern const struct gpu_backend_ops gpu_backend_headless;
extern const struct gpu_backend_ops gpu_backend_drm;
extern const struct gpu_backend_ops gpu_backend_vnc;

struct gpu {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	/* Configuration. */
	uint32_t width, height;
	uint32_t num_scanouts;
	uint64_t max_memory;
	const char *snapshot; /* NULL: no snapshots */
	const struct gpu_backend_ops *backend;
	/* No "backend" key: an open() failing with -ENODEV (no display
	 * found) falls back to headless. */
	bool backend_default;
	void *backend_state; /* the backend's own */
	struct gpu_mode modes[VIRTIO_GPU_MAX_SCANOUTS];
	/* Device state, cleared by reset. */
	struct gpu_resource *resources;
	uint32_t nr_resources;
	uint64_t used_memory;
	struct gpu_scanout scanouts[VIRTIO_GPU_MAX_SCANOUTS];
	struct gpu_cursor cursor;
	uint32_t events_read;
	/* Presenting (display.c). */
	uint32_t dirty; /* bit per scanout waiting to be presented */
	struct hvd_timer *present_timer;
	uint64_t present_last_ns;
	/* Serving the rest of a long queue from the event loop. */
	struct hvd_timer *resume_timer;
	/* A large transfer copied from the event loop (gpu.c): the control
	 * queue waits while xfer_chain is set. */
	struct gpu_transfer xfer;
	struct hvd_chain *xfer_chain;
	struct virtio_gpu_ctrl_hdr xfer_resp;
	struct hvd_timer *xfer_timer;
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
/* Copy up to GPU_TRANSFER_SLICE bytes of gpu->xfer; true when no rows
 * are left. gpu_ctrl_command leaves rows there (xfer.rows > 0) when a
 * transfer is larger than one slice: its reply is the one to send when
 * they are done. */
bool gpu_transfer_step(struct gpu *gpu);
void gpu_resources_free(struct gpu *gpu);
struct gpu_resource *gpu_resource_find(struct gpu *gpu, uint32_t id);

/* cursor.c: blend the cursor over row y of a scanout's picture, in
 * gpu_scanout_row()'s format. */
void gpu_cursor_blend_row(const struct gpu *gpu, uint32_t scanout, uint32_t y,
			  uint32_t *xrgb, uint32_t w);

/* edid.c: a 128-byte EDID 1.4 block for one mode; returns its size. */
size_t gpu_edid_build(uint8_t *out, size_t room, uint32_t width,
		      uint32_t height);

/* display.c */
/* The scanout's picture changed: present it (rate-limited by the
 * backend's max_fps). Any device callback. */
void gpu_display_mark(struct gpu *gpu, uint32_t scanout);
/* The scanout was disabled: tell the backend. */
void gpu_display_blank(struct gpu *gpu, uint32_t scanout);
/* Present now what waits for the timer (reset: the last picture the
 * guest flushed is shown, e.g. written to the snapshot). */
void gpu_display_flush(struct gpu *gpu);
/* Drop a planned present (reset, destroy). */
void gpu_display_cancel(struct gpu *gpu);
/* The host's display for `scanout` changed: record the new mode and raise
 * VIRTIO_GPU_EVENT_DISPLAY (the guest then asks GET_DISPLAY_INFO again).
 * Event-loop thread. */
void gpu_display_resize(struct gpu *gpu, uint32_t scanout, uint32_t width,
			uint32_t height, bool enabled);
/* Row y (0 = the scanout's top) of what scanout `sid` shows, cursor drawn
 * in, as native-endian 0x00RRGGBB words; w words are written (the
 * scanout's width). The scanout must show a resource. */
void gpu_scanout_row(const struct gpu *gpu, uint32_t sid, uint32_t y,
		     uint32_t *xrgb);
/* The scanout's size, or false when it shows nothing. */
bool gpu_scanout_size(const struct gpu *gpu, uint32_t sid, uint32_t *w,
		      uint32_t *h);
/* backend_headless.c: row y as 8-bit R, G, B bytes (xrgb: scratch of the
 * scanout's width). */
void gpu_scanout_rgb_row(const struct gpu *gpu, uint32_t sid, uint32_t y,
			 uint32_t *xrgb, uint8_t *rgb);
/* png.c: the scanout (w x h) as a PNG file; 0 or -errno. */
int gpu_png_write(FILE *f, const struct gpu *gpu, uint32_t sid, uint32_t w,
		  uint32_t h);
/* The byte offsets of red, green, blue and alpha (-1: none) in a pixel of
 * `format`; false for an unsupported format. */
bool gpu_format_layout(uint32_t format, int *r, int *g, int *b, int *a);

#endif
