/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2 section 2.7) with INDIRECT_DESC and EVENT_IDX.
 *
 * Everything read from guest memory is untrusted: descriptor addresses and
 * lengths are checked against the zone's RAM, chains are bounded and loops
 * detected, indices are validated, and the used index is kept here, never
 * read back from the guest. A violation calls vq->fail(); the queue then
 * refuses work until reset.
 *
 * Locking: every function taking a struct virtqueue locks vq->lock itself
 * except those marked "caller holds lock".
 */
#ifndef CORE_VIRTQUEUE_H
#define CORE_VIRTQUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "guestmem.h"
#include "hvd/plugin.h"
#include "stats.h"

/* Longest chain accepted (direct + indirect descriptors together). */
#define VQ_MAX_CHAIN 1024u

struct virtqueue {
	/* hvd_chain.vq points at this; plugins see only the opaque type. */
	pthread_mutex_t lock;
	unsigned index;
	uint16_t num_max; /* QueueNumMax */

	/* Register file state, written by the dispatch thread (mmio.c) under
	 * the lock while the queue is not ready. */
	uint16_t num; /* QueueNum */
	bool ready;   /* QueueReady as the driver wrote it */
	uint64_t desc_gpa, avail_gpa, used_gpa;

	/* Set by vq_start() from the negotiated features. */
	bool started; /* rings mapped, pops allowed */
	bool broken;  /* a violation happened: no more work until reset */
	bool event_idx;
	bool indirect;
	const struct guest_mem *mem;
	struct vring_desc *desc; /* host pointers, validated in vq_start */
	struct vring_avail *avail;
	struct vring_used *used;

	uint16_t last_avail;     /* next avail entry to consume */
	uint16_t avail_shadow;   /* avail->idx as pop last read it */
	uint16_t used_idx;       /* private copy of used->idx */
	uint16_t signalled_used; /* used_idx when the guest was last notified */
	bool signalled_valid;
	bool pushed_since_notify;
	bool kick_enabled; /* also read without the lock (vq_poll_due) */
	/* Ring polling (HVD_DEVICE_F_POLL_RINGS): the dispatch thread's. */
	uint16_t poll_seen;  /* avail->idx at its last look */
	int poll_popped;     /* net pops of the queue_notify running */
	bool poll_progress;  /* the last queue_notify consumed chains */
	bool poll_quiet;     /* kicks off while it polls (vq_poll_due);
			      * also read without the lock there */
	uint32_t generation; /* bumped by vq_reset: stale chains are ignored */
	struct hvd_chain *last_popped; /* for vq_unpop */
	struct vq_chain *chain_cache;  /* spare chains (virtqueue.c) */
	unsigned chain_cached;
	unsigned inflight; /* popped, not yet pushed */

	/* Cumulative over resets; see stats.h for who writes what. */
	struct vq_stats stats;
	unsigned lat_sample; /* pops since the last latency sample */

	/* Set by the owner (device.c). */
	void *owner;
	void (*fail)(void *owner, const char *why); /* called without lock */
	void (*interrupt)(void *owner);             /* called without lock */
};

void vq_init(struct virtqueue *vq, unsigned index, uint16_t num_max,
	     void *owner, void (*fail)(void *, const char *),
	     void (*interrupt)(void *));
void vq_destroy(struct virtqueue *vq);

/* DRIVER_OK: map and validate the rings (num power of two, alignment, every
 * ring inside guest RAM). Returns 0, or -EINVAL with *why set to a static
 * string. Only queues with ready == true are started. */
int vq_start(struct virtqueue *vq, const struct guest_mem *mem, bool event_idx,
	     bool indirect, const char **why);

/* Device reset: forget the rings and all state; bump the generation so that
 * chains still held by a plugin are dropped on push. Registers go back to
 * their reset values (num = 0 ... ready = false). */
void vq_reset(struct virtqueue *vq);

/* The device needs a reset: refuse further pops (a plugin worker may still
 * be draining) until vq_reset. Pushes of popped chains still complete. */
void vq_break(struct virtqueue *vq);

/* The services behind hvd_host_services.vq_*. */
struct hvd_chain *vq_pop(struct virtqueue *vq);
void vq_unpop(struct hvd_chain *chain);
void vq_push(struct hvd_chain *chain, uint32_t written);
void vq_notify(struct virtqueue *vq);
void vq_kick_enable(struct virtqueue *vq, int enable);
int vq_has_work(struct virtqueue *vq);

/* Ring polling for HVD_DEVICE_F_POLL_RINGS (dispatch thread only):
 * whether a queue_notify is due (kicks on, and the driver made buffers
 * available since the last look, or the last queue_notify consumed chains
 * and more wait). Every queue_notify of such a device is bracketed by
 * vq_poll_begin/vq_poll_end, which record whether it consumed any. */
bool vq_poll_due(struct virtqueue *vq, bool quiet);
void vq_poll_begin(struct virtqueue *vq);
void vq_poll_end(struct virtqueue *vq);
/* A look with `quiet` (vq_poll_due) also asks the driver not to kick, as
 * vq_kick_enable(vq, 0) would, whatever the plugin asked; this restores
 * the plugin's choice, with the fence a re-check needs after. */
void vq_poll_unquiet(struct virtqueue *vq);

#endif
