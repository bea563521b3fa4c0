/* SPDX-License-Identifier: MIT */
/*
 * Device creation and the host services table: the only door from a
 * plugin into the daemon.
 */
#include "device.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "config.h"
#include "daemon.h"
#include "eventloop.h"
#include "loader.h"
#include "log.h"
#include "port.h"

#define DEFAULT_QUEUE_SIZE 256u
#define MAX_QUEUE_SIZE     32768u
#define MAX_CONFIG_SIZE    0xf00u

static struct device *to_dev(struct hvd_device *hd)
{
	return (struct device *)hd;
}

static struct virtqueue *to_vq(struct hvd_vq *hvq)
{
	return (struct virtqueue *)hvq;
}

/* ---- services ---------------------------------------------------------- */

static void svc_log(struct hvd_device *hd, enum hvd_log_level level,
		    const char *fmt, ...)
{
	if (level > HVD_LOG_DEBUG)
		level = HVD_LOG_DEBUG;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, to_dev(hd)->name, fmt, ap);
	va_end(ap);
}

static int svc_cfg_string(struct hvd_device *hd, const char *key,
			  const char **out)
{
	struct device *dev = to_dev(hd);
	return cfg_get_string(dev->cfg->json, dev->cfg->path, key, out);
}

static int svc_cfg_u64(struct hvd_device *hd, const char *key, uint64_t *out)
{
	struct device *dev = to_dev(hd);
	return cfg_get_u64(dev->cfg->json, dev->cfg->path, key, out);
}

static int svc_cfg_u64_range(struct hvd_device *hd, const char *key,
			     uint64_t min, uint64_t max, uint64_t *out)
{
	struct device *dev = to_dev(hd);
	return cfg_get_u64_range(dev->cfg->json, dev->cfg->path, key, min, max,
				 out);
}

static int svc_cfg_bool(struct hvd_device *hd, const char *key, bool *out)
{
	struct device *dev = to_dev(hd);
	return cfg_get_bool(dev->cfg->json, dev->cfg->path, key, out);
}

static int svc_cfg_array_len(struct hvd_device *hd, const char *key,
			     unsigned *out)
{
	struct device *dev = to_dev(hd);
	return cfg_get_array_len(dev->cfg->json, dev->cfg->path, key, out);
}

static int svc_cfg_kind(struct hvd_device *hd, const char *key)
{
	struct device *dev = to_dev(hd);
	return cfg_get_kind(dev->cfg->json, dev->cfg->path, key);
}

static const char *const host_keys[] = {"type",   "addr",   "len", "irq",
					"status", "plugin", NULL};

static int svc_cfg_check_keys(struct hvd_device *hd, const char *const *known)
{
	struct device *dev = to_dev(hd);
	return cfg_check_keys(dev->cfg->json, dev->cfg->path, known, host_keys);
}

static int svc_cfg_check_keys_at(struct hvd_device *hd, const char *key,
				 const char *const *known)
{
	struct device *dev = to_dev(hd);
	return cfg_check_keys_at(dev->cfg->json, dev->cfg->path, key, known);
}

static int svc_cfg_error(struct hvd_device *hd, const char *key,
			 const char *fmt, ...)
{
	struct device *dev = to_dev(hd);
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (key && *key)
		cfg_fail("%s.%s: %s", dev->cfg->path, key, msg);
	else
		cfg_fail("%s: %s", dev->cfg->path, msg);
	return -EINVAL;
}

static void *svc_guest_ptr(struct hvd_device *hd, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(&to_dev(hd)->zone->mem, gpa, len);
}

static struct hvd_vq *svc_vq_get(struct hvd_device *hd, unsigned index)
{
	struct device *dev = to_dev(hd);
	if (index >= dev->info.num_queues)
		return NULL;
	return (struct hvd_vq *)&dev->vqs[index];
}

static struct hvd_chain *svc_vq_pop(struct hvd_vq *vq)
{
	return vq_pop(to_vq(vq));
}

static void svc_vq_notify(struct hvd_vq *vq)
{
	vq_notify(to_vq(vq));
}

static void svc_vq_kick_enable(struct hvd_vq *vq, int enable)
{
	vq_kick_enable(to_vq(vq), enable);
}

static int svc_vq_has_work(struct hvd_vq *vq)
{
	return vq_has_work(to_vq(vq));
}

static unsigned svc_vq_index(struct hvd_vq *vq)
{
	return to_vq(vq)->index;
}

static uint16_t svc_vq_size(struct hvd_vq *vq)
{
	return to_vq(vq)->num;
}

static uint64_t svc_features(struct hvd_device *hd)
{
	return to_dev(hd)->features;
}

static void svc_config_changed(struct hvd_device *hd)
{
	struct device *dev = to_dev(hd);
	__atomic_add_fetch(&dev->config_generation, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&dev->status, __ATOMIC_ACQUIRE) &
	    VIRTIO_CONFIG_S_DRIVER_OK)
		device_interrupt(dev, DEVICE_INT_CONFIG);
}

static void svc_needs_reset(struct hvd_device *hd, const char *why)
{
	device_fail(to_dev(hd), why ? why : "plugin error");
}

static struct hvd_watch *svc_watch_add(struct hvd_device *hd, int fd,
				       uint32_t events, hvd_watch_cb cb,
				       void *opaque)
{
	struct device *dev = to_dev(hd);
	return eventloop_watch_add(dev->daemon->loop, fd, events, cb, opaque,
				   &dev->cb_lock);
}

static struct hvd_timer *svc_timer_add(struct hvd_device *hd, uint64_t first_ns,
				       uint64_t period_ns, hvd_timer_cb cb,
				       void *opaque)
{
	struct device *dev = to_dev(hd);
	return eventloop_timer_add(dev->daemon->loop, first_ns, period_ns, cb,
				   opaque, &dev->cb_lock);
}

static const char *svc_name(struct hvd_device *hd)
{
	return to_dev(hd)->name;
}

static int svc_mem_region(struct hvd_device *hd, unsigned index,
			  struct hvd_mem_region *out)
{
	struct device *dev = to_dev(hd);
	const struct guest_mem *gm = &dev->zone->mem;
	if (index >= gm->count)
		return -ENOENT;
	const struct guest_region *r = &gm->regions[index];
	*out = (struct hvd_mem_region){
		.gpa = r->gpa, .size = r->size, .hva = r->hva, .fd = -1};
	/* In-process tests build zones without a port. */
	if (dev->daemon->port)
		port_guest_fd(dev->daemon->port, r->hva, &out->fd,
			      &out->fd_offset);
	return 0;
}

static void svc_vq_layout(struct hvd_vq *hvq, struct hvd_vq_layout *out)
{
	struct virtqueue *vq = to_vq(hvq);
	pthread_mutex_lock(&vq->lock);
	*out = (struct hvd_vq_layout){.num = vq->num,
				      .ready = vq->ready,
				      .desc_gpa = vq->desc_gpa,
				      .avail_gpa = vq->avail_gpa,
				      .used_gpa = vq->used_gpa};
	pthread_mutex_unlock(&vq->lock);
}

static void svc_vring_interrupt(struct hvd_device *hd)
{
	device_interrupt(to_dev(hd), DEVICE_INT_VRING);
}

static int svc_hv_scmi(struct hvd_device *hd, unsigned which, void *arg,
		       uint32_t len)
{
	struct device *dev = to_dev(hd);
	if (!dev->daemon->port)
		return -ENODEV;
	return port_scmi_zone(dev->daemon->port, dev->zone->id, which, arg,
			      len);
}

static const struct hvd_host_services services = {
	.size = sizeof(struct hvd_host_services),
	.abi_minor = HVD_ABI_MINOR,
	.log = svc_log,
	.cfg_string = svc_cfg_string,
	.cfg_u64 = svc_cfg_u64,
	.cfg_bool = svc_cfg_bool,
	.cfg_array_len = svc_cfg_array_len,
	.cfg_check_keys = svc_cfg_check_keys,
	.guest_ptr = svc_guest_ptr,
	.vq_get = svc_vq_get,
	.vq_pop = svc_vq_pop,
	.vq_unpop = vq_unpop,
	.vq_push = vq_push,
	.vq_notify = svc_vq_notify,
	.vq_kick_enable = svc_vq_kick_enable,
	.vq_has_work = svc_vq_has_work,
	.vq_index = svc_vq_index,
	.vq_size = svc_vq_size,
	.features = svc_features,
	.config_changed = svc_config_changed,
	.needs_reset = svc_needs_reset,
	.watch_add = svc_watch_add,
	.watch_modify = eventloop_watch_modify,
	.watch_remove = eventloop_watch_remove,
	.timer_add = svc_timer_add,
	.timer_cancel = eventloop_timer_cancel,
	.name = svc_name,
	.cfg_check_keys_at = svc_cfg_check_keys_at,
	.cfg_kind = svc_cfg_kind,
	.cfg_u64_range = svc_cfg_u64_range,
	.mem_region = svc_mem_region,
	.vq_layout = svc_vq_layout,
	.vring_interrupt = svc_vring_interrupt,
	.hv_scmi = svc_hv_scmi,
	.cfg_error = svc_cfg_error,
};

/* ---- lifecycle --------------------------------------------------------- */

uint32_t device_id(const struct device *dev)
{
	return dev->info.device_id ? dev->info.device_id
				   : dev->plugin->desc->device_id;
}

static void vq_failed(void *owner, const char *why)
{
	device_fail(owner, why);
}

static void vq_interrupt(void *owner)
{
	device_interrupt(owner, DEVICE_INT_VRING);
}

/* What the plugin described must be something we can serve. */
static int check_info(struct device *dev)
{
	struct hvd_device_info *info = &dev->info;
	/* Device id 0 reads as "no device here" to a guest's probe (virtio
	 * 1.2 4.2.2): it would be served and never used. */
	if (device_id(dev) == 0) {
		log_error("%s: plugin gave no virtio device id (0 in its "
			  "descriptor and in info.device_id)",
			  dev->name);
		return -EINVAL;
	}
	if (info->num_queues == 0 || info->num_queues > HVD_MAX_QUEUES) {
		log_error("%s: plugin declared %u queues (1..%u allowed)",
			  dev->name, info->num_queues, HVD_MAX_QUEUES);
		return -EINVAL;
	}
	if (info->queue_max_size == 0)
		info->queue_max_size = DEFAULT_QUEUE_SIZE;
	if (info->queue_max_size > MAX_QUEUE_SIZE ||
	    (info->queue_max_size & (info->queue_max_size - 1))) {
		log_error("%s: plugin declared queue size %u (power of two "
			  "up to %u required)",
			  dev->name, info->queue_max_size, MAX_QUEUE_SIZE);
		return -EINVAL;
	}
	/* Before 1.3 this word was reserved: what is there means nothing. */
	if (dev->plugin->desc->abi_minor < 3)
		info->flags = 0;
	if (info->flags & ~HVD_DEVICE_F_POLL_RINGS) {
		log_error("%s: plugin set unknown device flags 0x%x", dev->name,
			  info->flags & ~HVD_DEVICE_F_POLL_RINGS);
		return -EINVAL;
	}
	dev->poll_rings = info->flags & HVD_DEVICE_F_POLL_RINGS;
	if (info->config_size > MAX_CONFIG_SIZE) {
		log_error("%s: plugin declared %u bytes of config space "
			  "(max %u)",
			  dev->name, info->config_size, MAX_CONFIG_SIZE);
		return -EINVAL;
	}
	return 0;
}

struct device *device_create(struct daemon *d, struct zone *zone,
			     const struct device_cfg *cfg,
			     struct plugin *plugin)
{
	struct device *dev = calloc(1, sizeof *dev);
	if (!dev) {
		log_error("%s: out of memory", cfg->path);
		return NULL;
	}
	dev->host = &services;
	dev->daemon = d;
	dev->zone = zone;
	dev->cfg = cfg;
	dev->plugin = plugin;
	snprintf(dev->name, sizeof dev->name, "zone%u %s@0x%llx", zone->id,
		 cfg->type, (unsigned long long)cfg->addr);
	pthread_mutex_init(&dev->cb_lock, NULL);
	pthread_mutex_init(&dev->irq_lock, NULL);
	dev->info.size = sizeof dev->info;

	int err = plugin->ops.create((struct hvd_device *)dev, &dev->info,
				     &dev->state);
	if (err) {
		log_error("%s: %s: device creation failed: %s", cfg->path,
			  dev->name, strerror(err < 0 ? -err : err));
		goto fail;
	}
	if (check_info(dev))
		goto fail_destroy;
	dev->offered_features = dev->info.features |
				(1ull << VIRTIO_F_VERSION_1) |
				(1ull << VIRTIO_RING_F_INDIRECT_DESC) |
				(1ull << VIRTIO_RING_F_EVENT_IDX);
	dev->offered_features &= ~dev->info.transport_features_off;
	dev->offered_features |= 1ull << VIRTIO_F_VERSION_1;

	dev->vqs = calloc(dev->info.num_queues, sizeof *dev->vqs);
	if (!dev->vqs) {
		log_error("%s: out of memory for %u queues", dev->name,
			  dev->info.num_queues);
		goto fail_destroy;
	}
	for (unsigned i = 0; i < dev->info.num_queues; i++)
		vq_init(&dev->vqs[i], i, dev->info.queue_max_size, dev,
			vq_failed, vq_interrupt);
	log_info("%s: virtio device id %u at 0x%llx+0x%llx irq %u, %u "
		 "queue(s) of %u (plugin %s)",
		 dev->name, device_id(dev), (unsigned long long)cfg->addr,
		 (unsigned long long)cfg->len, cfg->irq, dev->info.num_queues,
		 dev->info.queue_max_size, plugin->path);
	if (dev->poll_rings)
		__atomic_add_fetch(&d->ring_pollers, 1, __ATOMIC_RELAXED);
	return dev;

fail_destroy:
	if (plugin->ops.destroy)
		plugin->ops.destroy(dev->state);
fail:
	pthread_mutex_destroy(&dev->irq_lock);
	pthread_mutex_destroy(&dev->cb_lock);
	free(dev);
	return NULL;
}

void device_destroy(struct device *dev)
{
	if (!dev)
		return;
	/* destroy() under the callback lock too, as hvd/plugin.h promises for
	 * every callback: the event loop still runs (daemon_destroy stops it
	 * after the devices), and a watch or timer callback of this device
	 * that fired meanwhile must wait, then find its watch removed by
	 * destroy(), instead of running beside it. Without the lock, a console
	 * client connecting during shutdown ran the accept callback on a
	 * port whose scrollback destroy() had just freed (found by the
	 * console fuzz corpus replayed under ./dev asan). */
	pthread_mutex_lock(&dev->cb_lock);
	device_reset(dev);
	if (dev->plugin->ops.destroy)
		dev->plugin->ops.destroy(dev->state);
	/* A watch or timer the plugin left would call into the state it just
	 * freed, under a lock freed below: a plugin bug, but not one that
	 * may take the daemon down (a device is removed while it serves). */
	unsigned left =
		eventloop_remove_owned(dev->daemon->loop, &dev->cb_lock);
	if (left)
		log_warn("%s: plugin '%s' left %u watch(es) or timer(s) "
			 "registered after destroy(); removed",
			 dev->name, dev->plugin->desc->type, left);
	pthread_mutex_unlock(&dev->cb_lock);
	/* A callback that fired meanwhile may be waiting for cb_lock: it
	 * finds its watch dead, but must let go of the lock before the lock
	 * is destroyed (ThreadSanitizer, console suites at teardown). */
	eventloop_lock_retire(dev->daemon->loop, &dev->cb_lock);
	for (unsigned i = 0; i < dev->info.num_queues; i++)
		vq_destroy(&dev->vqs[i]);
	free(dev->vqs);
	if (dev->poll_rings)
		__atomic_sub_fetch(&dev->daemon->ring_pollers, 1,
				   __ATOMIC_RELAXED);
	pthread_mutex_destroy(&dev->irq_lock);
	pthread_mutex_destroy(&dev->cb_lock);
	free(dev);
}
