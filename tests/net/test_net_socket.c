/* SPDX-License-Identifier: MIT */
/*
 * virtio-net through the socket backend, end to end: guest driver (mock) ->
 * daemon -> net plugin -> UNIX datagram socket held by the test.
 *
 * Frames carry their sequence number and a pattern derived from it
 * (nh_fill_frame), so a lost, reordered, truncated or corrupted frame
 * fails the check that reads it.
 */
#include <endian.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <string.h>

#include "../cunit_main.h"
#include "net_harness.h"

static struct net_harness h;

#define BIG_BUF   (NET_HDR + 65550u) /* the spec's non-mergeable minimum */
#define MAX_DGRAM (NET_HDR + 65535u)

static const uint8_t dev_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

static uint8_t wire[MAX_DGRAM + 64];

/* A datagram: zero header then frame `seq` of `len` bytes to `dst`. */
static size_t make_dgram(uint32_t seq, uint32_t len, const uint8_t *dst)
{
	memset(wire, 0, NET_HDR);
	nh_fill_frame(wire + NET_HDR, len, seq, dst);
	return NET_HDR + len;
}

static void start(unsigned pairs, const char *extra)
{
	CU_ASSERT_FATAL(nh_start(&h, pairs, extra) == 0);
}

static void stop(void)
{
	nh_stop(&h);
}

static struct virtio_net_hdr_v1 hdr_of(const uint8_t *p)
{
	struct virtio_net_hdr_v1 hdr;
	memcpy(&hdr, p, sizeof hdr);
	return hdr;
}

/* ---- Config space and features ---------------------------------------- */

static void test_config_space(void)
{
	start(2, ", \"mtu\": 9000");
	CU_ASSERT_EQUAL(hvd_guest_probe(h.gd), 1);
	uint64_t got = 0;
	uint64_t want =
		BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) |
		BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MTU) |
		BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_VQ) |
		BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CSUM) |
		BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) |
		BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_GUEST_UFO);
	CU_ASSERT_EQUAL(hvd_guest_negotiate(h.gd, want, &got), 0);
	CU_ASSERT_EQUAL(got, want); /* all offered */
	for (unsigned i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, i, 1), dev_mac[i]);
	CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, 6, 2),
			VIRTIO_NET_S_LINK_UP);
	CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, 8, 2), 2);
	CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, 10, 2), 9000);
	/* 5.1.3.1: TSO without the checksum it relies on is refused. */
	CU_ASSERT_EQUAL(
		hvd_guest_negotiate(h.gd,
				    BIT(VIRTIO_F_VERSION_1) |
					    BIT(VIRTIO_NET_F_GUEST_TSO4),
				    &got),
		-EIO);
	stop();
}

/* mtu reads the configured value from creation on; a guest write to it,
 * negotiation and resets leave it alone. */
static void test_mtu_constant(void)
{
	start(1, ", \"mtu\": 1400");
	CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, 10, 2), 1400);
	uint64_t got = 0;
	for (int round = 0; round < 2; round++) {
		CU_ASSERT_EQUAL(
			hvd_guest_negotiate(h.gd,
					    BIT(VIRTIO_F_VERSION_1) |
						    BIT(VIRTIO_NET_F_MTU),
					    &got),
			0);
		CU_ASSERT_EQUAL(hvd_guest_config_write(h.gd, 10, 2, 576), 0);
		CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, 10, 2), 1400);
		CU_ASSERT_EQUAL(hvd_guest_reset(h.gd), 0);
		CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, 10, 2), 1400);
	}
	stop();
}

static void test_mac_array_form(void)
{
	/* The existing JSON form: six hex strings. */
	start(1, ", \"mac\": [\"0x00\", \"0x22\", \"0x33\", \"0x44\", "
		 "\"0x55\", \"0x66\"]");
	static const uint8_t want[6] = {0x00, 0x22, 0x33, 0x44, 0x55, 0x66};
	CU_ASSERT_EQUAL(hvd_guest_probe(h.gd), 1);
	for (unsigned i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, i, 1), want[i]);
	stop();
}

/* Each of these device entries must make daemon creation fail. */
static void test_bad_json(void)
{
	static const char *const bad[] = {
		"\"mac\": \"02:00:00:00:00\"",
		"\"mac\": \"02:00:00:00:00:0g\"",
		"\"mac\": [\"0x00\", \"0x22\"]",
		"\"mac\": [1, 2, 3, 4, 5, 256]",
		"\"mac\": \"01:00:00:00:00:01\"",
		"\"mtu\": 20",
		"\"queue_size\": 100",
		"\"num_queue_pairs\": 0",
		"\"backend\": \"vde\"",
		"\"colour\": \"blue\"",
		"\"tap\": \"tap0\"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char json[512];
		snprintf(json, sizeof json,
			 "{\"type\": \"net\", \"addr\": \"0xa003c00\", "
			 "\"len\": \"0x200\", \"irq\": 80, \"backend\": "
			 "\"socket\", \"path\": \"/tmp/hvd-net-bad-dev\", "
			 "\"peer\": \"/tmp/hvd-net-bad-peer\", %s}",
			 bad[i]);
		/* A repeated "backend" key: the later value is what counts
		 * for cJSON, so strip ours when the case sets it. */
		if (strstr(bad[i], "backend")) {
			char *b = strstr(json, "\"backend\": \"socket\", ");
			memmove(b, b + 21, strlen(b + 21) + 1);
		}
		struct fixture fx = {0};
		fx.mock = hvd_mock_new();
		CU_ASSERT_FATAL(fx.mock != NULL);
		CU_ASSERT_FATAL(hvd_mock_add_ram(fx.mock, 1, 0x50000000,
						 0x50000000, 0x1000000) == 0);
		char cfg[1024];
		snprintf(cfg, sizeof cfg,
			 "{\"zones\": [{\"id\": 1, \"memory_region\": "
			 "[{\"zone0_ipa\": \"0x50000000\", \"zonex_ipa\": "
			 "\"0x50000000\", \"size\": \"0x1000000\"}], "
			 "\"devices\": [%s]}]}",
			 json);
		CU_ASSERT_NOT_EQUAL(fixture_start_with_mock(&fx, cfg), 0);
		if (fx.daemon) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			fixture_stop(&fx);
		} else {
			hvd_mock_free(fx.mock);
		}
	}
}

/* ---- Data both ways --------------------------------------------------- */

/* Random frames of 60..65535 bytes, guest -> wire then wire -> guest,
 * without MRG_RXBUF: one 65562-byte buffer per frame. */
static void test_random_frames_both_ways(void)
{
	start(1, "");
	CU_ASSERT_FATAL(nh_bring_up(&h, BIT(VIRTIO_NET_F_MAC), 64) == 0);
	struct gbuf tx = nh_alloc(&h, MAX_DGRAM);
	struct gbuf rx[4];
	for (unsigned i = 0; i < 4; i++) {
		rx[i] = nh_alloc(&h, BIG_BUF);
		CU_ASSERT_FATAL(rx[i].gpa && nh_post_rx(&h, 0, &rx[i]) == 0);
	}
	uint32_t rnd = 12345;
	for (uint32_t seq = 0; seq < 60; seq++) {
		uint32_t len = 60 + nh_rand(&rnd) % (65535 - 60 + 1);
		if (seq == 0)
			len = 65535;
		if (seq == 1)
			len = 60;
		/* guest -> wire */
		memset(tx.p, 0, NET_HDR);
		nh_fill_frame(tx.p + NET_HDR, len, seq, NULL);
		CU_ASSERT_FATAL(nh_tx(&h, 0, &tx, NET_HDR + len) == 0);
		ssize_t n =
			nh_wire_recv(&h, 0, wire, sizeof wire, FIX_TIMEOUT_MS);
		CU_ASSERT_EQUAL_FATAL(n, (ssize_t)(NET_HDR + len));
		CU_ASSERT(nh_check_frame(wire + NET_HDR, len, seq));
		/* wire -> guest */
		size_t d = make_dgram(seq, len, NULL);
		CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, d) == (ssize_t)d);
		void *token = NULL;
		uint32_t used = 0;
		CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
						       FIX_TIMEOUT_MS) == 0);
		struct gbuf *b = token;
		CU_ASSERT_EQUAL_FATAL(used, NET_HDR + len);
		struct virtio_net_hdr_v1 hdr = hdr_of(b->p);
		CU_ASSERT_EQUAL(le16toh(hdr.num_buffers), 1);
		CU_ASSERT_EQUAL(hdr.flags, 0);
		CU_ASSERT_EQUAL(hdr.gso_type, 0);
		CU_ASSERT(nh_check_frame(b->p + NET_HDR, len, seq));
		CU_ASSERT_FATAL(nh_post_rx(&h, 0, b) == 0);
	}
	stop();
}

/* MRG_RXBUF: small buffers, frames spread over several of them with
 * num_buffers saying how many. */
static void test_mergeable_rx(void)
{
	start(1, "");
	CU_ASSERT_FATAL(nh_bring_up(&h, BIT(VIRTIO_NET_F_MRG_RXBUF), 128) == 0);
	enum { NBUF = 100, BUFSZ = 1536 };
	static struct gbuf rx[NBUF];
	for (unsigned i = 0; i < NBUF; i++) {
		rx[i] = nh_alloc(&h, BUFSZ);
		CU_ASSERT_FATAL(rx[i].gpa && nh_post_rx(&h, 0, &rx[i]) == 0);
	}
	static const uint32_t sizes[] = {60,    1514, 1524,  1525,  3000, 9000,
					 65535, 100,  40000, 65535, 61};
	static uint8_t got[MAX_DGRAM];
	for (uint32_t seq = 0; seq < sizeof sizes / sizeof sizes[0]; seq++) {
		uint32_t len = sizes[seq];
		size_t d = make_dgram(seq, len, NULL);
		CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, d) == (ssize_t)d);
		uint32_t total = 0, nbufs = 0, expect = 1;
		while (nbufs < expect) {
			void *token = NULL;
			uint32_t used = 0;
			CU_ASSERT_FATAL(
				hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
						       FIX_TIMEOUT_MS) == 0);
			struct gbuf *b = token;
			CU_ASSERT_FATAL(used <= BUFSZ &&
					total + used <= sizeof got);
			if (nbufs == 0) {
				expect = le16toh(hdr_of(b->p).num_buffers);
				CU_ASSERT_EQUAL(expect, (NET_HDR + len + BUFSZ -
							 1) / BUFSZ);
			}
			memcpy(got + total, b->p, used);
			total += used;
			nbufs++;
			CU_ASSERT_FATAL(nh_post_rx(&h, 0, b) == 0);
		}
		CU_ASSERT_EQUAL(total, NET_HDR + len);
		CU_ASSERT(nh_check_frame(got + NET_HDR, len, seq));
	}
	stop();
}

/* No buffers posted: frames wait in the socket, none is read and dropped;
 * posting buffers delivers them all, in order and intact. */
static void test_rx_waits_for_buffers(void)
{
	start(1, "");
	CU_ASSERT_FATAL(nh_bring_up(&h, 0, 16) == 0);
	enum { N = 8, LEN = 1000 };
	struct gbuf first = nh_alloc(&h, 2048);
	CU_ASSERT_FATAL(nh_post_rx(&h, 0, &first) == 0);
	for (uint32_t seq = 0; seq <= N; seq++) {
		size_t d = make_dgram(seq, LEN, NULL);
		CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, d) == (ssize_t)d);
	}
	void *token = NULL;
	uint32_t used = 0;
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					       FIX_TIMEOUT_MS) == 0);
	CU_ASSERT(nh_check_frame(first.p + NET_HDR, LEN, 0));
	/* The ring is empty now: nothing more may arrive (this timeout is
	 * the window in which a device that drops would have done so). */
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used, 200),
			-ETIMEDOUT);
	struct gbuf b[N];
	for (unsigned i = 0; i < N; i++) {
		b[i] = nh_alloc(&h, 2048);
		memset(b[i].p, 0xa5, 2048);
		CU_ASSERT_FATAL(nh_post_rx(&h, 0, &b[i]) == 0);
	}
	for (uint32_t seq = 1; seq <= N; seq++) {
		CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
						       FIX_TIMEOUT_MS) == 0);
		struct gbuf *g = token;
		CU_ASSERT_EQUAL(g, &b[seq - 1]);
		CU_ASSERT_EQUAL(used, NET_HDR + LEN);
		CU_ASSERT(nh_check_frame(g->p + NET_HDR, LEN, seq));
		CU_ASSERT_EQUAL(g->p[NET_HDR + LEN], 0xa5); /* no overrun */
	}
	stop();
}

/* The wire does not read: the socket fills, the device keeps the frames in
 * the ring (EAGAIN), and once the wire reads every frame arrives. */
static void test_tx_backpressure(void)
{
	start(1, "");
	CU_ASSERT_FATAL(nh_bring_up(&h, 0, 64) == 0);
	enum { N = 60, LEN = 1400 };
	struct gbuf tx[N];
	for (uint32_t seq = 0; seq < N; seq++) {
		tx[seq] = nh_alloc(&h, NET_HDR + LEN);
		memset(tx[seq].p, 0, NET_HDR);
		nh_fill_frame(tx[seq].p + NET_HDR, LEN, seq, NULL);
		CU_ASSERT_FATAL(nh_tx_add(&h, 0, &tx[seq], NET_HDR + LEN) == 0);
	}
	nh_sync(&h);
	for (uint32_t seq = 0; seq < N; seq++) {
		ssize_t n =
			nh_wire_recv(&h, 0, wire, sizeof wire, FIX_TIMEOUT_MS);
		CU_ASSERT_EQUAL_FATAL(n, NET_HDR + LEN);
		CU_ASSERT(nh_check_frame(wire + NET_HDR, LEN, seq));
	}
	unsigned used_entries = 0;
	void *token;
	uint32_t used;
	while (used_entries < N &&
	       hvd_guest_vq_wait_used(h.txq[0], &token, &used,
				      FIX_TIMEOUT_MS) == 0)
		used_entries++;
	CU_ASSERT_EQUAL(used_entries, N);
	stop();
}

/* ---- Offload metadata -------------------------------------------------- */

static void test_offload_header_passthrough(void)
{
	start(1, "");
	uint64_t want = BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
			BIT(VIRTIO_NET_F_HOST_TSO4) |
			BIT(VIRTIO_NET_F_GUEST_TSO4);
	CU_ASSERT_FATAL(nh_bring_up(&h, want, 16) == 0);
	struct virtio_net_hdr_v1 gso = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = htole16(54),
		.gso_size = htole16(1448),
		.csum_start = htole16(34),
		.csum_offset = htole16(16),
	};
	/* guest -> wire: header unchanged */
	struct gbuf tx = nh_alloc(&h, NET_HDR + 20000);
	memcpy(tx.p, &gso, NET_HDR);
	nh_fill_frame(tx.p + NET_HDR, 20000, 7, NULL);
	CU_ASSERT_FATAL(nh_tx(&h, 0, &tx, NET_HDR + 20000) == 0);
	CU_ASSERT_EQUAL_FATAL(
		nh_wire_recv(&h, 0, wire, sizeof wire, FIX_TIMEOUT_MS),
		NET_HDR + 20000);
	CU_ASSERT_EQUAL(memcmp(wire, &gso, NET_HDR), 0);

	/* wire -> guest: a TCPv6 GSO frame (GUEST_TSO6 not negotiated) is
	 * dropped, the TCPv4 one after it arrives with its header. */
	struct gbuf rx[2] = {nh_alloc(&h, BIG_BUF), nh_alloc(&h, BIG_BUF)};
	CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx[0]) == 0);
	CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx[1]) == 0);
	struct virtio_net_hdr_v1 v6 = gso;
	v6.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	make_dgram(1, 20000, NULL);
	memcpy(wire, &v6, NET_HDR);
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, NET_HDR + 20000) > 0);
	make_dgram(2, 20000, NULL);
	memcpy(wire, &gso, NET_HDR);
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, NET_HDR + 20000) > 0);
	void *token = NULL;
	uint32_t used = 0;
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					       FIX_TIMEOUT_MS) == 0);
	struct gbuf *b = token;
	CU_ASSERT_EQUAL(b, &rx[0]);
	CU_ASSERT(nh_check_frame(b->p + NET_HDR, 20000, 2));
	struct virtio_net_hdr_v1 got = hdr_of(b->p);
	CU_ASSERT_EQUAL(got.flags, gso.flags);
	CU_ASSERT_EQUAL(got.gso_type, gso.gso_type);
	CU_ASSERT_EQUAL(got.hdr_len, gso.hdr_len);
	CU_ASSERT_EQUAL(got.gso_size, gso.gso_size);
	CU_ASSERT_EQUAL(got.csum_start, gso.csum_start);
	CU_ASSERT_EQUAL(got.csum_offset, gso.csum_offset);
	CU_ASSERT_EQUAL(le16toh(got.num_buffers), 1);
	stop();
}

/* Without GUEST_CSUM the guest sees flags 0 (DATA_VALID cleared) and never
 * a partial checksum. */
static void test_offload_not_negotiated(void)
{
	start(1, "");
	CU_ASSERT_FATAL(nh_bring_up(&h, 0, 16) == 0);
	struct gbuf rx = nh_alloc(&h, 4096);
	CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx) == 0);
	make_dgram(1, 500, NULL);
	wire[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, NET_HDR + 500) > 0);
	make_dgram(2, 500, NULL);
	wire[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, NET_HDR + 500) > 0);
	void *token = NULL;
	uint32_t used = 0;
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					       FIX_TIMEOUT_MS) == 0);
	CU_ASSERT(nh_check_frame(rx.p + NET_HDR, 500, 2));
	CU_ASSERT_EQUAL(rx.p[0], 0);
	stop();
}

/* With MTU negotiated, a plain frame above mtu + Ethernet header never
 * reaches the guest; one within it does. */
static void test_mtu_enforced(void)
{
	start(1, ", \"mtu\": 1000");
	CU_ASSERT_FATAL(nh_bring_up(&h, BIT(VIRTIO_NET_F_MTU), 16) == 0);
	struct gbuf rx = nh_alloc(&h, 4096);
	CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx) == 0);
	size_t d = make_dgram(1, 1000 + 14 + 4 + 1, NULL);
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, d) == (ssize_t)d);
	d = make_dgram(2, 1000 + 14 + 4, NULL);
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, d) == (ssize_t)d);
	void *token = NULL;
	uint32_t used = 0;
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					       FIX_TIMEOUT_MS) == 0);
	CU_ASSERT_EQUAL(used, NET_HDR + 1018);
	CU_ASSERT(nh_check_frame(rx.p + NET_HDR, 1018, 2));
	stop();
}

/* ---- Control queue ---------------------------------------------------- */

/* Send frame `seq` to `dst` and report whether the guest got it; rx has
 * one posted buffer that is re-posted after use. */
static bool delivered(struct gbuf *rx, uint32_t seq, const uint8_t *dst)
{
	size_t d = make_dgram(seq, 100, dst);
	if (nh_wire_send(&h, 0, wire, d) != (ssize_t)d)
		return false;
	/* A broadcast fence behind it: delivered in order, so once the fence
	 * arrives the frame either came first or was filtered. */
	d = make_dgram(seq + 1000, 100, NULL);
	if (nh_wire_send(&h, 0, wire, d) != (ssize_t)d)
		return false;
	bool got = false;
	for (;;) {
		void *token = NULL;
		uint32_t used = 0;
		if (hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					   FIX_TIMEOUT_MS))
			return false;
		struct gbuf *b = token;
		bool fence = nh_check_frame(b->p + NET_HDR, 100, seq + 1000);
		got |= !fence && nh_check_frame(b->p + NET_HDR, 100, seq);
		nh_post_rx(&h, 0, b);
		if (fence)
			return got;
	}
	(void)rx;
}

/* More control commands than one pass runs, from a single kick: the rest
 * run from the event loop and every command is acknowledged. */
static void test_ctrl_batches_continue(void)
{
	start(1, "");
	uint64_t want = BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX);
	CU_ASSERT_FATAL(nh_bring_up(&h, want, 128) == 0);
	enum { N = 60 }; /* two descriptors each: fits the 128-entry ring */
	uint8_t *acks[N];
	for (unsigned i = 0; i < N; i++) {
		struct gbuf out = nh_alloc(&h, 3), ack = nh_alloc(&h, 1);
		CU_ASSERT_FATAL(out.gpa && ack.gpa);
		out.p[0] = VIRTIO_NET_CTRL_RX;
		out.p[1] = VIRTIO_NET_CTRL_RX_PROMISC;
		out.p[2] = i & 1;
		ack.p[0] = 0xee;
		acks[i] = ack.p;
		struct hvd_guest_buf gb[2] = {{out.gpa, 3, false},
					      {ack.gpa, 1, true}};
		CU_ASSERT_FATAL(
			hvd_guest_vq_add(h.ctrlq, gb, 2, false, ack.p) >= 0);
	}
	CU_ASSERT(hvd_guest_vq_kick(h.ctrlq) >= 0);
	unsigned done = 0;
	void *token;
	uint32_t len;
	while (done < N && hvd_guest_vq_wait_used(h.ctrlq, &token, &len,
						  FIX_TIMEOUT_MS) == 0) {
		CU_ASSERT_EQUAL(len, 1);
		done++;
	}
	CU_ASSERT_EQUAL(done, N);
	for (unsigned i = 0; i < N; i++)
		CU_ASSERT_EQUAL(acks[i][0], VIRTIO_NET_OK);
	stop();
}

static void test_ctrl_rx_filter(void)
{
	start(1, "");
	uint64_t want = BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
			BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
			BIT(VIRTIO_NET_F_GUEST_ANNOUNCE);
	CU_ASSERT_FATAL(nh_bring_up(&h, want, 16) == 0);
	struct gbuf rx[4];
	for (unsigned i = 0; i < 4; i++) {
		rx[i] = nh_alloc(&h, 2048);
		CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx[i]) == 0);
	}
	static const uint8_t other[6] = {0x02, 0x55, 0, 0, 0, 0x09};
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 0x01};
	static const uint8_t mcast2[6] = {0x33, 0x33, 0, 0, 0, 0x01};
	uint8_t off = 0, on = 1;
	/* Default: everything is delivered. */
	CU_ASSERT(delivered(rx, 1, other));
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_RX,
				VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
			VIRTIO_NET_OK);
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_RX,
				VIRTIO_NET_CTRL_RX_ALLMULTI, &off, 1),
			VIRTIO_NET_OK);
	CU_ASSERT(!delivered(rx, 2, other));
	CU_ASSERT(delivered(rx, 3, dev_mac));
	CU_ASSERT(!delivered(rx, 4, mcast));

	/* MAC table: `other` as unicast, `mcast` as multicast. */
	uint8_t table[4 + 6 + 4 + 6];
	uint32_t one = htole32(1);
	memcpy(table, &one, 4);
	memcpy(table + 4, other, 6);
	memcpy(table + 10, &one, 4);
	memcpy(table + 14, mcast, 6);
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
				sizeof table),
			VIRTIO_NET_OK);
	CU_ASSERT(delivered(rx, 5, other));
	CU_ASSERT(delivered(rx, 6, mcast));
	CU_ASSERT(!delivered(rx, 7, mcast2));
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_RX,
				VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1),
			VIRTIO_NET_OK);
	CU_ASSERT(delivered(rx, 8, mcast2));
	/* A table whose lengths do not add up changes nothing. */
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
				sizeof table - 1),
			VIRTIO_NET_ERR);
	CU_ASSERT(delivered(rx, 9, other));

	/* MAC_ADDR_SET: config space follows, frames to it are ours. */
	static const uint8_t newmac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_ADDR_SET, newmac, 6),
			VIRTIO_NET_OK);
	for (unsigned i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(hvd_guest_config_read(h.gd, i, 1), newmac[i]);
	CU_ASSERT(delivered(rx, 10, newmac));
	CU_ASSERT(!delivered(rx, 11, dev_mac));

	/* Announce ack, then malformed and unknown commands. */
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_ANNOUNCE,
				VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
			VIRTIO_NET_OK);
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_RX,
				VIRTIO_NET_CTRL_RX_PROMISC, table, 2),
			VIRTIO_NET_ERR);
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_RX, 9, &on, 1),
			VIRTIO_NET_ERR);
	CU_ASSERT_EQUAL(nh_ctrl(&h, 77, 0, NULL, 0), VIRTIO_NET_ERR);
	uint16_t two = htole16(2);
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &two, 2),
			VIRTIO_NET_ERR); /* MQ not negotiated */
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MAC,
				VIRTIO_NET_CTRL_MAC_ADDR_SET, mcast, 6),
			VIRTIO_NET_ERR);
	CU_ASSERT_FALSE(hvd_guest_status(h.gd) & VIRTIO_CONFIG_S_NEEDS_RESET);

	/* A command with no room for the ack is a broken chain. */
	struct gbuf cmd = nh_alloc(&h, 3);
	cmd.p[0] = VIRTIO_NET_CTRL_RX;
	cmd.p[1] = VIRTIO_NET_CTRL_RX_PROMISC;
	cmd.p[2] = 1;
	struct hvd_guest_buf gb = {cmd.gpa, 3, false};
	CU_ASSERT_FATAL(hvd_guest_vq_add(h.ctrlq, &gb, 1, false, &cmd) >= 0);
	hvd_guest_vq_kick(h.ctrlq);
	CU_ASSERT(nh_wait_needs_reset(&h, h.ctrlq));
	stop();
}

/* ---- Multiqueue -------------------------------------------------------- */

static void test_multiqueue(void)
{
	start(2, "");
	uint64_t want = BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_MQ);
	CU_ASSERT_FATAL(nh_bring_up(&h, want, 16) == 0);
	CU_ASSERT_EQUAL(h.features & want, want);
	struct gbuf rx0 = nh_alloc(&h, 2048), rx1 = nh_alloc(&h, 2048);
	CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx0) == 0);
	CU_ASSERT_FATAL(nh_post_rx(&h, 1, &rx1) == 0);
	/* Pair 1 is off until VQ_PAIRS_SET: its frame waits. */
	size_t d = make_dgram(11, 300, NULL);
	CU_ASSERT_FATAL(nh_wire_send(&h, 1, wire, d) == (ssize_t)d);
	void *token = NULL;
	uint32_t used = 0;
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(h.rxq[1], &token, &used, 200),
			-ETIMEDOUT);
	uint16_t n = htole16(3);
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &n, 2),
			VIRTIO_NET_ERR);
	n = htole16(0);
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &n, 2),
			VIRTIO_NET_ERR);
	n = htole16(2);
	CU_ASSERT_EQUAL(nh_ctrl(&h, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &n, 2),
			VIRTIO_NET_OK);
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[1], &token, &used,
					       FIX_TIMEOUT_MS) == 0);
	CU_ASSERT_EQUAL(token, &rx1);
	CU_ASSERT(nh_check_frame(rx1.p + NET_HDR, 300, 11));
	/* Each pair's frames travel on its own wire, both ways. */
	d = make_dgram(12, 300, NULL);
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, d) == (ssize_t)d);
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					       FIX_TIMEOUT_MS) == 0);
	CU_ASSERT(nh_check_frame(rx0.p + NET_HDR, 300, 12));
	for (unsigned q = 0; q < 2; q++) {
		struct gbuf tx = nh_alloc(&h, NET_HDR + 200);
		memset(tx.p, 0, NET_HDR);
		nh_fill_frame(tx.p + NET_HDR, 200, 20 + q, NULL);
		CU_ASSERT_FATAL(nh_tx(&h, q, &tx, NET_HDR + 200) == 0);
		CU_ASSERT_EQUAL(
			nh_wire_recv(&h, q, wire, sizeof wire, FIX_TIMEOUT_MS),
			NET_HDR + 200);
		CU_ASSERT(nh_check_frame(wire + NET_HDR, 200, 20 + q));
	}
	stop();
}

/* ---- Reset ------------------------------------------------------------- */

/* Reset while frames flow both ways; afterwards the old buffers are never
 * written again and a fresh bring-up carries intact frames. */
static void test_reset_mid_traffic(void)
{
	start(1, "");
	CU_ASSERT_FATAL(nh_bring_up(&h, BIT(VIRTIO_NET_F_MRG_RXBUF), 64) == 0);
	enum { NB = 32, BS = 1536 };
	static struct gbuf old[NB];
	for (unsigned i = 0; i < NB; i++) {
		old[i] = nh_alloc(&h, BS);
		CU_ASSERT_FATAL(nh_post_rx(&h, 0, &old[i]) == 0);
	}
	struct gbuf tx[16];
	for (uint32_t i = 0; i < 16; i++) {
		tx[i] = nh_alloc(&h, NET_HDR + 1000);
		memset(tx[i].p, 0, NET_HDR);
		nh_fill_frame(tx[i].p + NET_HDR, 1000, i, NULL);
		CU_ASSERT_FATAL(nh_tx_add(&h, 0, &tx[i], NET_HDR + 1000) == 0);
	}
	/* Big frames need several buffers: some are held when we reset. */
	for (uint32_t seq = 0; seq < 6; seq++) {
		size_t d = make_dgram(seq, 6000, NULL);
		CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, d) == (ssize_t)d);
	}
	CU_ASSERT_EQUAL_FATAL(hvd_guest_reset(h.gd), 0);
	CU_ASSERT_EQUAL(hvd_guest_status(h.gd), 0);
	for (unsigned i = 0; i < NB; i++)
		memset(old[i].p, 0x5a, BS);
	/* Drain what the wire got before the reset. */
	while (nh_wire_recv(&h, 0, wire, sizeof wire, 0) > 0)
		;
	CU_ASSERT_FATAL(nh_bring_up(&h, BIT(VIRTIO_NET_F_MRG_RXBUF), 64) == 0);
	static struct gbuf fresh[NB];
	for (unsigned i = 0; i < NB; i++) {
		fresh[i] = nh_alloc(&h, BS);
		CU_ASSERT_FATAL(nh_post_rx(&h, 0, &fresh[i]) == 0);
	}
	/* Frames queued before the reset may still come (they waited in the
	 * socket); each must be whole. Then a marker frame. */
	size_t d = make_dgram(999, 1000, NULL);
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, d) == (ssize_t)d);
	for (;;) {
		void *token = NULL;
		uint32_t used = 0;
		CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
						       FIX_TIMEOUT_MS) == 0);
		struct gbuf *b = token;
		CU_ASSERT_FATAL(b >= fresh && b < fresh + NB);
		uint16_t nb = le16toh(hdr_of(b->p).num_buffers);
		if (nb == 1 && used == NET_HDR + 1000) {
			CU_ASSERT(nh_check_frame(b->p + NET_HDR, 1000, 999));
			break;
		}
		/* A 6000-byte frame: check its first buffer's part. */
		CU_ASSERT_EQUAL(nb, 4);
		for (uint16_t k = 1; k < nb; k++)
			CU_ASSERT_FATAL(
				hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
						       FIX_TIMEOUT_MS) == 0);
	}
	for (unsigned i = 0; i < NB; i++)
		for (unsigned k = 0; k < BS; k++)
			if (old[i].p[k] != 0x5a) {
				CU_FAIL("an old buffer was written after "
					"reset");
				i = NB;
				break;
			}
	/* Transmit works on the new rings. */
	CU_ASSERT_FATAL(nh_tx(&h, 0, &tx[3], NET_HDR + 1000) == 0);
	CU_ASSERT_EQUAL(nh_wire_recv(&h, 0, wire, sizeof wire, FIX_TIMEOUT_MS),
			NET_HDR + 1000);
	CU_ASSERT(nh_check_frame(wire + NET_HDR, 1000, 3));
	stop();
}

/* A transmit chain shorter than the header needs a reset. */
static void test_tx_runt_needs_reset(void)
{
	start(1, "");
	CU_ASSERT_FATAL(nh_bring_up(&h, 0, 16) == 0);
	struct gbuf tx = nh_alloc(&h, 8);
	CU_ASSERT_FATAL(nh_tx_add(&h, 0, &tx, 8) == 0);
	CU_ASSERT(nh_wait_needs_reset(&h, h.txq[0]));
	stop();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"config space and features", test_config_space},
		{"mac as an array of hex strings", test_mac_array_form},
		{"bad JSON refused", test_bad_json},
		{"random frames both ways", test_random_frames_both_ways},
		{"mergeable receive", test_mergeable_rx},
		{"receive waits for buffers", test_rx_waits_for_buffers},
		{"transmit back-pressure", test_tx_backpressure},
		{"offload header pass-through",
		 test_offload_header_passthrough},
		{"offloads not negotiated", test_offload_not_negotiated},
		{"mtu enforced on receive", test_mtu_enforced},
		{"5.1.4.1 mtu never changes", test_mtu_constant},
		{"control queue receive filter", test_ctrl_rx_filter},
		{"control commands beyond one batch",
		 test_ctrl_batches_continue},
		{"multiqueue", test_multiqueue},
		{"reset mid-traffic", test_reset_mid_traffic},
		{"transmit runt needs reset", test_tx_runt_needs_reset},
		{NULL, NULL},
	};
	return cunit_run("net-socket", tests);
}
