/* SPDX-License-Identifier: MIT */
/*
 * The input plugin's state, shared by input.c (queues, source socket,
 * life) and input_config.c (config space, what each mode supports).
 */
#ifndef PLUGINS_INPUT_INPUT_H
#define PLUGINS_INPUT_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include <linux/input.h>

#include "hvd/iov.h"
#include "hvd/plugin.h"
#include "input_record.h"

enum input_mode { INPUT_KEYBOARD, INPUT_TABLET };

struct input {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	enum input_mode mode;
	const char *name;
	const char *serial; /* NULL: none */
	int source_fd;      /* -1: no source */
	struct sockaddr_un source_path;
	struct hvd_watch *watch;
	int status_fd; /* -1: statusq events not recorded */
	bool active;   /* DRIVER_OK since the last reset */
	struct virtio_input_config cfg;
	/* Whole reports waiting for eventq buffers (a ring). */
	struct virtio_input_event *backlog;
	unsigned backlog_head, backlog_len;
	unsigned long dropped;
};

/* input_config.c */
void input_config_read(void *state, uint32_t offset, void *buf, uint32_t len);
void input_config_write(void *state, uint32_t offset, const void *buf,
			uint32_t len);
/* Whether the mode sends this event (SYN_REPORT aside). */
bool input_event_known(const struct input *in, uint16_t type, uint16_t code,
		       int32_t value);

#endif
