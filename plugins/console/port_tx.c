/* SPDX-License-Identifier: MIT */
/*
 * One port's guest output (tx), in one of three ways chosen at each pump:
 *
 *   attached (a reader, not stalled): back-pressure, nothing lost. The
 *   scrollback goes out first; after it a popped chain stays ours until
 *   the backend took every byte (no copy). While the reader is still
 *   behind on the scrollback, chains that fit whole are copied behind it
 *   and returned, so a reader that keeps reading never makes the guest
 *   wait; a chain that does not fit is held.
 *
 *   unattended (nobody reads): every chain is copied into the scrollback
 *   and returned at once; a full scrollback drops its oldest bytes. Linux
 *   writes its kernel console synchronously and spins until the buffer
 *   comes back, so holding a chain here would stop the whole guest.
 *
 *   stalled (the reader held the guest for stall_limit_ms): as unattended,
 *   while the scrollback is written to the backend as fast as it takes it;
 *   once the scrollback is empty the port is attached again.
 *
 * The log file gets each chain once, when it is popped, in every way.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "console.h"

/* Chains handled per pump. It runs on the dispatch thread too, which
 * answers every device's register accesses, and a driver that hands each
 * buffer back as soon as it is used would otherwise keep it there for as
 * long as it likes. HVD_EV_OUT on the writable backend, or the tx_more
 * timer while absorbing, resumes. */
#define TX_BATCH 32u
/* iovecs handed to one writev. */
#define TX_IOV 64u

/* Result of one write attempt; TX_YIELD: the pump used its batch. */
enum tx_result { TX_PROGRESS, TX_FULL, TX_BROKEN, TX_YIELD };

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct hvd_vq *tx_vq(struct cport *port)
{
	struct console *con = port->con;
	return con->active
		       ? con->host->vq_get(con->dev, port_tx_queue(port->id))
		       : NULL;
}

bool port_attached(const struct cport *port)
{
	return port->be.reader && port->be.out_fd >= 0;
}

/* ---- Writing to the backend ---------------------------------------------- */

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

/* The scrollback to the backend until it is empty or the backend full. */
static enum tx_result sb_write(struct cport *port)
{
	while (port->sb.len) {
		struct iovec iov[2];
		unsigned n = sb_peek(&port->sb, iov);
		size_t written = 0;
		enum tx_result r = tx_write(port, iov, n, &written);
		if (r != TX_PROGRESS)
			return r;
		sb_consume(&port->sb, written);
	}
	return TX_PROGRESS;
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

static struct hvd_chain *next_chain(struct cport *port, struct hvd_vq *vq)
{
	struct hvd_chain *c = port_pop(port->con, vq);
	if (c) {
		port->tx_done = 0;
		log_chain(port, c);
	}
	return c;
}

/* ---- The scrollback ------------------------------------------------------ */

/* Keep bytes; an episode of drops is logged once when it starts and once,
 * with its count, when a reader has caught up (sb_episode_end). */
static void sb_keep(struct cport *port, const uint8_t *p, size_t len)
{
	size_t dropped = sb_append(&port->sb, p, len);
	if (!dropped)
		return;
	if (!port->drop_episode)
		port->con->host->log(
			port->con->dev, HVD_LOG_WARN,
			"port %u: nobody reads and the scrollback (%zu "
			"bytes) is full: dropping the oldest output",
			port->id, port->sb.cap);
	port->drop_episode += dropped;
	port->dropped += dropped;
}

static void sb_episode_end(struct cport *port)
{
	if (!port->drop_episode)
		return;
	port->con->host->log(port->con->dev, HVD_LOG_WARN,
			     "port %u: %llu bytes of output were dropped "
			     "while nobody read them",
			     port->id, (unsigned long long)port->drop_episode);
	port->drop_episode = 0;
}

static void keep_chain(struct cport *port, const struct hvd_chain *c,
		       size_t skip)
{
	for (uint32_t i = 0; i < c->num_out; i++) {
		size_t len = c->iov[i].iov_len;
		if (skip >= len) {
			skip -= len;
			continue;
		}
		sb_keep(port, (const uint8_t *)c->iov[i].iov_base + skip,
			len - skip);
		skip = 0;
	}
}

/* Copy chains into the scrollback and return them to the guest: all of
 * them (fit false), or while each fits whole behind what the reader has
 * yet to take (fit true; a chain that does not is held: TX_FULL).
 * TX_YIELD after a batch, TX_PROGRESS once the queue is empty. */
static enum tx_result absorb(struct cport *port, struct hvd_vq *vq, bool fit,
			     bool *pushed)
{
	if (!fit && port->emerg_len) {
		sb_keep(port, port->emerg, port->emerg_len);
		port->emerg_len = 0;
	}
	unsigned budget = TX_BATCH;
	while (vq) {
		if (!port->tx_chain) {
			if (budget-- == 0)
				return TX_YIELD;
			port->tx_chain = next_chain(port, vq);
			if (!port->tx_chain)
				break;
		}
		struct hvd_chain *c = port->tx_chain;
		if (fit &&
		    c->out_bytes - port->tx_done > port->sb.cap - port->sb.len)
			return TX_FULL;
		keep_chain(port, c, port->tx_done);
		port->con->host->vq_push(c, 0);
		port->tx_chain = NULL;
		*pushed = true;
	}
	return TX_PROGRESS;
}

/* ---- The three ways --------------------------------------------------------
 */

/* Chains straight to the backend; a chain is held while it is full. */
static enum tx_result tx_direct(struct cport *port, struct hvd_vq *vq,
				bool *pushed)
{
	enum tx_result r = TX_PROGRESS;
	unsigned budget = TX_BATCH;
	while (r == TX_PROGRESS && vq) {
		if (!port->tx_chain) {
			if (budget-- == 0) {
				if (port->out_pollable)
					return TX_YIELD;
				/* Nothing would wake us (a regular file); such
				 * a backend never makes us wait either. */
				budget = TX_BATCH;
			}
			port->tx_chain = next_chain(port, vq);
			if (!port->tx_chain)
				break;
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
			port->con->host->vq_push(c, 0);
			port->tx_chain = NULL;
			*pushed = true;
		}
	}
	return r;
}

/* A reader is there: scrollback first, then live output. *more: chains
 * are left that the tx_more timer must take. */
static enum tx_result tx_attached(struct cport *port, struct hvd_vq *vq,
				  bool *pushed, bool *more)
{
	enum tx_result r = flush_emerg(port);
	if (r == TX_PROGRESS)
		r = sb_write(port);
	if (port->stalled) {
		*more = absorb(port, vq, false, pushed) == TX_YIELD;
		if (r == TX_PROGRESS)
			r = sb_write(port);
		if (r != TX_PROGRESS)
			return r;
		port->stalled = false;
		port->con->host->log(port->con->dev, HVD_LOG_INFO,
				     "port %u: the reader caught up", port->id);
		sb_episode_end(port);
		return r;
	}
	if (r == TX_PROGRESS) {
		sb_episode_end(port);
		return tx_direct(port, vq, pushed);
	}
	if (r == TX_FULL) {
		enum tx_result a = absorb(port, vq, true, pushed);
		*more = a == TX_YIELD;
	}
	return r;
}

/* ---- Timers: continuing, and the stall limit --------------------------- */

static void tx_more_fired(void *opaque)
{
	struct cport *port = opaque;
	port->con->host->timer_cancel(port->tx_more);
	port->tx_more = NULL;
	port_tx_pump(port);
	port_update_watches(port);
}

static void stall_arm(struct cport *port, uint64_t ns);

static void stall_fired(void *opaque)
{
	struct cport *port = opaque;
	struct console *con = port->con;
	con->host->timer_cancel(port->stall_timer);
	port->stall_timer = NULL;
	if (!port->held_since || port->stalled || !port_attached(port))
		return;
	uint64_t limit = (uint64_t)port->stall_limit_ms * 1000000u;
	uint64_t waited = now_ns() - port->held_since;
	if (waited < limit) {
		stall_arm(port, limit - waited);
		return;
	}
	port->stalled = true;
	port->held_since = 0;
	con->host->log(con->dev, HVD_LOG_WARN,
		       "port %u: the reader held the guest back for %u ms; "
		       "output goes to the scrollback until it catches up",
		       port->id, port->stall_limit_ms);
	port_tx_pump(port);
	port_update_watches(port);
}

static void stall_arm(struct cport *port, uint64_t ns)
{
	struct console *con = port->con;
	port->stall_timer = con->host->timer_add(con->dev, ns ? ns : 1, 0,
						 stall_fired, port);
	if (!port->stall_timer)
		con->host->log(con->dev, HVD_LOG_ERROR,
			       "port %u: cannot arm the stall timer", port->id);
}

/* The guest waits on the reader (waiting) since the last chain we gave
 * back; the timer, armed once per wait, checks the time when it fires. */
static void stall_clock(struct cport *port, bool waiting, bool pushed)
{
	if (!waiting) {
		port->held_since = 0; /* a pending timer finds nothing to do */
		return;
	}
	if (!port->held_since || pushed)
		port->held_since = now_ns();
	if (!port->stall_timer)
		stall_arm(port, (uint64_t)port->stall_limit_ms * 1000000u);
}

/* ---- Entry points -----------------------------------------------------------
 */

void port_tx_pump(struct cport *port)
{
	struct console *con = port->con;
	struct hvd_vq *vq = tx_vq(port);
	if (!port_attached(port) && port->be.ops && port->be.ops->refresh)
		port->be.ops->refresh(&port->be);
	port->tx_blocked = false;
	bool pushed = false, more = false;
	enum tx_result r = TX_PROGRESS;
	if (port_attached(port))
		r = tx_attached(port, vq, &pushed, &more);
	else
		more = absorb(port, vq, false, &pushed) == TX_YIELD;
	if (pushed) {
		con->host->vq_notify(vq);
		/* Output is a moment the operator's terminal may have changed
		 * size, as input is (see rx_pump). */
		port_check_winsize(port);
	}
	if (r == TX_BROKEN) {
		port_backend_down(port);
		return;
	}
	/* The guest waits on the reader: some of its output is left that we do
	 * not take while the backend is full (never while stalled). */
	bool waiting = r == TX_FULL && !port->stalled &&
		       (port->tx_chain || (vq && con->host->vq_has_work(vq)));
	/* HVD_EV_OUT resumes us (at once after a yield: the backend has
	 * room). */
	port->tx_blocked = r == TX_FULL || r == TX_YIELD;
	if (more && !port->tx_more) {
		port->tx_more = con->host->timer_add(con->dev, 1, 0,
						     tx_more_fired, port);
		if (!port->tx_more)
			more = false; /* the driver's next kick resumes */
	}
	/* While something else resumes us, the driver's kicks would only
	 * wake the dispatch thread for nothing. */
	if (vq && (waiting || r == TX_YIELD || more))
		con->host->vq_kick_enable(vq, 0);
	stall_clock(port, waiting, pushed);
}

void port_tx_kick(struct cport *port)
{
	/* A held chain on a full backend: the HVD_EV_OUT watch resumes, and
	 * the stall timer bounds the wait. */
	if (port->tx_blocked && port->tx_chain && !port->stalled &&
	    port_attached(port))
		return;
	port_tx_pump(port);
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

int port_tx_init(struct cport *port, size_t scrollback, uint32_t stall_ms)
{
	port->stall_limit_ms = stall_ms;
	return sb_init(&port->sb, scrollback);
}

static void cancel_timers(struct cport *port)
{
	const struct hvd_host_services *host = port->con->host;
	if (port->tx_more)
		host->timer_cancel(port->tx_more);
	if (port->stall_timer)
		host->timer_cancel(port->stall_timer);
	port->tx_more = port->stall_timer = NULL;
}

void port_tx_reset(struct cport *port)
{
	cancel_timers(port);
	/* A chain from before the reset: pushing it frees it without the
	 * guest seeing it once the queue is reset. The scrollback stays: what
	 * the guest printed before it rebooted is what a reader wants. */
	if (port->tx_chain)
		port->con->host->vq_push(port->tx_chain, 0);
	port->tx_chain = NULL;
	port->tx_done = 0;
	port->tx_blocked = false;
	port->stalled = false;
	port->held_since = 0;
}

void port_tx_close(struct cport *port)
{
	port_tx_reset(port);
	if (port->dropped)
		port->con->host->log(port->con->dev, HVD_LOG_INFO,
				     "port %u: %llu bytes dropped from the "
				     "scrollback in all",
				     port->id,
				     (unsigned long long)port->dropped);
	sb_free(&port->sb);
}
