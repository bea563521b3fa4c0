/* SPDX-License-Identifier: MIT */
/* Fuzz target: the virtio JSON parser (core/config.c) on any text. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	if (!text)
		return 0;
	struct virtio_cfg cfg = {0};
	if (virtio_cfg_parse(text, "<fuzz>", &cfg) == 0)
		virtio_cfg_free(&cfg);
	free(text);
	return 0;
}
