/* SPDX-License-Identifier: MIT */
/*
 * The drm backend: the guest's scanouts on zone 0's displays through KMS
 * (libdrm). Scanout N shows on the Nth connector that was connected at
 * open; scanouts beyond those take the remaining connectors in order, so a
 * display plugged in later appears as an enabled scanout. Each scanout
 * reports its connector's preferred mode as its display (the guest then
 * picks it); a guest picture of another size is centered, or clipped
 * around its center, on black.
 *
 * Two dumb XRGB8888 buffers per output: the mode is set with the first
 * picture, later pictures are drawn into the buffer not shown and flipped
 * (drmModePageFlip with an event). The flip events arrive on the DRM fd,
 * watched on the event loop; a picture that comes while a flip is pending
 * is drawn when it completes, so nothing ever waits for a vblank. Every
 * DRM_PROBE_NS the connectors' cached status (no forced probe) is read: a
 * connector that went or came, or changed its preferred mode, raises
 * VIRTIO_GPU_EVENT_DISPLAY. At close the CRTCs get back what they showed.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include "gpu.h"

#define DRM_MAX_FPS 60u
/* Connector status is read this often (a cached value: no DDC traffic). */
#define DRM_PROBE_NS (2000000000ull)
/* The EDID's detailed timing holds 12-bit sizes. */
#define DRM_MAX_DIM 4095u

struct drm_buf {
	uint32_t handle, fb_id, pitch;
	uint64_t size;
	uint8_t *map;
};

struct drm_out {
	struct drm_state *st;
	uint32_t sid;
	uint32_t conn_id, crtc_id;
	bool connected;
	drmModeModeInfo mode;
	struct drm_buf buf[2];
	unsigned front;     /* buffer on screen */
	bool mode_set;      /* our buffer is on the CRTC */
	bool touched;       /* we set the CRTC: restore it at close */
	bool warned;        /* a failed mode set or flip was logged */
	bool flip_pending;  /* a flip was queued, its event not seen yet */
	bool redraw;        /* draw again when the flip completes */
	drmModeCrtc *saved; /* what the CRTC showed before us */
};

struct drm_state {
	struct gpu *gpu;
	int fd;
	char path[64];
	uint32_t nout;
	struct drm_out out[VIRTIO_GPU_MAX_SCANOUTS];
	uint32_t crtcs_used; /* bit per index in the resources' CRTC list */
	struct hvd_watch *watch;
	struct hvd_timer *probe_timer, *blank_timer;
	uint32_t blank; /* bit per scanout to show black */
	uint32_t *row;  /* one scanout row */
	uint32_t row_cap;
};

static void drm_log(struct drm_state *st, enum hvd_log_level level,
		    const char *what, int err)
{
	st->gpu->host->log(st->gpu->dev, level, "%s: %s: %s", st->path, what,
			   strerror(err));
}

/* ---- Buffers -------------------------------------------------------- */

static void buf_free(int fd, struct drm_buf *b)
{
	if (b->map)
		munmap(b->map, b->size);
	if (b->fb_id)
		drmModeRmFB(fd, b->fb_id);
	if (b->handle) {
		struct drm_mode_destroy_dumb d = {.handle = b->handle};
		drmIoctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
	}
	memset(b, 0, sizeof *b);
}

static int buf_alloc(int fd, struct drm_buf *b, uint32_t w, uint32_t h)
{
	struct drm_mode_create_dumb c = {.width = w, .height = h, .bpp = 32};
	struct drm_mode_map_dumb m = {0};
	int r = 0;
	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return -errno;
	b->handle = c.handle;
	b->pitch = c.pitch;
	b->size = c.size;
	if (drmModeAddFB(fd, w, h, 24, 32, c.pitch, c.handle, &b->fb_id)) {
		r = -errno;
		goto fail;
	}
	m.handle = c.handle;
	if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m)) {
		r = -errno;
		goto fail;
	}
	void *p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)m.offset);
	if (p == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	b->map = p;
	memset(b->map, 0, b->size);
	return 0;
fail:
	buf_free(fd, b);
	return r;
}

static void out_free_bufs(struct drm_out *o)
{
	buf_free(o->st->fd, &o->buf[0]);
	buf_free(o->st->fd, &o->buf[1]);
	o->mode_set = false;
}

/* ---- Drawing -------------------------------------------------------- */

/* Where a source span of `src` pixels lands on `dst`: centered when it is
 * smaller, clipped around its center when larger. */
static void center(uint32_t src, uint32_t dst, uint32_t *skip, uint32_t *at,
		   uint32_t *n)
{
	*skip = src > dst ? (src - dst) / 2 : 0;
	*at = dst > src ? (dst - src) / 2 : 0;
	*n = src < dst ? src : dst;
}

static bool row_room(struct drm_state *st, uint32_t w)
{
	if (w <= st->row_cap)
		return true;
	uint32_t *row = realloc(st->row, (size_t)w * sizeof *row);
	if (!row)
		return false;
	st->row = row;
	st->row_cap = w;
	return true;
}

/* Draw the scanout's picture (or black) into buffer b. */
static void draw(struct drm_out *o, struct drm_buf *b, bool black)
{
	struct gpu *gpu = o->st->gpu;
	uint32_t W = o->mode.hdisplay, H = o->mode.vdisplay, w = 0, h = 0;
	if (black || !gpu_scanout_size(gpu, o->sid, &w, &h) ||
	    !row_room(o->st, w)) {
		memset(b->map, 0, b->size);
		return;
	}
	uint32_t sx, dx, nx, sy, dy, ny;
	center(w, W, &sx, &dx, &nx);
	center(h, H, &sy, &dy, &ny);
	if (nx < W || ny < H)
		memset(b->map, 0, b->size); /* the margins */
	for (uint32_t y = 0; y < ny; y++) {
		uint32_t *row = o->st->row;
		gpu_scanout_row(gpu, o->sid, sy + y, row);
		/* XRGB8888 is little-endian 0x00RRGGBB words in memory. */
		uint32_t *d =
			(uint32_t *)(b->map + (uint64_t)(dy + y) * b->pitch) +
			dx;
		for (uint32_t x = 0; x < nx; x++)
			d[x] = htole32(row[sx + x]);
	}
}

/* Once per output: a display that refuses pictures would otherwise log
 * up to DRM_MAX_FPS lines a second. */
static void out_warn(struct drm_out *o, const char *what, int err)
{
	if (!o->warned)
		drm_log(o->st, HVD_LOG_WARN, what, err);
	o->warned = true;
}

/* Show the scanout's current picture (black when `black` or when it shows
 * nothing): set the mode with the first one, flip to the others. */
static void show(struct drm_out *o, bool black)
{
	struct drm_state *st = o->st;
	if (!o->connected || !o->crtc_id)
		return;
	if (o->flip_pending) {
		o->redraw = true;
		return;
	}
	if (!o->buf[0].map) {
		for (unsigned i = 0; i < 2; i++) {
			int r = buf_alloc(st->fd, &o->buf[i], o->mode.hdisplay,
					  o->mode.vdisplay);
			if (r) {
				drm_log(st, HVD_LOG_WARN, "dumb buffer", -r);
				out_free_bufs(o);
				return;
			}
		}
	}
	unsigned back = o->mode_set ? o->front ^ 1u : o->front;
	draw(o, &o->buf[back], black);
	if (!o->mode_set) {
		if (drmModeSetCrtc(st->fd, o->crtc_id, o->buf[back].fb_id, 0, 0,
				   &o->conn_id, 1, &o->mode)) {
			out_warn(o, "mode set", errno);
			return;
		}
		o->mode_set = o->touched = true;
		return;
	}
	if (drmModePageFlip(st->fd, o->crtc_id, o->buf[back].fb_id,
			    DRM_MODE_PAGE_FLIP_EVENT, o)) {
		out_warn(o, "page flip", errno);
		return;
	}
	o->flip_pending = true;
	o->front = back;
}

static void flip_done(int fd, unsigned seq, unsigned sec, unsigned usec,
		      void *data)
{
	(void)fd, (void)seq, (void)sec, (void)usec;
	struct drm_out *o = data;
	o->flip_pending = false;
	if (o->redraw) {
		o->redraw = false;
		show(o, o->st->blank & 1u << o->sid);
	}
}

static void drm_event(void *opaque, int fd, uint32_t events)
{
	(void)events;
	struct drm_state *st = opaque;
	drmEventContext ev = {.version = 2, .page_flip_handler = flip_done};
	if (drmHandleEvent(fd, &ev))
		drm_log(st, HVD_LOG_WARN, "reading events", errno);
}

static void drm_present(struct gpu *gpu, uint32_t sid)
{
	struct drm_state *st = gpu->backend_state;
	if (sid >= st->nout)
		return;
	st->blank &= ~(1u << sid);
	show(&st->out[sid], false);
}

static void blank_fire(void *opaque)
{
	struct drm_state *st = opaque;
	st->gpu->host->timer_cancel(st->blank_timer);
	st->blank_timer = NULL;
	for (uint32_t i = 0; i < st->nout; i++)
		if (st->blank & 1u << i)
			show(&st->out[i], true);
}

/* Dispatch thread (SET_SCANOUT 0, reset): the drawing is left to the
 * event loop. */
static void drm_blank(struct gpu *gpu, uint32_t sid)
{
	struct drm_state *st = gpu->backend_state;
	if (sid >= st->nout || !st->out[sid].mode_set)
		return;
	st->blank |= 1u << sid;
	if (!st->blank_timer)
		st->blank_timer =
			gpu->host->timer_add(gpu->dev, 1, 0, blank_fire, st);
}

/* ---- Connectors ----------------------------------------------------- */

static bool preferred_mode(const drmModeConnector *c, drmModeModeInfo *mode)
{
	if (c->connection != DRM_MODE_CONNECTED || c->count_modes == 0)
		return false;
	*mode = c->modes[0];
	for (int i = 0; i < c->count_modes; i++)
		if (c->modes[i].type & DRM_MODE_TYPE_PREFERRED) {
			*mode = c->modes[i];
			break;
		}
	return true;
}

/* A CRTC for the connector no other output uses: the one its encoder
 * drives now, else the first its encoders can drive. 0 if none. */
static uint32_t pick_crtc(struct drm_state *st, const drmModeRes *res,
			  const drmModeConnector *c)
{
	uint32_t possible = 0, current = 0;
	for (int i = 0; i < c->count_encoders; i++) {
		drmModeEncoder *e = drmModeGetEncoder(st->fd, c->encoders[i]);
		if (!e)
			continue;
		possible |= e->possible_crtcs;
		if (e->encoder_id == c->encoder_id)
			current = e->crtc_id;
		drmModeFreeEncoder(e);
	}
	for (int i = 0; i < res->count_crtcs && i < 32; i++)
		if (res->crtcs[i] == current && !(st->crtcs_used & 1u << i))
			possible = 1u << i;
	for (int i = 0; i < res->count_crtcs && i < 32; i++)
		if (possible & 1u << i && !(st->crtcs_used & 1u << i)) {
			st->crtcs_used |= 1u << i;
			return res->crtcs[i];
		}
	return 0;
}

/* Take the connector's current state into o: true when what the guest
 * should see (connected, mode size) changed. */
static bool out_update(struct drm_out *o, const drmModeRes *res,
		       const drmModeConnector *c)
{
	drmModeModeInfo mode;
	bool on = preferred_mode(c, &mode);
	if (on == o->connected && (!on || (mode.hdisplay == o->mode.hdisplay &&
					   mode.vdisplay == o->mode.vdisplay &&
					   mode.clock == o->mode.clock)))
		return false;
	out_free_bufs(o);
	o->connected = on;
	if (!on)
		return true;
	o->mode = mode;
	if (!o->crtc_id)
		o->crtc_id = pick_crtc(o->st, res, c);
	if (o->crtc_id && !o->saved)
		o->saved = drmModeGetCrtc(o->st->fd, o->crtc_id);
	return true;
}

/* The scanout's display as the guest sees it: the preferred mode (within
 * what an EDID can say) while connected; disabled, keeping the last size,
 * while not. */
static void report_mode(struct gpu *gpu, const struct drm_out *o, bool event)
{
	uint32_t w = o->mode.hdisplay, h = o->mode.vdisplay;
	w = w < 16 ? 16 : w > DRM_MAX_DIM ? DRM_MAX_DIM : w;
	h = h < 16 ? 16 : h > DRM_MAX_DIM ? DRM_MAX_DIM : h;
	if (!o->connected) {
		w = gpu->modes[o->sid].width;
		h = gpu->modes[o->sid].height;
	}
	if (event) {
		gpu_display_resize(gpu, o->sid, w, h, o->connected);
		return;
	}
	gpu->modes[o->sid] = (struct gpu_mode){w, h, o->connected};
}

static void probe_fire(void *opaque)
{
	struct drm_state *st = opaque;
	drmModeRes *res = drmModeGetResources(st->fd);
	if (!res)
		return;
	for (uint32_t i = 0; i < st->nout; i++) {
		struct drm_out *o = &st->out[i];
		drmModeConnector *c =
			drmModeGetConnectorCurrent(st->fd, o->conn_id);
		if (!c)
			continue;
		bool changed = out_update(o, res, c);
		drmModeFreeConnector(c);
		if (!changed)
			continue;
		st->gpu->host->log(st->gpu->dev, HVD_LOG_INFO,
				   "scanout %u: connector %u %s %ux%u", i,
				   o->conn_id,
				   o->connected ? "connected" : "disconnected",
				   o->mode.hdisplay, o->mode.vdisplay);
		report_mode(st->gpu, o, true);
		if (o->connected)
			gpu_display_mark(st->gpu, i);
	}
	drmModeFreeResources(res);
}

/* Bind scanouts to connectors: connected ones first, then the rest. */
static void bind_outputs(struct drm_state *st, const drmModeRes *res,
			 uint32_t want)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < res->count_connectors && st->nout < want;
		     i++) {
			drmModeConnector *c =
				drmModeGetConnector(st->fd, res->connectors[i]);
			if (!c)
				continue;
			bool on = c->connection == DRM_MODE_CONNECTED;
			if (on == (pass == 0)) {
				struct drm_out *o = &st->out[st->nout];
				o->st = st;
				o->sid = st->nout++;
				o->conn_id = c->connector_id;
				out_update(o, res, c);
			}
			drmModeFreeConnector(c);
		}
}

/* ---- Open and close ------------------------------------------------- */

static bool has_connected(int fd, const drmModeRes *res)
{
	bool found = false;
	for (int i = 0; i < res->count_connectors && !found; i++) {
		drmModeConnector *c =
			drmModeGetConnector(fd, res->connectors[i]);
		drmModeModeInfo mode;
		found = c && preferred_mode(c, &mode);
		drmModeFreeConnector(c);
	}
	return found;
}

/* Open `path` if it is a KMS device with a connected connector this
 * process may drive: the fd, or -1 with *why set. */
static int card_open(const char *path, const char **why)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint64_t dumb = 0;
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	drmModeRes *res = drmModeGetResources(fd);
	*why = NULL;
	if (!res)
		*why = "not a KMS device";
	else if (drmGetCap(fd, DRM_CAP_DUMB_BUFFER, &dumb) || !dumb)
		*why = "no dumb buffers";
	else if (!drmIsMaster(fd) && drmSetMaster(fd))
		*why = "another process drives it (not DRM master)";
	else if (!has_connected(fd, res))
		*why = "no connected connector";
	drmModeFreeResources(res);
	if (*why) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The `card` key, or the first usable /dev/dri/card*. */
static int find_card(struct drm_state *st, const char **why)
{
	struct gpu *gpu = st->gpu;
	const char *card = NULL;
	if (gpu->host->cfg_string(gpu->dev, "card", &card) == -EINVAL)
		return -EINVAL;
	if (card) {
		snprintf(st->path, sizeof st->path, "%s", card);
		st->fd = card_open(card, why);
		if (st->fd < 0)
			return gpu->host->cfg_error(gpu->dev, "card", "%s: %s",
						    card, *why);
		return 0;
	}
	glob_t g;
	*why = "no /dev/dri/card*";
	if (glob("/dev/dri/card*", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && st->fd < 0; i++) {
			snprintf(st->path, sizeof st->path, "%s",
				 g.gl_pathv[i]);
			st->fd = card_open(g.gl_pathv[i], why);
		}
		globfree(&g);
	}
	return st->fd < 0 ? -ENODEV : 0;
}

static void drm_close(struct gpu *gpu)
{
	struct drm_state *st = gpu->backend_state;
	if (!st)
		return;
	if (st->probe_timer)
		gpu->host->timer_cancel(st->probe_timer);
	if (st->blank_timer)
		gpu->host->timer_cancel(st->blank_timer);
	if (st->watch)
		gpu->host->watch_remove(st->watch);
	for (uint32_t i = 0; i < st->nout; i++) {
		struct drm_out *o = &st->out[i];
		drmModeCrtc *s = o->saved;
		/* A queued flip must end before its buffer goes. */
		struct pollfd p = {.fd = st->fd, .events = POLLIN};
		while (o->flip_pending && poll(&p, 1, 1000) == 1)
			drm_event(st, st->fd, 0);
		if (s && o->touched &&
		    drmModeSetCrtc(st->fd, s->crtc_id, s->buffer_id, s->x, s->y,
				   s->buffer_id ? &o->conn_id : NULL,
				   s->buffer_id ? 1 : 0,
				   s->mode_valid ? &s->mode : NULL))
			drm_log(st, HVD_LOG_WARN, "restoring the CRTC", errno);
		out_free_bufs(o);
		drmModeFreeCrtc(s);
	}
	if (st->fd >= 0)
		close(st->fd);
	free(st->row);
	free(st);
	gpu->backend_state = NULL;
}

static int drm_open(struct gpu *gpu)
{
	struct drm_state *st = calloc(1, sizeof *st);
	const char *why = NULL;
	int r = -ENOMEM;
	if (!st)
		return r;
	st->gpu = gpu;
	st->fd = -1;
	gpu->backend_state = st;
	r = find_card(st, &why);
	if (r == -ENODEV && gpu->backend_default) {
		gpu->host->log(gpu->dev, HVD_LOG_INFO,
			       "no display for the drm backend (%s%s%s): "
			       "headless",
			       st->path, st->path[0] ? ": " : "", why);
		goto fail;
	}
	if (r == -ENODEV)
		r = gpu->host->cfg_error(gpu->dev, "card",
					 "none given, and no /dev/dri/card* "
					 "usable (last: %s: %s)",
					 st->path[0] ? st->path : "-", why);
	if (r)
		goto fail;
	drmModeRes *res = drmModeGetResources(st->fd);
	if (!res) {
		r = -errno;
		goto fail;
	}
	bind_outputs(st, res, gpu->num_scanouts);
	drmModeFreeResources(res);
	for (uint32_t i = 0; i < gpu->num_scanouts; i++)
		if (i < st->nout)
			report_mode(gpu, &st->out[i], false);
		else
			gpu->modes[i].enabled = false;
	st->watch = gpu->host->watch_add(gpu->dev, st->fd, HVD_EV_IN, drm_event,
					 st);
	st->probe_timer = gpu->host->timer_add(gpu->dev, DRM_PROBE_NS,
					       DRM_PROBE_NS, probe_fire, st);
	if (!st->watch || !st->probe_timer) {
		r = -ENOMEM;
		goto fail;
	}
	gpu->host->log(gpu->dev, HVD_LOG_INFO, "%s: %u output(s), %ux%u",
		       st->path, st->nout, st->out[0].mode.hdisplay,
		       st->out[0].mode.vdisplay);
	return 0;
fail:
	drm_close(gpu);
	return r;
}

const struct gpu_backend_ops gpu_backend_drm = {
	.name = "drm",
	.max_fps = DRM_MAX_FPS,
	.open = drm_open,
	.close = drm_close,
	.present = drm_present,
	.blank = drm_blank,
};
