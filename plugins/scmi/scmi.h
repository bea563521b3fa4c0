/* SPDX-License-Identifier: MIT */
/*
 * Private to the virtio-scmi plugin: the device state shared by the
 * transport (scmi.c), the JSON id lists (scmi_cfg.c) and the protocols
 * (scmi_proto.c). Facts and choices: docs/scmi.md.
 */
#ifndef PLUGINS_SCMI_H
#define PLUGINS_SCMI_H

#include <stdbool.h>
#include <stdint.h>

#include "hvd/iov.h"
#include "hvd/plugin.h"

/* The three kinds of resource a guest may use, in the order of the kernel
 * requests 32, 33, 34 (SCMI_REQUEST(k)). */
enum scmi_kind { SCMI_CLOCK = 0, SCMI_RESET = 1, SCMI_POWER = 2 };
#define SCMI_KINDS      3
#define SCMI_REQUEST(k) (32u + (unsigned)(k))

/* Guest ids of one kind: the guest sees ids 0..count-1 (count 0: the
 * protocol is absent); an allowed one reaches the kernel as phys[id]. */
struct scmi_ids {
	uint32_t count;
	uint32_t *phys;    /* count entries */
	uint8_t *allowed;  /* count entries, 0 or 1 */
	uint32_t phandle;  /* provider phandle for SET_PHANDLE, 0: none */
	bool phandle_sent; /* the kernel accepted it */
};

struct scmi {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	struct scmi_ids ids[SCMI_KINDS];
	struct hvd_timer *serve; /* a pass over the command queue is due */
};

/* scmi_cfg.c: parse this device's JSON keys into s->ids (both key
 * generations). 0, or -EINVAL/-ENOMEM after logging the path. */
int scmi_cfg_parse(struct scmi *s);
void scmi_cfg_free(struct scmi *s);
/* The kernel id of guest id `id`: 0, or -ENOENT when the guest may not
 * use it. */
int scmi_ids_lookup(const struct scmi_ids *ids, uint32_t id, uint32_t *phys);

/* scmi.c: tell the kernel module which of its ids this device's zone may
 * use (its allowed set). 0, or -errno after logging why. */
int scmi_declare(struct scmi *s);

/* scmi_proto.c: answer one SCMI message. `req` holds req_len bytes (the
 * header first, req_len >= 4); the response (header, status, payload) is
 * written to `resp` (at least SCMI_MAX_RESP bytes); returns its length. */
#define SCMI_MAX_RESP 128u
uint32_t scmi_handle(struct scmi *s, const uint8_t *req, uint32_t req_len,
		     uint8_t *resp);

#endif
