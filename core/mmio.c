/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio register file (virtio 1.2 section 4.2.2, modern layout).
 * Runs on the dispatch thread with the device's callback lock held; the
 * guest vCPU that made the access spins until we return.
 */
#include <stdio.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "daemon.h"
#include "device.h"
#include "loader.h"
#include "log.h"

#define MMIO_MAGIC         0x74726976u /* "virt" */
#define MMIO_VERSION       2u          /* modern */
#define MMIO_VENDOR        0x48564953u /* "HVIS" */
#define MMIO_CONFIG_OFFSET 0x100u

static uint32_t status_load(const struct device *dev)
{
	return __atomic_load_n(&dev->status, __ATOMIC_ACQUIRE);
}

/* Warn about the first few driver mistakes of a device, then go quiet:
 * a misbehaving guest must not flood the log. */
static void driver_bug(struct device *dev, const char *fmt, uint64_t a,
		       uint64_t b)
{
	if (device_may_warn(dev))
		log_warn("%s: guest driver: %s (0x%llx, 0x%llx)", dev->name,
			 fmt, (unsigned long long)a, (unsigned long long)b);
}

void device_fail(struct device *dev, const char *why)
{
	uint32_t old = __atomic_fetch_or(
		&dev->status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_SEQ_CST);
	if (old & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	__atomic_add_fetch(&dev->needs_reset_events, 1, __ATOMIC_RELAXED);
	log_error("%s: %s: device needs reset", dev->name, why);
	/* No queue hands out work any more, whichever thread asks. */
	for (unsigned i = 0; i < dev->info.num_queues; i++)
		vq_break(&dev->vqs[i]);
	__atomic_add_fetch(&dev->config_generation, 1, __ATOMIC_SEQ_CST);
	device_interrupt(dev, DEVICE_INT_CONFIG);
}

void device_reset(struct device *dev)
{
	if (dev->activated && dev->plugin->ops.reset)
		dev->plugin->ops.reset(dev->state);
	dev->activated = false;
	for (unsigned i = 0; i < dev->info.num_queues; i++)
		vq_reset(&dev->vqs[i]);
	__atomic_store_n(&dev->status, 0, __ATOMIC_SEQ_CST);
	device_irq_reset(dev);
	dev->device_features_sel = 0;
	dev->driver_features_sel = 0;
	dev->queue_sel = 0;
	dev->driver_features = 0;
	dev->driver_features_high = false;
	dev->features = 0;
}

static struct virtqueue *selected_vq(struct device *dev)
{
	if (dev->queue_sel >= dev->info.num_queues)
		return NULL;
	return &dev->vqs[dev->queue_sel];
}

static uint32_t half(uint64_t v, uint32_t sel)
{
	return sel == 0 ? (uint32_t)v : sel == 1 ? (uint32_t)(v >> 32) : 0;
}

/* The ring address a QueueDesc/QueueDriver/QueueDevice register half names:
 * each 64-bit address is a LOW register with its HIGH one 4 bytes above. */
static uint64_t *ring_address(struct virtqueue *vq, uint64_t offset, bool *high)
{
	*high = offset & 4;
	switch (offset & ~4ull) {
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return &vq->desc_gpa;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		return &vq->avail_gpa;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		return &vq->used_gpa;
	default:
		return NULL;
	}
}

static uint32_t queue_reg_read(struct device *dev, uint64_t offset)
{
	struct virtqueue *vq = selected_vq(dev);
	if (!vq)
		return 0; /* the spec: QueueNumMax 0 = no such queue */
	pthread_mutex_lock(&vq->lock);
	bool high;
	uint64_t *addr = ring_address(vq, offset, &high);
	uint32_t v = addr                                ? half(*addr, high)
		     : offset == VIRTIO_MMIO_QUEUE_READY ? vq->ready
							 : vq->num_max;
	pthread_mutex_unlock(&vq->lock);
	return v;
}

uint64_t device_mmio_read(struct device *dev, uint64_t offset, unsigned size)
{
	if (offset >= MMIO_CONFIG_OFFSET) {
		uint64_t off = offset - MMIO_CONFIG_OFFSET;
		uint64_t v = 0;
		if ((size != 1 && size != 2 && size != 4 && size != 8) ||
		    (off & (size - 1)) || off + size > dev->info.config_size) {
			driver_bug(dev, "bad config read", off, size);
			return 0;
		}
		if (dev->plugin->ops.config_read)
			dev->plugin->ops.config_read(dev->state, (uint32_t)off,
						     &v, size);
		return v; /* little-endian bytes: host is little-endian */
	}
	if (size != 4 || (offset & 3)) {
		driver_bug(dev, "register read not 32-bit", offset, size);
		return 0;
	}
	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return device_id(dev);
	case VIRTIO_MMIO_VENDOR_ID:
		return MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return half(dev->offered_features, dev->device_features_sel);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return device_isr_read(dev);
	case VIRTIO_MMIO_STATUS:
		return status_load(dev);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&dev->config_generation,
				       __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return queue_reg_read(dev, offset);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* No shared memory regions: virtio 1.2 4.2.2 has a length
		 * of -1 mean "no such region" (Linux's virtio_fs probes
		 * its DAX window this way and takes 0 for a real one). */
		return 0xffffffffu;
	default:
		/* Write-only or reserved: reads as zero. */
		return 0;
	}
}

/* Virtio 1.2 2.2.1/2.2.2: the driver may accept only a subset of the offer,
 * and a device that cannot use what was accepted must not set FEATURES_OK.
 * Bits never offered (e.g. RING_PACKED written as "every bit") make the set
 * invalid: masking them would leave driver and device disagreeing about the
 * ring format, so the whole set is refused. */
static bool features_acceptable(struct device *dev, uint64_t features)
{
	uint64_t unoffered = features & ~dev->offered_features;
	if (unoffered || dev->driver_features_high) {
		driver_bug(dev, "accepted features never offered, refused",
			   features, unoffered);
		return false;
	}
	if (!(features & (1ull << VIRTIO_F_VERSION_1))) {
		driver_bug(dev, "legacy driver (no VERSION_1) refused",
			   features, 0);
		return false;
	}
	if (dev->plugin->ops.features_ok &&
	    dev->plugin->ops.features_ok(dev->state, features) != 0)
		return false;
	return true;
}

static void activate(struct device *dev)
{
	bool event_idx = dev->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	bool indirect = dev->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	for (unsigned i = 0; i < dev->info.num_queues; i++) {
		struct virtqueue *vq = &dev->vqs[i];
		if (!vq->ready)
			continue;
		const char *why = NULL;
		if (vq_start(vq, &dev->zone->mem, event_idx, indirect, &why)) {
			char msg[96];
			snprintf(msg, sizeof msg, "queue %u: %s", i, why);
			device_fail(dev, msg);
			return;
		}
	}
	if (dev->plugin->ops.activate &&
	    dev->plugin->ops.activate(dev->state, dev->features) != 0) {
		device_fail(dev, "plugin could not activate");
		return;
	}
	dev->activated = true;
	/* Tools (the real-guest rig) compare this with what the guest's
	 * driver reports as negotiated. */
	log_info("%s: driver ok, features offered 0x%llx negotiated 0x%llx",
		 dev->name, (unsigned long long)dev->offered_features,
		 (unsigned long long)dev->features);
}

static void status_write(struct device *dev, uint32_t value)
{
	if (value == 0) {
		device_reset(dev);
		return;
	}
	uint32_t old = status_load(dev);
	/* NEEDS_RESET is the device's to set; the driver cannot clear it. */
	value = (value & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
		(old & VIRTIO_CONFIG_S_NEEDS_RESET);
	uint32_t added = value & ~old;
	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (features_acceptable(dev, dev->driver_features))
			dev->features = dev->driver_features;
		else
			value &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!(value & VIRTIO_CONFIG_S_FEATURES_OK)) {
			driver_bug(dev, "DRIVER_OK without FEATURES_OK", value,
				   0);
			value &= ~VIRTIO_CONFIG_S_DRIVER_OK;
		}
	}
	/* Publish before activating: a plugin may fail the device. */
	__atomic_fetch_or(&dev->status, value, __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&dev->status, value | VIRTIO_CONFIG_S_NEEDS_RESET,
			   __ATOMIC_SEQ_CST);
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    (value & VIRTIO_CONFIG_S_DRIVER_OK))
		activate(dev);
}

static void queue_reg_write(struct device *dev, uint64_t offset, uint32_t value)
{
	struct virtqueue *vq = selected_vq(dev);
	if (!vq) {
		driver_bug(dev, "queue register write for absent queue",
			   dev->queue_sel, offset);
		return;
	}
	pthread_mutex_lock(&vq->lock);
	if (vq->ready && !(offset == VIRTIO_MMIO_QUEUE_READY && value == 0)) {
		pthread_mutex_unlock(&vq->lock);
		driver_bug(dev, "queue register write while queue ready",
			   offset, value);
		return;
	}
	bool bad_num = false, start = false;
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		if (value == 0 || value > vq->num_max || (value & (value - 1)))
			bad_num = true;
		else
			vq->num = (uint16_t)value;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (value == 0) {
			/* Without RING_RESET a ready queue cannot be taken
			 * back on its own; only a device reset does that. */
			break;
		}
		vq->ready = true;
		start = status_load(dev) & VIRTIO_CONFIG_S_DRIVER_OK;
		break;
	default: {
		bool high;
		uint64_t *addr = ring_address(vq, offset, &high);
		if (!addr)
			break;
		if (high)
			*addr = (*addr & 0xffffffffull) |
				((uint64_t)value << 32);
		else
			*addr = (*addr & ~0xffffffffull) | value;
		break;
	}
	}
	pthread_mutex_unlock(&vq->lock);
	if (bad_num) {
		char msg[80];
		snprintf(msg, sizeof msg,
			 "queue %u: QueueNum %u invalid (max %u, power of two)",
			 dev->queue_sel, value, vq->num_max);
		device_fail(dev, msg);
	}
	if (start && dev->activated) {
		/* A queue enabled after DRIVER_OK (allowed for devices whose
		 * driver adds queues late): map it now. */
		const char *why = NULL;
		if (vq_start(vq, &dev->zone->mem,
			     dev->features & (1ull << VIRTIO_RING_F_EVENT_IDX),
			     dev->features &
				     (1ull << VIRTIO_RING_F_INDIRECT_DESC),
			     &why))
			device_fail(dev, why);
	}
}

/* Whether queue_notify may run now. Caller holds cb_lock. */
static bool serving(struct device *dev)
{
	uint32_t st = status_load(dev);
	return (st & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(st & VIRTIO_CONFIG_S_NEEDS_RESET) && dev->activated;
}

/* queue_notify, bracketed for ring polling when the device asked for it.
 * Caller holds cb_lock. */
static void call_notify(struct device *dev, uint32_t index)
{
	struct virtqueue *vq = &dev->vqs[index];
	if (!dev->poll_rings) {
		dev->plugin->ops.queue_notify(dev->state, index);
		return;
	}
	vq_poll_begin(vq);
	dev->plugin->ops.queue_notify(dev->state, index);
	vq_poll_end(vq);
}

static void notify(struct device *dev, uint32_t index)
{
	if (!serving(dev))
		return;
	if (index >= dev->info.num_queues) {
		driver_bug(dev, "notify of absent queue", index, 0);
		return;
	}
	if (stats_enabled()) /* the dispatch thread is the only writer */
		stats_add(&dev->vqs[index].stats.kicks, 1);
	call_notify(dev, index);
}

bool device_poll_rings(struct device *dev, bool quiet)
{
	bool any = false;
	if (!dev->poll_rings)
		return false;
	for (unsigned q = 0; q < dev->info.num_queues; q++) {
		/* Look without cb_lock first: the dispatch thread polls
		 * every few microseconds, and a plugin thread may hold
		 * cb_lock for a whole batch. */
		if (!vq_poll_due(&dev->vqs[q], quiet))
			continue;
		pthread_mutex_lock(&dev->cb_lock);
		if (serving(dev)) {
			call_notify(dev, q);
			any = true;
		}
		pthread_mutex_unlock(&dev->cb_lock);
	}
	return any;
}

void device_unquiet_rings(struct device *dev)
{
	if (!dev->poll_rings)
		return;
	for (unsigned q = 0; q < dev->info.num_queues; q++)
		vq_poll_unquiet(&dev->vqs[q]);
}

bool device_mmio_irq_access(struct device *dev, uint64_t offset, unsigned size,
			    bool is_write, uint64_t *value)
{
	if (size != 4)
		return false; /* the locked path reports the driver bug */
	if (!is_write && offset == VIRTIO_MMIO_INTERRUPT_STATUS) {
		*value = device_isr_read(dev);
		return true;
	}
	if (is_write && offset == VIRTIO_MMIO_INTERRUPT_ACK) {
		device_irq_ack(dev, (uint32_t)*value);
		return true;
	}
	return false;
}

void device_mmio_write(struct device *dev, uint64_t offset, unsigned size,
		       uint64_t value64)
{
	if (offset >= MMIO_CONFIG_OFFSET) {
		uint64_t off = offset - MMIO_CONFIG_OFFSET;
		if ((size != 1 && size != 2 && size != 4 && size != 8) ||
		    (off & (size - 1)) || off + size > dev->info.config_size) {
			driver_bug(dev, "bad config write", off, size);
			return;
		}
		if (dev->plugin->ops.config_write)
			dev->plugin->ops.config_write(dev->state, (uint32_t)off,
						      &value64, size);
		return;
	}
	if (size != 4 || (offset & 3)) {
		driver_bug(dev, "register write not 32-bit", offset, size);
		return;
	}
	uint32_t value = (uint32_t)value64;
	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->device_features_sel = value;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = value;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (status_load(dev) & VIRTIO_CONFIG_S_FEATURES_OK) {
			driver_bug(dev, "features written after FEATURES_OK",
				   value, dev->driver_features_sel);
			break;
		}
		if (dev->driver_features_sel > 1) {
			/* Bits 64 and up: we never offer any. */
			if (value)
				dev->driver_features_high = true;
			break;
		}
		{
			unsigned shift = dev->driver_features_sel * 32;
			uint64_t mask = 0xffffffffull << shift;
			dev->driver_features = (dev->driver_features & ~mask) |
					       ((uint64_t)value << shift);
		}
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = value;
		break;
	case VIRTIO_MMIO_SHM_SEL:
		break; /* every region reads as absent (see the reads) */
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		queue_reg_write(dev, offset, value);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		notify(dev, value);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		device_irq_ack(dev, value);
		break;
	case VIRTIO_MMIO_STATUS:
		status_write(dev, value);
		break;
	default:
		driver_bug(dev, "write to read-only or reserved register",
			   offset, value);
		break;
	}
}

uint64_t device_removed_read(uint64_t offset)
{
	if (offset == VIRTIO_MMIO_MAGIC_VALUE)
		return MMIO_MAGIC;
	if (offset == VIRTIO_MMIO_VERSION)
		return MMIO_VERSION;
	return 0; /* DeviceID 0 included */
}
