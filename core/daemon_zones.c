/* SPDX-License-Identifier: MIT */
/*
 * Zones and devices entering the daemon: at start (`virtio start`) and at
 * run time (`virtio add`), by the same path. Everything is prepared aside
 * (plugins found, RAM mapped, devices created) and checked; only then is
 * it published to the dispatch thread in one step per table. A failure at
 * any point undoes what was prepared, so nothing changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "device.h"
#include "loader.h"
#include "log.h"
#include "port.h"

/* One zone of the config being added. */
struct pending {
	const struct zone_cfg *zc;
	struct zone *z;
	bool new_zone;    /* allocated by this add */
	bool mapped_here; /* its RAM mapped by this add */
	struct device **devs;
	unsigned ndev;
};

static int cmp_slot(const void *a, const void *b)
{
	const struct dev_slot *sa = a, *sb = b;
	return sa->addr < sb->addr ? -1 : sa->addr > sb->addr;
}

static int cmp_zone_ptr(const void *a, const void *b)
{
	const struct zone *za = *(struct zone *const *)a;
	const struct zone *zb = *(struct zone *const *)b;
	return za->id < zb->id ? -1 : za->id > zb->id;
}

struct plugin **daemon_resolve(struct daemon *d, const struct virtio_cfg *cfg)
{
	unsigned total = 0;
	for (unsigned z = 0; z < cfg->zone_count; z++)
		total += cfg->zones[z].device_count;
	struct plugin **out = calloc(total ? total : 1, sizeof *out);
	if (!out)
		return NULL;
	unsigned n = 0;
	for (unsigned z = 0; z < cfg->zone_count; z++) {
		const struct zone_cfg *zc = &cfg->zones[z];
		for (unsigned i = 0; i < zc->device_count; i++) {
			const struct device_cfg *dc = &zc->devices[i];
			char *why = NULL;
			struct plugin *p =
				dc->plugin ? loader_open_file(d->plugins,
							      dc->plugin, &why)
					   : loader_find_type(d->plugins,
							      dc->type, &why);
			if (!p) {
				log_error("%s: %s", dc->path,
					  why ? why : "no plugin");
				free(why);
				goto fail;
			}
			if (strcmp(p->desc->type, dc->type) != 0) {
				log_error("%s.plugin: %s serves type '%s', not "
					  "'%s'",
					  dc->path, p->path, p->desc->type,
					  dc->type);
				goto fail;
			}
			out[n++] = p;
		}
	}
	return out;
fail:
	free(out);
	return NULL;
}

void daemon_unmap_ram(struct daemon *d, struct zone *z)
{
	for (unsigned r = 0; r < z->mem.count; r++)
		port_unmap_guest(d->port, z->mem.regions[r].hva,
				 z->mem.regions[r].size);
	guest_mem_clear(&z->mem);
}

static int map_ram(struct daemon *d, struct zone *z, const struct zone_cfg *zc)
{
	for (unsigned i = 0; i < zc->mem_count; i++) {
		const struct mem_region_cfg *r = &zc->mem[i];
		int err = port_declare_ram(d->port, zc->id, r->zone0_ipa,
					   r->size);
		if (err)
			log_warn("%s.memory_region[%u]: the kernel refused to "
				 "declare 0x%llx+0x%llx as zone %u RAM: %s",
				 zc->path, i, (unsigned long long)r->zone0_ipa,
				 (unsigned long long)r->size, zc->id,
				 strerror(-err));
		void *hva = port_map_guest(d->port, r->zone0_ipa, r->size);
		if (!hva) {
			log_error(
				"%s.memory_region[%u]: cannot map 0x%llx+0x%llx"
				": %s",
				zc->path, i, (unsigned long long)r->zone0_ipa,
				(unsigned long long)r->size, strerror(errno));
			goto fail;
		}
		if (guest_mem_add(&z->mem, r->zonex_ipa, r->size, hva)) {
			port_unmap_guest(d->port, hva, r->size);
			log_error(
				"%s.memory_region[%u]: overlaps another region",
				zc->path, i);
			goto fail;
		}
	}
	return 0;
fail:
	daemon_unmap_ram(d, z);
	return -1;
}

/* A running zone keeps its RAM: the file may only repeat it. */
static int check_same_ram(const struct zone *z, const struct zone_cfg *zc)
{
	for (unsigned i = 0; i < zc->mem_count; i++) {
		const struct mem_region_cfg *r = &zc->mem[i];
		bool found = false;
		for (unsigned j = 0; j < z->mem.count && !found; j++)
			found = z->mem.regions[j].gpa == r->zonex_ipa &&
				z->mem.regions[j].size == r->size;
		if (!found) {
			log_error("%s.memory_region[%u]: zone %u is running "
				  "with other RAM (0x%llx+0x%llx is not one "
				  "of its regions)",
				  zc->path, i, zc->id,
				  (unsigned long long)r->zonex_ipa,
				  (unsigned long long)r->size);
			return -1;
		}
	}
	return 0;
}

static bool overlaps(const struct dev_slot *s, const struct device_cfg *dc)
{
	return s->addr < dc->addr + dc->len && dc->addr < s->addr + s->len;
}

/* New windows must not overlap the zone's live devices. */
static int check_windows(const struct zone *z, const struct zone_cfg *zc)
{
	for (unsigned i = 0; i < zc->device_count; i++) {
		const struct device_cfg *dc = &zc->devices[i];
		for (unsigned j = 0; j < z->table->count; j++) {
			const struct dev_slot *s = &z->table->slot[j];
			if (s->dev && overlaps(s, dc)) {
				log_error("%s.addr: 0x%llx+0x%llx overlaps "
					  "the %s device at 0x%llx of running "
					  "zone %u",
					  dc->path,
					  (unsigned long long)dc->addr,
					  (unsigned long long)dc->len,
					  s->dev->cfg->type,
					  (unsigned long long)s->addr, z->id);
				return -1;
			}
		}
	}
	return 0;
}

static int prepare_zone(struct daemon *d, struct pending *p)
{
	const struct zone_cfg *zc = p->zc;
	p->z = daemon_zone(d, zc->id);
	if (p->z) {
		if (check_windows(p->z, zc))
			return -1;
		if (p->z->mem.count)
			return check_same_ram(p->z, zc);
	} else {
		p->z = calloc(1, sizeof *p->z);
		if (!p->z)
			return -1;
		p->z->id = zc->id;
		p->new_zone = true;
	}
	/* A new zone, or one whose RAM went with its last device. */
	if (map_ram(d, p->z, zc))
		return -1;
	p->mapped_here = true;
	return 0;
}

static int create_devices(struct daemon *d, struct pending *p,
			  struct plugin **plugins)
{
	p->devs = calloc(p->zc->device_count + 1, sizeof *p->devs);
	if (!p->devs)
		return -1;
	for (unsigned i = 0; i < p->zc->device_count; i++) {
		struct device *dev =
			device_create(d, p->z, &p->zc->devices[i], plugins[i]);
		if (!dev)
			return -1;
		p->devs[p->ndev++] = dev;
	}
	return 0;
}

/* The zone's new table: its windows not overlapped by a new device
 * (removed ones may be reused), plus the new devices. */
static struct dev_table *merged_table(const struct pending *p)
{
	const struct dev_table *old = p->z->table;
	unsigned cap = (old ? old->count : 0) + p->ndev;
	struct dev_table *t = calloc(1, sizeof *t + cap * sizeof t->slot[0]);
	if (!t)
		return NULL;
	for (unsigned j = 0; old && j < old->count; j++) {
		bool keep = true;
		for (unsigned i = 0; i < p->ndev && keep; i++)
			keep = !overlaps(&old->slot[j], p->devs[i]->cfg);
		if (keep)
			t->slot[t->count++] = old->slot[j];
	}
	for (unsigned i = 0; i < p->ndev; i++)
		t->slot[t->count++] =
			(struct dev_slot){.addr = p->devs[i]->cfg->addr,
					  .len = p->devs[i]->cfg->len,
					  .dev = p->devs[i]};
	qsort(t->slot, t->count, sizeof t->slot[0], cmp_slot);
	return t;
}

static struct zone_index *merged_index(const struct zone_index *old,
				       const struct pending *p, unsigned n)
{
	unsigned cap = (old ? old->count : 0) + n;
	struct zone_index *zi =
		calloc(1, sizeof *zi + cap * sizeof zi->zone[0]);
	if (!zi)
		return NULL;
	for (unsigned i = 0; old && i < old->count; i++)
		zi->zone[zi->count++] = old->zone[i];
	for (unsigned i = 0; i < n; i++)
		if (p[i].new_zone)
			zi->zone[zi->count++] = p[i].z;
	qsort(zi->zone, zi->count, sizeof zi->zone[0], cmp_zone_ptr);
	return zi;
}

static void undo(struct daemon *d, struct pending *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = 0; j < p[i].ndev; j++)
			device_destroy(p[i].devs[j]);
		free(p[i].devs);
		if (p[i].mapped_here)
			daemon_unmap_ram(d, p[i].z);
		if (p[i].new_zone)
			free(p[i].z);
	}
	free(p);
}

/* Publish every prepared table, then free the replaced ones once the
 * dispatch thread cannot hold them. */
static int publish(struct daemon *d, struct pending *p, unsigned n)
{
	struct dev_table **tables = calloc(n + 1, sizeof *tables);
	struct zone_index *zi = merged_index(d->zones, p, n);
	bool ok = tables && zi;
	for (unsigned i = 0; ok && i < n; i++)
		ok = (tables[i] = merged_table(&p[i])) != NULL;
	if (!ok) {
		for (unsigned i = 0; tables && i < n; i++)
			free(tables[i]);
		free(tables);
		free(zi);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		struct dev_table *old = p[i].z->table;
		__atomic_store_n(&p[i].z->table, tables[i], __ATOMIC_SEQ_CST);
		tables[i] = old; /* to free */
	}
	struct zone_index *old_index = d->zones;
	__atomic_store_n(&d->zones, zi, __ATOMIC_SEQ_CST);
	daemon_synchronize(d);
	for (unsigned i = 0; i < n; i++)
		free(tables[i]);
	free(tables);
	free(old_index);
	return 0;
}

int daemon_add(struct daemon *d, struct virtio_cfg *cfg,
	       struct plugin **plugins)
{
	unsigned n = cfg->zone_count;
	struct pending *p = calloc(n + 1, sizeof *p);
	if (!p)
		return -1;
	unsigned first = 0, done = 0;
	for (; done < n; done++) {
		p[done].zc = &cfg->zones[done];
		if (prepare_zone(d, &p[done]) ||
		    create_devices(d, &p[done], plugins + first)) {
			done++;
			goto fail;
		}
		first += cfg->zones[done].device_count;
	}
	/* Room to keep cfg, before anything is published. */
	struct virtio_cfg **cfgs =
		realloc(d->cfgs, (d->cfg_count + 1) * sizeof *cfgs);
	if (!cfgs)
		goto fail;
	d->cfgs = cfgs;
	if (publish(d, p, n))
		goto fail;
	d->cfgs[d->cfg_count++] = cfg;
	for (unsigned i = 0; i < n; i++)
		free(p[i].devs);
	free(p);
	return 0;
fail:
	undo(d, p, done);
	return -1;
}
