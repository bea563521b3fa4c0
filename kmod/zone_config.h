/* SPDX-License-Identifier: MIT */
/*
 * zone_config_t and zone_info_t: the one description shared with the zone
 * command lives in interface/hvisor/zone_config.h (both layout versions,
 * every architecture; struct hvisor_zone_config is this machine's 0x06).
 */
#ifndef HVISOR_KMOD_ZONE_CONFIG_H
#define HVISOR_KMOD_ZONE_CONFIG_H

#include "hvisor/zone_config.h"

#endif
