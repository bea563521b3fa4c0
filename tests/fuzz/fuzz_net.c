/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-net transmit headers, receive buffers and
 * control-queue commands (MAC, VLAN, MQ, RX mode, announce), through the
 * real plugin (fuzz_plugin.h has the input layout). Two queue pairs and
 * the control queue: queues 0..4.
 *
 * This file plays the socket backend's peer: it drains what the guest
 * transmitted, and when byte 31 of the input (rx_len) is not zero it sends
 * the device one datagram of rx_len * 8 bytes taken from the input's RAM
 * image at offset FUZZ_NET_RX_OFF (a virtio_net_hdr_v1 and a frame) before
 * the guest kicks, so the receive path sees fuzzer-made headers.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_host.h"
#include "fuzz_plugin.h"

#define FUZZ_NET_RX_OFF 0x8000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int peer = -1;
static struct sockaddr_un dev_addr = {.sun_family = AF_UNIX};

static void bind_peer(const char *dir)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%.90s/peer", dir);
	snprintf(dev_addr.sun_path, sizeof dev_addr.sun_path, "%.90s/net", dir);
	peer = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (peer >= 0 && bind(peer, (struct sockaddr *)&a, sizeof a)) {
		close(peer);
		peer = -1;
	}
}

static void peer_io(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];
	while (recv(peer, buf, sizeof buf, 0) > 0)
		;
	size_t len = size > 31 ? data[31] * 8u : 0;
	size_t at = FUZZ_PLUGIN_HEADER + FUZZ_NET_RX_OFF;
	if (!len || size < at)
		return;
	if (len > size - at)
		len = size - at;
	/* Full socket: the frame is simply not sent. */
	sendto(peer, data + at, len, MSG_DONTWAIT, (struct sockaddr *)&dev_addr,
	       sizeof dev_addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char members[512];
	if (!members[0]) {
		const char *dir = fuzz_tmpdir();
		snprintf(members, sizeof members,
			 ", \"backend\": \"socket\", \"path\": \"%s/net\", "
			 "\"peer\": \"%s/peer\", \"num_queue_pairs\": 2, "
			 "\"mac\": \"02:00:00:00:00:01\"",
			 dir, dir);
		if (fuzz_device(members))
			bind_peer(dir);
	}
	if (peer >= 0)
		peer_io(data, size);
	return fuzz_plugin_run(members, data, size, false);
}
