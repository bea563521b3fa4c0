/* SPDX-License-Identifier: MIT */
/*
 * The rig reads the same virtio JSON the daemon gets, with the daemon's own
 * parser, and takes from it what a hypervisor would know: the zone, its RAM
 * and where the devices' windows are. The rig serves exactly one zone whose
 * RAM starts at guest-physical 0 (QEMU's RAM), so the JSON's one
 * memory_region also sets the guest's memory size.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "rig.h"

#define MIB             (UINT64_C(1) << 20)
#define RIG_MIN_RAM     (128 * MIB)  /* a busybox guest needs about this */
#define RIG_MAX_RAM     (3072 * MIB) /* must stay below the PCI hole */
#define RIG_MAX_WIN_LEN RIG_WINDOW_SIZE

int rig_config_load(const char *path, struct rig_config *cfg)
{
	struct virtio_cfg vc;
	memset(cfg, 0, sizeof(*cfg));
	if (virtio_cfg_load(path, &vc) < 0)
		return -1; /* the parser has printed the JSON path */
	int rc = -1;
	if (vc.zone_count != 1) {
		fprintf(stderr,
			"hvisor-rig: %s: zones: the rig serves exactly one "
			"zone (found %u)\n",
			path, vc.zone_count);
		goto out;
	}
	const struct zone_cfg *z = &vc.zones[0];
	if (z->mem_count != 1 || z->mem[0].zonex_ipa != 0) {
		fprintf(stderr,
			"hvisor-rig: %s: %s.memory_region: the rig needs "
			"exactly one region with zonex_ipa 0x0 (the QEMU "
			"guest's RAM)\n",
			path, z->path);
		goto out;
	}
	uint64_t size = z->mem[0].size;
	if (size % MIB || size < RIG_MIN_RAM || size > RIG_MAX_RAM) {
		fprintf(stderr,
			"hvisor-rig: %s: %s.memory_region[0].size: 0x%llx: "
			"the guest's RAM must be a whole number of MiB "
			"between %llu and %llu MiB\n",
			path, z->path, (unsigned long long)size,
			(unsigned long long)(RIG_MIN_RAM / MIB),
			(unsigned long long)(RIG_MAX_RAM / MIB));
		goto out;
	}
	if (z->device_count == 0 || z->device_count > RIG_MAX_WINDOWS) {
		fprintf(stderr,
			"hvisor-rig: %s: %s.devices: between 1 and %u enabled "
			"devices (found %u)\n",
			path, z->path, RIG_MAX_WINDOWS, z->device_count);
		goto out;
	}
	for (unsigned i = 0; i < z->device_count; i++) {
		const struct device_cfg *d = &z->devices[i];
		/* The guest sees a RIG_WINDOW_SIZE window; a longer region
		 * would have registers the guest cannot reach. */
		if (d->len > RIG_MAX_WIN_LEN) {
			fprintf(stderr,
				"hvisor-rig: %s: %s.len: 0x%llx: the rig's "
				"windows are 0x%x bytes\n",
				path, d->path, (unsigned long long)d->len,
				RIG_WINDOW_SIZE);
			goto out;
		}
		cfg->window_addr[i] = d->addr;
	}
	cfg->zone = z->id;
	cfg->zone0_ipa = z->mem[0].zone0_ipa;
	cfg->ram_size = size;
	cfg->windows = z->device_count;
	rc = 0;
out:
	virtio_cfg_free(&vc);
	return rc;
}
