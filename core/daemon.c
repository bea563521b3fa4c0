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

static struct zone *find_zone(const struct daemon *d, uint32_t id)
{
	/* Seq-cst like the table loads (daemon_synchronize). */
	const struct zone_index *zi =
		__atomic_load_n(&d->zones, __ATOMIC_SEQ_CST);
	unsigned lo = 0, hi = zi ? zi->count : 0;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (zi->zone[mid]->id == id)
			return zi->zone[mid];
		if (zi->zone[mid]->id < id)
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

bool daemon_for_each_device(struct daemon *d, bool (*fn)(struct device *, bool),
			    bool arg)
{
	const struct zone_index *zi =
		__atomic_load_n(&d->zones, __ATOMIC_ACQUIRE);
	bool any = false;
	for (unsigned z = 0; zi && z < zi->count; z++) {
		const struct dev_table *t =
			__atomic_load_n(&zi->zone[z]->table, __ATOMIC_ACQUIRE);
		for (unsigned i = 0; t && i < t->count; i++)
			if (t->slot[i].dev && fn(t->slot[i].dev, arg))
				any = true;
	}
	return any;
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

int daemon_inject_irq(struct daemon *d, uint32_t zone, uint32_t irq)
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
	__atomic_fetch_add(&d->irqs_raised, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&d->irq_lock);
	if (!err)
		dispatch_irq_raised(d);
	if (err)
		log_error("cannot inject irq %u into zone %u: %s", irq, zone,
			  strerror(-err));
	return err;
}

static void publish_legacy_addrs(struct daemon *d)
{
	/* Old hypervisors read the first few device bases from the bridge;
	 * the array is fixed by the bridge layout, our tables are not. */
	unsigned n = 0;
	for (unsigned z = 0; z < d->zones->count; z++) {
		const struct dev_table *t = d->zones->zone[z]->table;
		for (unsigned i = 0; i < t->count; i++)
			if (n < HVISOR_MAX_DEVS)
				d->bridge->mmio_addrs[n++] = t->slot[i].addr;
	}
	__atomic_store_n(&d->bridge->mmio_avail, 1, __ATOMIC_RELEASE);
}

/* The interrupt model: forced by the caller, else what the port reports. */
static int choose_irq_model(struct daemon *d)
{
	enum port_irq_model model = PORT_IRQ_EDGE;
	if (d->opts.irq_model > 0) {
		model = (enum port_irq_model)(d->opts.irq_model - 1);
	} else {
		int err = port_irq_model(d->port, &model);
		if (err) {
			log_error("%s: cannot tell its interrupt model: %s",
				  port_describe(d->port), strerror(-err));
			return -1;
		}
	}
	d->irq_model = model;
	/* The line model always merges (irqline.c). */
	d->irq_merge =
		model == PORT_IRQ_LOONGARCH_LINE || !d->opts.irq_every_event;
	log_info("interrupts: %s model%s", port_irq_model_name(model),
		 d->irq_merge ? ", merged" : "");
	return 0;
}

static int open_port(struct daemon *d)
{
	if (d->opts.check)
		d->port = port_open_check();
	else if (d->opts.mock_fd >= 0)
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
	return choose_irq_model(d);
}

struct daemon *daemon_create(const struct daemon_options *opts)
{
	struct daemon *d = calloc(1, sizeof *d);
	if (!d) {
		log_error("daemon: out of memory");
		return NULL;
	}
	d->opts = *opts;
	d->line_watch_fd = -1;
	dispatch_init(d); /* before any thread that may inject */
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&d->irq_lock, NULL);
	if (d->wake_fd < 0 || d->stop_fd < 0) {
		log_error("eventfd: %s", strerror(errno));
		goto fail;
	}
	struct virtio_cfg *cfg = calloc(1, sizeof *cfg);
	if (!cfg) {
		log_error("daemon: out of memory");
		goto fail;
	}
	int err = opts->config_text ? virtio_cfg_parse(opts->config_text,
						       "<embedded>", cfg)
				    : virtio_cfg_load(opts->config_file, cfg);
	if (err) {
		free(cfg);
		goto fail;
	}

	unsigned ndirs = 0;
	char **dirs = loader_default_dirs(opts->plugin_dirs,
					  opts->plugin_dir_count, &ndirs);
	d->plugins = dirs ? loader_new((const char *const *)dirs, ndirs) : NULL;
	for (unsigned i = 0; dirs && i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	d->loop = eventloop_new();
	d->zones = calloc(1, sizeof *d->zones);
	if (!d->plugins || !d->loop || !d->zones)
		log_error("daemon: out of memory (plugin registry, event "
			  "loop or zone index)");
	/* Every device's plugin before touching the hypervisor: a typo in a
	 * type must not leave half a set of devices behind. */
	struct plugin **plugins = d->plugins && d->loop && d->zones
					  ? daemon_resolve(d, cfg)
					  : NULL;
	if (!plugins || open_port(d) || irqline_watch_start(d) ||
	    daemon_add(d, cfg, plugins)) {
		free(plugins);
		virtio_cfg_free(cfg);
		free(cfg);
		goto fail;
	}
	free(plugins);
	/* Startup's devices have declared their SCMI ids: no more from here
	 * on (docs/scmi.md, "Allowed sets"). Before the control socket, so
	 * that no "add" runs meanwhile. */
	err = port_scmi_seal(d->port);
	if (err && err != -ENODEV) {
		log_error("%s: cannot seal the SCMI allowed set: %s",
			  port_describe(d->port), strerror(-err));
		goto fail;
	}
	if (eventloop_start(d->loop)) {
		log_error("cannot start the event loop thread");
		goto fail;
	}
	/* Before the control socket exists: from then on its "add" and
	 * "remove" (on the loop thread) replace and free tables, and this
	 * thread takes no part in daemon_synchronize. */
	publish_legacy_addrs(d);
	if (opts->control_path) {
		d->control = control_open(d, opts->control_path,
					  opts->control_optional);
		if (!d->control && !opts->control_optional)
			goto fail;
		if (!d->control)
			log_warn("serving without a control socket");
	}
	return d;
fail:
	daemon_destroy(d);
	return NULL;
}

int daemon_serve(struct daemon *d)
{
	/* The control socket may already be replacing tables. Dispatching
	 * first (seq-cst, as in dispatch_run): a writer that misses it
	 * published before our loads below; one that sees it waits in
	 * daemon_synchronize for the first quiescent point of dispatch_run,
	 * after we are done with the index and tables read here. */
	__atomic_store_n(&d->dispatching, true, __ATOMIC_SEQ_CST);
	const struct zone_index *zi =
		__atomic_load_n(&d->zones, __ATOMIC_SEQ_CST);
	unsigned devices = 0;
	for (unsigned i = 0; i < zi->count; i++)
		devices += table_load(zi->zone[i])->count;
	log_info("serving %u device(s) in %u zone(s) through %s", devices,
		 zi->count, port_describe(d->port));
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
	/* The line watch (it walks the devices), devices (their reset
	 * quiesces plugin workers and removes their watches), then the
	 * loop, then memory. */
	irqline_watch_stop(d);
	struct zone_index *zi = d->zones;
	for (unsigned i = 0; zi && i < zi->count; i++) {
		struct dev_table *t = zi->zone[i]->table;
		for (unsigned j = 0; t && j < t->count; j++)
			device_destroy(t->slot[j].dev); /* NULL: removed */
		free(t);
	}
	eventloop_free(d->loop);
	for (unsigned i = 0; zi && i < zi->count; i++) {
		daemon_unmap_ram(d, zi->zone[i]);
		free(zi->zone[i]);
	}
	free(zi);
	if (d->port)
		port_close(d->port);
	if (d->plugins)
		loader_free(d->plugins);
	for (unsigned i = 0; i < d->cfg_count; i++) {
		virtio_cfg_free(d->cfgs[i]);
		free(d->cfgs[i]);
	}
	free(d->cfgs);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	if (d->line_watch_fd >= 0)
		close(d->line_watch_fd);
	pthread_mutex_destroy(&d->irq_lock);
	free(d);
}
