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
#include "netns.h"

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

/* An Ethernet + IPv4 + TCP/UDP frame from 10.0.0.1:sport to 10.0.0.2:80
 * with `payload` bytes; source MAC tagged as this suite's. Returns its
 * length. The IP checksum is right; the L4 checksum is left partial (the
 * pseudo-header sum), as a sender using checksum offload leaves it. */
static uint32_t ip_frame(uint8_t *f, uint8_t proto, uint16_t sport,
			 uint32_t payload)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x01};
	nh_fill_frame(f, 14 + 40 + payload, 0, dst);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14;
	uint32_t l4len = (proto == 6 ? 20 : 8) + payload;
	uint16_t tot = (uint16_t)(20 + l4len);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = proto;
	static const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
	memcpy(ip + 12, addrs, 8);
	uint32_t sum = 0;
	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	uint8_t *l4 = ip + 20;
	memset(l4, 0, proto == 6 ? 20 : 8);
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[3] = 80;
	uint32_t ps = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + proto + l4len;
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	if (proto == 6) {
		l4[12] = 5 << 4; /* data offset */
		l4[13] = 0x10;   /* ACK */
		l4[14] = 0xff;   /* window */
		l4[16] = (uint8_t)(ps >> 8);
		l4[17] = (uint8_t)ps;
	} else {
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
		l4[6] = (uint8_t)(ps >> 8);
		l4[7] = (uint8_t)ps;
	}
	return 14 + 20 + l4len;
}

/* Send one TSO frame of 4000 payload bytes into the tap with an AF_PACKET
 * socket carrying a virtio-net header (the kernel keeps it one GSO frame
 * for as long as the device on the way can take it). */
static void send_tso_frame(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	int one = 1;
	CU_ASSERT_FATAL(fd >= 0 && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR,
					      &one, sizeof one) == 0);
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54,
		.gso_size = 1000,
		.csum_start = 34,
		.csum_offset = 16,
	};
	memcpy(buf, &vh, sizeof vh);
	uint32_t len = ip_frame(buf + sizeof vh, 6, 1234, 4000);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = (int)if_nametoindex(TAP_NAME),
				  .sll_halen = 6};
	memcpy(sll.sll_addr, buf + sizeof vh, 6);
	CU_ASSERT_EQUAL(sendto(fd, buf, sizeof vh + len, 0,
			       (struct sockaddr *)&sll, sizeof sll),
			(ssize_t)(sizeof vh + len));
	close(fd);
}

/* Receive one frame (MRG_RXBUF, 2048-byte buffers) into `out`: returns its
 * length (header included) or 0. */
static uint32_t guest_recv_merged(uint8_t *out, size_t cap)
{
	uint32_t total = 0, nbufs = 0, expect = 1;
	while (nbufs < expect) {
		void *token = NULL;
		uint32_t used = 0;
		if (hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					   FIX_TIMEOUT_MS) ||
		    total + used > cap)
			return 0;
		struct gbuf *b = token;
		if (nbufs == 0)
			expect = le16toh(((struct virtio_net_hdr_v1 *)b->p)
						 ->num_buffers);
		memcpy(out + total, b->p, used);
		total += used;
		nbufs++;
		if (nh_post_rx(&h, 0, b))
			return 0;
	}
	return total;
}

/* GUEST_TSO4 negotiated: the tap hands over the whole GSO frame with its
 * metadata. Not negotiated: the kernel segments it first (TUNSETOFFLOAD
 * followed the features), and the guest sees plain frames. */
static void test_tap_offload_follows_features(void)
{
	start("");
	static struct gbuf rx[64];
	static uint8_t frame[70000];
	for (int round = 0; round < 2; round++) {
		uint64_t want = BIT(VIRTIO_NET_F_MRG_RXBUF) |
				BIT(VIRTIO_NET_F_GUEST_CSUM) |
				(round == 0 ? BIT(VIRTIO_NET_F_GUEST_TSO4) : 0);
		CU_ASSERT_FATAL(nh_bring_up(&h, want, 128) == 0);
		for (unsigned i = 0; i < 64; i++) {
			rx[i] = nh_alloc(&h, 2048);
			CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx[i]) == 0);
		}
		send_tso_frame();
		uint32_t n = guest_recv_merged(frame, sizeof frame);
		struct virtio_net_hdr_v1 vh;
		memcpy(&vh, frame, sizeof vh);
		if (round == 0) {
			CU_ASSERT_EQUAL(n, NET_HDR + 54 + 4000);
			CU_ASSERT_EQUAL(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
			CU_ASSERT_EQUAL(le16toh(vh.gso_size), 1000);
			CU_ASSERT(vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
			continue;
		}
		/* Four segments of 1000 payload bytes each. */
		for (int seg = 0; seg < 4; seg++) {
			CU_ASSERT_EQUAL(n, NET_HDR + 54 + 1000);
			CU_ASSERT_EQUAL(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
			if (seg < 3) {
				n = guest_recv_merged(frame, sizeof frame);
				memcpy(&vh, frame, sizeof vh);
			}
		}
	}
	stop();
}

/* Two pairs on a multiqueue tap: one pair until VQ_PAIRS_SET (the second
 * tap queue is detached, so the kernel steers nothing to it), then many
 * flows spread over both receive queues and nothing is lost. */
static void test_tap_multiqueue(void)
{
	start(", \"num_queue_pairs\": 2");
	h.pairs = 2;
	uint64_t want = BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_MQ);
	CU_ASSERT_FATAL(nh_bring_up(&h, want, 64) == 0);
	enum { FLOWS = 64, NB = 32 };
	static struct gbuf rx[2][NB];
	for (unsigned q = 0; q < 2; q++)
		for (unsigned i = 0; i < NB; i++) {
			rx[q][i] = nh_alloc(&h, 2048);
			CU_ASSERT_FATAL(nh_post_rx(&h, q, &rx[q][i]) == 0);
		}
	unsigned got[2] = {0, 0};
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 1) {
			uint16_t two = htole16(2);
			CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MQ,
						VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
						&two, 2),
					VIRTIO_NET_OK);
		}
		unsigned before[2] = {got[0], got[1]};
		for (uint16_t flow = 0; flow < FLOWS; flow++) {
			uint32_t len =
				ip_frame(buf, 17, (uint16_t)(1000 + flow), 64);
			CU_ASSERT_FATAL(wire_send(buf, len) == 0);
		}
		/* Collect FLOWS frames from whichever queue has them; the
		 * interrupt count is read before looking, so a frame that
		 * lands after the look still wakes the wait. */
		for (unsigned n = 0; n < FLOWS;) {
			uint64_t seen = hvd_guest_irq_count(h.gd);
			unsigned progress = 0;
			for (unsigned q = 0; q < 2; q++) {
				void *token;
				uint32_t used;
				while (hvd_guest_vq_get_used(h.rxq[q], &token,
							     &used) == 1) {
					got[q]++;
					progress++;
					nh_post_rx(&h, q, token);
				}
			}
			n += progress;
			if (!progress &&
			    hvd_guest_wait_irq(h.gd, seen, FIX_TIMEOUT_MS)) {
				CU_FAIL("frames missing");
				break;
			}
		}
		if (phase == 0) {
			CU_ASSERT_EQUAL(got[1], before[1]); /* pair 1 off */
		} else {
			CU_ASSERT(got[0] > before[0] && got[1] > before[1]);
		}
	}
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
	if (net_private_namespace("net_tap"))
		return 77;
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("net_tap: skipped: no /dev/net/tun\n");
		return 77;
	}
	static const struct cunit_test tests[] = {
		{"guest to tap, no loss", test_guest_to_tap},
		{"tap to guest across an empty ring",
		 test_tap_to_guest_with_empty_ring},
		{"offloads follow the negotiated features",
		 test_tap_offload_follows_features},
		{"multiqueue tap", test_tap_multiqueue},
		{"link down when the tap goes away", test_link_down_on_delete},
		{NULL, NULL},
	};
	return cunit_run("net-tap", tests);
}
