/* SPDX-License-Identifier: MIT */
/*
 * virtio-net against a hostile guest, through the socket backend: transmit
 * headers the negotiated features do not allow never reach the wire (the
 * far end is another guest's device, and no kernel checks them on that
 * way), and the device keeps serving the frames after them.
 */
#include <endian.h>
#include <linux/virtio_config.h>
#include <string.h>

#include "../cunit_main.h"
#include "net_harness.h"

static struct net_harness h;
static uint8_t wire[NET_HDR + 65536];

/* Transmit frame `seq` of `len` bytes behind header `hdr`. */
static void send_frame(struct gbuf *tx, const struct virtio_net_hdr_v1 *hdr,
		       uint32_t len, uint32_t seq)
{
	memcpy(tx->p, hdr, NET_HDR);
	nh_fill_frame(tx->p + NET_HDR, len, seq, NULL);
	CU_ASSERT_FATAL(nh_tx(&h, 0, tx, NET_HDR + len) == 0);
}

/* The next datagram on the wire is frame `seq` of `len` bytes. */
static bool wire_has(uint32_t seq, uint32_t len)
{
	ssize_t n = nh_wire_recv(&h, 0, wire, sizeof wire, FIX_TIMEOUT_MS);
	return n == (ssize_t)(NET_HDR + len) &&
	       nh_check_frame(wire + NET_HDR, len, seq);
}

/* `bad` is dropped: a good frame sent after it is the next on the wire. */
static void expect_dropped(struct gbuf *tx, const struct virtio_net_hdr_v1 *bad,
			   uint32_t len, uint32_t seq)
{
	static const struct virtio_net_hdr_v1 plain;
	send_frame(tx, bad, len, seq);
	send_frame(tx, &plain, 100, seq + 1000);
	CU_ASSERT(wire_has(seq + 1000, 100));
	CU_ASSERT_FALSE(hvd_guest_status(h.gd) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_tx_offloads_not_negotiated(void)
{
	CU_ASSERT_FATAL(nh_start(&h, 1, "") == 0);
	CU_ASSERT_FATAL(nh_bring_up(&h, 0, 16) == 0);
	struct gbuf tx = nh_alloc(&h, NET_HDR + 4096);
	struct virtio_net_hdr_v1 hdr = {
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = htole16(54),
		.gso_size = htole16(1448),
	};
	expect_dropped(&tx, &hdr, 3000, 1);
	hdr = (struct virtio_net_hdr_v1){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = htole16(34),
		.csum_offset = htole16(16),
	};
	expect_dropped(&tx, &hdr, 500, 2);
	hdr = (struct virtio_net_hdr_v1){.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	expect_dropped(&tx, &hdr, 500, 3);
	hdr = (struct virtio_net_hdr_v1){.gso_type = 0x42};
	expect_dropped(&tx, &hdr, 500, 4);
	nh_stop(&h);
}

static void test_tx_header_outside_frame(void)
{
	CU_ASSERT_FATAL(nh_start(&h, 1, "") == 0);
	uint64_t want = BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4);
	CU_ASSERT_FATAL(nh_bring_up(&h, want, 16) == 0);
	struct gbuf tx = nh_alloc(&h, NET_HDR + 4096);
	const struct virtio_net_hdr_v1 good = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = htole16(54),
		.gso_size = htole16(1448),
		.csum_start = htole16(34),
		.csum_offset = htole16(16),
	};
	/* The checksum field ends 2 bytes past the last one of the frame. */
	struct virtio_net_hdr_v1 hdr = good;
	hdr.csum_start = htole16(500 - 16);
	expect_dropped(&tx, &hdr, 500, 1);
	hdr = good;
	hdr.csum_start = htole16(0xffff);
	hdr.csum_offset = htole16(0xffff);
	expect_dropped(&tx, &hdr, 500, 2);
	hdr = good;
	hdr.gso_size = 0;
	expect_dropped(&tx, &hdr, 3000, 3);
	hdr = good;
	hdr.hdr_len = htole16(3001);
	expect_dropped(&tx, &hdr, 3000, 4);
	/* The same header within the frame goes out as it was. */
	send_frame(&tx, &good, 3000, 5);
	CU_ASSERT(wire_has(5, 3000));
	CU_ASSERT_EQUAL(memcmp(wire, &good, NET_HDR), 0);
	nh_stop(&h);
}

/* num_buffers is the device's field: whatever the guest put there, the far
 * end sees 0. */
static void test_tx_num_buffers_cleared(void)
{
	CU_ASSERT_FATAL(nh_start(&h, 1, "") == 0);
	CU_ASSERT_FATAL(nh_bring_up(&h, 0, 16) == 0);
	struct gbuf tx = nh_alloc(&h, NET_HDR + 4096);
	struct virtio_net_hdr_v1 hdr = {.num_buffers = htole16(77)};
	send_frame(&tx, &hdr, 200, 1);
	CU_ASSERT_FATAL(wire_has(1, 200));
	struct virtio_net_hdr_v1 got;
	memcpy(&got, wire, sizeof got);
	CU_ASSERT_EQUAL(got.num_buffers, 0);
	nh_stop(&h);
}

/* With MTU negotiated, a plain frame above mtu + Ethernet + VLAN header
 * does not leave; one of exactly that size does. */
static void test_tx_mtu_enforced(void)
{
	CU_ASSERT_FATAL(nh_start(&h, 1, ", \"mtu\": 1000") == 0);
	CU_ASSERT_FATAL(nh_bring_up(&h, BIT(VIRTIO_NET_F_MTU), 16) == 0);
	struct gbuf tx = nh_alloc(&h, NET_HDR + 4096);
	static const struct virtio_net_hdr_v1 plain;
	expect_dropped(&tx, &plain, 1000 + 14 + 4 + 1, 1);
	send_frame(&tx, &plain, 1000 + 14 + 4, 2);
	CU_ASSERT(wire_has(2, 1000 + 14 + 4));
	nh_stop(&h);
}

/* Receive: the far end of the wire is no more trusted than the guest. A
 * header whose checksum or GSO fields point outside its frame never
 * reaches the guest; the frame after it does. */
static void test_rx_header_outside_frame(void)
{
	CU_ASSERT_FATAL(nh_start(&h, 1, "") == 0);
	uint64_t want =
		BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4);
	CU_ASSERT_FATAL(nh_bring_up(&h, want, 16) == 0);
	struct gbuf rx = nh_alloc(&h, NET_HDR + 65550);
	CU_ASSERT_FATAL(nh_post_rx(&h, 0, &rx) == 0);
	const struct virtio_net_hdr_v1 good = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = htole16(54),
		.gso_size = htole16(1448),
		.csum_start = htole16(34),
		.csum_offset = htole16(16),
	};
	struct virtio_net_hdr_v1 bad[3] = {good, good, good};
	bad[0].csum_start = htole16(3000 - 16);
	bad[1].gso_size = 0;
	bad[2].hdr_len = htole16(3001);
	for (uint32_t i = 0; i < 3; i++) {
		memcpy(wire, &bad[i], NET_HDR);
		nh_fill_frame(wire + NET_HDR, 3000, i, NULL);
		CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, NET_HDR + 3000) > 0);
	}
	memcpy(wire, &good, NET_HDR);
	nh_fill_frame(wire + NET_HDR, 3000, 99, NULL);
	CU_ASSERT_FATAL(nh_wire_send(&h, 0, wire, NET_HDR + 3000) > 0);
	void *token = NULL;
	uint32_t used = 0;
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(h.rxq[0], &token, &used,
					       FIX_TIMEOUT_MS) == 0);
	CU_ASSERT_EQUAL(used, NET_HDR + 3000);
	CU_ASSERT(nh_check_frame(rx.p + NET_HDR, 3000, 99));
	CU_ASSERT_FALSE(hvd_guest_status(h.gd) & VIRTIO_CONFIG_S_NEEDS_RESET);
	nh_stop(&h);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"transmit offloads not negotiated",
		 test_tx_offloads_not_negotiated},
		{"transmit header outside the frame",
		 test_tx_header_outside_frame},
		{"transmit num_buffers cleared", test_tx_num_buffers_cleared},
		{"transmit mtu enforced", test_tx_mtu_enforced},
		{"receive header outside the frame",
		 test_rx_header_outside_frame},
		{NULL, NULL},
	};
	return cunit_run("net-hostile", tests);
}
