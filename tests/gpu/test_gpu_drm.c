/* SPDX-License-Identifier: MIT */
/*
 * The drm backend against a real KMS device: HVD_TEST_DRM_CARD names it
 * (the 30-kmod stage's QEMU guest sets it to Bochs' /dev/dri/card0);
 * without it the suite skips (exit 77), as a test must not take over the
 * build machine's display. This process opens the card a second time,
 * without DRM master, to see what the CRTC shows:
 * - GET_DISPLAY_INFO reports the connector's preferred mode; scanouts
 *   beyond the connected connectors are disabled;
 * - a 200x100 guest picture reaches the CRTC's framebuffer centered on
 *   black, in the preferred mode; the next picture arrives by a flip to
 *   the other buffer; SET_SCANOUT with resource 0 flips to black;
 * - forcing the connector off and back on through sysfs raises
 *   VIRTIO_GPU_EVENT_DISPLAY both times, the scanout disabled and enabled
 *   (with no "backend" key: drm is the default where a card is usable);
 * - the daemon's exit gives the CRTC its previous framebuffer back.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "gpu_guest.h"

#define BASE 0xa003400u
#define IRQ  74u
#define OK   VIRTIO_GPU_RESP_OK_NODATA
#define PW   200u
#define PH   100u
/* fb_shows(): black where the picture would be. */
#define BLACK (~0u)

static const char *card;
static int kfd = -1; /* our own look at the card, not master */
static struct fixture fx;
static struct gg g;

/* The first connected connector, its preferred mode, and how many are
 * connected. */
static uint32_t conn_id, nconnected;
static drmModeModeInfo pref;

static void probe_card(void)
{
	drmModeRes *res = drmModeGetResources(kfd);
	CU_ASSERT_FATAL(res != NULL);
	conn_id = nconnected = 0;
	for (int i = 0; i < res->count_connectors; i++) {
		drmModeConnector *c =
			drmModeGetConnector(kfd, res->connectors[i]);
		if (c && c->connection == DRM_MODE_CONNECTED &&
		    c->count_modes > 0 && nconnected++ == 0) {
			conn_id = c->connector_id;
			pref = c->modes[0];
			for (int m = 0; m < c->count_modes; m++)
				if (c->modes[m].type &
				    DRM_MODE_TYPE_PREFERRED) {
					pref = c->modes[m];
					break;
				}
		}
		drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	CU_ASSERT_FATAL(conn_id != 0);
}

/* The CRTC driving our connector (0 if none). */
static uint32_t crtc_of_connector(void)
{
	drmModeConnector *c = drmModeGetConnectorCurrent(kfd, conn_id);
	uint32_t crtc = 0;
	if (c && c->encoder_id) {
		drmModeEncoder *e = drmModeGetEncoder(kfd, c->encoder_id);
		if (e)
			crtc = e->crtc_id;
		drmModeFreeEncoder(e);
	}
	drmModeFreeConnector(c);
	return crtc;
}

/* With `explicit`, "backend": "drm" and "card"; else neither: the default
 * is drm on the first usable card (the only one in the CI guest). */
static void start(uint32_t scanouts, bool explicit)
{
	char dev[512], keys[256] = "";
	if (explicit)
		snprintf(keys, sizeof keys,
			 "\"backend\": \"drm\", \"card\": \"%s\", ", card);
	snprintf(dev, sizeof dev,
		 "{\"type\": \"gpu\", \"addr\": \"0xa003400\", \"len\": "
		 "\"0x200\", \"irq\": 74, \"width\": 640, \"height\": 480, "
		 "%s\"scanouts\": %u}",
		 keys, scanouts);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, dev) == 0);
	CU_ASSERT_FATAL(gg_open(&g, fx.mock, BASE, IRQ) == 0);
}

static void stop(void)
{
	gg_close(&g);
	fixture_stop(&fx);
}

static void display_info(struct virtio_gpu_resp_display_info *d)
{
	struct virtio_gpu_ctrl_hdr h = {
		.type = htole32(VIRTIO_GPU_CMD_GET_DISPLAY_INFO)};
	CU_ASSERT_EQUAL_FATAL(gg_cmd(&g, &h, sizeof h, sizeof *d),
			      VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	memcpy(d, g.resp, sizeof *d);
}

/* The guest's picture `seed`, as XRGB words (what the CRTC must show). */
static uint32_t pattern(uint32_t x, uint32_t y, unsigned seed)
{
	return (uint32_t)(uint8_t)(x + seed) << 16 |
	       (uint32_t)(uint8_t)(y * 3) << 8 | (uint8_t)((x ^ y) * seed);
}

static void guest_draw(unsigned seed)
{
	uint8_t *p = hvd_mock_guest_ptr(fx.mock, 1, g.fb_gpa, PW * PH * 4);
	CU_ASSERT_FATAL(p != NULL);
	for (uint32_t y = 0; y < PH; y++)
		for (uint32_t x = 0; x < PW; x++) {
			uint32_t v = pattern(x, y, seed);
			uint8_t *q = p + (y * PW + x) * 4; /* B8G8R8X8 */
			q[0] = (uint8_t)v;
			q[1] = (uint8_t)(v >> 8);
			q[2] = (uint8_t)(v >> 16);
			q[3] = 0xff;
		}
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, PW, PH, 0), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 0, 0, PW, PH), OK);
}

/* Does framebuffer `fb_id` show picture `seed` centered on black (or
 * black there, for BLACK)? */
static bool fb_shows(uint32_t fb_id, unsigned seed)
{
	drmModeFB *fb = drmModeGetFB(kfd, fb_id);
	if (!fb || !fb->handle) {
		drmModeFreeFB(fb);
		return false;
	}
	struct drm_mode_map_dumb m = {.handle = fb->handle};
	uint64_t size = (uint64_t)fb->pitch * fb->height;
	bool same = false;
	if (drmIoctl(kfd, DRM_IOCTL_MODE_MAP_DUMB, &m) == 0) {
		uint8_t *map = mmap(NULL, size, PROT_READ, MAP_SHARED, kfd,
				    (off_t)m.offset);
		if (map != MAP_FAILED) {
			uint32_t dx = (fb->width - PW) / 2,
				 dy = (fb->height - PH) / 2;
			const uint32_t *corner = (const uint32_t *)map;
			same = fb->width == pref.hdisplay &&
			       fb->height == pref.vdisplay &&
			       (le32toh(*corner) & 0xffffff) == 0;
			for (uint32_t y = 0; same && y < PH; y++) {
				const uint32_t *row =
					(const uint32_t *)(map +
							   (uint64_t)(dy + y) *
								   fb->pitch) +
					dx;
				for (uint32_t x = 0; same && x < PW; x++)
					same = (le32toh(row[x]) & 0xffffff) ==
					       (seed == BLACK
							? 0
							: pattern(x, y, seed));
			}
			munmap(map, size);
		}
		struct drm_gem_close c = {.handle = fb->handle};
		drmIoctl(kfd, DRM_IOCTL_GEM_CLOSE, &c);
	}
	drmModeFreeFB(fb);
	return same;
}

/* Wait until the CRTC driving the connector shows a framebuffer other
 * than `not` holding picture `seed`, in the preferred mode: its id (and
 * *crtc_id), or 0 after GG_WAIT_MS (the deadline only guards against
 * failure; nothing signals a page flip to a second DRM client). */
static uint32_t wait_shown(uint32_t not, unsigned seed, uint32_t *crtc_id)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	for (int i = 0; i < GG_WAIT_MS / 10; i++, nanosleep(&tick, NULL)) {
		*crtc_id = crtc_of_connector();
		drmModeCrtc *c =
			*crtc_id ? drmModeGetCrtc(kfd, *crtc_id) : NULL;
		uint32_t fb = c ? c->buffer_id : 0;
		bool mode = c && c->mode_valid &&
			    c->mode.hdisplay == pref.hdisplay &&
			    c->mode.vdisplay == pref.vdisplay;
		drmModeFreeCrtc(c);
		if (fb && fb != not &&mode && fb_shows(fb, seed))
			return fb;
	}
	return 0;
}

static void test_modes_frames_restore(void)
{
	probe_card();
	uint32_t crtc = crtc_of_connector();
	drmModeCrtc *before = crtc ? drmModeGetCrtc(kfd, crtc) : NULL;
	uint32_t old_fb = before ? before->buffer_id : 0;
	drmModeFreeCrtc(before);
	uint32_t scanouts = nconnected + 1;
	start(scanouts, true);
	struct virtio_gpu_resp_display_info d;
	display_info(&d);
	CU_ASSERT_EQUAL(le32toh(d.pmodes[0].enabled), 1);
	CU_ASSERT_EQUAL(le32toh(d.pmodes[0].r.width), pref.hdisplay);
	CU_ASSERT_EQUAL(le32toh(d.pmodes[0].r.height), pref.vdisplay);
	CU_ASSERT_EQUAL(le32toh(d.pmodes[nconnected].enabled), 0);

	CU_ASSERT_EQUAL_FATAL(
		gg_create(&g, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, PW, PH), OK);
	uint64_t gpa = g.fb_gpa;
	uint32_t len = PW * PH * 4;
	CU_ASSERT_EQUAL_FATAL(gg_attach(&g, 1, 1, &gpa, &len), OK);
	CU_ASSERT_EQUAL_FATAL(gg_set_scanout(&g, 0, 1, 0, 0, PW, PH), OK);
	guest_draw(7);
	uint32_t first = wait_shown(old_fb, 7, &crtc);
	CU_ASSERT(first != 0);
	if (first) {
		guest_draw(11);
		uint32_t second = wait_shown(first, 11, &crtc);
		CU_ASSERT(second != 0 && second != first);
		/* The guest turns the scanout off: black. */
		CU_ASSERT_EQUAL(gg_set_scanout(&g, 0, 0, 0, 0, 0, 0), OK);
		CU_ASSERT(wait_shown(second, BLACK, &crtc) != 0);
	}
	stop();
	drmModeCrtc *after = crtc ? drmModeGetCrtc(kfd, crtc) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	CU_ASSERT_EQUAL(after->buffer_id, old_fb);
	drmModeFreeCrtc(after);
}

/* The sysfs status file of the first connected connector of the card. */
static bool status_path(char *out, size_t room)
{
	const char *base = strrchr(card, '/');
	char prefix[64];
	snprintf(prefix, sizeof prefix, "%s-", base ? base + 1 : card);
	DIR *dir = opendir("/sys/class/drm");
	struct dirent *e;
	bool found = false;
	while (dir && !found && (e = readdir(dir))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		char status[32] = "";
		snprintf(out, room, "/sys/class/drm/%s/status", e->d_name);
		FILE *f = fopen(out, "r");
		found = f && fgets(status, sizeof status, f) &&
			strcmp(status, "connected\n") == 0;
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return found;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Wait for a configuration interrupt with EVENT_DISPLAY set, clear it. */
static bool display_event(uint64_t *seen)
{
	uint32_t ev = 0;
	while (!(ev & VIRTIO_GPU_EVENT_DISPLAY)) {
		if (hvd_guest_wait_irq(g.d, *seen, GG_WAIT_MS) != 0)
			return false;
		*seen = hvd_guest_irq_count(g.d);
		hvd_guest_ack_interrupt(g.d);
		ev = (uint32_t)hvd_guest_config_read(g.d, 0, 4);
	}
	hvd_guest_config_write(g.d, 4, 4, VIRTIO_GPU_EVENT_DISPLAY);
	return (hvd_guest_config_read(g.d, 0, 4) & VIRTIO_GPU_EVENT_DISPLAY) ==
	       0;
}

static void test_hotplug(void)
{
	char path[512];
	if (!status_path(path, sizeof path) || access(path, W_OK)) {
		printf("\n  note: no writable connector status in sysfs: "
		       "hotplug not tested ");
		return;
	}
	probe_card();
	start(1, false);
	uint64_t seen = hvd_guest_irq_count(g.d);
	struct virtio_gpu_resp_display_info d;
	CU_ASSERT_EQUAL_FATAL(write_file(path, "off"), 0);
	CU_ASSERT(display_event(&seen));
	display_info(&d);
	CU_ASSERT_EQUAL(le32toh(d.pmodes[0].enabled), 0);
	CU_ASSERT_EQUAL_FATAL(write_file(path, "detect"), 0);
	CU_ASSERT(display_event(&seen));
	display_info(&d);
	CU_ASSERT_EQUAL(le32toh(d.pmodes[0].enabled), 1);
	CU_ASSERT_EQUAL(le32toh(d.pmodes[0].r.width), pref.hdisplay);
	CU_ASSERT_EQUAL(le32toh(d.pmodes[0].r.height), pref.vdisplay);
	stop();
}

int main(void)
{
	card = getenv("HVD_TEST_DRM_CARD");
	if (!card || !*card) {
		printf("SKIP: HVD_TEST_DRM_CARD is not set (the 30-kmod stage "
		       "sets it in its QEMU guest; a test must not drive the "
		       "build machine's display)\n");
		return 77;
	}
	kfd = open(card, O_RDWR | O_CLOEXEC);
	if (kfd < 0) {
		perror(card);
		return 1;
	}
	/* Leave DRM master to the daemon. */
	if (drmIsMaster(kfd))
		drmDropMaster(kfd);
	static const struct cunit_test tests[] = {
		{"modes, frames, flip, restore", test_modes_frames_restore},
		{"hotplug raises EVENT_DISPLAY", test_hotplug},
		{NULL, NULL},
	};
	int r = cunit_run("gpu drm backend", tests);
	close(kfd);
	return r;
}
