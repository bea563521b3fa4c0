/* SPDX-License-Identifier: MIT */
/*
 * One port's host input (rx), its fd watches and its connection state; the
 * guest output is port_tx.c.
 *
 *   rx (host input): we read straight into a receive chain. With no chain
 *   available we stop watching HVD_EV_IN until the guest kicks the receive
 *   queue; unread input waits in the kernel (pty or socket buffer).
 *
 * A watch is removed, not just masked, when it wants nothing: a hung-up fd
 * reports HVD_EV_HUP whatever the mask, which would wake the loop forever.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "console.h"

/* Chains read per wake-up, so one busy port cannot hold the event-loop
 * thread for long. The level-triggered watch brings us back. */
#define RX_BATCH 64u

static struct hvd_vq *port_vq(struct cport *port, unsigned index)
{
	return port->con->host->vq_get(port->con->dev, index);
}

bool port_rx_allowed(const struct cport *port)
{
	const struct console *con = port->con;
	if (!con->active || port->be.in_fd < 0 || port->be.in_eof)
		return false;
	if (!con->multiport)
		return port->id == 0;
	/* The guest discards input for a port it has not opened. */
	return port->guest_open;
}

static void port_io_event(void *opaque, int fd, uint32_t events);

/* Make *w watch `fd` for exactly `events` (no watch at all for none). */
static void set_watch(struct cport *port, struct hvd_watch **w,
		      uint32_t *current, int fd, uint32_t events)
{
	const struct hvd_host_services *host = port->con->host;
	if (fd < 0 || events == 0) {
		if (*w) {
			host->watch_remove(*w);
			*w = NULL;
		}
		*current = 0;
		return;
	}
	if (*w) {
		if (*current != events && host->watch_modify(*w, events) == 0)
			*current = events;
		return;
	}
	*w = host->watch_add(port->con->dev, fd, events, port_io_event, port);
	if (!*w) {
		host->log(port->con->dev, HVD_LOG_ERROR,
			  "port %u: cannot watch fd %d: %m", port->id, fd);
		*current = 0;
		return;
	}
	*current = events;
}

void port_update_watches(struct cport *port)
{
	struct backend *be = &port->be;
	uint32_t in =
		port_rx_allowed(port) && !port->rx_starved ? HVD_EV_IN : 0;
	uint32_t out = port->tx_blocked && be->out_fd >= 0 ? HVD_EV_OUT : 0;
	if (be->in_fd >= 0 && be->in_fd == be->out_fd) {
		set_watch(port, &port->out_watch, &port->out_events, -1, 0);
		set_watch(port, &port->in_watch, &port->in_events, be->in_fd,
			  in | out);
		return;
	}
	set_watch(port, &port->in_watch, &port->in_events, be->in_fd, in);
	set_watch(port, &port->out_watch, &port->out_events, be->out_fd, out);
}

static void remove_watches(struct cport *port)
{
	set_watch(port, &port->in_watch, &port->in_events, -1, 0);
	set_watch(port, &port->out_watch, &port->out_events, -1, 0);
}

/* The next chain of a queue whose kicks are off while we have work. With
 * none left, turn kicks on and look once more, for a chain added before
 * they were on; if there is one, turn them off again. */
struct hvd_chain *port_pop(struct console *con, struct hvd_vq *vq)
{
	struct hvd_chain *c = con->host->vq_pop(vq);
	if (c)
		return c;
	con->host->vq_kick_enable(vq, 1);
	c = con->host->vq_pop(vq);
	if (c)
		con->host->vq_kick_enable(vq, 0);
	return c;
}

/* ---- rx: backend -> guest ----------------------------------------------- */

/* Read input into receive chains until the backend has no more, the guest
 * has no buffers, or input ended. */
static void rx_pump(struct cport *port)
{
	struct console *con = port->con;
	struct hvd_vq *vq = port_vq(port, port_rx_queue(port->id));
	bool pushed = false, down = false;
	for (unsigned i = 0; i < RX_BATCH; i++) {
		struct hvd_chain *c = port_pop(con, vq);
		if (!c) {
			port->rx_starved = true;
			break;
		}
		if (c->in_bytes == 0) {
			con->host->vq_push(c, 0); /* nothing to fill */
			pushed = true;
			continue;
		}
		ssize_t n = readv(port->be.in_fd, c->iov + c->num_out,
				  (int)c->num_in);
		if (n > 0) {
			/* Keep going after a short read too: more input may
			 * have arrived, and one notify per batch is cheaper
			 * than one per chain. EAGAIN ends the batch. */
			con->host->vq_push(c, (uint32_t)n);
			pushed = true;
			continue;
		}
		int err = n < 0 ? errno : 0;
		con->host->vq_unpop(c);
		if (err == EINTR)
			continue;
		if (err == EAGAIN || err == EWOULDBLOCK)
			break;
		/* End of file, or an error such as EIO. */
		down = true;
		break;
	}
	if (pushed)
		con->host->vq_notify(vq);
	if (pushed)
		port_check_winsize(port);
	if (down)
		port_backend_down(port);
}

void port_rx_kick(struct cport *port)
{
	/* Buffers are there: kicks only cost a wake-up of the dispatch
	 * thread until we run out again (rx_pump turns them back on). */
	port->con->host->vq_kick_enable(port_vq(port, port_rx_queue(port->id)),
					0);
	port->rx_starved = false;
	port_update_watches(port);
}

static void port_io_event(void *opaque, int fd, uint32_t events)
{
	struct cport *port = opaque;
	if (fd == port->be.in_fd && port_rx_allowed(port) &&
	    !port->rx_starved &&
	    (events & (HVD_EV_IN | HVD_EV_HUP | HVD_EV_ERR)))
		rx_pump(port);
	if (fd == port->be.out_fd && port->tx_blocked &&
	    (events & (HVD_EV_OUT | HVD_EV_HUP | HVD_EV_ERR)))
		port_tx_pump(port);
	port_update_watches(port);
}

/* ---- Connection state ---------------------------------------------------- */

/* Whether epoll can watch fd: not a regular file, nor a device without
 * poll such as /dev/null (stdio redirected). */
static bool fd_pollable(int fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return false;
	struct epoll_event ev = {.events = EPOLLOUT};
	bool ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	close(ep);
	return ok;
}

void port_backend_up(struct cport *port)
{
	struct console *con = port->con;
	port->out_pollable =
		port->be.out_fd >= 0 && fd_pollable(port->be.out_fd);
	if (con->active && con->multiport)
		ctrl_send(con, port->id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL, 0);
	port_check_winsize(port);
	port->tx_blocked = false;
	port_tx_pump(port); /* the scrollback first */
	port_update_watches(port);
}

void port_backend_down(struct cport *port)
{
	struct console *con = port->con;
	remove_watches(port);
	port->tx_blocked = false;
	if (port->be.ops->down)
		port->be.ops->down(&port->be);
	if (con->active && con->multiport && port->be.out_fd < 0)
		ctrl_send(con, port->id, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL, 0);
	/* Nobody reads now: a chain held for the reader goes to the
	 * scrollback. (A backend still attached, stdio with a broken stdout,
	 * is left alone: pumping it would only fail again.) */
	if (!port_attached(port))
		port_tx_pump(port);
	port_update_watches(port);
}

void port_reader_changed(struct cport *port)
{
	struct console *con = port->con;
	if (port_attached(port))
		con->host->log(con->dev, HVD_LOG_INFO,
			       "port %u: a reader attached (%zu bytes of "
			       "scrollback)",
			       port->id, port->sb.len);
	else
		con->host->log(con->dev, HVD_LOG_INFO,
			       "port %u: no reader; output goes to the "
			       "scrollback",
			       port->id);
	port_tx_pump(port);
	port_update_watches(port);
}

void port_check_winsize(struct cport *port)
{
	uint16_t cols, rows;
	if (!port->be.ops->winsize ||
	    port->be.ops->winsize(&port->be, &cols, &rows))
		return;
	if (cols == port->cols && rows == port->rows)
		return;
	port->cols = cols;
	port->rows = rows;
	console_size_changed(port->con, port);
}

void port_reset(struct cport *port)
{
	port_tx_reset(port);
	port->rx_starved = false;
	port->guest_open = false;
	port_update_watches(port);
}

void port_close(struct cport *port)
{
	remove_watches(port);
	port_tx_close(port);
	backend_close(&port->be);
	if (port->log_fd >= 0)
		close(port->log_fd);
	port->log_fd = -1;
}
