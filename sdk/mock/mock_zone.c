/* SPDX-License-Identifier: MIT */
/*
 * The mock hypervisor's zones: ZONE_START keeps the exact zone_config_t
 * bytes it was given, ZONE_LIST reports zone_info_t for every running
 * zone (the root zone always), ZONE_SHUTDOWN removes one. Tests read the
 * bytes back with hvd_mock_zone_bytes().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_internal.h"

/*
 * Where zone_config_t keeps what zone_info_t reports. These fields come
 * before arch_config, so they are the same for every architecture in
 * layout version 0x06 (natural alignment): u32 zone_id at 0, u64 cpus at 8,
 * u32 num_memory_regions at 16, memory_region[64] x 32 bytes at 24,
 * u32 interrupts_bitmap[32] at 2072, u32 num_ivc_configs at 2200,
 * ivc_config[2] x 40 bytes at 2208, five u64 (entry_point .. dtb_size) at
 * 2288, char name[32] at 2328.
 */
#define ZONE_CFG_ID_OFFSET   0
#define ZONE_CFG_CPUS_OFFSET 8
#define ZONE_CFG_NAME_OFFSET 2328
#define ZONE_CFG_NAME_LEN    32
#define ZONE_CFG_MIN_LEN     (ZONE_CFG_NAME_OFFSET + ZONE_CFG_NAME_LEN)

static struct mock_zone *zone_find(struct hvd_mock *m, uint32_t id)
{
	for (unsigned i = 0; i < m->zone_count; i++)
		if (m->zones[i].info.zone_id == id)
			return &m->zones[i];
	return NULL;
}

int mock_zone_start(struct hvd_mock *m, const uint8_t *cfg, size_t len)
{
	/* A payload too short to hold the name cannot be a zone_config_t
	 * of any architecture: the hypervisor would read past it. */
	if (len < ZONE_CFG_MIN_LEN)
		return -EINVAL;
	struct mock_zone z = {0};
	memcpy(&z.info.zone_id, cfg + ZONE_CFG_ID_OFFSET,
	       sizeof(z.info.zone_id));
	memcpy(&z.info.cpus, cfg + ZONE_CFG_CPUS_OFFSET, sizeof(z.info.cpus));
	memcpy(z.info.name, cfg + ZONE_CFG_NAME_OFFSET, ZONE_CFG_NAME_LEN);
	z.cfg = malloc(len);
	if (!z.cfg)
		return -ENOMEM;
	memcpy(z.cfg, cfg, len);
	z.cfg_len = len;

	int rc = 0;
	pthread_mutex_lock(&m->lock);
	if (zone_find(m, z.info.zone_id))
		rc = -EEXIST;
	else if (m->zone_count == MOCK_MAX_ZONES)
		rc = -ENOSPC;
	else
		m->zones[m->zone_count++] = z;
	pthread_mutex_unlock(&m->lock);
	if (rc)
		free(z.cfg);
	return rc;
}

int mock_zone_shutdown(struct hvd_mock *m, uint64_t id)
{
	uint8_t *cfg = NULL;
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	struct mock_zone *z =
		id > UINT32_MAX ? NULL : zone_find(m, (uint32_t)id);
	if (!z) {
		rc = -ENOENT;
	} else if (id == 0) {
		rc = -EPERM; /* the root zone */
	} else {
		cfg = z->cfg;
		*z = m->zones[--m->zone_count];
	}
	pthread_mutex_unlock(&m->lock);
	free(cfg);
	return rc;
}

int mock_zone_list(struct hvd_mock *m, uint64_t max, struct mock_zone_info *out)
{
	pthread_mutex_lock(&m->lock);
	unsigned n = m->zone_count;
	if (n > max)
		n = (unsigned)max;
	for (unsigned i = 0; i < n; i++)
		out[i] = m->zones[i].info;
	pthread_mutex_unlock(&m->lock);
	return (int)n;
}

/* ---- Harness API ----------------------------------------------------------
 */

HVD_API void *hvd_mock_zone_bytes(struct hvd_mock *m, uint32_t zone_id,
				  size_t *len)
{
	void *copy = NULL;
	int err = ENOENT;

	if (!m || !len) {
		errno = EINVAL;
		return NULL;
	}
	*len = 0;
	pthread_mutex_lock(&m->lock);
	struct mock_zone *z = zone_find(m, zone_id);
	if (z && z->cfg) {
		copy = malloc(z->cfg_len);
		if (copy) {
			memcpy(copy, z->cfg, z->cfg_len);
			*len = z->cfg_len;
		} else {
			err = ENOMEM;
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (!copy)
		errno = err;
	return copy;
}

HVD_API bool hvd_mock_zone_running(struct hvd_mock *m, uint32_t zone_id)
{
	if (!m)
		return false;
	pthread_mutex_lock(&m->lock);
	bool found = zone_find(m, zone_id) != NULL;
	pthread_mutex_unlock(&m->lock);
	return found;
}

HVD_API int hvd_mock_set_zone_error(struct hvd_mock *m, uint32_t zone_id,
				    bool is_err)
{
	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	struct mock_zone *z = zone_find(m, zone_id);
	if (z)
		z->info.is_err = is_err;
	pthread_mutex_unlock(&m->lock);
	return z ? 0 : -ENOENT;
}
