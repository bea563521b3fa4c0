/* SPDX-License-Identifier: MIT */
/*
 * The vnc backend through a raw RFB client (rfb_client.c) and the input
 * plugin through the mock guest: the viewer gets exactly the pixels the
 * guest drew (only a partial change's rectangle sent, the cursor, black
 * after a reset, a resize announced with NewFBSize), viewer keys reach the
 * keyboard's eventq and viewer pointer events the tablet's, scaled to the
 * tablet's axes; scanout N listens on port + N; bad `listen` / `input` values
 * and a port in use are refused by the real binary with the JSON path.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/input-event-codes.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "gpu_guest.h"
#include "input/input_guest.h"
#include "refused_config.h"
#include "rfb_client.h"

#define W   64u
#define H   48u
#define OK  VIRTIO_GPU_RESP_OK_NODATA
#define MAX 32767

#define GPU_DEV                                                            \
	"\"type\": \"gpu\", \"addr\": \"0xa003400\", \"len\": \"0x200\", " \
	"\"irq\": 74"
#define KBD_BASE 0xa003600u
#define TAB_BASE 0xa003800u

static struct fixture fx;
static struct gg g;
static struct ig kbd, tab;
static char sock[128], kbd_path[128], tab_path[128];

static void start(void)
{
	const char *dir = gg_tmpdir();
	snprintf(sock, sizeof sock, "%s/vnc", dir);
	snprintf(kbd_path, sizeof kbd_path, "%s/kbd", dir);
	snprintf(tab_path, sizeof tab_path, "%s/tablet", dir);
	char devs[2048];
	snprintf(devs, sizeof devs,
		 "{" GPU_DEV ", \"width\": %u, \"height\": %u, \"backend\": "
		 "\"vnc\", \"listen\": \"%s\", \"input\": [\"%s\", \"%s\"]}, "
		 "{\"type\": \"input\", \"addr\": \"0xa003600\", \"len\": "
		 "\"0x200\", \"irq\": 75, \"mode\": \"keyboard\", \"source\": "
		 "\"%s\"}, {\"type\": \"input\", \"addr\": \"0xa003800\", "
		 "\"len\": \"0x200\", \"irq\": 76, \"mode\": \"tablet\", "
		 "\"source\": \"%s\"}",
		 W, H, sock, kbd_path, tab_path, kbd_path, tab_path);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, devs) == 0);
	CU_ASSERT_FATAL(gg_open(&g, fx.mock, 0xa003400, 74) == 0);
	CU_ASSERT_FATAL(ig_open(&kbd, fx.mock, KBD_BASE, 75) == 0);
	CU_ASSERT_FATAL(ig_open(&tab, fx.mock, TAB_BASE, 76) == 0);
}

static void stop(void)
{
	ig_close(&tab);
	ig_close(&kbd);
	gg_close(&g);
	fixture_stop(&fx);
}

/* A w x h B8G8R8X8 picture at guest RAM `off` of the gpu's backing, and
 * the 0x00RRGGBB words a viewer must get for it. */
static void draw(uint64_t off, uint32_t w, uint32_t h, unsigned seed,
		 uint32_t *want)
{
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t r = (uint8_t)(x * 4 + seed),
				gr = (uint8_t)(y * 5),
				b = (uint8_t)((x ^ y) * seed);
			uint8_t *p = g.fb + off + (y * w + x) * 4;
			p[0] = b;
			p[1] = gr;
			p[2] = r;
			p[3] = 0x5a;
			want[y * w + x] = (uint32_t)r << 16 | gr << 8 | b;
		}
}

/* Resource id (w x h) shown on scanout 0, backing at `off`. */
static void show(uint32_t id, uint64_t off, uint32_t w, uint32_t h,
		 uint32_t *want)
{
	uint64_t gpa = g.fb_gpa + off;
	uint32_t len = w * h * 4;
	draw(off, w, h, id, want);
	CU_ASSERT_EQUAL_FATAL(
		gg_create(&g, id, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h), OK);
	CU_ASSERT_EQUAL_FATAL(gg_attach(&g, id, 1, &gpa, &len), OK);
	CU_ASSERT_EQUAL(gg_transfer(&g, id, 0, 0, w, h, 0), OK);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 0, id, 0, 0, w, h), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, id, 0, 0, w, h), OK);
}

static void test_picture(void)
{
	static uint32_t want[W * H];
	struct rfb c;
	start();
	CU_ASSERT_EQUAL_FATAL(rfb_open(&c, sock, 0), 0);
	CU_ASSERT_EQUAL(c.w, W);
	CU_ASSERT_EQUAL(c.h, H);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.name, "gpu@0xa003400 scanout 0"));
	/* Before the guest shows anything: black. */
	memset(want, 0, sizeof want);
	CU_ASSERT_EQUAL(rfb_request(&c, false), 0);
	CU_ASSERT_EQUAL(rfb_read(&c), 0);
	CU_ASSERT_EQUAL(memcmp(c.fb, want, sizeof want), 0);

	show(1, 0, W, H, want);
	CU_ASSERT_EQUAL(rfb_wait_picture(&c, want, W, H), 0);

	/* A 5x3 change at (7, 9): only that rectangle is transferred. */
	for (uint32_t y = 9; y < 12; y++)
		for (uint32_t x = 7; x < 12; x++) {
			uint8_t *p = g.fb + (y * W + x) * 4;
			p[0] = 0x11;
			p[1] = 0x22;
			p[2] = 0x33;
			want[y * W + x] = 0x332211;
		}
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 7, 9, 5, 3, (9 * W + 7) * 4), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 7, 9, 5, 3), OK);
	CU_ASSERT_EQUAL(rfb_wait_picture(&c, want, W, H), 0);
	/* Only what changed was sent. */
	CU_ASSERT_EQUAL(c.last_box[0], 7);
	CU_ASSERT_EQUAL(c.last_box[1], 9);
	CU_ASSERT_EQUAL(c.last_box[2], 5);
	CU_ASSERT_EQUAL(c.last_box[3], 3);

	/* A cursor with a 4x4 opaque magenta corner, hot spot (1, 1), at
	 * (11, 6): drawn into the picture at (10..13, 5..8). */
	uint64_t coff = 0x100000;
	uint64_t cgpa = g.fb_gpa + coff;
	uint32_t clen = 64 * 64 * 4;
	memset(g.fb + coff, 0, clen);
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 4; x++)
			memcpy(g.fb + coff + (y * 64 + x) * 4,
			       "\xff\x00\xff\xff", 4);
	CU_ASSERT_EQUAL_FATAL(
		gg_create(&g, 2, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64), OK);
	CU_ASSERT_EQUAL_FATAL(gg_attach(&g, 2, 1, &cgpa, &clen), OK);
	CU_ASSERT_EQUAL(gg_transfer(&g, 2, 0, 0, 64, 64, 0), OK);
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 11, 6, 2, 1, 1), OK);
	static uint32_t with_cursor[W * H];
	memcpy(with_cursor, want, sizeof want);
	for (uint32_t y = 5; y < 9; y++)
		for (uint32_t x = 10; x < 14; x++)
			with_cursor[y * W + x] = 0xff00ff;
	CU_ASSERT_EQUAL(rfb_wait_picture(&c, with_cursor, W, H), 0);
	/* Hidden again: the picture underneath comes back. */
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 0, 0, 0, 0, 0), OK);
	CU_ASSERT_EQUAL(rfb_wait_picture(&c, want, W, H), 0);
	CU_ASSERT_EQUAL(c.resizes, 0);
	/* A device reset turns the scanout off: black, same size. */
	CU_ASSERT_EQUAL(hvd_guest_reset(g.d), 0);
	memset(want, 0, sizeof want);
	CU_ASSERT_EQUAL(rfb_wait_picture(&c, want, W, H), 0);
	rfb_close(&c);
	stop();
}

/* The guest shows a smaller resource: viewers get NewFBSize, then it. */
static void test_resize(void)
{
	static uint32_t want[W * H];
	struct rfb c;
	start();
	CU_ASSERT_EQUAL_FATAL(rfb_open(&c, sock, 0), 0);
	show(1, 0, W, H, want);
	CU_ASSERT_EQUAL(rfb_wait_picture(&c, want, W, H), 0);
	show(3, 0x80000, 40, 20, want);
	CU_ASSERT_EQUAL(rfb_wait_picture(&c, want, 40, 20), 0);
	CU_ASSERT_EQUAL(c.resizes, 1);
	/* A second viewer starts at the new size. */
	struct rfb c2;
	CU_ASSERT_EQUAL_FATAL(rfb_open(&c2, sock, 0), 0);
	CU_ASSERT_EQUAL(c2.w, 40);
	CU_ASSERT_EQUAL(c2.h, 20);
	CU_ASSERT_EQUAL(rfb_request(&c2, false), 0);
	CU_ASSERT_EQUAL(rfb_wait_picture(&c2, want, 40, 20), 0);
	rfb_close(&c2);
	rfb_close(&c);
	stop();
}

static void key(struct rfb *c, bool down, uint32_t sym)
{
	CU_ASSERT_EQUAL(rfb_key(c, down, sym), 0);
}

static void expect_key(struct ig *d, uint16_t code, int32_t value)
{
	ig_expect(d, EV_KEY, code, value);
	ig_expect(d, EV_SYN, SYN_REPORT, 0);
}

static void test_keys(void)
{
	/* keysym -> key: letters either case, digits and their shifted
	 * symbols, punctuation, modifiers, arrows, F-keys, editing keys. */
	static const struct {
		uint32_t sym;
		uint16_t key;
	} keys[] = {
		{'a', KEY_A},
		{'A', KEY_A},
		{'z', KEY_Z},
		{'1', KEY_1},
		{'!', KEY_1},
		{')', KEY_0},
		{'-', KEY_MINUS},
		{'/', KEY_SLASH},
		{'"', KEY_APOSTROPHE},
		{' ', KEY_SPACE},
		{0xffe1, KEY_LEFTSHIFT},
		{0xffe4, KEY_RIGHTCTRL},
		{0xffe9, KEY_LEFTALT},
		{0xff51, KEY_LEFT},
		{0xff54, KEY_DOWN},
		{0xffbe, KEY_F1},
		{0xffc2, KEY_F5},
		{0xffc9, KEY_F12},
		{0xff0d, KEY_ENTER},
		{0xff1b, KEY_ESC},
		{0xff09, KEY_TAB},
		{0xff08, KEY_BACKSPACE},
		{0xffff, KEY_DELETE},
	};
	const unsigned n = sizeof keys / sizeof keys[0];
	struct rfb c;
	start();
	CU_ASSERT_EQUAL_FATAL(rfb_open(&c, sock, 0), 0);
	ig_post(&kbd, IG_QSIZE);
	for (unsigned i = 0; i < n; i++) {
		/* A keysym without a key (EuroSign) sends nothing. */
		key(&c, true, 0x20ac);
		key(&c, true, keys[i].sym);
		key(&c, false, keys[i].sym);
		expect_key(&kbd, keys[i].key, 1);
		expect_key(&kbd, keys[i].key, 0);
		if (i % 8 == 7)
			ig_post(&kbd, 32);
	}
	/* The tablet got none of it: its first event is the pointer's. */
	ig_post(&tab, 8);
	CU_ASSERT_EQUAL(rfb_pointer(&c, 0, 0, 0), 0);
	ig_expect(&tab, EV_ABS, ABS_X, 0);
	rfb_close(&c);
	stop();
}

static void expect_abs(int32_t x, int32_t y)
{
	ig_expect(&tab, EV_ABS, ABS_X, x);
	ig_expect(&tab, EV_ABS, ABS_Y, y);
}

static void test_pointer(void)
{
	struct rfb c;
	start();
	CU_ASSERT_EQUAL_FATAL(rfb_open(&c, sock, 0), 0);
	ig_post(&tab, IG_QSIZE);
	/* Right edge, top, left button down. */
	CU_ASSERT_EQUAL(rfb_pointer(&c, 1, W - 1, 0), 0);
	expect_abs(MAX, 0);
	ig_expect(&tab, EV_KEY, BTN_LEFT, 1);
	ig_expect(&tab, EV_SYN, SYN_REPORT, 0);
	/* x 21 of 0..63 is 21 * 32767 / 63 = 10922 (rounded down). */
	CU_ASSERT_EQUAL(rfb_pointer(&c, 0, 21, H - 1), 0);
	expect_abs(10922, MAX);
	ig_expect(&tab, EV_KEY, BTN_LEFT, 0);
	ig_expect(&tab, EV_SYN, SYN_REPORT, 0);
	/* Middle and right together, then only right. */
	CU_ASSERT_EQUAL(rfb_pointer(&c, 2 | 4, 32, 24), 0);
	expect_abs(32 * MAX / 63, 24 * MAX / 47);
	ig_expect(&tab, EV_KEY, BTN_MIDDLE, 1);
	ig_expect(&tab, EV_KEY, BTN_RIGHT, 1);
	ig_expect(&tab, EV_SYN, SYN_REPORT, 0);
	CU_ASSERT_EQUAL(rfb_pointer(&c, 4, 32, 24), 0);
	expect_abs(32 * MAX / 63, 24 * MAX / 47);
	ig_expect(&tab, EV_KEY, BTN_MIDDLE, 0);
	ig_expect(&tab, EV_SYN, SYN_REPORT, 0);
	/* Wheel up (bit 3) and down (bit 4), each press one step. */
	CU_ASSERT_EQUAL(rfb_pointer(&c, 8, 0, 0), 0);
	expect_abs(0, 0);
	ig_expect(&tab, EV_KEY, BTN_RIGHT, 0);
	ig_expect(&tab, EV_REL, REL_WHEEL, 1);
	ig_expect(&tab, EV_SYN, SYN_REPORT, 0);
	CU_ASSERT_EQUAL(rfb_pointer(&c, 16, 0, 0), 0);
	expect_abs(0, 0);
	ig_expect(&tab, EV_REL, REL_WHEEL, -1);
	ig_expect(&tab, EV_SYN, SYN_REPORT, 0);
	/* The keyboard got none of it. */
	ig_post(&kbd, 4);
	key(&c, true, 'b');
	expect_key(&kbd, KEY_B, 1);
	/* The daemon stops with the viewer still connected: it is closed. */
	stop();
	struct pollfd pfd = {.fd = c.fd, .events = POLLIN};
	uint8_t byte;
	CU_ASSERT_EQUAL_FATAL(poll(&pfd, 1, RFB_WAIT_MS), 1);
	CU_ASSERT_EQUAL(read(c.fd, &byte, 1), 0);
	rfb_close(&c);
}

/* A TCP port nobody listens on now (bound to 0, read, closed). */
static unsigned free_port(int *keep)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	if (keep) {
		CU_ASSERT_FATAL(listen(fd, 1) == 0);
		*keep = fd;
	} else {
		close(fd);
	}
	return ntohs(a.sin_port);
}

/* Scanout N on port + N, each its own picture size and name. */
static void test_tcp_scanouts(void)
{
	unsigned port = 0;
	/* Two consecutive free ports. */
	for (int tries = 0; tries < 50 && !port; tries++) {
		unsigned p = free_port(NULL);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)(p + 1)),
					.sin_addr.s_addr =
						htonl(INADDR_LOOPBACK)};
		if (p < 65535 && !bind(fd, (struct sockaddr *)&a, sizeof a))
			port = p;
		close(fd);
	}
	CU_ASSERT_FATAL(port != 0);
	char devs[512];
	snprintf(devs, sizeof devs,
		 "{" GPU_DEV ", \"width\": %u, \"height\": %u, \"scanouts\": "
		 "2, \"backend\": \"vnc\", \"listen\": \"127.0.0.1:%u\"}",
		 W, H, port);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, devs) == 0);
	struct rfb c0, c1;
	CU_ASSERT_EQUAL_FATAL(rfb_open(&c0, NULL, port), 0);
	CU_ASSERT_EQUAL_FATAL(rfb_open(&c1, NULL, port + 1), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c0.name, "scanout 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c1.name, "scanout 1"));
	CU_ASSERT_EQUAL(c1.w, W);
	CU_ASSERT_EQUAL(c1.h, H);
	rfb_close(&c1);
	rfb_close(&c0);
	fixture_stop(&fx);
}

/* The real binary refuses the gpu device: exit 1, `want` in its output
 * and the device's JSON path. */
static void expect_refused(const char *extra, const char *want)
{
	char dev[1024];
	snprintf(dev, sizeof dev,
		 "{" GPU_DEV ", \"width\": 64, \"height\": 48%s}", extra);
	expect_config_refused(gg_tmpdir(), dev, want);
}

static void test_bad_config(void)
{
	char extra[256], want[256];
	expect_refused(", \"backend\": \"vnc\", \"listen\": \"5900\"",
		       "zones[0].devices[0].listen: \"5900\" is not HOST:PORT");
	/* Without "backend", "listen" alone picks vnc. */
	expect_refused(", \"listen\": \"5900\"",
		       "zones[0].devices[0].listen: \"5900\" is not HOST:PORT");
	expect_refused(", \"backend\": \"vnc\", \"listen\": \"::1:5900\"",
		       "zones[0].devices[0].listen: \"::1:5900\" is not");
	expect_refused(", \"backend\": \"vnc\", \"listen\": \"[::1]:65536\"",
		       "zones[0].devices[0].listen: \"[::1]:65536\" is not");
	expect_refused(", \"backend\": \"vnc\", \"listen\": \"no.such.host."
		       "invalid:5900\"",
		       "zones[0].devices[0].listen: no.such.host.invalid:");
	expect_refused(", \"backend\": \"vnc\", \"scanouts\": 2, \"listen\": "
		       "\"127.0.0.1:65535\"",
		       "zones[0].devices[0].listen: scanout 1 would need port "
		       "65536");
	expect_refused(", \"backend\": \"vnc\", \"listen\": \"/nonexistent/"
		       "dir/vnc\"",
		       "zones[0].devices[0].listen: /nonexistent/dir/vnc: No "
		       "such file or directory");
	expect_refused(", \"backend\": \"vnc\", \"input\": 7",
		       "zones[0].devices[0].input: expected a socket path or "
		       "an array");
	expect_refused(", \"backend\": \"vnc\", \"input\": [\"/a\", 1]",
		       "zones[0].devices[0].input[1]: expected a string");
	expect_refused(", \"backend\": \"headless\", \"listen\": "
		       "\"127.0.0.1:5900\"",
		       "zones[0].devices[0].listen: only for backend \"vnc\", "
		       "not \"headless\"");
	expect_refused(", \"backend\": \"vnc\", \"snapshot\": \"/tmp/x\"",
		       "zones[0].devices[0].snapshot: only for backend "
		       "\"headless\", not \"vnc\"");
	/* A port someone else listens on. */
	int busy;
	unsigned port = free_port(&busy);
	snprintf(extra, sizeof extra,
		 ", \"backend\": \"vnc\", \"listen\": \"127.0.0.1:%u\"", port);
	snprintf(want, sizeof want,
		 "zones[0].devices[0].listen: 127.0.0.1 port %u (scanout 0): "
		 "Address already in use",
		 port);
	expect_refused(extra, want);
	close(busy);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"viewer gets the guest's pixels and cursor", test_picture},
		{"scanout resize reaches the viewer", test_resize},
		{"viewer keys reach the keyboard", test_keys},
		{"viewer pointer reaches the tablet", test_pointer},
		{"scanout N listens on port + N", test_tcp_scanouts},
		{"bad vnc configuration refused", test_bad_config},
		{NULL, NULL},
	};
	return cunit_run("gpu vnc", tests);
}
