/* SPDX-License-Identifier: MIT */
/*
 * The guest side of the harness: a virtio-mmio (modern, Version 2) driver
 * with split virtqueues, written after virtio 1.2 sections 4.2.2 (register
 * layout), 3.1 (initialisation) and 2.7 (split rings, driver rules). Every
 * register access is a trapping vCPU access through hvd_mock_mmio; rings
 * live in the zone's guest RAM, allocated from the mock's bump allocator
 * (upper half of the zone's first RAM region, never freed).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "mock_internal.h"

#define DEFAULT_TIMEOUT_MS 5000
#define INDIRECT_MIN       8 /* smallest indirect table allocated */
#define CONFIG_GEN_RETRIES 64

struct vq_head {
	void *token;
	uint16_t ndesc; /* ring descriptors the chain uses */
	bool busy;
};

struct vq_indirect {
	uint64_t gpa;
	struct vring_desc *table;
	unsigned cap;
};

struct hvd_guest_vq {
	struct hvd_guest_dev *dev;
	struct hvd_guest_vq *next; /* every queue set up, freed at close */
	unsigned index;
	uint16_t size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t *used_event;  /* in the avail ring, after ring[size] */
	uint16_t *avail_event; /* in the used ring, after ring[size] */
	uint16_t *links;       /* free list and chain links (driver-private) */
	struct vq_head *heads;
	struct vq_indirect *indirect; /* per head, reused */
	uint16_t free_head, num_free;
	uint16_t avail_idx;  /* driver's copy of avail->idx */
	uint16_t kicked_idx; /* avail_idx at the last kick decision */
	uint16_t last_used;
	bool irq_enabled;
	bool explicit_used_event; /* the test set used_event itself */
	bool in_handler; /* Linux model: an interrupt was taken, ring not
			  * yet found empty since */
};

struct hvd_guest_dev {
	struct hvd_mock *m;
	uint32_t zone;
	uint64_t base;
	uint32_t irq;
	int timeout_ms;
	uint64_t features; /* negotiated */
	struct hvd_guest_vq *vqs;
	enum hvd_guest_model model;
	/* The interrupt count last taken (take_interrupt) or ACKed
	 * (ack_counted), whichever model. */
	uint64_t irqs_seen;
	uint64_t irqs_taken; /* vm_interrupt runs */
	/* A configuration interrupt taken and not looked into yet
	 * (check_needs_reset). */
	bool config_irq;
	bool needs_reset; /* seen; until the driver resets the device */
};

/* ---- Registers ----------------------------------------------------------- */

static int rd(struct hvd_guest_dev *d, uint32_t off, unsigned size, uint64_t *v)
{
	return hvd_mock_mmio(d->m, d->zone, d->base + off, size, false, v,
			     false, d->timeout_ms);
}

static int wr(struct hvd_guest_dev *d, uint32_t off, unsigned size, uint64_t v)
{
	return hvd_mock_mmio(d->m, d->zone, d->base + off, size, true, &v,
			     false, d->timeout_ms);
}

static int rd32(struct hvd_guest_dev *d, uint32_t off, uint32_t *v)
{
	uint64_t x = UINT32_MAX;
	int rc = rd(d, off, 4, &x);
	*v = rc == 0 ? (uint32_t)x : UINT32_MAX; /* always set */
	return rc;
}

HVD_API uint32_t hvd_guest_reg_read(struct hvd_guest_dev *d, uint32_t offset)
{
	uint32_t v;
	if (!d || rd32(d, offset, &v) < 0)
		return UINT32_MAX;
	return v;
}

HVD_API int hvd_guest_reg_write(struct hvd_guest_dev *d, uint32_t offset,
				uint32_t value)
{
	return d ? wr(d, offset, 4, value) : -EINVAL;
}

HVD_API uint64_t hvd_guest_config_read(struct hvd_guest_dev *d, uint32_t offset,
				       unsigned size)
{
	if (!d)
		return UINT64_MAX;
	uint32_t off = VIRTIO_MMIO_CONFIG + offset;
	uint64_t v = 0;
	if (size == 1 || size == 2 || size == 4)
		return rd(d, off, size, &v) < 0 ? UINT64_MAX : v;
	if (size != 8)
		return UINT64_MAX;
	/* Two 32-bit halves; retry while the device changes the config
	 * underneath (virtio 1.2, 4.2.2.2: ConfigGeneration). */
	for (int i = 0; i < CONFIG_GEN_RETRIES; i++) {
		uint32_t g1, g2, lo, hi;
		if (rd32(d, VIRTIO_MMIO_CONFIG_GENERATION, &g1) < 0 ||
		    rd32(d, off, &lo) < 0 || rd32(d, off + 4, &hi) < 0 ||
		    rd32(d, VIRTIO_MMIO_CONFIG_GENERATION, &g2) < 0)
			return UINT64_MAX;
		if (g1 == g2)
			return (uint64_t)hi << 32 | lo;
	}
	return UINT64_MAX;
}

HVD_API int hvd_guest_config_write(struct hvd_guest_dev *d, uint32_t offset,
				   unsigned size, uint64_t value)
{
	if (!d)
		return -EINVAL;
	uint32_t off = VIRTIO_MMIO_CONFIG + offset;
	if (size == 1 || size == 2 || size == 4)
		return wr(d, off, size, value);
	if (size != 8)
		return -EINVAL;
	int rc = wr(d, off, 4, (uint32_t)value);
	return rc < 0 ? rc : wr(d, off + 4, 4, value >> 32);
}

/* ---- Device -------------------------------------------------------------- */

HVD_API struct hvd_guest_dev *hvd_guest_open(struct hvd_mock *m, uint32_t zone,
					     uint64_t base, uint32_t irq)
{
	if (!m) {
		errno = EINVAL;
		return NULL;
	}
	struct hvd_guest_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->m = m;
	d->zone = zone;
	d->base = base;
	d->irq = irq;
	d->timeout_ms = DEFAULT_TIMEOUT_MS;
	return d;
}

static void vq_free(struct hvd_guest_vq *vq)
{
	free(vq->links);
	free(vq->heads);
	free(vq->indirect);
	free(vq);
}

HVD_API void hvd_guest_close(struct hvd_guest_dev *d)
{
	if (!d)
		return;
	for (struct hvd_guest_vq *vq = d->vqs, *next; vq; vq = next) {
		next = vq->next;
		vq_free(vq);
	}
	free(d);
}

HVD_API void hvd_guest_set_timeout(struct hvd_guest_dev *d, int timeout_ms)
{
	if (d)
		d->timeout_ms = timeout_ms;
}

HVD_API int hvd_guest_probe(struct hvd_guest_dev *d)
{
	if (!d)
		return -EINVAL;
	uint32_t magic, version, id;
	int rc;
	if ((rc = rd32(d, VIRTIO_MMIO_MAGIC_VALUE, &magic)) < 0 ||
	    (rc = rd32(d, VIRTIO_MMIO_VERSION, &version)) < 0 ||
	    (rc = rd32(d, VIRTIO_MMIO_DEVICE_ID, &id)) < 0)
		return rc;
	if (magic != 0x74726976 || version != 2 || id == 0 || id > INT32_MAX)
		return -ENODEV;
	return (int)id;
}

HVD_API uint32_t hvd_guest_status(struct hvd_guest_dev *d)
{
	return hvd_guest_reg_read(d, VIRTIO_MMIO_STATUS);
}

HVD_API int hvd_guest_reset(struct hvd_guest_dev *d)
{
	if (!d)
		return -EINVAL;
	int rc = wr(d, VIRTIO_MMIO_STATUS, 4, 0);
	if (rc < 0)
		return rc;
	/* The device may finish the reset later: read until 0 (4.2.3.1). */
	struct timespec deadline;
	mock_deadline(&deadline, d->timeout_ms);
	for (;;) {
		uint32_t st;
		if ((rc = rd32(d, VIRTIO_MMIO_STATUS, &st)) < 0)
			return rc;
		if (st == 0)
			break;
		if (mock_expired(&deadline, d->timeout_ms))
			return -ETIMEDOUT;
	}
	d->features = 0;
	d->config_irq = false;
	d->needs_reset = false;
	return 0;
}

static int set_status(struct hvd_guest_dev *d, uint32_t bits)
{
	uint32_t st;
	int rc = rd32(d, VIRTIO_MMIO_STATUS, &st);
	return rc < 0 ? rc : wr(d, VIRTIO_MMIO_STATUS, 4, st | bits);
}

HVD_API int hvd_guest_negotiate(struct hvd_guest_dev *d, uint64_t wanted,
				uint64_t *negotiated)
{
	if (!d)
		return -EINVAL;
	int rc;
	uint32_t lo, hi, st;
	if ((rc = hvd_guest_reset(d)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_STATUS, 4, VIRTIO_CONFIG_S_ACKNOWLEDGE)) <
		    0 ||
	    (rc = set_status(d, VIRTIO_CONFIG_S_DRIVER)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 0)) < 0 ||
	    (rc = rd32(d, VIRTIO_MMIO_DEVICE_FEATURES, &lo)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 1)) < 0 ||
	    (rc = rd32(d, VIRTIO_MMIO_DEVICE_FEATURES, &hi)) < 0)
		return rc;
	uint64_t accept = wanted & ((uint64_t)hi << 32 | lo);
	if ((rc = wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 4, (uint32_t)accept)) <
		    0 ||
	    (rc = wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 4, accept >> 32)) < 0 ||
	    (rc = set_status(d, VIRTIO_CONFIG_S_FEATURES_OK)) < 0 ||
	    (rc = rd32(d, VIRTIO_MMIO_STATUS, &st)) < 0)
		return rc;
	if (!(st & VIRTIO_CONFIG_S_FEATURES_OK))
		return -EIO;
	d->features = accept;
	if (negotiated)
		*negotiated = accept;
	return 0;
}

HVD_API int hvd_guest_driver_ok(struct hvd_guest_dev *d)
{
	return d ? set_status(d, VIRTIO_CONFIG_S_DRIVER_OK) : -EINVAL;
}

HVD_API uint32_t hvd_guest_ack_interrupt(struct hvd_guest_dev *d)
{
	if (!d)
		return 0;
	uint32_t isr;
	if (rd32(d, VIRTIO_MMIO_INTERRUPT_STATUS, &isr) < 0)
		return 0;
	if (isr)
		wr(d, VIRTIO_MMIO_INTERRUPT_ACK, 4, isr);
	return isr;
}

HVD_API uint64_t hvd_guest_alloc(struct hvd_guest_dev *d, uint64_t size,
				 uint64_t align, void **ptr)
{
	return d ? mock_guest_alloc(d->m, d->zone, size, align, ptr) : 0;
}

HVD_API uint64_t hvd_guest_irq_count(struct hvd_guest_dev *d)
{
	return d ? hvd_mock_irq_count(d->m, d->zone, d->irq) : 0;
}

HVD_API int hvd_guest_wait_irq(struct hvd_guest_dev *d, uint64_t seen,
			       int timeout_ms)
{
	return d ? hvd_mock_wait_irq(d->m, d->zone, d->irq, seen, timeout_ms)
		 : -EINVAL;
}

/* ---- Virtqueues ---------------------------------------------------------- */

static bool has_event_idx(const struct hvd_guest_vq *vq)
{
	return vq->dev->features & (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX);
}

static int program_queue(struct hvd_guest_dev *d, uint16_t size, uint64_t desc,
			 uint64_t avail, uint64_t used)
{
	int rc;
	if ((rc = wr(d, VIRTIO_MMIO_QUEUE_NUM, 4, size)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)desc)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, desc >> 32)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 4, (uint32_t)avail)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 4, avail >> 32)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, 4, (uint32_t)used)) < 0 ||
	    (rc = wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, 4, used >> 32)) < 0)
		return rc;
	return wr(d, VIRTIO_MMIO_QUEUE_READY, 4, 1);
}

HVD_API struct hvd_guest_vq *hvd_guest_vq_setup(struct hvd_guest_dev *d,
						unsigned index, uint16_t size)
{
	int rc;
	uint32_t max, ready;
	if (!d) {
		errno = EINVAL;
		return NULL;
	}
	if ((rc = wr(d, VIRTIO_MMIO_QUEUE_SEL, 4, index)) < 0 ||
	    (rc = rd32(d, VIRTIO_MMIO_QUEUE_READY, &ready)) < 0 ||
	    (rc = rd32(d, VIRTIO_MMIO_QUEUE_NUM_MAX, &max)) < 0) {
		errno = -rc;
		return NULL;
	}
	if (max == 0 || ready) {
		errno = max == 0 ? ENOENT : EBUSY;
		return NULL;
	}
	if (size == 0)
		size = max > 32768 ? 32768 : (uint16_t)max;
	if (size > max || (size & (size - 1))) {
		errno = EINVAL;
		return NULL;
	}
	struct hvd_guest_vq *vq = calloc(1, sizeof(*vq));
	if (!vq)
		return NULL;
	vq->links = calloc(size, sizeof(*vq->links));
	vq->heads = calloc(size, sizeof(*vq->heads));
	vq->indirect = calloc(size, sizeof(*vq->indirect));
	/* Alignments are the minimum virtio 1.x allows (2.7: 16, 2, 4):
	 * the device must not assume the legacy page layout. */
	void *desc = NULL, *avail = NULL, *used = NULL;
	uint64_t dg = hvd_guest_alloc(d, 16u * size, 16, &desc);
	uint64_t ag = hvd_guest_alloc(d, 6u + 2u * size, 2, &avail);
	uint64_t ug = hvd_guest_alloc(d, 6u + 8u * size, 4, &used);
	if (!vq->links || !vq->heads || !vq->indirect || !dg || !ag || !ug) {
		vq_free(vq);
		errno = ENOMEM;
		return NULL;
	}
	vq->dev = d;
	vq->index = index;
	vq->size = size;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->used_event = (uint16_t *)((uint8_t *)avail + 4 + 2u * size);
	vq->avail_event = (uint16_t *)((uint8_t *)used + 4 + 8u * size);
	for (uint16_t i = 0; i < size; i++)
		vq->links[i] = (uint16_t)(i + 1u);
	vq->num_free = size;
	vq->irq_enabled = true;
	rc = program_queue(d, size, dg, ag, ug);
	if (rc < 0) {
		vq_free(vq);
		errno = -rc;
		return NULL;
	}
	vq->next = d->vqs;
	d->vqs = vq;
	return vq;
}

static void fill_desc(struct vring_desc *dsc, const struct hvd_guest_buf *b,
		      uint16_t flags, uint16_t next)
{
	if (b->device_writes)
		flags |= VRING_DESC_F_WRITE;
	dsc->addr = htole64(b->gpa);
	dsc->len = htole32(b->len);
	dsc->flags = htole16(flags);
	dsc->next = htole16(next);
}

static struct vring_desc *indirect_table(struct hvd_guest_vq *vq, uint16_t head,
					 unsigned count, uint64_t *gpa)
{
	struct vq_indirect *it = &vq->indirect[head];
	if (it->cap < count) {
		unsigned cap = count < INDIRECT_MIN ? INDIRECT_MIN : count;
		void *p = NULL;
		uint64_t g = hvd_guest_alloc(vq->dev, 16u * cap, 16, &p);
		if (!g)
			return NULL;
		it->gpa = g;
		it->table = p;
		it->cap = cap;
	}
	*gpa = it->gpa;
	return it->table;
}

HVD_API int hvd_guest_vq_add(struct hvd_guest_vq *vq,
			     const struct hvd_guest_buf *bufs, unsigned count,
			     bool indirect, void *token)
{
	if (!vq || !bufs || count == 0 || count > 0xffffu)
		return -EINVAL;
	for (unsigned i = 1; i < count; i++)
		if (bufs[i - 1].device_writes && !bufs[i].device_writes)
			return -EINVAL; /* readable after writable */
	unsigned need = indirect ? 1 : count;
	if (need > vq->num_free)
		return -ENOSPC;
	uint16_t head = vq->free_head;
	if (indirect) {
		uint64_t tgpa;
		struct vring_desc *t = indirect_table(vq, head, count, &tgpa);
		if (!t)
			return -ENOMEM;
		for (unsigned i = 0; i < count; i++)
			fill_desc(&t[i], &bufs[i],
				  i + 1 < count ? VRING_DESC_F_NEXT : 0,
				  (uint16_t)(i + 1 < count ? i + 1 : 0));
		struct hvd_guest_buf tb = {.gpa = tgpa, .len = 16u * count};
		fill_desc(&vq->desc[head], &tb, VRING_DESC_F_INDIRECT, 0);
		vq->free_head = vq->links[head];
	} else {
		uint16_t i = head;
		for (unsigned k = 0; k < count; k++) {
			bool last = k + 1 == count;
			fill_desc(&vq->desc[i], &bufs[k],
				  last ? 0 : VRING_DESC_F_NEXT,
				  last ? 0 : vq->links[i]);
			if (!last)
				i = vq->links[i];
		}
		vq->free_head = vq->links[i];
	}
	vq->num_free = (uint16_t)(vq->num_free - need);
	vq->heads[head] = (struct vq_head){
		.token = token, .ndesc = (uint16_t)need, .busy = true};
	hvd_guest_vq_publish_raw(vq, head);
	return head;
}

HVD_API void hvd_guest_vq_publish_raw(struct hvd_guest_vq *vq, uint16_t head)
{
	if (!vq)
		return;
	vq->avail->ring[vq->avail_idx % vq->size] = htole16(head);
	vq->avail_idx++;
	/* The ring entry (and the descriptors) before the index (2.7.13). */
	__atomic_store_n(&vq->avail->idx, htole16(vq->avail_idx),
			 __ATOMIC_RELEASE);
}

HVD_API void hvd_guest_vq_set_avail_idx_raw(struct hvd_guest_vq *vq,
					    uint16_t idx)
{
	if (!vq)
		return;
	vq->avail_idx = idx;
	vq->kicked_idx = idx;
	__atomic_store_n(&vq->avail->idx, htole16(idx), __ATOMIC_RELEASE);
}

HVD_API int hvd_guest_vq_kick(struct hvd_guest_vq *vq)
{
	if (!vq)
		return -EINVAL;
	/* The index must be visible before reading the device's
	 * suppression state (2.7.13.4). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t new_idx = vq->avail_idx, old_idx = vq->kicked_idx;
	vq->kicked_idx = new_idx;
	bool kick;
	if (has_event_idx(vq)) {
		uint16_t ev = le16toh(
			__atomic_load_n(vq->avail_event, __ATOMIC_ACQUIRE));
		kick = (uint16_t)(new_idx - ev - 1) <
		       (uint16_t)(new_idx - old_idx);
	} else {
		uint16_t fl = le16toh(
			__atomic_load_n(&vq->used->flags, __ATOMIC_ACQUIRE));
		kick = !(fl & VRING_USED_F_NO_NOTIFY);
	}
	if (!kick)
		return 0;
	struct hvd_guest_dev *d = vq->dev;
	uint64_t v = vq->index;
	int rc =
		hvd_mock_mmio(d->m, d->zone, d->base + VIRTIO_MMIO_QUEUE_NOTIFY,
			      4, true, &v, true, d->timeout_ms);
	return rc < 0 ? rc : 1;
}

/* Linux model: the vCPU takes the interrupt(s) that arrived since it last
 * looked. vm_interrupt (Linux 6.1 drivers/virtio/virtio_mmio.c) reads
 * InterruptStatus, writes the value read to InterruptACK unconditionally,
 * and runs every queue's handler only when the VRING bit was set. Returns
 * 1 if one was taken, 0 if none was pending, <0 on a failed access. */
static int take_interrupt(struct hvd_guest_dev *d)
{
	uint64_t n = hvd_mock_irq_count(d->m, d->zone, d->irq);
	if (n == d->irqs_seen)
		return 0;
	d->irqs_seen = n;
	d->irqs_taken++;
	uint32_t isr;
	int rc = rd32(d, VIRTIO_MMIO_INTERRUPT_STATUS, &isr);
	if (rc == 0)
		rc = wr(d, VIRTIO_MMIO_INTERRUPT_ACK, 4, isr);
	if (rc < 0)
		return rc;
	if (isr & VIRTIO_MMIO_INT_VRING)
		for (struct hvd_guest_vq *vq = d->vqs; vq; vq = vq->next)
			vq->in_handler = true;
	if (isr & VIRTIO_MMIO_INT_CONFIG)
		d->config_irq = true;
	return 1;
}

/* Polling model: interrupts counted since the last look are ACKed, as any
 * driver does, before it looks at the ring (the daemon raises a merged
 * line again only after the ACK, core/irqline.c). A completion found
 * with no new interrupt leaves InterruptStatus alone. */
static int ack_counted(struct hvd_guest_dev *d)
{
	uint64_t n = hvd_mock_irq_count(d->m, d->zone, d->irq);
	if (n == d->irqs_seen)
		return 0;
	d->irqs_seen = n;
	uint32_t isr;
	int rc = rd32(d, VIRTIO_MMIO_INTERRUPT_STATUS, &isr);
	if (rc == 0 && isr)
		rc = wr(d, VIRTIO_MMIO_INTERRUPT_ACK, 4, isr);
	if (rc < 0)
		return rc;
	if (isr & VIRTIO_MMIO_INT_CONFIG)
		d->config_irq = true;
	return 0;
}

/* A device that has set NEEDS_RESET completes nothing more: a wait for it
 * ends at once with -ENOTRECOVERABLE instead of at its timeout. The device
 * raises a configuration interrupt when it sets the bit (virtio 1.2
 * 2.1.2), so Status is read only after a configuration interrupt (both
 * models: InterruptStatus said so), never on every look at the ring. */
static int check_needs_reset(struct hvd_guest_dev *d, bool look)
{
	if (!d->needs_reset && look) {
		uint32_t st;
		int rc = rd32(d, VIRTIO_MMIO_STATUS, &st);
		if (rc < 0)
			return rc;
		d->needs_reset = st & VIRTIO_CONFIG_S_NEEDS_RESET;
	}
	return d->needs_reset ? -ENOTRECOVERABLE : 0;
}

/* The wait's answer once check_needs_reset said `rc`: a completion the
 * device made before it failed is still the guest's (the Status read went
 * through the bridge after it, so it is in the used ring by now). */
static int used_or_failed(struct hvd_guest_vq *vq, void **token, uint32_t *len,
			  int rc)
{
	if (rc == -ENOTRECOVERABLE) {
		int got = hvd_guest_vq_get_used(vq, token, len);
		if (got != 0)
			return got < 0 ? got : 0;
	}
	return rc;
}

static void store_used_event(struct hvd_guest_vq *vq, uint16_t ev)
{
	__atomic_store_n(vq->used_event, htole16(ev), __ATOMIC_RELAXED);
	/* Visible before we next look at the used ring. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

HVD_API int hvd_guest_vq_get_used(struct hvd_guest_vq *vq, void **token,
				  uint32_t *len)
{
	if (!vq)
		return -EINVAL;
	int rc = vq->dev->model == HVD_GUEST_LINUX ? take_interrupt(vq->dev)
						   : ack_counted(vq->dev);
	if (rc < 0)
		return rc;
	uint16_t uidx =
		le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
	if (uidx == vq->last_used) {
		vq->in_handler = false; /* virtqueue_enable_cb found none */
		return 0;
	}
	if ((uint16_t)(uidx - vq->last_used) > vq->size)
		return -EIO; /* the device moved used->idx too far */
	struct vring_used_elem e = vq->used->ring[vq->last_used % vq->size];
	vq->last_used++;
	uint32_t id = le32toh(e.id);
	if (id >= vq->size || !vq->heads[id].busy)
		return -EIO; /* not a chain we made available */
	struct vq_head *h = &vq->heads[id];
	if (token)
		*token = h->token;
	if (len)
		*len = le32toh(e.len);
	/* Give the chain's descriptors back to the free list. */
	uint16_t last = (uint16_t)id;
	for (uint16_t k = 1; k < h->ndesc; k++)
		last = vq->links[last];
	vq->links[last] = vq->free_head;
	vq->free_head = (uint16_t)id;
	vq->num_free = (uint16_t)(vq->num_free + h->ndesc);
	*h = (struct vq_head){0};
	if (has_event_idx(vq) && vq->irq_enabled && !vq->explicit_used_event)
		store_used_event(vq, vq->last_used);
	return 1;
}

/* Linux model: sleep until an interrupt is pending (the vCPU in WFI), take
 * it, and only then let the queue's handler look at the used ring. */
static int wait_used_linux(struct hvd_guest_vq *vq, void **token, uint32_t *len,
			   int timeout_ms)
{
	struct hvd_guest_dev *d = vq->dev;
	struct timespec deadline;
	mock_deadline(&deadline, timeout_ms);
	for (;;) {
		int rc = take_interrupt(d);
		if (rc < 0)
			return rc;
		if (vq->in_handler) {
			rc = hvd_guest_vq_get_used(vq, token, len);
			if (rc != 0)
				return rc < 0 ? rc : 0;
		}
		bool look = d->config_irq;
		d->config_irq = false;
		if ((rc = check_needs_reset(d, look)) < 0)
			return used_or_failed(vq, token, len, rc);
		int left = mock_remaining_ms(&deadline, timeout_ms);
		if (left == 0)
			return -ETIMEDOUT;
		hvd_mock_wait_irq(d->m, d->zone, d->irq, d->irqs_seen, left);
	}
}

/* How long wait_used watches the ring before sleeping on the interrupt. */
#define GUEST_POLL_NS 50000l

HVD_API int hvd_guest_vq_wait_used(struct hvd_guest_vq *vq, void **token,
				   uint32_t *len, int timeout_ms)
{
	if (!vq)
		return -EINVAL;
	struct hvd_guest_dev *d = vq->dev;
	if (timeout_ms < 0)
		timeout_ms = d->timeout_ms;
	if (d->model == HVD_GUEST_LINUX)
		return wait_used_linux(vq, token, len, timeout_ms);
	/* The polling model: watch the used ring for a few microseconds
	 * before sleeping on the interrupt (one wake-up, mock_irq.c), a guest
	 * that helps the daemon; the Linux model above never does. */
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned spin = 0;; spin++) {
		int rc = hvd_guest_vq_get_used(vq, token, len);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		if ((spin & 31) != 31)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000000l + t.tv_nsec -
			    t0.tv_nsec >
		    GUEST_POLL_NS)
			break;
	}
	struct timespec deadline;
	mock_deadline(&deadline, timeout_ms);
	for (;;) {
		/* Count first, then look: a completion after the look comes
		 * with an interrupt that moves the count past `seen`. The
		 * look ACKs interrupts counted since the last one first
		 * (ack_counted): a device merging its interrupts raises
		 * again only after that, and what it merged meanwhile is in
		 * the ring by then. */
		uint64_t seen = hvd_mock_irq_count(d->m, d->zone, d->irq);
		int rc = hvd_guest_vq_get_used(vq, token, len);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		bool look = d->config_irq;
		d->config_irq = false;
		if ((rc = check_needs_reset(d, look)) < 0)
			return used_or_failed(vq, token, len, rc);
		int left = mock_remaining_ms(&deadline, timeout_ms);
		if (left == 0)
			return -ETIMEDOUT;
		hvd_mock_wait_irq(d->m, d->zone, d->irq, seen, left);
	}
}

HVD_API void hvd_guest_vq_set_used_event(struct hvd_guest_vq *vq,
					 uint16_t used_event)
{
	if (!vq)
		return;
	vq->explicit_used_event = true;
	store_used_event(vq, used_event);
}

HVD_API void hvd_guest_vq_interrupts(struct hvd_guest_vq *vq, bool enable)
{
	if (!vq)
		return;
	vq->irq_enabled = enable;
	if (has_event_idx(vq)) {
		/* The device ignores avail->flags: move used_event instead;
		 * last_used - 1 is only reached after a full wrap. */
		vq->explicit_used_event = false;
		store_used_event(vq, enable ? vq->last_used
					    : (uint16_t)(vq->last_used - 1u));
		return;
	}
	uint16_t fl = le16toh(vq->avail->flags);
	if (enable)
		fl &= (uint16_t)~VRING_AVAIL_F_NO_INTERRUPT;
	else
		fl |= VRING_AVAIL_F_NO_INTERRUPT;
	__atomic_store_n(&vq->avail->flags, htole16(fl), __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

HVD_API struct vring_desc *hvd_guest_vq_desc(struct hvd_guest_vq *vq)
{
	return vq ? vq->desc : NULL;
}

HVD_API struct vring_avail *hvd_guest_vq_avail(struct hvd_guest_vq *vq)
{
	return vq ? vq->avail : NULL;
}

HVD_API struct vring_used *hvd_guest_vq_used(struct hvd_guest_vq *vq)
{
	return vq ? vq->used : NULL;
}

HVD_API uint16_t hvd_guest_vq_size(struct hvd_guest_vq *vq)
{
	return vq ? vq->size : 0;
}

HVD_API int hvd_guest_set_model(struct hvd_guest_dev *d,
				enum hvd_guest_model model)
{
	if (!d || (model != HVD_GUEST_POLLING && model != HVD_GUEST_LINUX))
		return -EINVAL;
	if (d->model != model)
		/* Interrupts before the switch were not the new model's. */
		d->irqs_seen = hvd_mock_irq_count(d->m, d->zone, d->irq);
	d->model = model;
	if (model == HVD_GUEST_LINUX) {
		/* A Linux-like vCPU takes its injections itself
		 * (mock_irq.c); a polling one leaves that as it was. */
		pthread_mutex_lock(&d->m->lock);
		d->m->vcpu_injects = true;
		mock_irq_choose_owner(d->m);
		pthread_mutex_unlock(&d->m->lock);
	}
	return 0;
}

HVD_API uint64_t hvd_guest_interrupts_taken(struct hvd_guest_dev *d)
{
	return d ? d->irqs_taken : 0;
}
