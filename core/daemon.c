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

static int cmp_device(const void *a, const void *b)
{
	const struct device *da = *(struct device *const *)a;
	const struct device *db = *(struct device *const *)b;
	return da->cfg->addr < db->cfg->addr ? -1
					     : da->cfg->addr > db->cfg->addr;
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

struct device *daemon_find_device(const struct daemon *d, uint32_t zone_id,
				  uint64_t addr)
{
	const struct zone *z = find_zone(d, zone_id);
	if (!z)
		return NULL;
	/* Last device whose base is <= addr. */
	unsigned lo = 0, hi = z->device_count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (z->devices[mid]->cfg->addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct device *dev = z->devices[lo - 1];
	return addr - dev->cfg->addr < dev->cfg->len ? dev : NULL;
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
	z->devices = calloc(zc->device_count ? zc->device_count : 1,
			    sizeof *z->devices);
	if (!z->devices)
		return -1;
	for (unsigned i = 0; i < zc->device_count; i++) {
		struct device *dev =
			device_create(d, z, &zc->devices[i], plugins[i]);
		if (!dev)
			return -1;
		z->devices[z->device_count++] = dev;
	}
	qsort(z->devices, z->device_count, sizeof *z->devices, cmp_device);
	return 0;
}

static void publish_legacy_addrs(struct daemon *d)
{
	/* Old hypervisors read the first few device bases from the bridge;
	 * the array is fixed by the bridge layout, our tables are not. */
	unsigned n = 0;
	for (unsigned z = 0; z < d->zone_count; z++)
		for (unsigned i = 0; i < d->zones[z].device_count; i++)
			if (n < HVISOR_MAX_DEVS)
				d->bridge->mmio_addrs[n++] =
					d->zones[z].devices[i]->cfg->addr;
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
		devices += d->zones[i].device_count;
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
		struct zone *z = &d->zones[i];
		for (unsigned j = 0; j < z->device_count; j++)
			device_destroy(z->devices[j]);
		free(z->devices);
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
