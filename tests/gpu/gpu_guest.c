/* SPDX-License-Identifier: MIT */
/* The gpu suites' guest driver and host helpers (gpu_guest.h). */
#define _GNU_SOURCE
#include "gpu_guest.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <poll.h>
#include <stdio.h>
#ifdef HVD_GPU_PNG
#include <zlib.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define F_WANTED ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_GPU_F_EDID))

static uint64_t offered_features(struct hvd_guest_dev *d)
{
	uint64_t f = 0;
	for (uint32_t sel = 0; sel < 2; sel++) {
		hvd_guest_reg_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
		f |= (uint64_t)hvd_guest_reg_read(d,
						  VIRTIO_MMIO_DEVICE_FEATURES)
		     << (32 * sel);
	}
	return f;
}

int gg_up(struct gg *g)
{
	uint64_t got = 0;
	int r = hvd_guest_negotiate(g->d, F_WANTED, &got);
	if (r)
		return r;
	if (got != F_WANTED)
		return -EPROTO;
	g->ctrl = hvd_guest_vq_setup(g->d, 0, 64);
	g->cursor = hvd_guest_vq_setup(g->d, 1, 64);
	if (!g->ctrl || !g->cursor)
		return -ENOMEM;
	return hvd_guest_driver_ok(g->d);
}

int gg_open(struct gg *g, struct hvd_mock *m, uint64_t base, uint32_t irq)
{
	memset(g, 0, sizeof *g);
	g->d = hvd_guest_open(m, 1, base, irq);
	if (!g->d)
		return -ENOMEM;
	hvd_guest_set_timeout(g->d, GG_WAIT_MS);
	if (hvd_guest_probe(g->d) != VIRTIO_ID_GPU)
		return -ENODEV;
	g->offered = offered_features(g->d);
	void *req, *resp, *fb;
	g->req_gpa = hvd_guest_alloc(g->d, GG_REQ_MAX, 16, &req);
	g->resp_gpa = hvd_guest_alloc(g->d, GG_RESP_MAX, 16, &resp);
	g->fb_gpa = hvd_guest_alloc(g->d, GG_FB_SIZE, 4096, &fb);
	if (!g->req_gpa || !g->resp_gpa || !g->fb_gpa)
		return -ENOMEM;
	g->req = req;
	g->resp = resp;
	g->fb = fb;
	return gg_up(g);
}

void gg_close(struct gg *g)
{
	if (g->d)
		hvd_guest_close(g->d);
	g->d = NULL;
}

static int submit(struct gg *g, struct hvd_guest_vq *vq, const void *req,
		  size_t len, size_t resp_room)
{
	if (len > GG_REQ_MAX || resp_room > GG_RESP_MAX)
		return -EINVAL;
	memcpy(g->req, req, len);
	memset(g->resp, 0xee, GG_RESP_MAX);
	struct hvd_guest_buf b[2] = {
		{g->req_gpa, (uint32_t)len, false},
		{g->resp_gpa, (uint32_t)resp_room, true},
	};
	int r = hvd_guest_vq_add(vq, b, resp_room ? 2 : 1, false, g->req);
	if (r < 0)
		return r;
	if (hvd_guest_vq_kick(vq) < 0)
		return -EIO;
	void *token;
	r = hvd_guest_vq_wait_used(vq, &token, &g->used_len, GG_WAIT_MS);
	if (r)
		return r;
	if (token != g->req)
		return -EPROTO;
	if (g->used_len < sizeof(struct virtio_gpu_ctrl_hdr))
		return 0; /* no response */
	const struct virtio_gpu_ctrl_hdr *hdr = (const void *)g->resp;
	return (int)le32toh(hdr->type);
}

int gg_cmd(struct gg *g, const void *req, size_t len, size_t resp_room)
{
	return submit(g, g->ctrl, req, len, resp_room);
}

int gg_cursor_cmd(struct gg *g, const void *req, size_t len, size_t resp_room)
{
	return submit(g, g->cursor, req, len, resp_room);
}

#define HDR(t)                     \
	{                          \
		.type = htole32(t) \
	}
#define NODATA sizeof(struct virtio_gpu_ctrl_hdr)

int gg_create(struct gg *g, uint32_t id, uint32_t format, uint32_t w,
	      uint32_t h)
{
	struct virtio_gpu_resource_create_2d c = {
		.hdr = HDR(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D),
		.resource_id = htole32(id),
		.format = htole32(format),
		.width = htole32(w),
		.height = htole32(h),
	};
	return gg_cmd(g, &c, sizeof c, NODATA);
}

int gg_unref(struct gg *g, uint32_t id)
{
	struct virtio_gpu_resource_unref u = {
		.hdr = HDR(VIRTIO_GPU_CMD_RESOURCE_UNREF),
		.resource_id = htole32(id),
	};
	return gg_cmd(g, &u, sizeof u, NODATA);
}

int gg_attach(struct gg *g, uint32_t id, unsigned n, const uint64_t *gpa,
	      const uint32_t *len)
{
	struct virtio_gpu_resource_attach_backing a = {
		.hdr = HDR(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING),
		.resource_id = htole32(id),
		.nr_entries = htole32(n),
	};
	size_t size = sizeof a + n * sizeof(struct virtio_gpu_mem_entry);
	uint8_t *buf = calloc(1, size);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &a, sizeof a);
	for (unsigned i = 0; i < n; i++) {
		struct virtio_gpu_mem_entry e = {.addr = htole64(gpa[i]),
						 .length = htole32(len[i])};
		memcpy(buf + sizeof a + i * sizeof e, &e, sizeof e);
	}
	int r = gg_cmd(g, buf, size, NODATA);
	free(buf);
	return r;
}

int gg_detach(struct gg *g, uint32_t id)
{
	struct virtio_gpu_resource_detach_backing d = {
		.hdr = HDR(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING),
		.resource_id = htole32(id),
	};
	return gg_cmd(g, &d, sizeof d, NODATA);
}

static struct virtio_gpu_rect rect(uint32_t x, uint32_t y, uint32_t w,
				   uint32_t h)
{
	return (struct virtio_gpu_rect){htole32(x), htole32(y), htole32(w),
					htole32(h)};
}

int gg_set_scanout(struct gg *g, uint32_t sid, uint32_t id, uint32_t x,
		   uint32_t y, uint32_t w, uint32_t h)
{
	struct virtio_gpu_set_scanout s = {
		.hdr = HDR(VIRTIO_GPU_CMD_SET_SCANOUT),
		.r = rect(x, y, w, h),
		.scanout_id = htole32(sid),
		.resource_id = htole32(id),
	};
	return gg_cmd(g, &s, sizeof s, NODATA);
}

int gg_transfer(struct gg *g, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
		uint32_t h, uint64_t offset)
{
	struct virtio_gpu_transfer_to_host_2d t = {
		.hdr = HDR(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D),
		.r = rect(x, y, w, h),
		.offset = htole64(offset),
		.resource_id = htole32(id),
	};
	return gg_cmd(g, &t, sizeof t, NODATA);
}

int gg_flush(struct gg *g, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
	     uint32_t h)
{
	struct virtio_gpu_resource_flush f = {
		.hdr = HDR(VIRTIO_GPU_CMD_RESOURCE_FLUSH),
		.r = rect(x, y, w, h),
		.resource_id = htole32(id),
	};
	return gg_cmd(g, &f, sizeof f, NODATA);
}

int gg_cursor(struct gg *g, bool update, uint32_t sid, uint32_t x, uint32_t y,
	      uint32_t id, uint32_t hot_x, uint32_t hot_y)
{
	struct virtio_gpu_update_cursor c = {
		.hdr = HDR(update ? VIRTIO_GPU_CMD_UPDATE_CURSOR
				  : VIRTIO_GPU_CMD_MOVE_CURSOR),
		.pos = {.scanout_id = htole32(sid),
			.x = htole32(x),
			.y = htole32(y)},
		.resource_id = htole32(id),
		.hot_x = htole32(hot_x),
		.hot_y = htole32(hot_y),
	};
	return gg_cursor_cmd(g, &c, sizeof c, NODATA);
}

const char *gg_tmpdir(void)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/hvd-gpu-XXXXXX");
		if (!mkdtemp(dir))
			return NULL;
	}
	return dir;
}

int gg_watch(const char *dir)
{
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, dir, IN_MOVED_TO) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

int gg_wait_renamed(int watch, const char *name)
{
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		struct pollfd p = {.fd = watch, .events = POLLIN};
		int r = poll(&p, 1, GG_WAIT_MS);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		ssize_t n = read(watch, buf, sizeof buf);
		for (ssize_t off = 0; off < n;) {
			const struct inotify_event *ev =
				(const void *)(buf + off);
			if (ev->len && strcmp(ev->name, name) == 0)
				return 0;
			off += (ssize_t)(sizeof *ev + ev->len);
		}
	}
}

int gg_read_ppm(const char *path, uint32_t *w, uint32_t *h, uint8_t **rgb)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	unsigned max = 0;
	int r = -EPROTO;
	if (fscanf(f, "P6 %u %u %u", w, h, &max) != 3 || max != 255 ||
	    fgetc(f) != '\n' || *w > 4096 || *h > 4096)
		goto out;
	size_t size = (size_t)*w * *h * 3;
	*rgb = malloc(size + 1);
	if (!*rgb) {
		r = -ENOMEM;
		goto out;
	}
	/* Exactly the pixels: nothing more in the file. */
	r = fread(*rgb, 1, size + 1, f) == size ? 0 : -EPROTO;
	if (r) {
		free(*rgb);
		*rgb = NULL;
	}
out:
	fclose(f);
	return r;
}

#ifdef HVD_GPU_PNG
static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* PNG as the gpu plugin writes it (8-bit RGB, no interlace, filter 0),
 * read with zlib's inflate and CRC-32: every chunk's CRC checked, the IDAT
 * data inflating to exactly h rows of 1 + 3w bytes. */
int gg_read_png(const char *path, uint32_t *w, uint32_t *h, uint8_t **rgb)
{
	static const uint8_t sig[8] = {0x89, 'P',  'N',  'G',
				       '\r', '\n', 0x1a, '\n'};
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	uint8_t *file = malloc(64u << 20), *idat = malloc(64u << 20),
		*raw = NULL;
	size_t size = file ? fread(file, 1, 64u << 20, f) : 0, nidat = 0;
	fclose(f);
	int r = -EPROTO;
	*rgb = NULL;
	if (!file || !idat || size < 8 || memcmp(file, sig, 8))
		goto out;
	bool ihdr = false, iend = false;
	for (size_t at = 8; at + 12 <= size && !iend;) {
		uint32_t len = get_be32(file + at);
		const uint8_t *type = file + at + 4, *data = type + 4;
		if (len > size - at - 12 ||
		    crc32(crc32(0, type, 4), data, len) != get_be32(data + len))
			goto out;
		if (!memcmp(type, "IHDR", 4) && len == 13) {
			*w = get_be32(data);
			*h = get_be32(data + 4);
			ihdr = !memcmp(data + 8, "\x08\x02\0\0\0", 5) && *w &&
			       *h && *w <= 4096 && *h <= 4096;
		} else if (!memcmp(type, "IDAT", 4)) {
			memcpy(idat + nidat, data, len);
			nidat += len;
		} else if (!memcmp(type, "IEND", 4)) {
			iend = at + 12 + len == size; /* nothing after it */
		}
		at += 12 + len;
	}
	if (!ihdr || !iend)
		goto out;
	uLongf rawlen = (uLongf)*h * (1 + *w * 3) + 1;
	raw = malloc(rawlen);
	*rgb = malloc((size_t)*w * *h * 3);
	if (!raw || !*rgb || uncompress(raw, &rawlen, idat, nidat) != Z_OK ||
	    rawlen != (uLongf)*h * (1 + *w * 3))
		goto out;
	r = 0;
	for (uint32_t y = 0; y < *h && !r; y++) {
		const uint8_t *line = raw + (size_t)y * (1 + *w * 3);
		if (line[0] != 0)
			r = -EPROTO;
		memcpy(*rgb + (size_t)y * *w * 3, line + 1, (size_t)*w * 3);
	}
out:
	if (r) {
		free(*rgb);
		*rgb = NULL;
	}
	free(raw);
	free(idat);
	free(file);
	return r;
}
#endif
