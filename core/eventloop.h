/* SPDX-License-Identifier: MIT */
/*
 * The event loop: one thread, epoll, serving fd watches and timers that
 * plugins register through the host services. Each callback runs holding
 * the owning device's callback lock, so a device never sees two of its
 * callbacks at once. Removal is synchronous (see hvd/plugin.h).
 */
#ifndef CORE_EVENTLOOP_H
#define CORE_EVENTLOOP_H

#include <pthread.h>
#include <stdint.h>

#include "hvd/plugin.h"

struct eventloop;

struct eventloop *eventloop_new(void);
int eventloop_start(struct eventloop *loop); /* spawns the thread */
void eventloop_stop(struct eventloop *loop); /* joins it */
/* Frees the loop; every watch and timer must have been removed. */
void eventloop_free(struct eventloop *loop);

/* `lock` is the device's callback lock, taken around cb. */
struct hvd_watch *eventloop_watch_add(struct eventloop *loop, int fd,
				      uint32_t events, hvd_watch_cb cb,
				      void *opaque, pthread_mutex_t *lock);
int eventloop_watch_modify(struct hvd_watch *w, uint32_t events);
void eventloop_watch_remove(struct hvd_watch *w);
/* Before a device lock is destroyed (its watches and timers removed, the
 * lock not held): waits until the loop thread, which may have fetched a
 * removed watch and be waiting for that lock, has let go of it. */
void eventloop_lock_retire(struct eventloop *loop, pthread_mutex_t *lock);

struct hvd_timer *eventloop_timer_add(struct eventloop *loop, uint64_t first_ns,
				      uint64_t period_ns, hvd_timer_cb cb,
				      void *opaque, pthread_mutex_t *lock);
void eventloop_timer_cancel(struct hvd_timer *t);
/* Remove every watch and timer still registered with `lock` (a device's
 * callback lock, after its plugin's destroy()); returns how many. Called
 * with `lock` held or not, like the removals above. */
unsigned eventloop_remove_owned(struct eventloop *loop, pthread_mutex_t *lock);

#endif
