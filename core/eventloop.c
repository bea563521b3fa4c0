/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pthread_setname_np */
#include "eventloop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"

struct hvd_watch {
	struct eventloop *loop;
	int fd;
	hvd_watch_cb cb;
	void *opaque;
	pthread_mutex_t *lock;
	bool dead;
	struct hvd_watch *next_zombie;
	struct hvd_watch *prev_live, *next_live; /* loop->live, until removed */
};

struct hvd_timer {
	struct hvd_watch *watch; /* on the timerfd */
	int tfd;
	hvd_timer_cb cb;
	void *opaque;
};

struct eventloop {
	int epfd;
	int stop_fd;
	pthread_t thread;
	bool running_thread;
	pthread_mutex_t mutex; /* guards dead flags, running, zombies */
	pthread_cond_t idle;
	struct hvd_watch *running; /* callback in progress, if any */
	pthread_mutex_t *entering; /* device lock dispatch_event takes/holds */
	struct hvd_watch *zombies; /* removed, freed after the batch */
	struct hvd_watch *live;    /* added and not removed */
	bool stopping;
};

struct eventloop *eventloop_new(void)
{
	struct eventloop *loop = calloc(1, sizeof *loop);
	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->stop_fd < 0)
		goto fail;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_fd, &ev) < 0)
		goto fail;
	pthread_mutex_init(&loop->mutex, NULL);
	pthread_cond_init(&loop->idle, NULL);
	return loop;
fail:
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->stop_fd >= 0)
		close(loop->stop_fd);
	free(loop);
	return NULL;
}

static void free_zombies(struct eventloop *loop)
{
	pthread_mutex_lock(&loop->mutex);
	struct hvd_watch *z = loop->zombies;
	loop->zombies = NULL;
	pthread_mutex_unlock(&loop->mutex);
	while (z) {
		struct hvd_watch *next = z->next_zombie;
		free(z);
		z = next;
	}
}

static void dispatch_event(struct eventloop *loop, struct hvd_watch *w,
			   uint32_t events)
{
	/* The device lock first, then the loop mutex: a remover that holds
	 * the device lock thus never waits for us. `entering` names that
	 * lock while we wait for it or hold it, so that its owner does not
	 * destroy it under us (eventloop_lock_retire). */
	if (w->lock) {
		pthread_mutex_lock(&loop->mutex);
		bool gone = w->dead;
		if (!gone)
			loop->entering = w->lock;
		pthread_mutex_unlock(&loop->mutex);
		if (gone)
			return;
		pthread_mutex_lock(w->lock);
	}
	pthread_mutex_lock(&loop->mutex);
	bool dead = w->dead;
	if (!dead)
		loop->running = w;
	pthread_mutex_unlock(&loop->mutex);
	if (!dead)
		w->cb(w->opaque, w->fd, events);
	pthread_mutex_lock(&loop->mutex);
	loop->running = NULL;
	pthread_cond_broadcast(&loop->idle);
	pthread_mutex_unlock(&loop->mutex);
	if (w->lock) {
		pthread_mutex_unlock(w->lock);
		pthread_mutex_lock(&loop->mutex);
		loop->entering = NULL;
		pthread_cond_broadcast(&loop->idle);
		pthread_mutex_unlock(&loop->mutex);
	}
}

void eventloop_lock_retire(struct eventloop *loop, pthread_mutex_t *lock)
{
	if (!loop)
		return;
	pthread_mutex_lock(&loop->mutex);
	bool on_loop = loop->running_thread &&
		       pthread_equal(pthread_self(), loop->thread);
	while (!on_loop && loop->entering == lock)
		pthread_cond_wait(&loop->idle, &loop->mutex);
	pthread_mutex_unlock(&loop->mutex);
}

static void *loop_thread(void *arg)
{
	struct eventloop *loop = arg;
	struct epoll_event events[32];
	for (;;) {
		int n = epoll_wait(loop->epfd, events, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("event loop: epoll_wait: %m");
			break;
		}
		bool stop = false;
		for (int i = 0; i < n; i++) {
			if (!events[i].data.ptr) {
				stop = true;
				continue;
			}
			dispatch_event(loop, events[i].data.ptr,
				       events[i].events);
		}
		free_zombies(loop);
		if (stop)
			break;
	}
	return NULL;
}

int eventloop_start(struct eventloop *loop)
{
	int err = pthread_create(&loop->thread, NULL, loop_thread, loop);
	if (err)
		return -err;
	pthread_setname_np(loop->thread, "hvd-events");
	loop->running_thread = true;
	return 0;
}

void eventloop_stop(struct eventloop *loop)
{
	if (!loop->running_thread)
		return;
	uint64_t one = 1;
	if (write(loop->stop_fd, &one, sizeof one) < 0)
		log_error("event loop: cannot signal stop: %m");
	pthread_join(loop->thread, NULL);
	loop->running_thread = false;
}

void eventloop_free(struct eventloop *loop)
{
	if (!loop)
		return;
	eventloop_stop(loop);
	free_zombies(loop);
	close(loop->epfd);
	close(loop->stop_fd);
	pthread_mutex_destroy(&loop->mutex);
	pthread_cond_destroy(&loop->idle);
	free(loop);
}

struct hvd_watch *eventloop_watch_add(struct eventloop *loop, int fd,
				      uint32_t events, hvd_watch_cb cb,
				      void *opaque, pthread_mutex_t *lock)
{
	if (fd < 0 || !cb) {
		errno = EINVAL;
		return NULL;
	}
	struct hvd_watch *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	*w = (struct hvd_watch){.loop = loop,
				.fd = fd,
				.cb = cb,
				.opaque = opaque,
				.lock = lock};
	struct epoll_event ev = {.events = events, .data.ptr = w};
	pthread_mutex_lock(&loop->mutex);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int saved = errno;
		pthread_mutex_unlock(&loop->mutex);
		free(w);
		errno = saved;
		return NULL;
	}
	w->next_live = loop->live;
	if (loop->live)
		loop->live->prev_live = w;
	loop->live = w;
	pthread_mutex_unlock(&loop->mutex);
	return w;
}

int eventloop_watch_modify(struct hvd_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	if (epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	return 0;
}

void eventloop_watch_remove(struct hvd_watch *w)
{
	if (!w)
		return;
	struct eventloop *loop = w->loop;
	pthread_mutex_lock(&loop->mutex);
	w->dead = true;
	if (w->prev_live)
		w->prev_live->next_live = w->next_live;
	else
		loop->live = w->next_live;
	if (w->next_live)
		w->next_live->prev_live = w->prev_live;
	/* The fd may already be closed by the plugin: ignore errors. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	bool on_loop = loop->running_thread &&
		       pthread_equal(pthread_self(), loop->thread);
	while (!on_loop && loop->running == w)
		pthread_cond_wait(&loop->idle, &loop->mutex);
	if (loop->running_thread) {
		/* The current epoll batch may still name it: free later. */
		w->next_zombie = loop->zombies;
		loop->zombies = w;
		w = NULL;
	}
	pthread_mutex_unlock(&loop->mutex);
	free(w);
}

static void timer_fired(void *opaque, int fd, uint32_t events)
{
	struct hvd_timer *t = opaque;
	uint64_t expirations;
	if (read(fd, &expirations, sizeof expirations) != sizeof expirations)
		return; /* spurious wake-up */
	t->cb(t->opaque);
}

struct hvd_timer *eventloop_timer_add(struct eventloop *loop, uint64_t first_ns,
				      uint64_t period_ns, hvd_timer_cb cb,
				      void *opaque, pthread_mutex_t *lock)
{
	struct hvd_timer *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->cb = cb;
	t->opaque = opaque;
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->tfd < 0)
		goto fail;
	if (first_ns == 0)
		first_ns = 1; /* 0 would disarm the timer */
	struct itimerspec its = {
		.it_value = {.tv_sec = first_ns / 1000000000u,
			     .tv_nsec = first_ns % 1000000000u},
		.it_interval = {.tv_sec = period_ns / 1000000000u,
				.tv_nsec = period_ns % 1000000000u},
	};
	if (timerfd_settime(t->tfd, 0, &its, NULL) < 0)
		goto fail;
	t->watch = eventloop_watch_add(loop, t->tfd, EPOLLIN, timer_fired, t,
				       lock);
	if (!t->watch)
		goto fail;
	return t;
fail:
	if (t->tfd >= 0)
		close(t->tfd);
	free(t);
	return NULL;
}

void eventloop_timer_cancel(struct hvd_timer *t)
{
	if (!t)
		return;
	eventloop_watch_remove(t->watch);
	close(t->tfd);
	free(t);
}

unsigned eventloop_remove_owned(struct eventloop *loop, pthread_mutex_t *lock)
{
	unsigned removed = 0;
	if (!loop || !lock)
		return 0;
	for (;;) {
		pthread_mutex_lock(&loop->mutex);
		struct hvd_watch *w = loop->live;
		while (w && w->lock != lock)
			w = w->next_live;
		pthread_mutex_unlock(&loop->mutex);
		if (!w)
			return removed;
		/* A timer's watch is on its own timerfd: the timer goes. */
		if (w->cb == timer_fired)
			eventloop_timer_cancel(w->opaque);
		else
			eventloop_watch_remove(w);
		removed++;
	}
}
