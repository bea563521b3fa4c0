/* SPDX-License-Identifier: MIT */
/*
 * An in-process daemon served by the mock hypervisor: the test thread is
 * the guest, a second thread runs daemon_serve(). Same request path as the
 * real binary (the port talks to the mock over a socket).
 */
#ifndef TESTS_DAEMON_FIXTURE_H
#define TESTS_DAEMON_FIXTURE_H

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "daemon.h"
#include "hvd/mock.h"
#include "log.h"

#define FIX_TIMEOUT_MS 5000

struct fixture {
	struct hvd_mock *mock;
	struct daemon *daemon;
	pthread_t thread;
	bool serving;
	const char *control_path; /* set before starting: serve control */
	bool irq_every_event;     /* daemon_options.irq_every_event */
	unsigned poll_us;         /* daemon_options.poll_us */
	int poll_max_us;          /* daemon_options.poll_max_us */
	/* fixture_start: called on the new mock before the daemon starts */
	void (*prepare)(struct hvd_mock *mock);
};

/* log_init() is once per process, before threads log: a test may start
 * a second daemon while the first one's threads are logging. */
static void fixture_log_init(void)
{
	log_init(true,
		 getenv("HVISOR_TEST_DEBUG") ? HVD_LOG_DEBUG : HVD_LOG_WARN);
}

static void *fixture_serve(void *arg)
{
	daemon_serve(arg);
	return NULL;
}

/* Start a daemon on `json` with guest RAM for each (zone, base, size) the
 * test added to f->mock beforehand. Returns 0 or -1. */
static inline int fixture_start_with_mock(struct fixture *f, const char *json)
{
	static pthread_once_t log_once = PTHREAD_ONCE_INIT;
	pthread_once(&log_once, fixture_log_init);
	struct daemon_options opts = {
		.config_text = json,
		/* Plugins come from HVISOR_PLUGIN_PATH (tests/meson.build),
		 * as a user's search path would provide them. */
		.mock_fd = hvd_mock_connect_fd(f->mock),
		.control_path = f->control_path,
		.irq_every_event = f->irq_every_event,
		.poll_us = f->poll_us,
		.poll_max_us = f->poll_max_us,
	};
	if (opts.mock_fd < 0)
		return -1;
	f->daemon = daemon_create(&opts);
	if (!f->daemon)
		return -1;
	if (pthread_create(&f->thread, NULL, fixture_serve, f->daemon))
		return -1;
	f->serving = true;
	return hvd_mock_wait_ready(f->mock, FIX_TIMEOUT_MS) ? -1 : 0;
}

/* One zone (id 1) with 16 MiB of RAM at 0x50000000 seen at the same
 * address by zone 0, and the given device list. */
static inline int fixture_start(struct fixture *f, const char *devices_json)
{
	f->mock = hvd_mock_new();
	if (!f->mock ||
	    hvd_mock_add_ram(f->mock, 1, 0x50000000, 0x50000000, 0x1000000))
		return -1;
	if (f->prepare)
		f->prepare(f->mock);
	char json[4096];
	snprintf(json, sizeof json,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\":"
		 " \"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x1000000\"}], \"devices\": [%s]}]}",
		 devices_json);
	return fixture_start_with_mock(f, json);
}

/* Until the dispatch thread sleeps (qs_idle is set just before its wait,
 * after ring polling turned kicks back on): a guest kick made now goes
 * out. FIX_TIMEOUT_MS is the failure guard. */
static inline int fixture_wait_asleep(struct fixture *f)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!__atomic_load_n(&f->daemon->qs_idle, __ATOMIC_SEQ_CST)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    FIX_TIMEOUT_MS)
			return -1;
		sched_yield();
	}
	return 0;
}

static inline void fixture_stop(struct fixture *f)
{
	if (f->serving) {
		daemon_request_stop(f->daemon);
		pthread_join(f->thread, NULL);
		f->serving = false;
	}
	daemon_destroy(f->daemon);
	f->daemon = NULL;
	hvd_mock_free(f->mock);
	f->mock = NULL;
}

#endif
