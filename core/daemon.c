/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "control.h"
#include "device.h"
#include "eventloop.h"
#include "loader.h"
#include "log.h"
#include "port.h"

static int cmp_zone(const void *a, const void *b)
{
	const struct zone *za = a, *zb = b;
	return za->id < zb->id ? -1 : za->id > zb->id;
}

static int cmp_slot(const void *a, const void *b)
{
	const struct dev_slot *sa = a, *sb = b;
	return sa->addr < sb->addr ? -1 : sa->addr > sb->addr;
}

static struct zone *find_zone(const struct daemon *d, uint32_t id)
{
	unsigned lo = 0, hi = d->zone_count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (d->zones[mid].id == id)
			return &d->zones[mid];
		if (d->zones[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct zone *daemon_zone(struct daemon *d, uint32_t id)
{
	return find_zone(d, id);
}

static struct dev_table *table_load(const struct zone *z)
{
	/* Seq-cst, paired with the epoch store in dispatch.c: see
	 * daemon_synchronize. */
	return __atomic_load_n(&z->table, __ATOMIC_SEQ_CST);
}

const struct dev_slot *daemon_find_slot(const struct daemon *d,
					uint32_t zone_id, uint64_t addr)
{
	const struct zone *z = find_zone(d, zone_id);
	const struct dev_table *t = z ? table_load(z) : NULL;
	if (!t)
		return NULL;
	/* Last window whose base is <= addr. */
	unsigned lo = 0, hi = t->count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (t->slot[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct dev_slot *s = &t->slot[lo - 1];
	return addr - s->addr < s->len ? s : NULL;
}

struct device *daemon_find_device(const struct daemon *d, uint32_t zone_id,
				  uint64_t addr)
{
	const struct dev_slot *s = daemon_find_slot(d, zone_id, addr);
	return s ? s->dev : NULL;
}

void daemon_inject_irq(struct daemon *d, uint32_t zone, uint32_t irq)
{
	struct hvisor_bridge *b = d->bridge;
	pthread_mutex_lock(&d->irq_lock);
	uint32_t rear = b->res_rear;
	/* The hypervisor drains res_list during FINISH_REQ; a full ring only
	 * happens with an asynchronous consumer (the mock): wait for it. */
	while (HVISOR_RING_NEXT(rear) ==
	       __atomic_load_n(&b->res_front, __ATOMIC_ACQUIRE))
		sched_yield();
	b->res_list[rear].target_zone = zone;
	b->res_list[rear].irq_id = irq;
	__atomic_store_n(&b->res_rear, HVISOR_RING_NEXT(rear),
			 __ATOMIC_RELEASE);
	int err = port_finish_req(d->port);
	pthread_mutex_unlock(&d->irq_lock);
	if (err)
		log_error("cannot inject irq %u into zone %u: %s", irq, zone,
			  strerror(-err));
}

static int map_zone_memory(struct daemon *d, struct zone *z,
			   const struct zone_cfg *zc)
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
			return -1;
		}
		if (guest_mem_add(&z->mem, r->zonex_ipa, r->size, hva)) {
			port_unmap_guest(d->port, hva, r->size);
			log_error(
				"%s.memory_region[%u]: overlaps another region",
				zc->path, i);
			return -1;
		}
	}
	return 0;
}

/* Find every device's plugin before touching the hypervisor: a typo in a
 * type must not leave half a set of devices behind. */
static int resolve_plugins(struct daemon *d)
{
	unsigned total = 0;
	for (unsigned z = 0; z < d->cfg.zone_count; z++)
		total += d->cfg.zones[z].device_count;
	d->resolved = calloc(total ? total : 1, sizeof *d->resolved);
	if (!d->resolved)
		return -1;
	unsigned n = 0;
	for (unsigned z = 0; z < d->cfg.zone_count; z++) {
		const struct zone_cfg *zc = &d->cfg.zones[z];
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
				return -1;
			}
			if (strcmp(p->desc->type, dc->type) != 0) {
				log_error("%s.plugin: %s serves type '%s', not "
					  "'%s'",
					  dc->path, p->path, p->desc->type,
					  dc->type);
				return -1;
			}
			d->resolved[n++] = p;
		}
	}
	return 0;
}

static int create_devices(struct daemon *d, struct zone *z,
			  const struct zone_cfg *zc, struct plugin **plugins)
{
	struct dev_table *t =
		calloc(1, sizeof *t + zc->device_count * sizeof t->slot[0]);
	if (!t)
		return -1;
	z->table = t;
	for (unsigned i = 0; i < zc->device_count; i++) {
		struct device *dev =
			device_create(d, z, &zc->devices[i], plugins[i]);
		if (!dev)
			return -1;
		t->slot[t->count++] = (struct dev_slot){.addr = dev->cfg->addr,
							.len = dev->cfg->len,
							.dev = dev};
	}
	qsort(t->slot, t->count, sizeof t->slot[0], cmp_slot);
	return 0;
}

static void publish_legacy_addrs(struct daemon *d)
{
	/* Old hypervisors read the first few device bases from the bridge;
	 * the array is fixed by the bridge layout, our tables are not. */
	unsigned n = 0;
	for (unsigned z = 0; z < d->zone_count; z++)
		for (unsigned i = 0; i < d->zones[z].table->count; i++)
			if (n < HVISOR_MAX_DEVS)
				d->bridge->mmio_addrs[n++] =
					d->zones[z].table->slot[i].addr;
	__atomic_store_n(&d->bridge->mmio_avail, 1, __ATOMIC_RELEASE);
}

static int open_port(struct daemon *d)
{
	if (d->opts.mock_fd >= 0)
		d->port = port_open_mock_fd(d->opts.mock_fd);
	else
		d->port = port_open_auto(d->opts.mock_socket);
	if (!d->port)
		return -1;
	if (port_init_virtio(d->port, &d->bridge)) {
		log_error("%s: cannot initialise the virtio bridge",
			  port_describe(d->port));
		return -1;
	}
	if (port_set_eventfd(d->port, d->wake_fd)) {
		log_error("%s: cannot register the wake-up eventfd",
			  port_describe(d->port));
		return -1;
	}
	return 0;
}

struct daemon *daemon_create(const struct daemon_options *opts)
{
	struct daemon *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->opts = *opts;
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&d->irq_lock, NULL);
	if (d->wake_fd < 0 || d->stop_fd < 0) {
		log_error("eventfd: %s", strerror(errno));
		goto fail;
	}
	int err = opts->config_text
			  ? virtio_cfg_parse(opts->config_text, "<embedded>",
					     &d->cfg)
			  : virtio_cfg_load(opts->config_file, &d->cfg);
	if (err)
		goto fail;

	unsigned ndirs = 0;
	char **dirs = loader_default_dirs(opts->plugin_dirs,
					  opts->plugin_dir_count, &ndirs);
	d->plugins = dirs ? loader_new((const char *const *)dirs, ndirs) : NULL;
	for (unsigned i = 0; dirs && i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	d->loop = eventloop_new();
	if (!d->plugins || !d->loop || resolve_plugins(d))
		goto fail;
	if (open_port(d))
		goto fail;

	d->zones = calloc(d->cfg.zone_count, sizeof *d->zones);
	if (!d->zones)
		goto fail;
	for (unsigned i = 0; i < d->cfg.zone_count; i++) {
		d->zones[i].id = d->cfg.zones[i].id;
		d->zone_count++;
		if (map_zone_memory(d, &d->zones[i], &d->cfg.zones[i]))
			goto fail;
	}
	/* Devices keep pointers to their zone: create them once the zone
	 * array has its final order. */
	qsort(d->zones, d->zone_count, sizeof *d->zones, cmp_zone);
	for (unsigned i = 0; i < d->zone_count; i++) {
		/* Zones were sorted: find each one's config and plugins. */
		unsigned first = 0;
		for (unsigned j = 0; j < d->cfg.zone_count; j++) {
			const struct zone_cfg *zc = &d->cfg.zones[j];
			if (zc->id == d->zones[i].id &&
			    create_devices(d, &d->zones[i], zc,
					   d->resolved + first))
				goto fail;
			first += zc->device_count;
		}
	}
	if (eventloop_start(d->loop)) {
		log_error("cannot start the event loop thread");
		goto fail;
	}
	if (opts->control_path) {
		d->control = control_open(d, opts->control_path);
		if (!d->control && !opts->control_optional)
			goto fail;
		if (!d->control)
			log_warn("serving without a control socket");
	}
	publish_legacy_addrs(d);
	return d;
fail:
	daemon_destroy(d);
	return NULL;
}

int daemon_serve(struct daemon *d)
{
	unsigned devices = 0;
	for (unsigned i = 0; i < d->zone_count; i++)
		devices += d->zones[i].table->count;
	log_info("serving %u device(s) in %u zone(s) through %s", devices,
		 d->zone_count, port_describe(d->port));
	return dispatch_run(d);
}

void daemon_request_stop(struct daemon *d)
{
	__atomic_store_n(&d->stop, true, __ATOMIC_RELEASE);
	uint64_t one = 1;
	(void)!write(d->stop_fd, &one, sizeof one);
}

void daemon_destroy(struct daemon *d)
{
	if (!d)
		return;
	control_close(d->control);
	if (d->bridge)
		__atomic_store_n(&d->bridge->mmio_avail, 0, __ATOMIC_RELEASE);
	/* Devices first (their reset quiesces plugin workers and removes
	 * their watches), then the loop, then memory. */
	for (unsigned i = 0; i < d->zone_count; i++) {
		struct dev_table *t = d->zones[i].table;
		for (unsigned j = 0; t && j < t->count; j++)
			device_destroy(t->slot[j].dev); /* NULL: removed */
		free(t);
	}
	eventloop_free(d->loop);
	for (unsigned i = 0; i < d->zone_count; i++) {
		struct zone *z = &d->zones[i];
		for (unsigned r = 0; r < z->mem.count; r++)
			port_unmap_guest(d->port, z->mem.regions[r].hva,
					 z->mem.regions[r].size);
		guest_mem_clear(&z->mem);
	}
	free(d->zones);
	if (d->port)
		port_close(d->port);
	if (d->plugins)
		loader_free(d->plugins);
	free(d->resolved);
	virtio_cfg_free(&d->cfg);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	pthread_mutex_destroy(&d->irq_lock);
	free(d);
}
