/* SPDX-License-Identifier: MIT */
/*
 * The MULTIPORT control queues (virtio 1.2 5.3.6.2): the driver announces
 * itself (DEVICE_READY), we add every port (PORT_ADD), the driver says which
 * came up (PORT_READY) and we describe them (CONSOLE_PORT, PORT_NAME,
 * RESIZE, PORT_OPEN for a connected backend). The driver opens and closes
 * ports with PORT_OPEN.
 *
 * Messages to the driver queue here until it posts control receive buffers.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

/* Control messages queued for a driver that posts no buffers; beyond this
 * the oldest state is of no use anyway and the driver is misbehaving. */
#define CTRL_MAX_QUEUED 1024u

void ctrl_send(struct console *con, uint32_t id, uint16_t event, uint16_t value,
	       const void *extra, uint32_t extra_len)
{
	if (con->ctrl_queued >= CTRL_MAX_QUEUED) {
		/* Once per episode; ctrl_flush reports the count when the
		 * driver takes messages again. */
		if (!con->ctrl_dropped++)
			con->host->log(con->dev, HVD_LOG_WARN,
				       "control queue full (driver posts no "
				       "buffers): event %u for port %u and "
				       "any further ones not sent",
				       event, id);
		return;
	}
	struct virtio_console_control hdr = {
		.id = htole32(id),
		.event = htole16(event),
		.value = htole16(value),
	};
	struct ctrl_msg *m = malloc(sizeof *m + sizeof hdr + extra_len);
	if (!m)
		return;
	m->next = NULL;
	m->len = (uint32_t)sizeof hdr + extra_len;
	memcpy(m->data, &hdr, sizeof hdr);
	if (extra_len)
		memcpy(m->data + sizeof hdr, extra, extra_len);
	*con->ctrl_tail = m;
	con->ctrl_tail = &m->next;
	con->ctrl_queued++;
	ctrl_flush(con);
}

/* Copy `len` bytes into the chain's writable buffers; returns bytes copied. */
static uint32_t copy_to_chain(const struct hvd_chain *c, const uint8_t *src,
			      uint32_t len)
{
	uint32_t done = 0;
	for (uint32_t i = c->num_out; i < c->num_out + c->num_in && done < len;
	     i++) {
		size_t n = c->iov[i].iov_len;
		if (n > len - done)
			n = len - done;
		memcpy(c->iov[i].iov_base, src + done, n);
		done += (uint32_t)n;
	}
	return done;
}

void ctrl_flush(struct console *con)
{
	if (!con->active || !con->multiport)
		return;
	struct hvd_vq *vq = con->host->vq_get(con->dev, CTRL_RX_QUEUE);
	bool pushed = false;
	while (con->ctrl_head) {
		struct hvd_chain *c = con->host->vq_pop(vq);
		if (!c)
			break; /* the driver's next kick resumes */
		struct ctrl_msg *m = con->ctrl_head;
		if (c->in_bytes < m->len)
			con->host->log(con->dev, HVD_LOG_WARN,
				       "control buffer of %u bytes cut a "
				       "%u-byte message",
				       c->in_bytes, m->len);
		con->host->vq_push(c, copy_to_chain(c, m->data, m->len));
		pushed = true;
		con->ctrl_head = m->next;
		if (!con->ctrl_head)
			con->ctrl_tail = &con->ctrl_head;
		con->ctrl_queued--;
		free(m);
	}
	if (pushed)
		con->host->vq_notify(vq);
	if (pushed && con->ctrl_dropped) {
		con->host->log(con->dev, HVD_LOG_WARN,
			       "%llu control messages were not sent while the "
			       "control queue was full",
			       (unsigned long long)con->ctrl_dropped);
		con->ctrl_dropped = 0;
	}
}

void ctrl_reset(struct console *con)
{
	if (con->ctrl_more) {
		con->host->timer_cancel(con->ctrl_more);
		con->ctrl_more = NULL;
	}
	while (con->ctrl_head) {
		struct ctrl_msg *m = con->ctrl_head;
		con->ctrl_head = m->next;
		free(m);
	}
	con->ctrl_tail = &con->ctrl_head;
	con->ctrl_queued = 0;
}

/* The driver has the port: tell it what the port is and its state. */
static void port_ready(struct console *con, struct cport *port)
{
	if (port->id == 0) {
		ctrl_send(con, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL, 0);
		if (port->cols || port->rows)
			console_size_changed(con, port);
	}
	if (port->name)
		ctrl_send(con, port->id, VIRTIO_CONSOLE_PORT_NAME, 1,
			  port->name, (uint32_t)strlen(port->name));
	if (port->be.out_fd >= 0)
		ctrl_send(con, port->id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL, 0);
}

/* Returns false when the message is malformed. */
static bool handle_msg(struct console *con,
		       const struct virtio_console_control *msg)
{
	uint32_t id = le32toh(msg->id);
	uint16_t event = le16toh(msg->event);
	uint16_t value = le16toh(msg->value);
	if (event == VIRTIO_CONSOLE_DEVICE_READY) {
		if (!value) {
			con->host->log(con->dev, HVD_LOG_WARN,
				       "driver failed to set up the device");
			return true;
		}
		for (unsigned i = 0; i < con->nr_ports; i++)
			ctrl_send(con, i, VIRTIO_CONSOLE_PORT_ADD, 0, NULL, 0);
		return true;
	}
	if (id >= con->nr_ports)
		return false;
	struct cport *port = &con->ports[id];
	switch (event) {
	case VIRTIO_CONSOLE_PORT_READY:
		if (value)
			port_ready(con, port);
		else
			con->host->log(con->dev, HVD_LOG_WARN,
				       "driver failed to add port %u", id);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		port->guest_open = value != 0;
		port_update_watches(port);
		break;
	default:
		con->host->log(con->dev, HVD_LOG_DEBUG,
			       "control event %u for port %u ignored", event,
			       id);
		break;
	}
	return true;
}

/* Control messages handled per pass: a guest that keeps refilling the
 * queue must not keep the dispatch thread (every device's register
 * accesses) to itself; the rest is handled from the event loop. */
#define CTRL_BATCH 32u

static void ctrl_more_fired(void *opaque)
{
	struct console *con = opaque;
	con->host->timer_cancel(con->ctrl_more);
	con->ctrl_more = NULL;
	ctrl_handle_tx(con);
}

void ctrl_handle_tx(struct console *con)
{
	struct hvd_vq *vq = con->host->vq_get(con->dev, CTRL_TX_QUEUE);
	unsigned handled;
	for (handled = 0; handled < CTRL_BATCH; handled++) {
		struct hvd_chain *c = con->host->vq_pop(vq);
		if (!c)
			break;
		struct virtio_console_control msg;
		uint32_t got = 0;
		for (uint32_t i = 0; i < c->num_out && got < sizeof msg; i++) {
			size_t n = c->iov[i].iov_len;
			if (n > sizeof msg - got)
				n = sizeof msg - got;
			memcpy((uint8_t *)&msg + got, c->iov[i].iov_base, n);
			got += (uint32_t)n;
		}
		con->host->vq_push(c, 0);
		if (got < sizeof msg || !handle_msg(con, &msg)) {
			con->host->needs_reset(con->dev,
					       "malformed control message");
			break;
		}
	}
	con->host->vq_notify(vq);
	if (handled == CTRL_BATCH && !con->ctrl_more &&
	    con->host->vq_has_work(vq))
		con->ctrl_more = con->host->timer_add(con->dev, 1, 0,
						      ctrl_more_fired, con);
}
