/* SPDX-License-Identifier: MIT */
/*
 * One vhost-user connection (frontend side): every send and receive is
 * bounded by timeout_ms, every reply is checked (request, flags, size,
 * no fds), and each failure is logged naming the message. Functions
 * return 0 or -errno; after a failure the caller drops the connection.
 */
#ifndef VU_CONN_H
#define VU_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "hvd/plugin.h"
#include "vu_proto.h"

struct vu_conn {
	int fd; /* -1: not connected */
	int timeout_ms;
	uint64_t protocol; /* negotiated protocol features */
	const char *path;
	struct hvd_device *dev; /* for logging */
};

const char *vu_request_name(uint32_t request);

/* Connect to c->path. -errno (logged at `level`) when nobody listens. */
int vu_connect(struct vu_conn *c, enum hvd_log_level level);
void vu_disconnect(struct vu_conn *c);

/* A message that needs no reply; with REPLY_ACK negotiated, asks for and
 * checks the ack. `fds` (nfds of them) travel with it. */
int vu_send_cmd(struct vu_conn *c, uint32_t request, const void *payload,
		uint32_t size, const int *fds, unsigned nfds);
/* A message whose reply carries a payload of exactly `want` bytes
 * (want_min..want when want_min < want), written to `reply`. */
int vu_call(struct vu_conn *c, uint32_t request, const void *payload,
	    uint32_t size, void *reply, uint32_t want_min, uint32_t want,
	    uint32_t *got);
/* A GET_* request with no payload whose reply is one u64. */
int vu_get_u64(struct vu_conn *c, uint32_t request, uint64_t *value);

/* The backend sent something while nothing was asked (or hung up): read
 * and log it. Always returns a negative errno (the connection is dead). */
int vu_unsolicited(struct vu_conn *c);

#endif
