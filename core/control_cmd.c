/* SPDX-License-Identifier: MIT */
/*
 * What the control socket's requests do: "list", "stats", "counting".
 * Runs on the event loop thread. Register state is read under the
 * device's callback lock (held by the dispatch thread only for one
 * register access); counters are read with relaxed loads (stats.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <linux/virtio_config.h>

#include "control.h"
#include "daemon.h"
#include "device.h"
#include "loader.h"
#include "log.h"

static cJSON *reply_new(bool ok)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "api", CONTROL_API);
	cJSON_AddBoolToObject(r, "ok", ok);
	return r;
}

cJSON *control_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *r = reply_new(false);
	cJSON_AddStringToObject(r, "error", msg);
	return r;
}

static void add_hex(cJSON *o, const char *key, uint64_t v)
{
	char s[24];
	snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
	cJSON_AddStringToObject(o, key, s);
}

static cJSON *status_bits(uint32_t st)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{VIRTIO_CONFIG_S_ACKNOWLEDGE, "ACKNOWLEDGE"},
		{VIRTIO_CONFIG_S_DRIVER, "DRIVER"},
		{VIRTIO_CONFIG_S_FEATURES_OK, "FEATURES_OK"},
		{VIRTIO_CONFIG_S_DRIVER_OK, "DRIVER_OK"},
		{VIRTIO_CONFIG_S_NEEDS_RESET, "NEEDS_RESET"},
		{VIRTIO_CONFIG_S_FAILED, "FAILED"},
	};
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (st & names[i].bit)
			cJSON_AddItemToArray(a,
					     cJSON_CreateString(names[i].name));
	return a;
}

/* Filter of "stats"/"list": zone and addr, each optional. */
struct filter {
	bool zone_set, addr_set;
	uint32_t zone;
	uint64_t addr;
};

static bool filter_match(const struct filter *f, const struct device *dev)
{
	return (!f->zone_set || dev->zone->id == f->zone) &&
	       (!f->addr_set || dev->cfg->addr == f->addr);
}

static cJSON *device_entry(struct device *dev)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "zone", dev->zone->id);
	add_hex(o, "addr", dev->cfg->addr);
	cJSON_AddStringToObject(o, "type", dev->cfg->type);
	return o;
}

static cJSON *list_device(struct device *dev)
{
	cJSON *o = device_entry(dev);
	add_hex(o, "len", dev->cfg->len);
	cJSON_AddNumberToObject(o, "irq", dev->cfg->irq);
	cJSON_AddNumberToObject(o, "device_id", dev->plugin->desc->device_id);
	cJSON_AddStringToObject(o, "plugin", dev->plugin->path);
	cJSON_AddStringToObject(
		o, "plugin_version",
		dev->plugin->desc->version ? dev->plugin->desc->version : "");
	cJSON *queues = cJSON_CreateArray();
	pthread_mutex_lock(&dev->cb_lock);
	uint32_t st = __atomic_load_n(&dev->status, __ATOMIC_ACQUIRE);
	cJSON_AddNumberToObject(o, "status", st);
	cJSON_AddItemToObject(o, "status_bits", status_bits(st));
	add_hex(o, "features", dev->features);
	add_hex(o, "offered_features", dev->offered_features);
	for (unsigned i = 0; i < dev->info.num_queues; i++) {
		const struct virtqueue *vq = &dev->vqs[i];
		cJSON *q = cJSON_CreateObject();
		cJSON_AddNumberToObject(q, "index", i);
		cJSON_AddNumberToObject(q, "size", vq->num);
		cJSON_AddNumberToObject(q, "max_size", vq->num_max);
		cJSON_AddBoolToObject(q, "ready", vq->ready);
		cJSON_AddItemToArray(queues, q);
	}
	pthread_mutex_unlock(&dev->cb_lock);
	cJSON_AddItemToObject(o, "queues", queues);
	return o;
}

static void add_counters(cJSON *o, const struct vq_stats *s, uint64_t inflight)
{
	cJSON_AddNumberToObject(o, "requests", (double)s->requests);
	cJSON_AddNumberToObject(o, "bytes_in", (double)s->bytes_in);
	cJSON_AddNumberToObject(o, "bytes_out", (double)s->bytes_out);
	cJSON_AddNumberToObject(o, "errors", (double)s->errors);
	cJSON_AddNumberToObject(o, "in_flight", (double)inflight);
	cJSON_AddNumberToObject(o, "kicks", (double)s->kicks);
	cJSON_AddNumberToObject(o, "interrupts", (double)s->interrupts);
	cJSON_AddNumberToObject(o, "latency_p50_ns",
				(double)stats_quantile_ns(s->lat, 0.50));
	cJSON_AddNumberToObject(o, "latency_p99_ns",
				(double)stats_quantile_ns(s->lat, 0.99));
}

static cJSON *stats_device(struct device *dev)
{
	cJSON *o = device_entry(dev);
	cJSON_AddNumberToObject(
		o, "needs_reset_events",
		(double)__atomic_load_n(&dev->needs_reset_events,
					__ATOMIC_RELAXED));
	cJSON *queues = cJSON_CreateArray();
	struct vq_stats total = {0};
	uint64_t total_inflight = 0;
	for (unsigned i = 0; i < dev->info.num_queues; i++) {
		struct virtqueue *vq = &dev->vqs[i];
		struct vq_stats s;
		stats_snapshot(&vq->stats, &s);
		pthread_mutex_lock(&vq->lock);
		uint64_t inflight = vq->inflight;
		pthread_mutex_unlock(&vq->lock);
		cJSON *q = cJSON_CreateObject();
		cJSON_AddNumberToObject(q, "index", i);
		add_counters(q, &s, inflight);
		cJSON_AddItemToArray(queues, q);
		stats_sum(&total, &s);
		total_inflight += inflight;
	}
	add_counters(o, &total, total_inflight);
	cJSON_AddItemToObject(o, "queues", queues);
	return o;
}

static cJSON *cmd_list(struct daemon *d, const struct filter *f)
{
	cJSON *r = reply_new(true);
	cJSON *zones = cJSON_AddArrayToObject(r, "zones");
	for (unsigned i = 0; i < d->zones->count; i++) {
		struct zone *z = d->zones->zone[i];
		if (f->zone_set && z->id != f->zone)
			continue;
		cJSON *zo = cJSON_CreateObject();
		cJSON_AddNumberToObject(zo, "id", z->id);
		cJSON *mem = cJSON_AddArrayToObject(zo, "memory");
		for (unsigned m = 0; m < z->mem.count; m++) {
			cJSON *mo = cJSON_CreateObject();
			add_hex(mo, "zonex_ipa", z->mem.regions[m].gpa);
			add_hex(mo, "size", z->mem.regions[m].size);
			cJSON_AddItemToArray(mem, mo);
		}
		cJSON *devs = cJSON_AddArrayToObject(zo, "devices");
		for (unsigned j = 0; j < z->table->count; j++) {
			struct device *dev = z->table->slot[j].dev;
			if (dev && filter_match(f, dev))
				cJSON_AddItemToArray(devs, list_device(dev));
		}
		cJSON_AddItemToArray(zones, zo);
	}
	return r;
}

static void add_count(cJSON *o, const char *key, const uint64_t *v)
{
	cJSON_AddNumberToObject(o, key, (double)stats_get(v));
}

/* The dispatch thread: how often it slept, how long its poll window is
 * (docs/design.md, "The request path"); the interrupt lines (irqline.c):
 * raised, merged, raised by an ACK that left bits set or by the line
 * watch. Counted whether or not "counting" is on. */
static cJSON *dispatch_stats(const struct daemon *d)
{
	cJSON *o = cJSON_CreateObject();
	add_count(o, "accesses", &d->requests);
	add_count(o, "sleeps", &d->sleeps);
	add_count(o, "early_wakeups", &d->prewakes);
	add_count(o, "interrupts", &d->irqs_raised);
	add_count(o, "interrupts_merged", &d->irqs_merged);
	add_count(o, "interrupts_after_ack", &d->irqs_after_ack);
	add_count(o, "interrupts_rearmed", &d->irqs_rearmed);
	cJSON_AddNumberToObject(o, "window_us",
				(double)stats_get(&d->window_ns) / 1e3);
	cJSON_AddNumberToObject(o, "window_base_us", (double)d->poll_ns / 1e3);
	cJSON_AddNumberToObject(o, "window_max_us",
				(double)d->poll_max_ns / 1e3);
	add_count(o, "window_grown", &d->window_grown);
	add_count(o, "window_halved", &d->window_halved);
	add_count(o, "window_reset", &d->window_reset);
	return o;
}

static cJSON *cmd_stats(struct daemon *d, const struct filter *f)
{
	cJSON *r = reply_new(true);
	cJSON_AddBoolToObject(r, "counting", stats_enabled());
	cJSON_AddItemToObject(r, "dispatch", dispatch_stats(d));
	cJSON *devs = cJSON_AddArrayToObject(r, "devices");
	for (unsigned i = 0; i < d->zones->count; i++) {
		const struct dev_table *t = d->zones->zone[i]->table;
		for (unsigned j = 0; j < t->count; j++) {
			struct device *dev = t->slot[j].dev;
			if (dev && filter_match(f, dev))
				cJSON_AddItemToArray(devs, stats_device(dev));
		}
	}
	return r;
}

static cJSON *cmd_remove(struct daemon *d, const struct filter *f)
{
	if (!f->zone_set)
		return control_error("zone: required by remove");
	int n = daemon_remove(d, f->zone, f->addr_set ? &f->addr : NULL);
	if (n == -ENOENT && f->addr_set)
		return control_error("zone %u has no device at 0x%llx", f->zone,
				     (unsigned long long)f->addr);
	if (n == -ENOENT)
		return control_error("zone %u has no devices", f->zone);
	if (n < 0)
		return control_error("remove: %s", strerror(-n));
	cJSON *r = reply_new(true);
	cJSON_AddNumberToObject(r, "removed", n);
	return r;
}

/* An optional non-negative integer member (JSON number or "0x.." string
 * for addresses). Returns 0, 1 when absent, -1 when malformed. */
static int opt_u64(const cJSON *req, const char *key, uint64_t max,
		   uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	if (!v)
		return 1;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble <= (double)max &&
	    v->valuedouble == (double)(uint64_t)v->valuedouble) {
		*out = (uint64_t)v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v)) {
		char *end;
		unsigned long long x = strtoull(v->valuestring, &end, 0);
		if (*v->valuestring && !*end && x <= max) {
			*out = x;
			return 0;
		}
	}
	return -1;
}

static cJSON *parse_filter(const cJSON *req, struct filter *f)
{
	uint64_t v;
	int r = opt_u64(req, "zone", UINT32_MAX, &v);
	if (r < 0)
		return control_error("zone: expected an integer 0..%u",
				     UINT32_MAX);
	f->zone_set = r == 0;
	f->zone = (uint32_t)v;
	r = opt_u64(req, "addr", UINT64_MAX, &f->addr);
	if (r < 0)
		return control_error("addr: expected an address");
	f->addr_set = r == 0;
	return NULL;
}

/* "add": the text of a virtio JSON file (comments allowed), validated and
 * added whole or not at all; the first error, with its JSON path, is the
 * reply. */
static cJSON *cmd_add(struct daemon *d, const cJSON *req)
{
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(req, "config");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(req, "source");
	if (!cJSON_IsString(text))
		return control_error("config: expected the file's text");
	const char *source = cJSON_IsString(src) ? src->valuestring : "<add>";
	struct virtio_cfg *cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return control_error("add: out of memory");
	char why[512];
	log_capture(why, sizeof why);
	struct plugin **plugins = NULL;
	int err = virtio_cfg_parse(text->valuestring, source, cfg);
	bool parsed = !err;
	if (!err)
		plugins = daemon_resolve(d, cfg);
	if (!err && (!plugins || daemon_add(d, cfg, plugins)))
		err = -1;
	log_capture(NULL, 0);
	free(plugins);
	if (err) {
		if (parsed)
			virtio_cfg_free(cfg);
		free(cfg);
		return control_error("%s", why[0] ? why : "add failed");
	}
	unsigned devices = 0;
	for (unsigned i = 0; i < cfg->zone_count; i++)
		devices += cfg->zones[i].device_count;
	log_info("%s: added %u device(s) in %u zone(s)", source, devices,
		 cfg->zone_count);
	cJSON *r = reply_new(true);
	cJSON_AddNumberToObject(r, "added", devices);
	cJSON_AddNumberToObject(r, "zones", cfg->zone_count);
	return r;
}

cJSON *control_handle(struct daemon *d, const cJSON *req)
{
	const cJSON *api = cJSON_GetObjectItemCaseSensitive(req, "api");
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	if (!cJSON_IsNumber(api))
		return control_error("api: missing (this daemon speaks %d)",
				     CONTROL_API);
	if (api->valuedouble != CONTROL_API)
		return control_error("api: %g not supported (this daemon "
				     "speaks %d)",
				     api->valuedouble, CONTROL_API);
	if (!cJSON_IsString(cmd))
		return control_error("cmd: expected a string");
	struct filter f = {0};
	cJSON *err = parse_filter(req, &f);
	if (err)
		return err;
	if (strcmp(cmd->valuestring, "list") == 0)
		return cmd_list(d, &f);
	if (strcmp(cmd->valuestring, "stats") == 0)
		return cmd_stats(d, &f);
	if (strcmp(cmd->valuestring, "remove") == 0)
		return cmd_remove(d, &f);
	if (strcmp(cmd->valuestring, "add") == 0)
		return cmd_add(d, req);
	if (strcmp(cmd->valuestring, "counting") == 0) {
		const cJSON *on = cJSON_GetObjectItemCaseSensitive(req, "on");
		if (!cJSON_IsBool(on))
			return control_error("on: expected true or false");
		stats_set_enabled(cJSON_IsTrue(on));
		return reply_new(true);
	}
	return control_error("cmd: unknown command '%.64s'", cmd->valuestring);
}
