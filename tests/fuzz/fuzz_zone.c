/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the zone JSON parser (both generations) and, for a file it
 * accepts, the zone_config_t writer of every architecture in both layout
 * versions (0x05 where the description fits it). Only the public
 * functions of zone_json.h / zone_layout.h are called.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_host.h"
#include "zone_json.h"
#include "zone_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every layout the description fits: the size written must be the
 * layout's, within the buffer. */
static void encode(const struct zone_desc *d, unsigned version)
{
	static uint8_t buf[ZONE_CONFIG_MAX_SIZE];
	char why[256];
	if (zone_layout_unfit(d, version, why, sizeof why))
		return;
	struct zone_field_list fields = {0};
	size_t n = zone_layout_encode(d, version, buf, &fields);
	if (n != zone_layout_size(d->arch, version) || n > ZONE_CONFIG_MAX_SIZE)
		abort();
	zone_field_list_free(&fields);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zone_desc d;
	char *text = fuzz_text(data, size);
	if (!text)
		return 0;
	memset(&d, 0, sizeof d);
	if (zone_json_parse(text, "<fuzz>", &d) == 0) {
		static const unsigned versions[] = {ZONE_LAYOUT_V05,
						    ZONE_LAYOUT_V06};
		for (int a = 0; a < ZONE_ARCH_COUNT; a++) {
			d.arch = (enum zone_arch)a;
			for (unsigned v = 0; v < 2; v++)
				encode(&d, versions[v]);
		}
	}
	free(text);
	return 0;
}
