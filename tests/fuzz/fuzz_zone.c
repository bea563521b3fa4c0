/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the zone JSON parser (both generations) and, for a file it
 * accepts, the zone_config_t writer of every architecture. Only the public
 * functions of zone_json.h / zone_layout.h are called.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_host.h"
#include "zone_json.h"
#include "zone_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zone_desc d;
	static uint8_t buf[ZONE_CONFIG_MAX_SIZE];
	char *text = fuzz_text(data, size);
	if (!text)
		return 0;
	memset(&d, 0, sizeof d);
	if (zone_json_parse(text, "<fuzz>", &d) == 0) {
		for (int a = 0; a < ZONE_ARCH_COUNT; a++) {
			d.arch = (enum zone_arch)a;
			struct zone_field_list fields = {0};
			size_t n = zone_layout_encode(&d, buf, &fields);
			if (n != zone_layout_size(d.arch) ||
			    n > ZONE_CONFIG_MAX_SIZE)
				abort();
			zone_field_list_free(&fields);
		}
	}
	free(text);
	return 0;
}
