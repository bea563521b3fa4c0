/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-rng requests, through the real plugin (fuzz_plugin.h has
 * the input layout).
 */
#include <stdio.h>

#include "fuzz_host.h"
#include "fuzz_plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The default source: getrandom(). */
	return fuzz_plugin_run("", data, size, false);
}
