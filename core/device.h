/* SPDX-License-Identifier: MIT */
/*
 * One virtio-mmio device instance: the plugin it runs, its register file
 * state, its queues, and the host services table handed to the plugin.
 */
#ifndef CORE_DEVICE_H
#define CORE_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvd/plugin.h"
#include "virtqueue.h"

struct daemon;
struct zone;
struct device_cfg;
struct plugin;

/* VIRTIO_MMIO_INT_* bits of InterruptStatus. */
#define DEVICE_INT_VRING  1u
#define DEVICE_INT_CONFIG 2u

struct device {
	/* First member: hvd_host(dev) in the SDK reads it. */
	const struct hvd_host_services *host;
	struct daemon *daemon;
	struct zone *zone;
	const struct device_cfg *cfg;
	struct plugin *plugin;
	void *state; /* the plugin's */
	struct hvd_device_info info;
	char name[64];

	/* Held around every plugin callback (see hvd/plugin.h). */
	pthread_mutex_t cb_lock;

	/* Register file. Status and InterruptStatus are atomics because
	 * workers set NEEDS_RESET / raise interrupts; the rest belongs to the
	 * dispatch thread. */
	uint32_t status;
	uint32_t interrupt_status;
	uint32_t config_generation;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint64_t offered_features;
	uint64_t driver_features;    /* as written (checked at FEATURES_OK) */
	uint64_t features;           /* negotiated once FEATURES_OK stuck */
	bool driver_features_high;   /* a bit >= 64 was accepted */
	bool activated;              /* plugin activate() succeeded */
	bool poll_rings;             /* HVD_DEVICE_F_POLL_RINGS, fixed */
	uint64_t bad_accesses;       /* atomic: rate-limits warnings */
	uint64_t needs_reset_events; /* atomic: device_fail from any thread */

	struct virtqueue *vqs; /* info.num_queues */

	/* Interrupt line (irqline.c): irq_lock orders interrupt_status,
	 * line_asserted and the injection when interrupts are merged. */
	pthread_mutex_t irq_lock;
	bool line_asserted;
	/* Bumped by every ACK, raise and reset of a merged line. */
	uint64_t line_events;
	/* The line watch's view (event loop thread, under irq_lock): the
	 * line was up at its last tick with line_events = watch_events, and
	 * raised again `rearms` times since. */
	bool watch_seen;
	uint64_t watch_events;
	unsigned rearms;
};

/* The virtio device id the guest sees: the plugin's per-instance choice
 * (ABI 1.1 hvd_device_info.device_id) or its descriptor's. */
uint32_t device_id(const struct device *dev);

/* Create the device: run the plugin's create(), check what it describes.
 * Returns NULL after logging why. */
struct device *device_create(struct daemon *d, struct zone *zone,
			     const struct device_cfg *cfg,
			     struct plugin *plugin);
/* Reset (if active) and destroy. */
void device_destroy(struct device *dev);

/* Full device reset (Status = 0 or host-initiated). Caller holds cb_lock. */
void device_reset(struct device *dev);

/* Ring polling (HVD_DEVICE_F_POLL_RINGS), on the dispatch thread while it
 * polls the bridge: queue_notify for every queue where one is due
 * (vq_poll_due, which with `quiet` also turns the queue's kicks off);
 * whether any ran. mmio.c. */
bool device_poll_rings(struct device *dev, bool quiet);
/* Before the dispatch thread sleeps: kicks on again where its looks
 * turned them off (vq_poll_unquiet). mmio.c. */
void device_unquiet_rings(struct device *dev);

/* Register access from the bridge, offset relative to the device base. */
uint64_t device_mmio_read(struct device *dev, uint64_t offset, unsigned size);
void device_mmio_write(struct device *dev, uint64_t offset, unsigned size,
		       uint64_t value);
/* InterruptStatus read / InterruptACK write: served (true, *value set for
 * the read) without cb_lock, which a plugin callback on another thread may
 * hold for a whole batch; false for every other access. mmio.c. */
bool device_mmio_irq_access(struct device *dev, uint64_t offset, unsigned size,
			    bool is_write, uint64_t *value);

/* A read of a removed device's window (mmio.c): MagicValue and Version
 * as ever, DeviceID 0 ("no device", virtio 1.2 4.2.2), everything else 0. */
uint64_t device_removed_read(uint64_t offset);

/* Set DEVICE_NEEDS_RESET and send a configuration interrupt. Any thread. */
void device_fail(struct device *dev, const char *why);
/* Whether another warning about `dev` may be logged (the first 8 are):
 * atomic, as the interrupt paths count without cb_lock. */
static inline bool device_may_warn(struct device *dev)
{
	return __atomic_fetch_add(&dev->bad_accesses, 1, __ATOMIC_RELAXED) < 8;
}
/* Interrupt line (irqline.c). device_interrupt: set bits in
 * InterruptStatus and raise the device's irq (unless merged), any thread.
 * The others run on the dispatch thread: a guest read of InterruptStatus
 * and a write of InterruptACK without cb_lock (device_mmio_irq_access),
 * the line part of a reset with it; irq_lock and atomics order them. */
void device_interrupt(struct device *dev, uint32_t bits);
uint32_t device_isr_read(struct device *dev);
void device_irq_ack(struct device *dev, uint32_t value);
void device_irq_reset(struct device *dev);

#endif
