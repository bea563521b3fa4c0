/* SPDX-License-Identifier: MIT */
/*
 * virtio-net through the tap backend. Needs root: the suite moves itself
 * into a private network namespace first (unshare(CLONE_NEWNET), before any
 * thread exists), so the tap it creates is invisible to the machine. The
 * far end is an AF_PACKET socket on the tap interface: what it sends the
 * guest receives, what the guest sends it reads.
 *
 * Without root the suite prints why and exits 77 (meson: skipped).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../cunit_main.h"
#include "net_harness.h"

#define TAP_NAME "hvdtap0"
#define SRC_TAG  0x99 /* frames of this suite: source 02:99:... */

static struct net_harness h;
static int pkt_fd = -1;
static uint8_t buf[70000];

/* IPv6 would send its own frames (router solicitations...) on the new
 * link; turning it off keeps the wire to what the tests send. */
static void quiet_ipv6(void)
{
	FILE *f =
		fopen("/proc/sys/net/ipv6/conf/" TAP_NAME "/disable_ipv6", "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
}

static int link_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, TAP_NAME);
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (r == 0)
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return r;
}

static int open_packet_socket(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -1;
	int size = 16 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)if_nametoindex(TAP_NAME)};
	if (!sll.sll_ifindex ||
	    bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void start(const char *extra)
{
	memset(&h, 0, sizeof h);
	for (unsigned i = 0; i < 4; i++)
		h.peer_fd[i] = -1;
	h.pairs = 1;
	char json[512];
	snprintf(json, sizeof json,
		 "{\"type\": \"net\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 80, \"tap\": \"" TAP_NAME "\", \"mac\": "
		 "\"02:00:00:00:00:01\"%s}",
		 extra);
	CU_ASSERT_FATAL(nh_start_json(&h, json) == 0);
	quiet_ipv6();
	CU_ASSERT_FATAL(link_up() == 0);
	pkt_fd = open_packet_socket();
	CU_ASSERT_FATAL(pkt_fd >= 0);
}

static void stop(void)
{
	if (pkt_fd >= 0)
		close(pkt_fd);
	pkt_fd = -1;
	nh_stop(&h);
}

/* Next frame of this suite from the tap, or -1 after timeout_ms. */
static ssize_t wire_recv(void *out, size_t len, int timeout_ms)
{
	for (;;) {
		struct pollfd p = {.fd = pkt_fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) != 1)
			return -1;
		struct sockaddr_ll from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(pkt_fd, out, len, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n >= 12 && from.sll_pkttype != PACKET_OUTGOING &&
		    ((uint8_t *)out)[7] == SRC_TAG)
			return n;
	}
}

static int wire_send(const void *frame, size_t len)
{
	return send(pkt_fd, frame, len, 0) == (ssize_t)len ? 0 : -1;
}

/* guest -> tap: every frame arrives, intact and in order. */
static void test_guest_to_tap(void)
{
	start("");
	CU_ASSERT_FATAL(nh_bring_up(&h, 0, 256) == 0);
	enum { N = 2000, SLOTS = 128 };
	static struct gbuf tx[SLOTS];
	for (unsigned i = 0; i < SLOTS; i++)
		tx[i] = nh_alloc(&h, NET_HDR + 1514);
	uint32_t rnd = 7, lens[SLOTS], received = 0, sent = 0;
	while (received < N) {
		/* Keep up to SLOTS frames in flight. */
		while (sent < N && sent - received < SLOTS) {
			struct gbuf *b = &tx[sent % SLOTS];
			lens[sent % SLOTS] = 60 + nh_rand(&rnd) % (1514 - 60);
			memset(b->p, 0, NET_HDR);
			nh_fill_frame(b->p + NET_HDR, lens[sent % SLOTS], sent,
				      NULL);
			CU_ASSERT_FATAL(
				nh_tx_add(&h, 0, b,
					  NET_HDR + lens[sent % SLOTS]) == 0);
			sent++;
		}
		ssize_t n = wire_recv(buf, sizeof buf, FIX_TIMEOUT_MS);
		if (n != (ssize_t)lens[received % SLOTS] ||
		    !nh_check_frame(buf, (uint32_t)n, received)) {
			CU_FAIL("frame lost or damaged on the way to the tap");
			break;
		}
		received++;
		void *token;
		uint32_t used;
		CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.txq[0], &token, &used,
						       FIX_TIMEOUT_MS) == 0);
	}
	CU_ASSERT_EQUAL(received, N);
	stop();
}

/* tap -> guest, with a pause in which the guest posts no buffers: the
 * frames wait in the tap's queue and all arrive. */
static void test_tap_to_guest_with_empty_ring(void)
{
	start("");
	CU_ASSERT_FATAL(nh_bring_up(&h, BIT(VIRTIO_NET_F_MRG_RXBUF), 256) == 0);
	enum { WAIT = 200, NB = 64, BS = 2048 };
	static struct gbuf rx[NB];
	for (unsigned i = 0; i < NB; i++)
		rx[i] = nh_alloc(&h, BS);
	/* The ring is empty while these go out. */
	for (uint32_t seq = 0; seq <= WAIT; seq++) {
		uint32_t len = 60 + seq % 1455;
		nh_fill_frame(buf, len, seq, NULL);
		CU_ASSERT_FATAL(wire_send(buf, len) == 0);
	}
	for (unsigned i = 0; i < NB; i++)
		CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx[i]) == 0);
	uint32_t got = 0;
	for (uint32_t seq = 0; seq <= WAIT; seq++) {
		void *token = NULL;
		uint32_t used = 0;
		if (hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					   FIX_TIMEOUT_MS))
			break;
		struct gbuf *b = token;
		uint32_t len = 60 + seq % 1455;
		CU_ASSERT_EQUAL(le16toh(((struct virtio_net_hdr_v1 *)b->p)
						->num_buffers),
				1);
		CU_ASSERT(used == NET_HDR + len &&
			  nh_check_frame(b->p + NET_HDR, len, seq));
		got++;
		CU_ASSERT_FATAL(nh_post_rx(&h, 0, b) == 0);
	}
	CU_ASSERT_EQUAL(got, WAIT + 1);
	stop();
}

/* Deleting the interface under the device: link down, with a config
 * interrupt, and no busy loop on the dead fd. */
static void test_link_down_on_delete(void)
{
	start("");
	CU_ASSERT_FATAL(nh_bring_up(&h, BIT(VIRTIO_NET_F_STATUS), 16) == 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, 6, 2),
			VIRTIO_NET_S_LINK_UP);
	struct gbuf rx = nh_alloc(&h, 2048);
	CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx) == 0);
	uint64_t irqs = hvd_guest_irq_count(h.gd);
	close(pkt_fd);
	pkt_fd = -1;
	CU_ASSERT_FATAL(system("ip link delete " TAP_NAME) == 0);
	bool down = false;
	while (!down && hvd_guest_wait_irq(h.gd, irqs, FIX_TIMEOUT_MS) == 0) {
		irqs = hvd_guest_irq_count(h.gd);
		uint32_t isr = hvd_guest_ack_interrupt(h.gd);
		down = (isr & VIRTIO_MMIO_INT_CONFIG) &&
		       !(hvd_guest_config_read(h.gd, 6, 2) &
			 VIRTIO_NET_S_LINK_UP);
	}
	CU_ASSERT(down);
	stop();
}

int main(void)
{
	if (geteuid() != 0) {
		printf("net_tap: skipped: needs root to create a network "
		       "namespace and a tap interface\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("net_tap: skipped: unshare(CLONE_NEWNET): %s\n",
		       strerror(errno));
		return 77;
	}
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("net_tap: skipped: no /dev/net/tun\n");
		return 77;
	}
	static const struct cunit_test tests[] = {
		{"guest to tap, no loss", test_guest_to_tap},
		{"tap to guest across an empty ring",
		 test_tap_to_guest_with_empty_ring},
		{"link down when the tap goes away", test_link_down_on_delete},
		{NULL, NULL},
	};
	return cunit_run("net-tap", tests);
}
