/* SPDX-License-Identifier: MIT */
/*
 * The headless backend's snapshots, pixel-exact against what the guest
 * drew: a frame in a backing of three scattered entries (rows split across
 * them), a partial transfer that must copy exactly its rectangle, a second
 * scanout showing part of a resource in another format, the cursor drawn
 * in, moved, clipped at the edge and hidden, flushes in a burst folded
 * into a picture of the last frame, and a transfer copied in slices.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "gpu_guest.h"

#define W      64u
#define H      48u
#define STRIDE (W * 4u)
#define OK     VIRTIO_GPU_RESP_OK_NODATA
/* Guest RAM for backing (GG_FB_SIZE bytes). */
#define FB_GPA (g.fb_gpa)

static struct fixture fx;
static struct gg g;
static int watch = -1;
static char snap[256];

/* Three backing chunks for the W x H frame, far apart in guest RAM and not
 * on row boundaries. */
static const uint32_t chunk_len[3] = {5000, 4000, W *H * 4 - 9000};
static uint64_t chunk_gpa[3];

/* A daemon writing snapshots to `name` in the test folder. */
static void start_as(const char *name)
{
	snprintf(snap, sizeof snap, "%s/%s", gg_tmpdir(), name);
	char dev[1024];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"gpu\", \"addr\": \"0xa003400\", \"len\": "
		 "\"0x200\", \"irq\": 74, \"width\": %u, \"height\": %u, "
		 "\"scanouts\": 2, \"backend\": \"headless\", \"snapshot\": "
		 "\"%s\"}",
		 W, H, snap);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, dev) == 0);
	CU_ASSERT_FATAL(gg_open(&g, fx.mock, 0xa003400, 74) == 0);
	chunk_gpa[0] = FB_GPA + 0x40000;
	chunk_gpa[1] = FB_GPA;
	chunk_gpa[2] = FB_GPA + 0x20000;
	watch = gg_watch(gg_tmpdir());
	CU_ASSERT_FATAL(watch >= 0);
}

static void start(void)
{
	start_as("screen.ppm");
}

static void stop(void)
{
	close(watch);
	gg_close(&g);
	fixture_stop(&fx);
}

/* The guest writes its linear frame into the scattered backing. */
static void store_frame(const uint8_t *frame)
{
	size_t off = 0;
	for (int i = 0; i < 3; i++) {
		uint8_t *p = hvd_mock_guest_ptr(fx.mock, 1, chunk_gpa[i],
						chunk_len[i]);
		CU_ASSERT_FATAL(p != NULL);
		memcpy(p, frame + off, chunk_len[i]);
		off += chunk_len[i];
	}
}

/* Pattern `seed` in B8G8R8X8, and the RGB the host must show for it. */
static void draw(uint8_t *frame, uint8_t *rgb, unsigned seed)
{
	for (uint32_t y = 0; y < H; y++) {
		for (uint32_t x = 0; x < W; x++) {
			uint8_t r = (uint8_t)(x * 4 + seed),
				gr = (uint8_t)(y * 5),
				b = (uint8_t)((x ^ y) * seed);
			uint8_t *p = frame + y * STRIDE + x * 4;
			p[0] = b;
			p[1] = gr;
			p[2] = r;
			p[3] = 0x5a;
			if (rgb) {
				uint8_t *q = rgb + (y * W + x) * 3;
				q[0] = r;
				q[1] = gr;
				q[2] = b;
			}
		}
	}
}

/* Wait for the next picture of `name` and compare it with want. */
static bool picture_is(const char *path, uint32_t w, uint32_t h,
		       const uint8_t *want)
{
	const char *name = strrchr(path, '/') + 1;
	if (gg_wait_renamed(watch, name) != 0) {
		CU_FAIL("no snapshot written");
		return false;
	}
	uint32_t gw, gh;
	uint8_t *got = NULL;
	int r;
#ifdef HVD_GPU_PNG
	size_t n = strlen(path);
	if (n > 4 && !strcmp(path + n - 4, ".png"))
		r = gg_read_png(path, &gw, &gh, &got);
	else
#endif
		r = gg_read_ppm(path, &gw, &gh, &got);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	bool same = gw == w && gh == h && memcmp(got, want, w * h * 3) == 0;
	for (uint32_t i = 0; !same && gw == w && gh == h && i < w * h; i++)
		if (memcmp(got + i * 3, want + i * 3, 3)) {
			fprintf(stderr, "\n  first difference at (%u,%u)\n",
				i % w, i / w);
			break;
		}
	free(got);
	return same;
}

static void expect_picture(const char *path, uint32_t w, uint32_t h,
			   const uint8_t *want)
{
	CU_ASSERT(picture_is(path, w, h, want));
}

/* Scanout 0 shows resource 1 (W x H, B8G8R8X8, three backing entries). */
static void frame_setup(uint8_t *frame, uint8_t *want)
{
	CU_ASSERT_EQUAL_FATAL(
		gg_create(&g, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H), OK);
	CU_ASSERT_EQUAL_FATAL(gg_attach(&g, 1, 3, chunk_gpa, chunk_len), OK);
	CU_ASSERT_EQUAL_FATAL(gg_set_scanout(&g, 0, 1, 0, 0, W, H), OK);
	draw(frame, want, 1);
	store_frame(frame);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, W, H, 0), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 0, 0, W, H), OK);
	expect_picture(snap, W, H, want);
}

static void test_frame_and_partial_transfer(void)
{
	start();
	static uint8_t frame[W * H * 4], want[W * H * 3], next[W * H * 3];
	frame_setup(frame, want);
	/* The guest draws a whole new frame but transfers only a 10x9
	 * rectangle at (5,7): the picture changes exactly there. */
	draw(frame, next, 77);
	store_frame(frame);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 5, 7, 10, 9, 7 * STRIDE + 5 * 4),
			OK);
	for (uint32_t y = 7; y < 16; y++)
		memcpy(want + (y * W + 5) * 3, next + (y * W + 5) * 3, 10 * 3);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 5, 7, 10, 9), OK);
	expect_picture(snap, W, H, want);
	/* A flush of a resource no scanout shows writes nothing; the next
	 * picture is of the next flush of the shown one. */
	CU_ASSERT_EQUAL(
		gg_create(&g, 9, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16, 16), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 9, 0, 0, 16, 16), OK);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, W, H, 0), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 0, 0, W, H), OK);
	expect_picture(snap, W, H, next);
	stop();
}

#ifdef HVD_GPU_PNG
/* The same pictures as PNG when the name ends in .png. */
static void test_png(void)
{
	start_as("screen.png");
	static uint8_t frame[W * H * 4], want[W * H * 3], next[W * H * 3];
	frame_setup(frame, want);
	draw(frame, next, 77);
	store_frame(frame);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, W, H, 0), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 0, 0, W, H), OK);
	expect_picture(snap, W, H, next);
	stop();
}
#endif

/* Resource `id` of w x h pixels (4 bytes each) copied from pix, through a
 * one-entry backing at `at` bytes into the tests' guest RAM. */
static void upload(uint32_t id, uint32_t format, uint32_t w, uint32_t h,
		   const uint8_t *pix, uint64_t at)
{
	uint64_t gpa = FB_GPA + at;
	uint32_t len = w * h * 4;
	memcpy(hvd_mock_guest_ptr(fx.mock, 1, gpa, len), pix, len);
	CU_ASSERT_EQUAL(gg_create(&g, id, format, w, h), OK);
	CU_ASSERT_EQUAL(gg_attach(&g, id, 1, &gpa, &len), OK);
	CU_ASSERT_EQUAL(gg_transfer(&g, id, 0, 0, w, h, 0), OK);
}

/* Scanout 1 shows a 16x8 window at (8,4) of a 32x16 R8G8B8A8 resource. */
static void test_second_scanout(void)
{
	start();
	static uint8_t pix[32 * 16 * 4], want[16 * 8 * 3];
	for (uint32_t i = 0; i < 32 * 16; i++) {
		pix[i * 4] = (uint8_t)i;             /* R */
		pix[i * 4 + 1] = (uint8_t)(i >> 1);  /* G */
		pix[i * 4 + 2] = (uint8_t)(255 - i); /* B */
		pix[i * 4 + 3] = 0;                  /* alpha is not shown */
	}
	for (uint32_t y = 0; y < 8; y++)
		for (uint32_t x = 0; x < 16; x++)
			memcpy(want + (y * 16 + x) * 3,
			       pix + ((y + 4) * 32 + x + 8) * 4, 3);
	upload(2, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 32, 16, pix, 0x80000);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 1, 2, 8, 4, 16, 8), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 2, 0, 0, 32, 16), OK);
	char path[300];
	snprintf(path, sizeof path, "%s.1", snap);
	expect_picture(path, 16, 8, want);
	stop();
}

/* Paint the 4x4 red square of a cursor at (x,y) (its top-left corner) into
 * a W x H picture, clipped. */
static void paint_cursor(uint8_t *rgb, int x, int y)
{
	for (int cy = 0; cy < 4; cy++)
		for (int cx = 0; cx < 4; cx++) {
			int px = x + cx, py = y + cy;
			if (px < 0 || py < 0 || px >= (int)W || py >= (int)H)
				continue;
			uint8_t *q = rgb + (py * (int)W + px) * 3;
			q[0] = 255;
			q[1] = 0;
			q[2] = 0;
		}
}

static void test_cursor(void)
{
	start();
	static uint8_t frame[W * H * 4], want[W * H * 3], with[W * H * 3];
	frame_setup(frame, want);
	/* A 64x64 B8G8R8A8 cursor: an opaque red 4x4 square at its top-left,
	 * transparent elsewhere (colour there must not show). */
	static uint8_t cur[64 * 64 * 4];
	for (uint32_t y = 0; y < 64; y++)
		for (uint32_t x = 0; x < 64; x++) {
			uint8_t *p = cur + (y * 64 + x) * 4;
			bool on = x < 4 && y < 4;
			p[0] = on ? 0 : 200;
			p[1] = on ? 0 : 100;
			p[2] = on ? 255 : 50;
			p[3] = on ? 255 : 0;
		}
	upload(3, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64, cur, 0xc0000);

	/* Hot spot (1,1) at (20,10): the square's corner at (19,9). */
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 20, 10, 3, 1, 1), OK);
	memcpy(with, want, sizeof with);
	paint_cursor(with, 19, 9);
	expect_picture(snap, W, H, with);
	/* Moved to the bottom-right corner: clipped to 3x3. */
	CU_ASSERT_EQUAL(gg_cursor(&g, false, 0, 62, 46, 0, 0, 0), OK);
	memcpy(with, want, sizeof with);
	paint_cursor(with, 61, 45);
	expect_picture(snap, W, H, with);
	/* Past the top-left: the hot spot makes the corner negative. */
	CU_ASSERT_EQUAL(gg_cursor(&g, false, 0, 0, 0, 0, 0, 0), OK);
	memcpy(with, want, sizeof with);
	paint_cursor(with, -1, -1);
	expect_picture(snap, W, H, with);
	/* Hidden. */
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 0, 0, 0, 0, 0), OK);
	expect_picture(snap, W, H, want);
	stop();
}

/* Flushes in a burst: pictures may be fewer than flushes, but the last
 * one shows the last frame. */
static void test_burst(void)
{
	start();
	static uint8_t frame[W * H * 4], want[W * H * 3];
	frame_setup(frame, want);
	for (unsigned seed = 2; seed < 12; seed++) {
		draw(frame, want, seed);
		store_frame(frame);
		CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, W, H, 0), OK);
		CU_ASSERT_EQUAL(gg_flush(&g, 1, 0, 0, W, H), OK);
	}
	/* Each picture is of one of the frames; wait for the last. */
	bool last = false;
	for (unsigned i = 0; i < 10 && !last; i++)
		last = picture_is(snap, W, H, want);
	CU_ASSERT(last);
	stop();
}

/* A transfer above GPU_TRANSFER_SLICE (4 MiB) is copied in slices from the
 * event loop: a 1100x1000 resource (4400000 bytes, 953 rows a slice) shows
 * the same pixels across the slice boundary and in its last row, and the
 * command after it (a flush) sees the whole transfer. */
#define LW 1100u
#define LH 1000u
static uint8_t large_pixel(uint32_t x, uint32_t y, unsigned c)
{
	return c == 0   ? (uint8_t)(x * 3 + y)
	       : c == 1 ? (uint8_t)(y >> 2)
			: (uint8_t)(x ^ (y * 7));
}

static void test_large_transfer(void)
{
	start();
	void *p;
	uint64_t gpa = hvd_guest_alloc(g.d, LW * LH * 4, 4096, &p);
	CU_ASSERT_FATAL(gpa != 0);
	uint8_t *pix = p;
	for (uint32_t y = 0; y < LH; y++)
		for (uint32_t x = 0; x < LW; x++)
			for (unsigned c = 0; c < 4; c++) /* B, G, R, X */
				pix[(y * LW + x) * 4 + c] =
					c < 3 ? large_pixel(x, y, c) : 0;
	uint32_t len = LW * LH * 4;
	CU_ASSERT_EQUAL_FATAL(
		gg_create(&g, 5, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, LW, LH), OK);
	CU_ASSERT_EQUAL_FATAL(gg_attach(&g, 5, 1, &gpa, &len), OK);
	CU_ASSERT_EQUAL(gg_transfer(&g, 5, 0, 0, LW, LH, 0), OK);
	/* Rows 952-999 at x 500-563: across the slice boundary, to the end. */
	static uint8_t want[W * H * 3];
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			for (unsigned c = 0; c < 3; c++) /* R, G, B */
				want[(y * W + x) * 3 + c] =
					large_pixel(500 + x, 952 + y, 2 - c);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 0, 5, 500, 952, W, H), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 5, 0, 0, LW, LH), OK);
	expect_picture(snap, W, H, want);
	stop();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"frame and partial transfer", test_frame_and_partial_transfer},
		{"second scanout, other format", test_second_scanout},
		{"cursor drawn, moved, clipped, hidden", test_cursor},
		{"burst of flushes", test_burst},
		{"large transfer in slices", test_large_transfer},
#ifdef HVD_GPU_PNG
		{"PNG snapshots", test_png},
#endif
		{NULL, NULL},
	};
	return cunit_run("gpu snapshot", tests);
}
