/* SPDX-License-Identifier: MIT */
/*
 * virtio-input (virtio 1.2 section 5.8, device id 18): a keyboard or an
 * absolute pointer (tablet), fed through a UNIX datagram socket the device
 * creates at `source` (record format: input_record.h). The gpu plugin's
 * vnc backend writes viewer keys and pointer there; so can any local
 * program.
 *
 * Events reach the guest one per eventq buffer, whole reports at a time:
 * records the mode does not know are left out, a report left with nothing
 * but its SYN_REPORT is not sent, and a report that does not fit the
 * backlog is dropped whole (5.8.6: the guest sees complete reports).
 * statusq events (LEDs) are returned and, with `status_out`, appended to
 * that file as "<type> <code> <value>" lines.
 *
 * Threads: the socket is read on the event-loop thread (a watch) and on
 * the dispatch thread when the guest adds eventq buffers, never blocking;
 * the host runs no two callbacks of a device at once, so no lock.
 * Config space: input_config.c.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_ids.h>

#include "input.h"
#include "unix_socket.h"

#define EVENTQ  0u
#define STATUSQ 1u

/* Events waiting for guest buffers at most. */
#define BACKLOG_MAX 512u

/* ---- Events to the guest ------------------------------------------------ */

static void deliver(struct input *in)
{
	struct hvd_vq *vq = in->host->vq_get(in->dev, EVENTQ);
	struct hvd_chain *chain;
	bool pushed = false;
	if (!in->active || !vq)
		return;
	while (in->backlog_len && (chain = in->host->vq_pop(vq))) {
		const struct virtio_input_event *ev =
			&in->backlog[in->backlog_head];
		if (chain->num_out || chain->in_bytes < sizeof *ev) {
			/* 5.8.6.1: eventq buffers are device-writable and
			 * hold an event. */
			in->host->vq_push(chain, 0);
			in->host->needs_reset(in->dev,
					      "eventq buffer is not a writable "
					      "one of 8 bytes or more");
			break;
		}
		in->host->vq_push(chain, (uint32_t)hvd_chain_write(chain, 0, ev,
								   sizeof *ev));
		pushed = true;
		in->backlog_head = (in->backlog_head + 1) % BACKLOG_MAX;
		in->backlog_len--;
	}
	if (pushed)
		in->host->vq_notify(vq);
}

static void commit(struct input *in, const struct virtio_input_event *ev,
		   unsigned n)
{
	if (BACKLOG_MAX - in->backlog_len < n) {
		in->dropped++;
		/* The first drop and then every power of two: a guest
		 * without a driver must not flood the log. */
		if (!(in->dropped & (in->dropped - 1)))
			in->host->log(in->dev, HVD_LOG_WARN,
				      "the guest is not reading: a report of "
				      "%u events dropped (%lu so far)",
				      n, in->dropped);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		in->backlog[(in->backlog_head + in->backlog_len++) %
			    BACKLOG_MAX] = ev[i];
}

/* One datagram: check its shape, then commit its reports. */
static void take_datagram(struct input *in,
			  const struct virtio_input_event *rec, size_t bytes)
{
	size_t n = bytes / sizeof *rec;
	if (!n || n > INPUT_RECORDS_MAX || bytes % sizeof *rec ||
	    le16toh(rec[n - 1].type) != EV_SYN ||
	    le16toh(rec[n - 1].code) != SYN_REPORT) {
		in->host->log(in->dev, HVD_LOG_WARN,
			      "source: a datagram of %zu bytes is not 1-%u "
			      "whole 8-byte records ending with SYN_REPORT; "
			      "dropped",
			      bytes, INPUT_RECORDS_MAX);
		return;
	}
	struct virtio_input_event report[INPUT_RECORDS_MAX];
	unsigned len = 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t type = le16toh(rec[i].type);
		uint16_t code = le16toh(rec[i].code);
		if (type == EV_SYN && code == SYN_REPORT) {
			if (len) {
				report[len++] = rec[i];
				commit(in, report, len);
			}
			len = 0;
		} else if (input_event_known(in, type, code,
					     (int32_t)le32toh(rec[i].value))) {
			report[len++] = rec[i];
		}
	}
}

/* Everything queued on the socket, without waiting. */
static void drain_source(struct input *in)
{
	struct virtio_input_event rec[INPUT_RECORDS_MAX];
	ssize_t n;
	if (in->source_fd < 0)
		return;
	/* MSG_TRUNC: the datagram's own length, so a longer one is seen as
	 * such (and dropped), not cut to the buffer. */
	while ((n = recv(in->source_fd, rec, sizeof rec,
			 MSG_DONTWAIT | MSG_TRUNC)) >= 0)
		take_datagram(in, rec, (size_t)n);
}

static void source_readable(void *opaque, int fd, uint32_t events)
{
	struct input *in = opaque;
	drain_source(in);
	deliver(in);
}

/* ---- Events from the guest ---------------------------------------------- */

static void record_status(struct input *in, const struct virtio_input_event *ev)
{
	char line[48];
	if (in->status_fd < 0)
		return;
	int n = snprintf(line, sizeof line, "%u %u %d\n", le16toh(ev->type),
			 le16toh(ev->code), (int32_t)le32toh(ev->value));
	/* O_NONBLOCK: a stuck reader loses lines, never the dispatch
	 * thread. */
	if (write(in->status_fd, line, (size_t)n) != n)
		in->host->log(in->dev, HVD_LOG_DEBUG,
			      "status_out: short write");
}

static void serve_statusq(struct input *in, struct hvd_vq *vq)
{
	struct hvd_chain *chain;
	while ((chain = in->host->vq_pop(vq))) {
		struct virtio_input_event ev;
		if (hvd_chain_read(chain, 0, &ev, sizeof ev) < sizeof ev) {
			in->host->vq_push(chain, 0);
			in->host->needs_reset(in->dev, "statusq buffer shorter "
						       "than an event");
			break;
		}
		/* Before the push: once the driver sees the buffer used,
		 * the line is written. */
		record_status(in, &ev);
		in->host->vq_push(chain, 0);
	}
	in->host->vq_notify(vq);
}

static void input_queue_notify(void *state, unsigned index)
{
	struct input *in = state;
	struct hvd_vq *vq = in->host->vq_get(in->dev, index);
	if (index == EVENTQ) {
		/* What was sent before the guest added buffers goes first,
		 * in order. */
		drain_source(in);
		deliver(in);
	} else if (vq) {
		serve_statusq(in, vq);
	}
}

/* ---- Life --------------------------------------------------------------- */

static int input_activate(void *state, uint64_t features)
{
	struct input *in = state;
	in->active = true;
	deliver(in);
	return 0;
}

static void input_reset(void *state)
{
	struct input *in = state;
	/* Keys held for the previous driver mean nothing to the next. */
	in->active = false;
	in->backlog_head = in->backlog_len = 0;
	memset(&in->cfg, 0, sizeof in->cfg);
}

static void input_destroy(void *state)
{
	struct input *in = state;
	if (in->watch)
		in->host->watch_remove(in->watch);
	if (in->source_fd >= 0) {
		close(in->source_fd);
		unlink(in->source_path.sun_path);
	}
	if (in->status_fd >= 0)
		close(in->status_fd);
	free(in->backlog);
	free(in);
}

static int open_source(struct input *in, const char *path)
{
	struct sockaddr_un *a = &in->source_path;
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a->sun_path)
		return in->host->cfg_error(in->dev, "source",
					   "%s: a socket path has at most %zu "
					   "bytes",
					   path, sizeof a->sun_path - 1);
	strcpy(a->sun_path, path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (unix_bind(fd, a, SOCK_DGRAM)) {
		int e = errno;
		close(fd);
		return in->host->cfg_error(in->dev, "source", "%s: %s", path,
					   strerror(e));
	}
	in->source_fd = fd;
	in->watch = in->host->watch_add(in->dev, fd, HVD_EV_IN, source_readable,
					in);
	return in->watch ? 0 : -EIO;
}

static int parse_config(struct input *in, const char **source,
			const char **status_out)
{
	static const char *const keys[] = {"mode",   "source",     "name",
					   "serial", "status_out", NULL};
	const struct hvd_host_services *host = in->host;
	const char *mode = "keyboard";
	if (host->cfg_check_keys(in->dev, keys) ||
	    host->cfg_string(in->dev, "mode", &mode) == -EINVAL ||
	    host->cfg_string(in->dev, "name", &in->name) == -EINVAL ||
	    host->cfg_string(in->dev, "serial", &in->serial) == -EINVAL ||
	    host->cfg_string(in->dev, "source", source) == -EINVAL ||
	    host->cfg_string(in->dev, "status_out", status_out) == -EINVAL)
		return -EINVAL;
	if (!strcmp(mode, "keyboard"))
		in->mode = INPUT_KEYBOARD;
	else if (!strcmp(mode, "tablet"))
		in->mode = INPUT_TABLET;
	else
		return host->cfg_error(in->dev, "mode",
				       "\"%s\" is not \"keyboard\" or "
				       "\"tablet\"",
				       mode);
	if (!in->name)
		in->name = in->mode == INPUT_KEYBOARD ? "hvisor virtio keyboard"
						      : "hvisor virtio tablet";
	return 0;
}

static int input_create(struct hvd_device *dev, struct hvd_device_info *info,
			void **state)
{
	struct input *in = calloc(1, sizeof *in);
	const char *source = NULL, *status_out = NULL;
	if (!in)
		return -ENOMEM;
	in->dev = dev;
	in->host = hvd_host(dev);
	in->source_fd = in->status_fd = -1;
	in->backlog = calloc(BACKLOG_MAX, sizeof *in->backlog);
	int r = in->backlog ? parse_config(in, &source, &status_out) : -ENOMEM;
	if (!r && source)
		r = open_source(in, source);
	if (!r && status_out) {
		in->status_fd = open(status_out,
				     O_WRONLY | O_APPEND | O_CREAT |
					     O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
				     0644);
		if (in->status_fd < 0)
			r = in->host->cfg_error(dev, "status_out", "%s: %s",
						status_out, strerror(errno));
	}
	if (r) {
		input_destroy(in);
		return r;
	}
	info->num_queues = 2;
	info->queue_max_size = 64;
	info->config_size = sizeof(struct virtio_input_config);
	info->features = 0; /* 5.8.3: none */
	*state = in;
	in->host->log(dev, HVD_LOG_INFO, "%s '%s', events from %s",
		      in->mode == INPUT_KEYBOARD ? "keyboard" : "tablet",
		      in->name, source ? source : "nowhere");
	return 0;
}

static const struct hvd_device_ops input_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = input_create,
	.destroy = input_destroy,
	.activate = input_activate,
	.reset = input_reset,
	.config_read = input_config_read,
	.config_write = input_config_write,
	.queue_notify = input_queue_notify,
};

HVD_PLUGIN_DEFINE("input", VIRTIO_ID_INPUT, "virtio-input keyboard or tablet",
		  "1.0", &input_ops);
