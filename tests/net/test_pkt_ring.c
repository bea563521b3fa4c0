/* SPDX-License-Identifier: MIT */
/*
 * bench_net's frame reader (bench/net/pkt_ring.c): a TPACKET_V3 ring that
 * counts the frames of one length with the bench's source address, never
 * the host's own sends on the interface, and reports the frames it had no
 * room for. Runs on the loopback interface of a private network namespace
 * (root only; exits 77 otherwise), where a frame sent is received once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../bench/net/pkt_ring.h"
#include "../cunit_main.h"
#include "netns.h"

#define GUARD_MS 2000 /* failure guard: frames sent arrive well before */

static struct pkt_ring ring;
static int tx = -1;

/* A frame as bench_net sends it: broadcast, source 02:77:..., `len`
 * bytes; `tag` other than 0x77 makes it someone else's. */
static void send_frames(unsigned n, unsigned len, uint8_t tag)
{
	uint8_t f[1514] = {0};
	memset(f, 0xff, 6);
	f[6] = 0x02;
	f[7] = tag;
	f[12] = 0x88;
	f[13] = 0xb5;
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(send(tx, f, len, 0), (ssize_t)len);
}

static void test_counts_ours_once(void)
{
	pkt_ring_reset(&ring);
	/* In chunks the loopback's backlog never fills (it drops past
	 * netdev_max_backlog, 1000 by default), so every frame arrives. */
	for (unsigned k = 0; k < 20; k++) {
		send_frames(100, 64, 0x77);
		send_frames(10, 100, 0x77); /* other length */
		send_frames(10, 64, 0x12);  /* other source */
	}
	/* Asks for more than were sent: a copy of our own sends, or a frame
	 * of another length or source, would be counted. */
	struct pkt_count c = {.len = 64, .want = 4000};
	pkt_ring_read(&ring, &c, 200);
	CU_ASSERT_EQUAL(c.got, 2000);
	CU_ASSERT_EQUAL(c.drops, 0);
	CU_ASSERT(c.end_ns > 0);
}

/* Frames left in the ring by an earlier run do not count in the next. */
static void test_reset_forgets_earlier_frames(void)
{
	send_frames(300, 64, 0x77);
	pkt_ring_reset(&ring);
	send_frames(5, 64, 0x77);
	struct pkt_count c = {.len = 64, .want = 5};
	pkt_ring_read(&ring, &c, GUARD_MS);
	CU_ASSERT_EQUAL(c.got, 5);
	/* Nothing else is pending: a read for one more finds none. */
	struct pkt_count more = {.len = 64, .want = 1};
	pkt_ring_read(&ring, &more, 100);
	CU_ASSERT_EQUAL(more.got, 0);
}

/* More than the ring holds, sent before any read: the excess is counted
 * as dropped, not lost silently. */
static void test_overflow_is_counted(void)
{
	pkt_ring_reset(&ring);
	const unsigned n = 40000; /* 1500 B each: ~64 MB, the ring 32 MiB */
	for (unsigned k = 0; k < n / 100; k++)
		send_frames(100, 1500, 0x77);
	struct pkt_count c = {.len = 1500, .want = n};
	pkt_ring_read(&ring, &c, 200);
	CU_ASSERT(c.drops > 0);
	CU_ASSERT(c.got > 0);
	CU_ASSERT(c.got + c.drops <= n);
	/* The count was taken: the next run starts from zero. */
	pkt_ring_reset(&ring);
	send_frames(3, 64, 0x77);
	struct pkt_count d = {.len = 64, .want = 3};
	pkt_ring_read(&ring, &d, GUARD_MS);
	CU_ASSERT_EQUAL(d.got, 3);
	CU_ASSERT_EQUAL(d.drops, 0);
}

int main(void)
{
	if (net_private_namespace("pkt_ring"))
		return 77;
	int err = pkt_if_up("lo") ? -errno : pkt_ring_open(&ring, "lo");
	tx = err ? -1 : pkt_sender("lo");
	if (err || tx < 0) {
		printf("pkt_ring: cannot set up on lo: %s\n",
		       strerror(err ? -err : -tx));
		return 1;
	}
	static const struct cunit_test tests[] = {
		{"counts our frames once, not the host's own sends",
		 test_counts_ours_once},
		{"reset forgets earlier frames",
		 test_reset_forgets_earlier_frames},
		{"overflow is counted as dropped", test_overflow_is_counted},
		{NULL, NULL},
	};
	int r = cunit_run("pkt-ring", tests);
	close(tx);
	pkt_ring_close(&ring);
	return r;
}
