// SPDX-License-Identifier: MIT
/*
 * The list of zone-0 physical ranges that user space may map through
 * /dev/hvisor: RAM regions of zones started through
 * this module (from the zone_config_t it forwarded) and ranges the daemon
 * declared for zones started elsewhere. Everything else is refused, and so
 * is anything overlapping zone 0's own RAM: handing the kernel's pages to
 * user space would let it corrupt the kernel. The list is bounded
 * (HVISOR_MAX_RAM_RANGES) so user space cannot grow it without limit.
 */
#include <linux/ioport.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "hvisor_kmod.h"

struct ram_range {
	struct list_head node;
	u64 zone_id;
	u64 start, size;
	bool declared; /* by HVISOR_DECLARE_RAM rather than ZONE_START */
};

static LIST_HEAD(ranges);
static unsigned int range_count;
static DEFINE_MUTEX(ranges_lock);

static bool range_valid(u64 start, u64 size)
{
	return size && start + size > start;
}

/* Zone 0's own memory may never be mapped, whatever a config claims. The
 * fake hypervisor's guest RAM is the one exception: it is kernel memory the
 * fake set aside to stand in for another zone's RAM. */
bool hvisor_zone0_owns(u64 start, u64 size)
{
#ifdef HVISOR_FAKE
	if (hvisor_fake_owns(start, size))
		return false;
#endif
	return region_intersects(start, size, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) != REGION_DISJOINT;
}

static bool have_range(u64 zone_id, u64 start, u64 size)
{
	struct ram_range *r;

	list_for_each_entry(r, &ranges, node) if (r->zone_id == zone_id &&
						  r->start == start &&
						  r->size == size) return true;
	return false;
}

int hvisor_regions_add_zone(const struct hvisor_zone_config *cfg)
{
	LIST_HEAD(fresh);
	struct ram_range *r, *tmp;
	unsigned int i, n = 0;
	int err = 0;

	if (cfg->num_memory_regions > HVISOR_MAX_MEMORY_REGIONS)
		return -EINVAL;
	/* Allocate everything first so the zone is recorded whole or not. */
	for (i = 0; i < cfg->num_memory_regions; i++) {
		const struct hvisor_memory_region *m = &cfg->memory_regions[i];

		if (m->type != HVISOR_MEM_TYPE_RAM)
			continue;
		if (!range_valid(m->physical_start, m->size)) {
			err = -EINVAL;
			goto fail;
		}
		if (hvisor_zone0_owns(m->physical_start, m->size)) {
			pr_warn(HVISOR_KMOD_NAME
				": zone %u RAM 0x%llx+0x%llx overlaps zone 0 "
				"RAM: it will not be mappable\n",
				cfg->zone_id, m->physical_start, m->size);
			continue;
		}
		r = kzalloc(sizeof(*r), GFP_KERNEL);
		if (!r) {
			err = -ENOMEM;
			goto fail;
		}
		r->zone_id = cfg->zone_id;
		r->start = m->physical_start;
		r->size = m->size;
		list_add_tail(&r->node, &fresh);
		n++;
	}
	mutex_lock(&ranges_lock);
	if (range_count + n > HVISOR_MAX_RAM_RANGES) {
		mutex_unlock(&ranges_lock);
		err = -ENOSPC;
		goto fail;
	}
	list_splice_tail(&fresh, &ranges);
	range_count += n;
	mutex_unlock(&ranges_lock);
	return 0;
fail:
	list_for_each_entry_safe(r, tmp, &fresh, node) kfree(r);
	return err;
}

int hvisor_regions_declare(u64 zone_id, u64 start, u64 size)
{
	struct ram_range *r, *tmp;
	int err = 0;

	if (size == 0) {
		mutex_lock(&ranges_lock);
		list_for_each_entry_safe(r, tmp, &ranges, node)
		{
			if (r->zone_id == zone_id && r->declared) {
				list_del(&r->node);
				range_count--;
				kfree(r);
			}
		}
		mutex_unlock(&ranges_lock);
		return 0;
	}
	if (!range_valid(start, size))
		return -EINVAL;
	if (hvisor_zone0_owns(start, size))
		return -EPERM;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->zone_id = zone_id;
	r->start = start;
	r->size = size;
	r->declared = true;
	mutex_lock(&ranges_lock);
	if (have_range(zone_id, start, size)) {
		kfree(r); /* declaring twice is harmless */
	} else if (range_count >= HVISOR_MAX_RAM_RANGES) {
		kfree(r);
		err = -ENOSPC;
	} else {
		list_add_tail(&r->node, &ranges);
		range_count++;
	}
	mutex_unlock(&ranges_lock);
	return err;
}

void hvisor_regions_forget_zone(u64 zone_id)
{
	struct ram_range *r, *tmp;

	mutex_lock(&ranges_lock);
	list_for_each_entry_safe(r, tmp, &ranges, node)
	{
		if (r->zone_id == zone_id) {
			list_del(&r->node);
			range_count--;
			kfree(r);
		}
	}
	mutex_unlock(&ranges_lock);
}

bool hvisor_regions_allow(u64 start, u64 size)
{
	struct ram_range *r;
	bool ok = false;

	if (!range_valid(start, size))
		return false;
	mutex_lock(&ranges_lock);
	list_for_each_entry(r, &ranges, node)
	{
		if (start >= r->start && start + size <= r->start + r->size) {
			ok = true;
			break;
		}
	}
	mutex_unlock(&ranges_lock);
	/* Checked again at use: a declaration made before memory hotplug
	 * must not let zone 0's new RAM through. */
	return ok && !hvisor_zone0_owns(start, size);
}

void hvisor_regions_exit(void)
{
	struct ram_range *r, *tmp;

	mutex_lock(&ranges_lock);
	list_for_each_entry_safe(r, tmp, &ranges, node)
	{
		list_del(&r->node);
		kfree(r);
	}
	range_count = 0;
	mutex_unlock(&ranges_lock);
}
