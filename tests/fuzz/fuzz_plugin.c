/* SPDX-License-Identifier: MIT */
/* A device plugin driven by one fuzz input (layout in fuzz_plugin.h). */
#include "fuzz_plugin.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "fuzz_host.h"
#include "log.h"

#define MAX_QUEUES 8u

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void reg_write(struct device *dev, uint32_t off, uint32_t v)
{
	fuzz_write(dev, off, 4, v);
}

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK. True when it stuck. */
static bool negotiate(struct device *dev, uint64_t features, bool raw)
{
	const uint32_t drv =
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	reg_write(dev, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	reg_write(dev, VIRTIO_MMIO_STATUS, drv);
	reg_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t offer = fuzz_read(dev, VIRTIO_MMIO_DEVICE_FEATURES, 4) << 32;
	reg_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offer |= fuzz_read(dev, VIRTIO_MMIO_DEVICE_FEATURES, 4);
	if (!raw)
		features = (features & offer) | (1ull << VIRTIO_F_VERSION_1);
	reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	reg_write(dev, VIRTIO_MMIO_STATUS, drv | VIRTIO_CONFIG_S_FEATURES_OK);
	return fuzz_read(dev, VIRTIO_MMIO_STATUS, 4) &
	       VIRTIO_CONFIG_S_FEATURES_OK;
}

static void queue_setup(struct device *dev, unsigned i, uint32_t num)
{
	uint64_t desc = FUZZ_RAM_GPA + (uint64_t)i * FUZZ_QUEUE_STRIDE;
	uint64_t avail = desc + FUZZ_QUEUE_AVAIL_OFF;
	uint64_t used = desc + FUZZ_QUEUE_USED_OFF;
	reg_write(dev, VIRTIO_MMIO_QUEUE_SEL, i);
	reg_write(dev, VIRTIO_MMIO_QUEUE_NUM, num);
	reg_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	reg_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	reg_write(dev, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	reg_write(dev, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	reg_write(dev, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	reg_write(dev, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
	reg_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void config_ops(struct device *dev, const uint8_t *cfg)
{
	for (unsigned i = 0; i < 4; i++, cfg += 3) {
		unsigned size = 1u << (cfg[1] & 3);
		uint64_t v = 0;
		for (unsigned b = 0; b < size; b++)
			v |= (uint64_t)cfg[2] << (8 * b);
		fuzz_write(dev, 0x100u + cfg[0], size, v);
	}
	/* Read the whole config space back, every width. */
	for (uint32_t off = 0; off < dev->info.config_size; off++)
		fuzz_read(dev, 0x100u + off, 1);
}

static uint16_t ring_idx(unsigned q, uint32_t off)
{
	const uint8_t *p = fuzz_ram() + q * FUZZ_QUEUE_STRIDE + off + 2;
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether queue `vq` still has work the device took or was offered. */
static bool busy(struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	bool inflight = vq->inflight != 0;
	pthread_mutex_unlock(&vq->lock);
	return inflight || vq_has_work(vq);
}

/* Until no kicked queue has a chain in flight or one left to take (a
 * broken queue has none), or the device needs a reset. The limit only
 * bounds an input the device legitimately leaves unfinished (a plugin
 * taking the rest from its event loop); it is no result. */
static void wait_done(struct device *dev, uint8_t queues, const uint8_t *kicks)
{
	const uint64_t limit = now_ns() + 50 * 1000000ull;
	uint8_t kicked = 0;
	for (unsigned k = 0; k < 8 && kicks[k] != 0xff; k++)
		if (kicks[k] < MAX_QUEUES)
			kicked |= (uint8_t)(1u << kicks[k]);
	for (unsigned i = 0; i < MAX_QUEUES && i < dev->info.num_queues; i++) {
		if (!(queues & kicked & (1u << i)))
			continue;
		while (busy(&dev->vqs[i]) &&
		       !(fuzz_read(dev, VIRTIO_MMIO_STATUS, 4) &
			 VIRTIO_CONFIG_S_NEEDS_RESET) &&
		       now_ns() < limit)
			sched_yield();
	}
}

int fuzz_plugin_run(const char *members, const uint8_t *data, size_t size,
		    bool wait)
{
	struct device *dev = fuzz_device(members);
	if (!dev || size < FUZZ_PLUGIN_HEADER)
		return 0;
	const uint8_t flags = data[30];
	if (!negotiate(dev, le(data, 8), flags & 1))
		return 0;
	size_t image = size - FUZZ_PLUGIN_HEADER;
	if (image > FUZZ_RAM_SIZE)
		image = FUZZ_RAM_SIZE;
	memcpy(fuzz_ram(), data + FUZZ_PLUGIN_HEADER, image);
	uint32_t num = 1u << (data[9] % 5);
	for (unsigned i = 0; i < MAX_QUEUES && i < dev->info.num_queues; i++)
		if (data[8] & (1u << i))
			queue_setup(dev, i, num);
	reg_write(dev, VIRTIO_MMIO_STATUS,
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK |
			  VIRTIO_CONFIG_S_DRIVER_OK);
	config_ops(dev, data + 18);
	for (unsigned k = 0; k < 8 && data[10 + k] != 0xff; k++)
		reg_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, data[10 + k]);
	if (wait)
		wait_done(dev, data[8], data + 10);
	/* What the device completed, for seed authors (HVISOR_FUZZ_LOG). */
	for (unsigned i = 0; i < MAX_QUEUES && i < dev->info.num_queues; i++)
		if (data[8] & (1u << i))
			log_msg(HVD_LOG_DEBUG, "fuzz: queue %u used idx %u", i,
				ring_idx(i, FUZZ_QUEUE_USED_OFF));
	/* Reset here too (the next input starts with one anyway), so work
	 * still in flight is quiesced inside this input. */
	reg_write(dev, VIRTIO_MMIO_STATUS, 0);
	return 0;
}
