/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-net transmit headers, receive buffers and control-queue
 * commands (MAC, VLAN, MQ, RX mode, announce), through the real plugin
 * (fuzz_plugin.h has the input layout).
 */
#include <stdio.h>

#include "fuzz_host.h"
#include "fuzz_plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char members[512];
	if (!members[0]) {
		/* Two queue pairs and the control queue (queues 0..4); the
		 * peer socket is never bound, so frames are sent nowhere. */
		const char *dir = fuzz_tmpdir();
		snprintf(members, sizeof members,
			 ", \"backend\": \"socket\", \"path\": \"%s/net\", "
			 "\"peer\": \"%s/peer\", \"num_queue_pairs\": 2, "
			 "\"mac\": \"02:00:00:00:00:01\"",
			 dir, dir);
	}
	return fuzz_plugin_run(members, data, size, false);
}
