/* SPDX-License-Identifier: MIT */
/* The far end of bench_net's paths (see far_end.h). */
#define _GNU_SOURCE
#include "far_end.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../bench_util.h"

uint8_t frame_template[HDR + 1514];

void make_template(void)
{
	memset(frame_template, 0, sizeof frame_template);
	uint8_t *eth = frame_template + HDR;
	memset(eth, 0xff, 6); /* broadcast */
	static const uint8_t src[6] = {0x02, 0x77, 0, 0, 0, 1};
	memcpy(eth + 6, src, 6);
	eth[12] = 0x88; /* local experimental ethertype */
	eth[13] = 0xb5;
	for (unsigned i = 14; i < 1514; i++)
		eth[i] = (uint8_t)i;
}

void *far_send(void *arg)
{
	struct far *f = arg;
	const uint8_t *p = f->with_hdr ? frame_template : frame_template + HDR;
	size_t len = f->len + (f->with_hdr ? HDR : 0);
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < f->n; i++) {
		/* Flow control: a tap drops what its queue has no room for,
		 * so an unlimited sender spends a core on frames that are
		 * lost, taken from the path it measures (issue 16). 20 us
		 * is far below the time the window takes to drain. */
		while (f->window &&
		       i - __atomic_load_n(f->acked, __ATOMIC_ACQUIRE) >=
			       f->window) {
			if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
				goto out;
			nanosleep(&(struct timespec){.tv_nsec = 20000}, NULL);
		}
		if (f->pace_pps) {
			uint64_t due =
				t0 + (uint64_t)i * 1000000000ull / f->pace_pps;
			struct timespec ts = {
				.tv_sec = (time_t)(due / 1000000000ull),
				.tv_nsec = (long)(due % 1000000000ull)};
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
					NULL);
		}
		while (send(f->fd, p, len, 0) != (ssize_t)len) {
			if (errno != ENOBUFS && errno != EAGAIN)
				return NULL;
			struct pollfd pf = {.fd = f->fd, .events = POLLOUT};
			poll(&pf, 1, 10);
		}
		f->done++;
	}
out:
	f->end_ns = now_ns();
	return NULL;
}

/* Datagrams, in batches of up to 64 per call. */
static void recv_dgrams(struct far *f)
{
	static uint8_t buf[64][HDR + 1514 + 1];
	struct mmsghdr m[64];
	struct iovec iov[64];
	for (unsigned i = 0; i < 64; i++) {
		iov[i] = (struct iovec){buf[i], sizeof buf[i]};
		m[i] = (struct mmsghdr){
			.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	size_t want = f->len + (f->with_hdr ? HDR : 0);
	while (f->done < f->n) {
		struct pollfd pf = {.fd = f->fd, .events = POLLIN};
		if (poll(&pf, 1, WAIT_MS) != 1)
			break; /* the rest is lost */
		int r = recvmmsg(f->fd, m, 64, MSG_DONTWAIT, NULL);
		for (int i = 0; i < r; i++)
			if (m[i].msg_len == want) {
				f->done++;
				f->end_ns = now_ns();
			}
	}
}

static void *far_recv(void *arg)
{
	struct far *f = arg;
	if (!f->ring) {
		recv_dgrams(f);
		return NULL;
	}
	struct pkt_count c = {.len = f->len, .want = f->n};
	pkt_ring_read(f->ring, &c, WAIT_MS);
	f->done = c.got;
	f->end_ns = c.end_ns;
	f->drops = c.drops;
	return NULL;
}

void far_recv_start(struct far *f, pthread_t *t, uint64_t *t0)
{
	f->done = 0;
	f->drops = 0;
	if (f->ring)
		pkt_ring_reset(f->ring);
	*t0 = now_ns();
	pthread_create(t, NULL, far_recv, f);
}

void run_add(struct run *sum, struct run r)
{
	sum->frames += r.frames;
	sum->sent += r.sent;
	sum->drops += r.drops;
	sum->ns += r.ns;
	sum->ticks += r.ticks;
}

double run_pps(struct run r)
{
	return r.drops || !r.ns ? 0.0 : r.frames / ((double)r.ns / 1e9);
}

struct run reference_run(struct far tx, struct far rx)
{
	pthread_t t1, t2;
	uint64_t t0;
	far_recv_start(&rx, &t2, &t0);
	pthread_create(&t1, NULL, far_send, &tx);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	return (struct run){.frames = rx.done,
			    .sent = rx.n,
			    .drops = rx.drops,
			    .ns = rx.done ? rx.end_ns - t0 : 0};
}
