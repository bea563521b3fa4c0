/* SPDX-License-Identifier: MIT */
/*
 * The input plugin alone, through the mock guest: config space of both
 * modes as Linux's driver reads it, events from the source socket as whole
 * reports (unknown records left out, malformed datagrams dropped), the
 * backlog dropping whole reports when the guest does not read, statusq
 * events recorded, bad configurations refused with the JSON path.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <linux/input.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "input_guest.h"
#include "refused_config.h"

#define BASE 0xa003c00u
#define IRQ  79u

static struct fixture fx;
static struct ig g;
static char dir[64], src[128], status[128];

static const char *tmpdir(void)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/hvd-input-XXXXXX");
		CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	}
	return dir;
}

static void start(const char *mode, const char *extra)
{
	snprintf(src, sizeof src, "%s/source", tmpdir());
	snprintf(status, sizeof status, "%s/status", tmpdir());
	unlink(status);
	char dev[1024];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"input\", \"addr\": \"0x%x\", \"len\": \"0x200\","
		 " \"irq\": %u, \"mode\": \"%s\", \"source\": \"%s\", "
		 "\"status_out\": \"%s\"%s}",
		 BASE, IRQ, mode, src, status, extra);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, dev) == 0);
	CU_ASSERT_FATAL(ig_open(&g, fx.mock, BASE, IRQ) == 0);
}

static void stop(void)
{
	ig_close(&g);
	fixture_stop(&fx);
}

static void expect_string(uint8_t select, const char *want)
{
	unsigned size = ig_select(&g, select, 0);
	char got[129] = {0};
	CU_ASSERT_EQUAL(size, strlen(want));
	for (unsigned i = 0; i < size && i < 128; i++)
		got[i] = (char)ig_u8(&g, i);
	CU_ASSERT_STRING_EQUAL(got, want);
}

/* The bitmap of EV_BITS subsel `type`: its size and the bits set. */
static void expect_bits(uint8_t type, unsigned size, const unsigned *bits,
			unsigned n)
{
	uint8_t want[128] = {0};
	for (unsigned i = 0; i < n; i++)
		want[bits[i] / 8] |= (uint8_t)(1u << (bits[i] % 8));
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_EV_BITS, type), size);
	for (unsigned i = 0; i < 128; i++)
		if (ig_u8(&g, i) != want[i]) {
			fprintf(stderr, "\n  type %u byte %u: %#x, want %#x\n",
				type, i, ig_u8(&g, i), want[i]);
			CU_FAIL("bitmap differs");
			break;
		}
}

static void expect_devids(uint16_t product)
{
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_ID_DEVIDS, 0), 8);
	CU_ASSERT_EQUAL(ig_u8(&g, 0) | ig_u8(&g, 1) << 8, BUS_VIRTUAL);
	CU_ASSERT_EQUAL(ig_u8(&g, 4) | ig_u8(&g, 5) << 8, product);
}

static void test_keyboard_config(void)
{
	start("keyboard", ", \"name\": \"kbd one\", \"serial\": \"SN-7\"");
	expect_string(VIRTIO_INPUT_CFG_ID_NAME, "kbd one");
	expect_string(VIRTIO_INPUT_CFG_ID_SERIAL, "SN-7");
	expect_devids(1);
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_PROP_BITS, 0), 0);
	/* Keys 1..248: byte 31 holds bit 248. */
	unsigned keys[248];
	for (unsigned i = 0; i < 248; i++)
		keys[i] = i + 1;
	expect_bits(EV_KEY, 32, keys, 248);
	expect_bits(EV_LED, 1,
		    (const unsigned[]){LED_NUML, LED_CAPSL, LED_SCROLLL}, 3);
	expect_bits(EV_REP, 1, (const unsigned[]){REP_DELAY, REP_PERIOD}, 2);
	expect_bits(EV_REL, 0, NULL, 0);
	expect_bits(EV_ABS, 0, NULL, 0);
	expect_bits(EV_SYN, 0, NULL, 0);
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X), 0);
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_ID_NAME, 1), 0);
	CU_ASSERT_EQUAL(ig_select(&g, 0x42, 0), 0);
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_UNSET, 0), 0);
	stop();
}

static void test_tablet_config(void)
{
	start("tablet", "");
	expect_string(VIRTIO_INPUT_CFG_ID_NAME, "hvisor virtio tablet");
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_ID_SERIAL, 0), 0);
	expect_devids(2);
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_PROP_BITS, 0), 0);
	/* BTN_MIDDLE (274) is in byte 34. */
	expect_bits(EV_KEY, 35,
		    (const unsigned[]){BTN_LEFT, BTN_RIGHT, BTN_MIDDLE}, 3);
	expect_bits(EV_REL, 2, (const unsigned[]){REL_HWHEEL, REL_WHEEL}, 2);
	expect_bits(EV_ABS, 1, (const unsigned[]){ABS_X, ABS_Y}, 2);
	expect_bits(EV_LED, 0, NULL, 0);
	expect_bits(EV_REP, 0, NULL, 0);
	for (uint8_t axis = ABS_X; axis <= ABS_Y; axis++) {
		CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_ABS_INFO, axis),
				20);
		uint32_t v[5];
		for (unsigned i = 0; i < 5; i++)
			v[i] = (uint32_t)ig_u8(&g, i * 4) |
			       (uint32_t)ig_u8(&g, i * 4 + 1) << 8 |
			       (uint32_t)ig_u8(&g, i * 4 + 2) << 16 |
			       (uint32_t)ig_u8(&g, i * 4 + 3) << 24;
		CU_ASSERT_EQUAL(v[0], 0);     /* min */
		CU_ASSERT_EQUAL(v[1], 32767); /* max */
		CU_ASSERT_EQUAL(v[2] | v[3] | v[4], 0);
	}
	CU_ASSERT_EQUAL(ig_select(&g, VIRTIO_INPUT_CFG_ABS_INFO, ABS_Z), 0);
	stop();
}

static void feed(const struct virtio_input_event *ev, unsigned n)
{
	CU_ASSERT_EQUAL(ig_send(src, ev, n), 0);
}

static void test_reports(void)
{
	start("keyboard", "");
	/* Sent before the guest has buffers: kept, in order. */
	const struct virtio_input_event a[] = {
		IG_EV(EV_KEY, KEY_A, 1), IG_EV(EV_SYN, SYN_REPORT, 0),
		IG_EV(EV_KEY, KEY_A, 0), IG_EV(EV_SYN, SYN_REPORT, 0)};
	feed(a, 4);
	/* A pointer record in a keyboard report is left out... */
	const struct virtio_input_event b[] = {IG_EV(EV_ABS, ABS_X, 5),
					       IG_EV(EV_KEY, KEY_B, 1),
					       IG_EV(EV_SYN, SYN_REPORT, 0)};
	feed(b, 3);
	/* ...a report of nothing the keyboard has is not sent... */
	const struct virtio_input_event c[] = {
		IG_EV(EV_ABS, ABS_X, 5), IG_EV(EV_KEY, BTN_LEFT, 1),
		IG_EV(EV_KEY, KEY_C, 3), IG_EV(EV_SYN, SYN_REPORT, 0)};
	feed(c, 4);
	/* ...nor a datagram that does not end a report... */
	const struct virtio_input_event d[] = {IG_EV(EV_KEY, KEY_D, 1)};
	feed(d, 1);
	/* ...nor one that is not whole records. */
	const struct virtio_input_event e[] = {IG_EV(EV_KEY, KEY_E, 1),
					       IG_EV(EV_SYN, SYN_REPORT, 0)};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, src);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_EQUAL(sendto(fd, e, 12, 0, (struct sockaddr *)&sa, sizeof sa),
			12);
	/* ...nor one of more than 64 records (65: 64 keys and a SYN). */
	struct virtio_input_event big[65];
	for (int i = 0; i < 64; i++)
		big[i] = (struct virtio_input_event)IG_EV(EV_KEY, KEY_G, 1);
	big[64] = (struct virtio_input_event)IG_EV(EV_SYN, SYN_REPORT, 0);
	CU_ASSERT_EQUAL(sendto(fd, big, sizeof big, 0, (struct sockaddr *)&sa,
			       sizeof sa),
			(ssize_t)sizeof big);
	close(fd);
	feed(e, 2);
	ig_post(&g, 16);
	ig_expect(&g, EV_KEY, KEY_A, 1);
	ig_expect(&g, EV_SYN, SYN_REPORT, 0);
	ig_expect(&g, EV_KEY, KEY_A, 0);
	ig_expect(&g, EV_SYN, SYN_REPORT, 0);
	ig_expect(&g, EV_KEY, KEY_B, 1);
	ig_expect(&g, EV_SYN, SYN_REPORT, 0);
	ig_expect(&g, EV_KEY, KEY_E, 1);
	ig_expect(&g, EV_SYN, SYN_REPORT, 0);
	/* With buffers waiting, a report goes straight through. */
	const struct virtio_input_event f[] = {IG_EV(EV_KEY, KEY_F, 2),
					       IG_EV(EV_SYN, SYN_REPORT, 0)};
	feed(f, 2);
	ig_expect(&g, EV_KEY, KEY_F, 2);
	ig_expect(&g, EV_SYN, SYN_REPORT, 0);
	stop();
}

/* 512 events wait at most: 170 reports of 3 and one of 2 fill it, the
 * next report is dropped whole, and after the guest read them all a new
 * report arrives whole. */
static void test_backlog(void)
{
	start("tablet", "");
	for (int i = 0; i < 170; i++) {
		const struct virtio_input_event r[] = {
			IG_EV(EV_ABS, ABS_X, i), IG_EV(EV_ABS, ABS_Y, 1000 + i),
			IG_EV(EV_SYN, SYN_REPORT, 0)};
		feed(r, 3);
	}
	const struct virtio_input_event fits[] = {IG_EV(EV_KEY, BTN_LEFT, 1),
						  IG_EV(EV_SYN, SYN_REPORT, 0)};
	const struct virtio_input_event lost[] = {IG_EV(EV_KEY, BTN_RIGHT, 1),
						  IG_EV(EV_SYN, SYN_REPORT, 0)};
	feed(fits, 2);
	feed(lost, 2);
	for (int i = 0; i < 170; i++) {
		if (i % 20 == 0)
			ig_post(&g, 60);
		ig_expect(&g, EV_ABS, ABS_X, i);
		ig_expect(&g, EV_ABS, ABS_Y, 1000 + i);
		ig_expect(&g, EV_SYN, SYN_REPORT, 0);
	}
	ig_post(&g, 4);
	ig_expect(&g, EV_KEY, BTN_LEFT, 1);
	ig_expect(&g, EV_SYN, SYN_REPORT, 0);
	const struct virtio_input_event next[] = {IG_EV(EV_REL, REL_WHEEL, -1),
						  IG_EV(EV_SYN, SYN_REPORT, 0)};
	feed(next, 2);
	ig_expect(&g, EV_REL, REL_WHEEL, -1);
	ig_expect(&g, EV_SYN, SYN_REPORT, 0);
	stop();
}

static void test_statusq(void)
{
	start("keyboard", "");
	CU_ASSERT_EQUAL(ig_status(&g, EV_LED, LED_CAPSL, 1), 0);
	CU_ASSERT_EQUAL(ig_status(&g, EV_LED, LED_NUML, 0), 0);
	char buf[64] = {0};
	int fd = open(status, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(read(fd, buf, sizeof buf - 1) > 0);
	close(fd);
	CU_ASSERT_STRING_EQUAL(buf, "17 1 1\n17 0 0\n");
	stop();
}

static void expect_refused(const char *keys, const char *want)
{
	char dev[512];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"input\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 79%s}",
		 keys);
	expect_config_refused(tmpdir(), dev, want);
}

static void test_bad_config(void)
{
	expect_refused(", \"mode\": \"mouse\"",
		       "zones[0].devices[0].mode: \"mouse\" is not "
		       "\"keyboard\" or \"tablet\"");
	expect_refused(", \"mode\": 1",
		       "zones[0].devices[0].mode: expected a string");
	expect_refused(", \"source\": \"/nonexistent/dir/s\"",
		       "zones[0].devices[0].source: /nonexistent/dir/s: No "
		       "such file or directory");
	expect_refused(", \"status_out\": \"/nonexistent/dir/s\"",
		       "zones[0].devices[0].status_out: /nonexistent/dir/s:");
	expect_refused(", \"range\": 5", "zones[0].devices[0].range");
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"keyboard config space", test_keyboard_config},
		{"tablet config space", test_tablet_config},
		{"source datagrams become whole reports", test_reports},
		{"full backlog drops whole reports", test_backlog},
		{"statusq events recorded", test_statusq},
		{"bad configuration refused", test_bad_config},
		{NULL, NULL},
	};
	return cunit_run("input plugin", tests);
}
