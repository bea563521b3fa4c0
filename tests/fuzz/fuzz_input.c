/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-input plugin (plugins/input, keyboard mode)
 * through the real register file: config selects, event buffers and LED
 * status messages (fuzz_plugin.h has the input layout; queue 0 eventq,
 * queue 1 statusq).
 */
#include "fuzz_plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* No source socket: the keyboard only answers the guest. */
	return fuzz_plugin_run("", data, size, false);
}
