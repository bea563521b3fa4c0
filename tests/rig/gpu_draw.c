/* SPDX-License-Identifier: MIT */
/*
 * Guest program of the rig's gpu check (built static by gpu.prep.sh, run in
 * the guest by gpu.guest.sh): draws the picture of the file argv[1] (rows of
 * XRGB8888, 1280x800) into a dumb buffer of the stock virtio_gpu driver
 * (/dev/dri/card0), shows it on the first connected connector with a mode
 * set, and makes sure the device has served the transfer and flush that
 * this queued: it then creates a virtio-gpu resource with a fence and waits
 * for that fence, which the device can only signal after every earlier
 * command on the control queue (served in order). Prints "gpu_draw: shown"
 * and keeps the card open (as DRM master: the console's framebuffer would
 * come back at close) until killed.
 *
 * Raw ioctls with the kernel's uapi layouts, so the program links static
 * without libdrm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>
#include <virtgpu_drm.h>

#define W 1280u
#define H 800u

static int fd;

static void die(const char *what)
{
	printf("gpu_draw: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void xioctl(unsigned long req, void *arg, const char *what)
{
	int r;
	do
		r = ioctl(fd, req, arg);
	while (r && (errno == EINTR || errno == EAGAIN));
	if (r)
		die(what);
}

/* The first connected connector with a W x H mode: its id, mode, CRTC. */
static void find_output(uint32_t *conn_id, struct drm_mode_modeinfo *mode,
			uint32_t *crtc_id)
{
	uint32_t conns[16], crtcs[16];
	struct drm_mode_card_res res = {0};
	xioctl(DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");
	if (res.count_connectors > 16 || res.count_crtcs > 16 ||
	    !res.count_crtcs)
		die("unexpected resource counts");
	res.connector_id_ptr = (uintptr_t)conns;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.count_fbs = res.count_encoders = 0;
	xioctl(DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");
	for (uint32_t i = 0; i < res.count_connectors; i++) {
		struct drm_mode_modeinfo modes[32];
		struct drm_mode_get_connector c = {.connector_id = conns[i]};
		xioctl(DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR");
		if (c.connection != 1 || c.count_modes == 0 ||
		    c.count_modes > 32)
			continue;
		c.modes_ptr = (uintptr_t)modes;
		c.count_props = c.count_encoders = 0;
		xioctl(DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR");
		for (uint32_t m = 0; m < c.count_modes; m++)
			if (modes[m].hdisplay == W && modes[m].vdisplay == H) {
				*conn_id = conns[i];
				*mode = modes[m];
				*crtc_id = crtcs[0];
				return;
			}
	}
	errno = ENODEV;
	die("no connected connector with a 1280x800 mode");
}

static uint32_t draw(const char *path)
{
	struct drm_mode_create_dumb c = {.width = W, .height = H, .bpp = 32};
	xioctl(DRM_IOCTL_MODE_CREATE_DUMB, &c, "CREATE_DUMB");
	struct drm_mode_map_dumb m = {.handle = c.handle};
	xioctl(DRM_IOCTL_MODE_MAP_DUMB, &m, "MAP_DUMB");
	uint8_t *map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    fd, (off_t)m.offset);
	if (map == MAP_FAILED)
		die("mmap");
	FILE *f = fopen(path, "rb");
	if (!f)
		die(path);
	for (uint32_t y = 0; y < H; y++)
		if (fread(map + (uint64_t)y * c.pitch, 4, W, f) != W)
			die("short picture file");
	fclose(f);
	struct drm_mode_fb_cmd fb = {.width = W,
				     .height = H,
				     .pitch = c.pitch,
				     .bpp = 32,
				     .depth = 24,
				     .handle = c.handle};
	xioctl(DRM_IOCTL_MODE_ADDFB, &fb, "ADDFB");
	return fb.fb_id;
}

/* Every command queued so far has been served: see the file comment. */
static void sync_device(void)
{
	struct drm_virtgpu_resource_create r = {
		.target = 2, /* a 2D texture */
		.format = 2, /* VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM */
		.width = 16,
		.height = 16,
		.depth = 1,
		.array_size = 1,
	};
	xioctl(DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &r, "RESOURCE_CREATE");
	struct drm_virtgpu_3d_wait w = {.handle = r.bo_handle};
	xioctl(DRM_IOCTL_VIRTGPU_WAIT, &w, "WAIT");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gpu_draw PICTURE\n");
		return 2;
	}
	fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/dri/card0");
	uint32_t conn_id, crtc_id;
	struct drm_mode_modeinfo mode;
	find_output(&conn_id, &mode, &crtc_id);
	struct drm_mode_crtc set = {
		.set_connectors_ptr = (uintptr_t)&conn_id,
		.count_connectors = 1,
		.crtc_id = crtc_id,
		.fb_id = draw(argv[1]),
		.mode_valid = 1,
		.mode = mode,
	};
	xioctl(DRM_IOCTL_MODE_SETCRTC, &set, "SETCRTC");
	sync_device();
	printf("gpu_draw: shown\n");
	fflush(stdout);
	pause();
	return 0;
}
