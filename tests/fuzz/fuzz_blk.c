/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-blk requests (headers, segment shapes, GET_ID, flush,
 * discard and write-zeroes ranges), through the real plugin (fuzz_plugin.h has
 * the input layout).
 */
#include <stdio.h>

#include "fuzz_host.h"
#include "fuzz_plugin.h"
#include <fcntl.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char members[256];
	if (!members[0]) {
		char img[128];
		snprintf(img, sizeof img, "%s/disk.img", fuzz_tmpdir());
		int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, 64 * 1024))
			return 0;
		close(fd);
		/* Two queues, a serial for GET_ID, holes punched on discard. */
		snprintf(members, sizeof members,
			 ", \"img\": \"%s\", \"num_queues\": 2, \"serial\": "
			 "\"fuzz\", \"discard\": \"unmap\"",
			 img);
	}
	/* The pool completes requests on its own threads. */
	return fuzz_plugin_run(members, data, size, true);
}
