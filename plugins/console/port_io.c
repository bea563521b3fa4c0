/* SPDX-License-Identifier: MIT */
/*
 * One port's data path, both directions, without busy loops or loss:
 *
 *   tx (guest output): a popped chain stays ours until the backend took
 *   every byte. While the backend is full the chain is held and we watch
 *   HVD_EV_OUT; while nothing is connected (socket without a client) the
 *   chain is held until a client arrives. The log file gets each chain once,
 *   when it is popped.
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
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "console.h"

/* Chains handled per wake-up of one direction, so one busy port cannot hold
 * the event-loop thread for long. The level-triggered watch brings us back.
 * Transmit needs the bound as much: it also runs on the dispatch thread,
 * which answers every device's register accesses, and a driver that hands
 * each buffer back as soon as it is used would otherwise keep it there
 * for as long as it likes. HVD_EV_OUT on the writable backend resumes. */
#define RX_BATCH 64u
#define TX_BATCH 32u
/* iovecs handed to one writev. */
#define TX_IOV 64u

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
static struct hvd_chain *pop_or_enable_kicks(struct console *con,
					     struct hvd_vq *vq)
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

/* ---- tx: guest -> backend ----------------------------------------------- */

static ssize_t backend_writev(struct backend *be, const struct iovec *iov,
			      unsigned n)
{
	if (be->out_is_socket) {
		struct msghdr mh = {.msg_iov = (struct iovec *)iov,
				    .msg_iovlen = n};
		return sendmsg(be->out_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	return writev(be->out_fd, iov, (int)n);
}

/* Up to TX_IOV iovecs of the chain's readable bytes from `skip` on. */
static unsigned tx_iov_from(const struct hvd_chain *c, size_t skip,
			    struct iovec *out)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < c->num_out && n < TX_IOV; i++) {
		size_t len = c->iov[i].iov_len;
		if (skip >= len) {
			skip -= len;
			continue;
		}
		out[n].iov_base = (uint8_t *)c->iov[i].iov_base + skip;
		out[n].iov_len = len - skip;
		skip = 0;
		n++;
	}
	return n;
}

static void log_chain(struct cport *port, const struct hvd_chain *c)
{
	if (port->log_fd < 0)
		return;
	for (uint32_t i = 0; i < c->num_out; i++)
		if (log_sink_write(port->log_fd, c->iov[i].iov_base,
				   c->iov[i].iov_len))
			port->con->host->log(port->con->dev, HVD_LOG_ERROR,
					     "port %u: log write: %m",
					     port->id);
}

/* Result of one write attempt; TX_YIELD: the drain used its batch. */
enum tx_result { TX_PROGRESS, TX_FULL, TX_BROKEN, TX_YIELD };

static enum tx_result tx_write(struct cport *port, const struct iovec *iov,
			       unsigned n, size_t *written)
{
	for (;;) {
		ssize_t r = backend_writev(&port->be, iov, n);
		if (r >= 0) {
			*written = (size_t)r;
			return TX_PROGRESS;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TX_FULL;
		port->con->host->log(port->con->dev, HVD_LOG_WARN,
				     "port %u: %s backend write: %m", port->id,
				     port->be.ops->kind);
		return TX_BROKEN;
	}
}

static enum tx_result flush_emerg(struct cport *port)
{
	while (port->emerg_len) {
		struct iovec iov = {port->emerg, port->emerg_len};
		size_t n = 0;
		enum tx_result r = tx_write(port, &iov, 1, &n);
		if (r != TX_PROGRESS)
			return r;
		memmove(port->emerg, port->emerg + n, port->emerg_len - n);
		port->emerg_len -= n;
	}
	return TX_PROGRESS;
}

/* Write held and newly available output until the queue is empty, the
 * backend is full, or it broke. */
static void tx_pump(struct cport *port)
{
	struct console *con = port->con;
	if (port->be.out_fd < 0)
		return; /* held until a backend connects */
	port->tx_blocked = false;
	enum tx_result r = flush_emerg(port);
	struct hvd_vq *vq =
		con->active ? port_vq(port, port_tx_queue(port->id)) : NULL;
	bool pushed = false;
	unsigned budget = TX_BATCH;
	while (r == TX_PROGRESS && vq) {
		if (!port->tx_chain) {
			if (budget-- == 0) {
				if (port->out_pollable) {
					r = TX_YIELD;
					break;
				}
				/* Nothing would wake us (a regular file); such
				 * a backend never makes us wait either. */
				budget = TX_BATCH;
			}
			port->tx_chain = pop_or_enable_kicks(con, vq);
			if (!port->tx_chain)
				break;
			port->tx_done = 0;
			log_chain(port, port->tx_chain);
		}
		struct hvd_chain *c = port->tx_chain;
		if (port->tx_done < c->out_bytes) {
			struct iovec iov[TX_IOV];
			unsigned n = tx_iov_from(c, port->tx_done, iov);
			size_t written = 0;
			r = tx_write(port, iov, n, &written);
			port->tx_done += written;
		}
		if (port->tx_done >= c->out_bytes) {
			con->host->vq_push(c, 0);
			port->tx_chain = NULL;
			pushed = true;
		}
	}
	if (pushed) {
		con->host->vq_notify(vq);
		/* Output is a moment the operator's terminal may have changed
		 * size, as input is (see rx_pump). */
		port_check_winsize(port);
	}
	if (r == TX_FULL || r == TX_YIELD) {
		/* HVD_EV_OUT resumes us (at once after a yield: the backend
		 * has room); the driver's kicks meanwhile would only wake the
		 * dispatch thread for nothing. */
		port->tx_blocked = true;
		if (vq)
			con->host->vq_kick_enable(vq, 0);
	} else if (r == TX_BROKEN)
		port_backend_down(port);
}

void port_tx_kick(struct cport *port)
{
	if (port->tx_blocked)
		return; /* the HVD_EV_OUT watch resumes */
	tx_pump(port);
	port_update_watches(port);
}

void port_emerg_write(struct cport *port, uint8_t ch)
{
	if (port->log_fd >= 0 && log_sink_write(port->log_fd, &ch, 1))
		port->con->host->log(port->con->dev, HVD_LOG_ERROR,
				     "port %u: log write: %m", port->id);
	if (port->emerg_len == sizeof port->emerg) {
		port->con->emerg_dropped++;
		return;
	}
	port->emerg[port->emerg_len++] = ch;
	port_tx_kick(port);
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
		struct hvd_chain *c = pop_or_enable_kicks(con, vq);
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
		tx_pump(port);
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
	tx_pump(port); /* output held while nobody listened */
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
	/* A chain from before the reset: pushing it frees it without the
	 * guest seeing it once the queue is reset. */
	if (port->tx_chain)
		port->con->host->vq_push(port->tx_chain, 0);
	port->tx_chain = NULL;
	port->tx_done = 0;
	port->tx_blocked = false;
	port->rx_starved = false;
	port->guest_open = false;
	port_update_watches(port);
}

void port_close(struct cport *port)
{
	remove_watches(port);
	if (port->tx_chain)
		port->con->host->vq_push(port->tx_chain, 0);
	port->tx_chain = NULL;
	backend_close(&port->be);
	if (port->log_fd >= 0)
		close(port->log_fd);
	port->log_fd = -1;
}
