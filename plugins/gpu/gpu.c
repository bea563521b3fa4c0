/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu (virtio 1.2 section 5.7), 2D: device life, JSON, config space
 * and the two queues. The commands are in cmd.c, the backends in
 * backend_*.c behind struct gpu_backend_ops.
 *
 * JSON keys: "width", "height" (the mode GET_DISPLAY_INFO and the EDID
 * report until a backend says otherwise; hvisor-tool's files give both),
 * "scanouts" (1-16, default 1), "backend" (see `backends` below and
 * default_backend()), "card" (drm: the DRM device), "snapshot" (headless:
 * a PPM file the frame is written to after a flush, rate-limited),
 * "max_memory" (bytes of host resources, default 256 MiB).
 *
 * Commands run inline on the dispatch thread, GPU_BATCH per pass; a
 * TRANSFER_TO_HOST_2D above GPU_TRANSFER_SLICE goes on from the event loop
 * a slice a pass while the control queue waits (see the measurement in
 * plugins/gpu/README.md).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <linux/virtio_ids.h>

#include "gpu.h"

#define GPU_DEFAULT_MAX_MEMORY (256ull << 20)
/* Requests served per pass before the rest is left to a timer, so one
 * busy guest does not keep the dispatch thread to itself. */
#define GPU_BATCH 64u

/* Every backend built, by its JSON name. */
static const struct gpu_backend_ops *const backends[] = {
	&gpu_backend_headless,
#ifdef HVD_GPU_DRM
	&gpu_backend_drm,
#endif
#ifdef HVD_GPU_VNC
	&gpu_backend_vnc,
#endif
};

/* Keys that only one backend reads. */
static const struct {
	const char *key, *backend;
} backend_keys[] = {
	{"snapshot", "headless"},
	{"card", "drm"},
	{"listen", "vnc"},
	{"input", "vnc"},
};

/* No "backend" key: a key only one backend reads picks it; else drm where
 * it was built (its open() falls back to headless when no display is
 * there), else headless. */
static const char *default_backend(struct gpu *gpu)
{
	for (size_t i = 0; i < sizeof backend_keys / sizeof backend_keys[0];
	     i++)
		if (gpu->host->cfg_kind(gpu->dev, backend_keys[i].key) >= 0)
			return backend_keys[i].backend;
	gpu->backend_default = true;
#ifdef HVD_GPU_DRM
	return gpu_backend_drm.name;
#else
	return gpu_backend_headless.name;
#endif
}

/* A key for another backend than the chosen one is refused. */
static int check_backend_keys(struct gpu *gpu)
{
	for (size_t i = 0; i < sizeof backend_keys / sizeof backend_keys[0];
	     i++)
		if (strcmp(backend_keys[i].backend, gpu->backend->name) &&
		    gpu->host->cfg_kind(gpu->dev, backend_keys[i].key) >= 0)
			return gpu->host->cfg_error(
				gpu->dev, backend_keys[i].key,
				"only for backend \"%s\", not \"%s\"",
				backend_keys[i].backend, gpu->backend->name);
	return 0;
}

static int pick_backend(struct gpu *gpu, const char *name)
{
	char names[128] = "";
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
		if (strcmp(backends[i]->name, name) == 0) {
			gpu->backend = backends[i];
			return 0;
		}
		snprintf(names + strlen(names), sizeof names - strlen(names),
			 "%s\"%s\"", i ? ", " : "", backends[i]->name);
	}
	gpu->host->log(gpu->dev, HVD_LOG_ERROR,
		       "backend: \"%s\" is not one of %s", name, names);
	return -EINVAL;
}

static int parse_config(struct gpu *gpu)
{
	const struct hvd_host_services *host = gpu->host;
	struct hvd_device *dev = gpu->dev;
	static const char *const keys[] = {
		"width",      "height", "scanouts", "backend", "snapshot",
		"max_memory", "card",   "listen",   "input",   NULL};
	if (host->cfg_check_keys(dev, keys))
		return -EINVAL;
	uint64_t width = 0, height = 0, scanouts = 1;
	uint64_t max_memory = GPU_DEFAULT_MAX_MEMORY;
	const char *backend = NULL;
	/* The EDID's detailed timing holds 12-bit sizes. */
	if (host->cfg_u64_range(dev, "width", 16, 4095, &width) ||
	    host->cfg_u64_range(dev, "height", 16, 4095, &height) ||
	    host->cfg_u64_range(dev, "scanouts", 1, VIRTIO_GPU_MAX_SCANOUTS,
				&scanouts) ||
	    host->cfg_u64_range(dev, "max_memory", 1ull << 20, 1ull << 36,
				&max_memory) ||
	    host->cfg_string(dev, "backend", &backend) == -EINVAL ||
	    host->cfg_string(dev, "snapshot", &gpu->snapshot) == -EINVAL)
		return -EINVAL;
	if (!width || !height) {
		host->log(dev, HVD_LOG_ERROR, "%s: required (pixels, 16-4095)",
			  width ? "height" : "width");
		return -EINVAL;
	}
	if (pick_backend(gpu, backend ? backend : default_backend(gpu)) ||
	    check_backend_keys(gpu))
		return -EINVAL;
	gpu->width = (uint32_t)width;
	gpu->height = (uint32_t)height;
	gpu->num_scanouts = (uint32_t)scanouts;
	gpu->max_memory = max_memory;
	for (uint32_t i = 0; i < gpu->num_scanouts; i++)
		gpu->modes[i] =
			(struct gpu_mode){gpu->width, gpu->height, true};
	return 0;
}

static int gpu_create(struct hvd_device *dev, struct hvd_device_info *info,
		      void **state)
{
	struct gpu *gpu = calloc(1, sizeof *gpu);
	if (!gpu)
		return -ENOMEM;
	gpu->dev = dev;
	gpu->host = hvd_host(dev);
	int r = parse_config(gpu);
	if (r)
		goto fail;
	gpu->req = malloc(GPU_REQ_MAX);
	if (!gpu->req) {
		r = -ENOMEM;
		goto fail;
	}
	if (gpu->backend->open) {
		r = gpu->backend->open(gpu);
		if (r == -ENODEV && gpu->backend_default) {
			gpu->backend = &gpu_backend_headless;
			r = 0;
		}
		if (r)
			goto fail;
	}
	info->num_queues = 2;
	info->queue_max_size = 256;
	info->config_size = sizeof(struct virtio_gpu_config);
	info->features = 1ull << VIRTIO_GPU_F_EDID;
	*state = gpu;
	gpu->host->log(dev, HVD_LOG_INFO,
		       "%ux%u, %u scanout(s), %s%s%s, max_memory %llu",
		       gpu->width, gpu->height, gpu->num_scanouts,
		       gpu->backend->name, gpu->snapshot ? ", snapshot " : "",
		       gpu->snapshot ? gpu->snapshot : "",
		       (unsigned long long)gpu->max_memory);
	return 0;
fail:
	free(gpu->req);
	free(gpu);
	return r;
}

static void stop_resume(struct gpu *gpu);
static void xfer_stop(struct gpu *gpu);

static void gpu_reset(void *state)
{
	struct gpu *gpu = state;
	stop_resume(gpu);
	xfer_stop(gpu);
	/* What the guest flushed last is still shown (the daemon's exit
	 * resets devices, and a snapshot must not miss the last frame). */
	gpu_display_flush(gpu); /* leaves nothing dirty */
	for (uint32_t i = 0; i < gpu->num_scanouts; i++)
		if (gpu->scanouts[i].resource_id)
			gpu_display_blank(gpu, i);
	gpu_resources_free(gpu);
	memset(gpu->scanouts, 0, sizeof gpu->scanouts);
	memset(&gpu->cursor, 0, sizeof gpu->cursor);
	gpu->events_read = 0;
}

static void gpu_destroy(void *state)
{
	struct gpu *gpu = state;
	gpu_reset(gpu);
	if (gpu->backend->close)
		gpu->backend->close(gpu);
	free(gpu->req);
	free(gpu);
}

static void gpu_config_read(void *state, uint32_t offset, void *buf,
			    uint32_t len)
{
	struct gpu *gpu = state;
	struct virtio_gpu_config cfg = {
		.events_read = htole32(gpu->events_read),
		.num_scanouts = htole32(gpu->num_scanouts),
	};
	memcpy(buf, (const uint8_t *)&cfg + offset, len);
}

/* Only events_clear is writable: its bits clear events_read. */
static void gpu_config_write(void *state, uint32_t offset, const void *buf,
			     uint32_t len)
{
	struct gpu *gpu = state;
	if (offset != offsetof(struct virtio_gpu_config, events_clear) ||
	    len != 4)
		return;
	uint32_t clear;
	memcpy(&clear, buf, 4);
	gpu->events_read &= ~le32toh(clear);
}

static void serve(struct gpu *gpu, unsigned index);

/* The rows of a large transfer, a slice a pass; then its reply, and the
 * control queue goes on. Event-loop thread. */
static void xfer_fire(void *opaque)
{
	struct gpu *gpu = opaque;
	gpu->host->timer_cancel(gpu->xfer_timer);
	gpu->xfer_timer = NULL;
	if (!gpu_transfer_step(gpu)) {
		gpu->xfer_timer =
			gpu->host->timer_add(gpu->dev, 1, 0, xfer_fire, gpu);
		return;
	}
	struct hvd_chain *chain = gpu->xfer_chain;
	gpu->xfer_chain = NULL;
	hvd_chain_write(chain, 0, &gpu->xfer_resp, sizeof gpu->xfer_resp);
	gpu->host->vq_push(chain, sizeof gpu->xfer_resp);
	serve(gpu, GPU_CTRLQ); /* notifies */
}

/* Reset, destroy: the transfer is dropped, its chain given back. */
static void xfer_stop(struct gpu *gpu)
{
	if (gpu->xfer_timer)
		gpu->host->timer_cancel(gpu->xfer_timer);
	gpu->xfer_timer = NULL;
	if (gpu->xfer_chain)
		gpu->host->vq_push(gpu->xfer_chain, 0);
	gpu->xfer_chain = NULL;
	gpu->xfer.rows = 0;
}

/* One control request: 0; 1 when a large transfer goes on from the event
 * loop (the queue waits for it); or -EPROTO after marking the device
 * broken. */
static int serve_ctrl(struct gpu *gpu, struct hvd_chain *chain)
{
	struct virtio_gpu_resp_edid resp; /* the largest response */
	size_t len = hvd_chain_read(chain, 0, gpu->req, GPU_REQ_MAX);
	size_t room =
		chain->in_bytes < sizeof resp ? chain->in_bytes : sizeof resp;
	memset(&resp, 0, sizeof resp);
	int n = gpu_ctrl_command(gpu, gpu->req, len, &resp, room);
	if (n < 0) {
		gpu->host->vq_push(chain, 0);
		gpu->host->needs_reset(gpu->dev,
				       "control request or response buffer "
				       "too short for its command");
		return -EPROTO;
	}
	if (gpu->xfer.rows) {
		/* A transfer's reply is a header (response_size()). */
		memcpy(&gpu->xfer_resp, &resp, sizeof gpu->xfer_resp);
		gpu->xfer_chain = chain;
		gpu->xfer_timer =
			gpu->host->timer_add(gpu->dev, 1, 0, xfer_fire, gpu);
		return 1;
	}
	hvd_chain_write(chain, 0, &resp, (size_t)n);
	gpu->host->vq_push(chain, (uint32_t)n);
	return 0;
}

/* One cursor request. The spec gives cursor commands no response; a
 * chain with room for a header still gets one (the error, if any). */
static int serve_cursor(struct gpu *gpu, struct hvd_chain *chain)
{
	struct virtio_gpu_update_cursor req;
	size_t len = hvd_chain_read(chain, 0, &req, sizeof req);
	uint32_t type = 0;
	if (gpu_cursor_command(gpu, &req, len, &type)) {
		gpu->host->vq_push(chain, 0);
		gpu->host->needs_reset(gpu->dev, "cursor request too short");
		return -EPROTO;
	}
	uint32_t written = 0;
	if (chain->in_bytes >= sizeof(struct virtio_gpu_ctrl_hdr)) {
		struct virtio_gpu_ctrl_hdr hdr = {.type = htole32(type)};
		hvd_chain_write(chain, 0, &hdr, sizeof hdr);
		written = sizeof hdr;
	}
	gpu->host->vq_push(chain, written);
	return 0;
}

static void stop_resume(struct gpu *gpu)
{
	if (gpu->resume_timer)
		gpu->host->timer_cancel(gpu->resume_timer);
	gpu->resume_timer = NULL;
}

static void resume(void *opaque)
{
	struct gpu *gpu = opaque;
	stop_resume(gpu);
	serve(gpu, GPU_CTRLQ);
	serve(gpu, GPU_CURSORQ);
}

static void serve(struct gpu *gpu, unsigned index)
{
	struct hvd_vq *vq = gpu->host->vq_get(gpu->dev, index);
	if (!vq || (index == GPU_CTRLQ && gpu->xfer_chain))
		return; /* xfer_fire() serves on */
	unsigned served;
	for (served = 0; served < GPU_BATCH; served++) {
		struct hvd_chain *chain = gpu->host->vq_pop(vq);
		if (!chain)
			break;
		int r = index == GPU_CTRLQ ? serve_ctrl(gpu, chain)
					   : serve_cursor(gpu, chain);
		if (r)
			break;
	}
	gpu->host->vq_notify(vq);
	/* The rest right after, from the event loop. */
	if (served == GPU_BATCH && !gpu->resume_timer &&
	    gpu->host->vq_has_work(vq))
		gpu->resume_timer =
			gpu->host->timer_add(gpu->dev, 1, 0, resume, gpu);
}

static void gpu_queue_notify(void *state, unsigned index)
{
	serve(state, index);
}

static const struct hvd_device_ops gpu_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = gpu_create,
	.destroy = gpu_destroy,
	.reset = gpu_reset,
	.config_read = gpu_config_read,
	.config_write = gpu_config_write,
	.queue_notify = gpu_queue_notify,
};

HVD_PLUGIN_DEFINE("gpu", VIRTIO_ID_GPU, "virtio-gpu 2D", "1.0", &gpu_ops);
