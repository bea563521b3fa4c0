/* SPDX-License-Identifier: MIT */
/*
 * A guest-side virtio-gpu driver for the gpu suites, on top of the mock
 * harness: bring-up, one control command at a time (request and response
 * buffers in guest RAM), cursor commands, the 2D commands as one-liners;
 * plus host-side helpers to wait for a snapshot file and read a PPM. Every
 * wait has a timeout that only guards against failure.
 */
#ifndef TESTS_GPU_GUEST_H
#define TESTS_GPU_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_gpu.h>

#include "hvd/mock.h"

#define GG_WAIT_MS  10000
#define GG_REQ_MAX  (1u << 20)
#define GG_RESP_MAX 4096u
#define GG_FB_SIZE  (2u << 20)

struct gg {
	struct hvd_guest_dev *d;
	struct hvd_guest_vq *ctrl, *cursor;
	uint64_t req_gpa, resp_gpa;
	uint8_t *req, *resp; /* guest RAM */
	/* GG_FB_SIZE bytes of guest RAM for the tests' backing. */
	uint64_t fb_gpa;
	uint8_t *fb;
	uint32_t used_len; /* of the last command */
	uint64_t offered;  /* device features */
};

/* Probe (device id 16), negotiate VERSION_1 | EDID, two queues, DRIVER_OK.
 * 0 or -errno. */
int gg_open(struct gg *g, struct hvd_mock *m, uint64_t base, uint32_t irq);
/* After a device reset: the same bring-up again on the same device. */
int gg_up(struct gg *g);
void gg_close(struct gg *g);

/* Send req (len bytes) on the control queue with resp_room bytes to
 * write; wait for it. The response type, or -errno; g->resp has it. */
int gg_cmd(struct gg *g, const void *req, size_t len, size_t resp_room);
/* A cursor command; with resp_room 0 the chain is readable only. */
int gg_cursor_cmd(struct gg *g, const void *req, size_t len, size_t resp_room);

/* The 2D commands; each returns the response type. */
int gg_create(struct gg *g, uint32_t id, uint32_t format, uint32_t w,
	      uint32_t h);
int gg_unref(struct gg *g, uint32_t id);
/* Backing of n entries {gpa[i], len[i]}. */
int gg_attach(struct gg *g, uint32_t id, unsigned n, const uint64_t *gpa,
	      const uint32_t *len);
int gg_detach(struct gg *g, uint32_t id);
int gg_set_scanout(struct gg *g, uint32_t sid, uint32_t id, uint32_t x,
		   uint32_t y, uint32_t w, uint32_t h);
int gg_transfer(struct gg *g, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
		uint32_t h, uint64_t offset);
int gg_flush(struct gg *g, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
	     uint32_t h);
/* UPDATE_CURSOR (update) or MOVE_CURSOR, with room for a response. */
int gg_cursor(struct gg *g, bool update, uint32_t sid, uint32_t x, uint32_t y,
	      uint32_t id, uint32_t hot_x, uint32_t hot_y);

/* ---- Host side ---------------------------------------------------------- */

/* A fresh private directory. */
const char *gg_tmpdir(void);
/* An inotify watch on dir for renamed-in files. */
int gg_watch(const char *dir);
/* Wait until a file called `name` is renamed into the watched dir. */
int gg_wait_renamed(int watch, const char *name);
/* Read a binary PPM: *rgb malloc'd (w*h*3 bytes). */
int gg_read_ppm(const char *path, uint32_t *w, uint32_t *h, uint8_t **rgb);
#ifdef HVD_GPU_PNG
/* The same for the PNG the plugin writes (checked chunk by chunk). */
int gg_read_png(const char *path, uint32_t *w, uint32_t *h, uint8_t **rgb);
#endif

#endif
