/* SPDX-License-Identifier: MIT */
/*
 * A guest-side virtio-console driver for the console suites, on top of the
 * mock harness: bring-up, buffer pools per queue, sending and receiving a
 * byte stream, control messages; plus host-side helpers (threads that read
 * or write a backend fd, data patterns). Every wait has a timeout that only
 * guards against failure.
 */
#ifndef TESTS_CONSOLE_GUEST_H
#define TESTS_CONSOLE_GUEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvd/mock.h"

#define CG_MAX_VQ   16u
#define CG_MAX_BUFS 64u
#define CG_QSIZE    64u
#define CG_WAIT_MS  10000
#define CG_MAX_CTRL 64u

struct cg_pool {
	unsigned count;
	uint32_t size;
	uint64_t gpa[CG_MAX_BUFS];
	uint8_t *ptr[CG_MAX_BUFS];
	bool busy[CG_MAX_BUFS];
	/* Received bytes beyond what cg_recv was asked for, kept in order. */
	uint8_t *carry;
	size_t carry_len;
};

struct cg_ctrl {
	uint32_t id;
	uint16_t event, value;
	uint8_t extra[64]; /* payload after the header, zero-padded */
	bool used;
};

struct cg {
	struct hvd_mock *mock;
	struct hvd_guest_dev *d;
	struct hvd_guest_vq *vq[CG_MAX_VQ];
	struct cg_pool pool[CG_MAX_VQ];
	unsigned nvq;
	uint64_t features;
	struct cg_ctrl ctrl[CG_MAX_CTRL];
	unsigned nctrl;
};

int cg_open(struct cg *g, struct hvd_mock *m, uint64_t base, uint32_t irq);
void cg_close(struct cg *g);
/* Negotiate `want` (must all be accepted), set up `nvq` queues, DRIVER_OK.
 * Pools of earlier bring-ups are kept, their buffers marked free. */
int cg_up(struct cg *g, uint64_t want, unsigned nvq);
/* Give queue q a pool of `count` buffers of `size` bytes (once). */
int cg_pool(struct cg *g, unsigned q, unsigned count, uint32_t size);
/* Guest output: all of data through queue q, returns once all were used. */
int cg_send(struct cg *g, unsigned q, const void *data, size_t len);
/* Like cg_send but returns once everything is queued, without waiting. */
int cg_send_nowait(struct cg *g, unsigned q, const void *data, size_t len);
/* Post every free buffer of queue q as a receive buffer and kick. */
int cg_post_rx(struct cg *g, unsigned q);
/* Guest input: exactly `len` bytes from queue q (reposting buffers). */
int cg_recv(struct cg *g, unsigned q, void *buf, size_t len);

/* Control queue (MULTIPORT): post receive buffers, send a message, wait
 * for a message (id, event) not consumed yet; *value and the first
 * extra_size payload bytes filled (a name comes NUL-terminated). */
int cg_ctrl_start(struct cg *g);
int cg_ctrl_send(struct cg *g, uint32_t id, uint16_t event, uint16_t value);
int cg_ctrl_wait(struct cg *g, uint32_t id, uint16_t event, uint16_t *value,
		 void *extra, size_t extra_size);

/* ---- Host side ---------------------------------------------------------- */

void cg_fill_random(uint8_t *buf, size_t len, uint32_t seed);

/* A thread reading exactly `want` bytes from fd (or writing `want` bytes
 * of buf), `chunk` bytes per call; slow = yield the CPU between calls. */
struct cg_io {
	int fd;
	uint8_t *buf;
	size_t want;
	size_t done;
	size_t chunk;
	bool slow;
	bool write;
	int error;
	pthread_t thread;
};
int cg_io_start(struct cg_io *io);
int cg_io_join(struct cg_io *io);

/* Read exactly len bytes from fd within the wait timeout. */
int cg_read_full(int fd, void *buf, size_t len);
int cg_write_full(int fd, const void *buf, size_t len);

/* A fresh private directory for sockets, links and logs. */
const char *cg_tmpdir(void);
/* A new path in it, "DIR/what-N", written to buf. */
const char *cg_tmp_path(char *buf, size_t size, const char *what);

#endif
