/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user frontend plugin: state shared by its files.
 *
 * Threads: the dispatch thread runs the ops (features_ok, activate, reset,
 * config access, queue_notify) and never talks to the backend itself; a
 * worker thread per device owns the connection and does every exchange
 * (handshake, ring setup on activate, ring stop on reset, reconnect). The
 * event loop watches each queue's call eventfd and injects the interrupt.
 */
#ifndef VU_H
#define VU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvd/plugin.h"
#include "vu_conn.h"

struct vu {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	/* JSON */
	uint32_t device_id;
	unsigned num_queues;
	uint16_t queue_size;
	uint64_t reconnect_ms; /* 0: never */
	const char *tag;       /* virtio-fs */

	struct vu_conn conn; /* worker-owned once the worker runs */
	uint64_t backend_features;
	uint64_t offered; /* device bits offered to the guest */
	int kick[HVD_MAX_QUEUES];
	int call[HVD_MAX_QUEUES];
	struct hvd_watch *call_watch[HVD_MAX_QUEUES];
	int err; /* eventfd given to every ring with SET_VRING_ERR */
	struct hvd_watch *err_watch;
	uint64_t started; /* queues set up on the backend (bit mask) */
	bool running;     /* backend rings set up (worker) */
	int active;       /* atomic: forward call eventfds to the guest */

	/* Config space cache: read on the dispatch thread without a round
	 * trip; refreshed from the backend on every (re)connection. */
	uint8_t config[VU_MAX_CONFIG];
	uint32_t config_size;
	bool config_from_backend;

	/* Requests from the dispatch thread to the worker, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wake; /* eventfd: the worker polls it with the socket */
	pthread_t thread;
	bool thread_started;
	bool quit;
	bool want_run;
	uint64_t features; /* negotiated with the guest */
	uint64_t want_seq, done_seq;
	bool cfg_dirty; /* config bytes written by the guest to forward */
	uint32_t cfg_lo, cfg_hi;
};

/* vu_backend.c: everything said to the backend. All return 0 or -errno
 * after logging the message that failed. */
int vu_handshake(struct vu *vu);
int vu_start_rings(struct vu *vu, uint64_t features);
int vu_stop_rings(struct vu *vu);
int vu_push_config(struct vu *vu, uint32_t lo, uint32_t hi);

#endif
