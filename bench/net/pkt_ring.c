/* SPDX-License-Identifier: MIT */
/* TPACKET_V3 receive ring for bench_net (see pkt_ring.h). */
#define _GNU_SOURCE
#include "pkt_ring.h"

#include "../bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* 32 blocks of 1 MiB: ~7000 frames of 64 B or ~650 of 1500 B per block,
 * so the reader may fall a whole block behind ~20k times before a frame
 * is dropped. A block is handed over when full or after RETIRE_MS. */
#define BLOCK_SIZE (1u << 20)
#define NBLOCKS    32u
#define FRAME_SIZE 2048u
#define RETIRE_MS  1u

int pkt_ring_open(struct pkt_ring *r, const char *ifname)
{
	memset(r, 0, sizeof *r);
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (r->fd < 0)
		return -errno;
	/* Software receive timestamps (SO_TIMESTAMPNS turns them on for the
	 * stack) give when each frame arrived, not when a block was read. */
	int v3 = TPACKET_V3, one = 1, sw = SOF_TIMESTAMPING_SOFTWARE;
	struct tpacket_req3 req = {
		.tp_block_size = BLOCK_SIZE,
		.tp_block_nr = NBLOCKS,
		.tp_frame_size = FRAME_SIZE,
		.tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * NBLOCKS,
		.tp_retire_blk_tov = RETIRE_MS,
	};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)if_nametoindex(ifname)};
	int err = 0;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof v3) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof one) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_TIMESTAMP, &sw, sizeof sw) ||
	    setsockopt(r->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) {
		err = -errno;
		goto fail;
	}
	r->map =
		mmap(NULL, (size_t)BLOCK_SIZE * NBLOCKS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_POPULATE, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		err = -errno;
		goto fail;
	}
	r->nblocks = NBLOCKS;
	r->block_size = BLOCK_SIZE;
	if (!sll.sll_ifindex ||
	    bind(r->fd, (struct sockaddr *)&sll, sizeof sll)) {
		err = sll.sll_ifindex ? -errno : -ENODEV;
		goto fail;
	}
	return 0;
fail:
	pkt_ring_close(r);
	return err;
}

void pkt_ring_close(struct pkt_ring *r)
{
	if (r->map)
		munmap(r->map, (size_t)r->block_size * r->nblocks);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

static struct tpacket_block_desc *block(struct pkt_ring *r, unsigned i)
{
	return (struct tpacket_block_desc *)(r->map +
					     (size_t)i * r->block_size);
}

/* The kernel filled the block: its status has TP_STATUS_USER. The acquire
 * pairs with the kernel's barrier before it sets the status. */
static bool block_ready(struct tpacket_block_desc *b)
{
	return __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
	       TP_STATUS_USER;
}

/* Back to the kernel once read; release orders our reads before it. */
static void block_release(struct tpacket_block_desc *b)
{
	__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL,
			 __ATOMIC_RELEASE);
}

static unsigned take_drops(int fd)
{
	struct tpacket_stats_v3 st;
	socklen_t sl = sizeof st;
	/* Reading the counters zeroes them. */
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl))
		return 0;
	return st.tp_drops;
}

void pkt_ring_reset(struct pkt_ring *r)
{
	/* Blocks come back in ring order; a partly filled one is handed
	 * over RETIRE_MS (rounded up to a tick) after its last frame. */
	for (;;) {
		struct tpacket_block_desc *b = block(r, r->cur);
		struct pollfd pf = {.fd = r->fd, .events = POLLIN};
		if (!block_ready(b) && poll(&pf, 1, 20) != 1 && !block_ready(b))
			break;
		if (!block_ready(b))
			continue;
		block_release(b);
		r->cur = (r->cur + 1) % r->nblocks;
	}
	take_drops(r->fd);
}

/* Realtime minus monotonic: the ring's timestamps are CLOCK_REALTIME. */
static int64_t realtime_offset(void)
{
	struct timespec rt, mo;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mo);
	return (int64_t)(rt.tv_sec - mo.tv_sec) * 1000000000ll +
	       (rt.tv_nsec - mo.tv_nsec);
}

static void read_block(struct tpacket_block_desc *b, struct pkt_count *c,
		       int64_t off)
{
	uint8_t *p = (uint8_t *)b + b->hdr.bh1.offset_to_first_pkt;
	for (uint32_t i = 0; i < b->hdr.bh1.num_pkts; i++) {
		struct tpacket3_hdr *h = (struct tpacket3_hdr *)p;
		const uint8_t *eth = (const uint8_t *)h + h->tp_mac;
		/* Other traffic on the link is not ours. */
		if (h->tp_len == c->len && h->tp_snaplen >= 8 &&
		    eth[7] == 0x77 && c->got < c->want) {
			c->got++;
			c->end_ns = h->tp_status & TP_STATUS_TS_SOFTWARE
					    ? (uint64_t)((int64_t)h->tp_sec *
								 1000000000ll +
							 h->tp_nsec - off)
					    : now_ns();
		}
		p += h->tp_next_offset;
	}
}

void pkt_ring_read(struct pkt_ring *r, struct pkt_count *c, int wait_ms)
{
	int64_t off = realtime_offset();
	while (c->got < c->want) {
		struct tpacket_block_desc *b = block(r, r->cur);
		if (!block_ready(b)) {
			struct pollfd pf = {.fd = r->fd, .events = POLLIN};
			if (poll(&pf, 1, wait_ms) != 1 && !block_ready(b))
				break; /* the rest is lost */
			continue;
		}
		read_block(b, c, off);
		block_release(b);
		r->cur = (r->cur + 1) % r->nblocks;
	}
	c->drops = take_drops(r->fd);
}

int pkt_sender(const char *ifname)
{
	/* Protocol 0: the socket is on no receive list. */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	int size = 16 << 20;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_ifindex = (int)if_nametoindex(ifname)};
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll)) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pkt_if_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (r == 0)
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	char path[128];
	snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	return r;
}
