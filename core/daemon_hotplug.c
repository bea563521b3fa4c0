/* SPDX-License-Identifier: MIT */
/*
 * Devices leaving a running daemon (`hvisor virtio remove`), without
 * stopping the dispatch thread: the zone's window table is replaced by a
 * copy where the device's window answers "no device", and the device is
 * freed only after the dispatch thread passed a quiescent point, so it
 * can never use a freed device (an RCU-like scheme with one reader).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "device.h"
#include "log.h"

void daemon_synchronize(struct daemon *d)
{
	/* Pairs with dispatch.c: it stores qs_epoch (seq-cst) after each
	 * request and loads the table (seq-cst) for the next one. In the
	 * single total order, either its next load sees our new table, or
	 * its epoch store came before our load below and we wait for one
	 * more, which it makes only after finishing with the old device. */
	if (!__atomic_load_n(&d->dispatching, __ATOMIC_SEQ_CST))
		return;
	uint64_t seen = __atomic_load_n(&d->qs_epoch, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&d->qs_idle, __ATOMIC_SEQ_CST) &&
	       __atomic_load_n(&d->qs_epoch, __ATOMIC_SEQ_CST) == seen &&
	       __atomic_load_n(&d->dispatching, __ATOMIC_SEQ_CST))
		sched_yield(); /* one request: microseconds */
}

/* Longest wait for a plugin to finish the requests it popped; a plugin
 * that holds them longer (waiting on a peer) has them dropped by reset. */
#define QUIESCE_TIMEOUT_NS 2000000000ull

static unsigned inflight(struct device *dev)
{
	unsigned n = 0;
	for (unsigned i = 0; i < dev->info.num_queues; i++) {
		pthread_mutex_lock(&dev->vqs[i].lock);
		n += dev->vqs[i].inflight;
		pthread_mutex_unlock(&dev->vqs[i].lock);
	}
	return n;
}

/* No new requests leave the rings; those popped complete (and reach the
 * guest as used entries, with their interrupt) before the reset. */
static void quiesce(struct device *dev)
{
	for (unsigned i = 0; i < dev->info.num_queues; i++)
		vq_break(&dev->vqs[i]);
	struct timespec tick = {.tv_nsec = 100000};
	uint64_t deadline = stats_now_ns() + QUIESCE_TIMEOUT_NS;
	unsigned left;
	while ((left = inflight(dev)) && stats_now_ns() < deadline)
		nanosleep(&tick, NULL);
	if (left)
		log_warn("%s: %u request(s) still in flight after %llu ms: "
			 "dropped by the reset, never acknowledged",
			 dev->name, left, QUIESCE_TIMEOUT_NS / 1000000);
}

static unsigned live_devices(const struct dev_table *t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->count; i++)
		n += t->slot[i].dev != NULL;
	return n;
}

int daemon_remove(struct daemon *d, uint32_t zone, const uint64_t *addr)
{
	struct zone *z = daemon_zone(d, zone);
	if (!z)
		return -ENOENT;
	struct dev_table *old = z->table;
	size_t size = sizeof *old + old->count * sizeof old->slot[0];
	struct dev_table *t = malloc(size);
	struct device **gone = calloc(old->count + 1, sizeof *gone);
	if (!t || !gone) {
		free(t);
		free(gone);
		return -ENOMEM;
	}
	memcpy(t, old, size);
	unsigned n = 0;
	for (unsigned i = 0; i < t->count; i++) {
		if (!t->slot[i].dev || (addr && t->slot[i].addr != *addr))
			continue;
		gone[n++] = t->slot[i].dev;
		t->slot[i].dev = NULL; /* the window stays: "no device" */
	}
	if (!n) {
		free(t);
		free(gone);
		return -ENOENT;
	}
	__atomic_store_n(&z->table, t, __ATOMIC_SEQ_CST);
	daemon_synchronize(d);
	free(old);
	/* No access reaches them now: let what they popped complete, then
	 * reset (the plugin's workers stop) and free. */
	for (unsigned i = 0; i < n; i++) {
		quiesce(gone[i]);
		log_info("%s: removed", gone[i]->name);
		device_destroy(gone[i]);
	}
	free(gone);
	if (!live_devices(t)) {
		daemon_unmap_ram(d, z);
		log_info("zone %u: last device removed, RAM unmapped", z->id);
	}
	return (int)n;
}
