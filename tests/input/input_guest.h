/* SPDX-License-Identifier: MIT */
/*
 * A guest-side virtio-input driver on the mock harness, for the input
 * suite and the gpu vnc suite: bring-up, config-space selects, eventq
 * buffers and the events that come back; plus the host side of the
 * plugin's source socket. Every wait has a timeout that only guards
 * against failure.
 */
#ifndef TESTS_INPUT_GUEST_H
#define TESTS_INPUT_GUEST_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_input.h>

#include "hvd/mock.h"

#define IG_WAIT_MS 10000
#define IG_QSIZE   64u

struct ig {
	struct hvd_guest_dev *d;
	struct hvd_guest_vq *eventq, *statusq;
	struct virtio_input_event *ev; /* IG_QSIZE slots of guest RAM */
	uint64_t ev_gpa;
	unsigned next; /* next slot to post */
	uint64_t st_gpa;
	struct virtio_input_event *st; /* one statusq buffer */
};

/* Probe (device id 18), VERSION_1, both queues, DRIVER_OK. 0 or -errno. */
int ig_open(struct ig *g, struct hvd_mock *m, uint64_t base, uint32_t irq);
void ig_close(struct ig *g);

/* Select select/subsel; the size the device reports. */
unsigned ig_select(struct ig *g, uint8_t select, uint8_t subsel);
/* Byte i of u after a select. */
uint8_t ig_u8(struct ig *g, unsigned i);

/* Post n eventq buffers (n <= IG_QSIZE) and kick. */
void ig_post(struct ig *g, unsigned n);
/* The next event the device wrote: 0 and *ev, or -errno. */
int ig_next(struct ig *g, struct virtio_input_event *ev);
/* Assert the next event is exactly type / code / value. */
void ig_expect(struct ig *g, uint16_t type, uint16_t code, int32_t value);

/* Send one statusq event and wait until the device returned it. */
int ig_status(struct ig *g, uint16_t type, uint16_t code, int32_t value);

/* One record, for arrays of them. */
#define IG_EV(t, c, v)                                                  \
	{                                                               \
		htole16(t), htole16(c), htole32((uint32_t)(int32_t)(v)) \
	}
/* Host side: send n records as one datagram to the source socket `path`
 * (blocking while the device's queue is full). 0 or -errno. */
int ig_send(const char *path, const struct virtio_input_event *ev, unsigned n);

#endif
