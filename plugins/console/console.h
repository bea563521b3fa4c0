/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.2 section 5.3): shared state of the plugin.
 *
 * Files, one job each:
 *   console.c     device ops: JSON, features, config space, reset, routing
 *   port_io.c     one port's input (backend -> guest), fd watches and
 *                 connection state
 *   port_tx.c     guest output: back-pressure to an attached reader,
 *                 the scrollback while nobody reads, the stall limit
 *   scrollback.c  the per-port ring of output no reader took yet
 *   control.c     the MULTIPORT control queues
 *   backend_*.c   where a port's bytes go: pty, socket, stdio; log file
 *
 * Locking: every entry point (device ops, watch callbacks) runs holding the
 * device's callback lock (hvd/plugin.h), so the state below needs no lock
 * of its own.
 */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_console.h>

#include "hvd/plugin.h"

/* Ports a device may have: port 0 plus the JSON "ports" array. Each needs
 * two queues, and the core allows HVD_MAX_QUEUES. */
#define CONSOLE_MAX_PORTS ((HVD_MAX_QUEUES - 2) / 2)

/* Emergency writes waiting for a full backend (bytes). Emergency output is
 * a last resort for a dying guest; beyond this it is counted and dropped. */
#define CONSOLE_EMERG_BUF 4096u

/* Defaults of the JSON keys "scrollback" (bytes kept while nobody reads)
 * and "stall_limit_ms" (longest a reader may hold the guest back). */
#define CONSOLE_SCROLLBACK_DEFAULT (256u * 1024u)
#define CONSOLE_SCROLLBACK_MAX     (64u * 1024u * 1024u)
#define CONSOLE_STALL_DEFAULT_MS   2000u
#define CONSOLE_STALL_MAX_MS       3600000u

struct console;
struct cport;

/* ---- Backends ----------------------------------------------------------- */

struct backend_cfg {
	const char *kind;     /* "pty", "socket", "stdio" */
	const char *path;     /* socket: where to listen */
	const char *pty_link; /* pty: optional stable symlink */
};

/* Whether a port has a reader (pty: a client has the slave open, not
 * counting our own fd; socket: a client is connected; stdio: always)
 * lives in struct backend's `reader`; a backend that learns of a change
 * from a watch calls port_reader_changed(). */

struct backend;

struct backend_ops {
	const char *kind;
	/* Acquire the backend (fds, listen socket, symlink). Connected ones
	 * call port_backend_up() before returning. */
	int (*open)(struct backend *be, const struct backend_cfg *cfg);
	void (*close)(struct backend *be);
	/* The data fds failed or reached end of file. */
	void (*down)(struct backend *be);
	/* Window size of the terminal behind the port; 0 or -errno. */
	int (*winsize)(struct backend *be, uint16_t *cols, uint16_t *rows);
	/* Optional: bring `reader` up to date now, without a callback (a
	 * client may have attached an instant ago, before its watch ran). */
	void (*refresh)(struct backend *be);
};

struct backend {
	const struct backend_ops *ops;
	struct cport *port;
	/* Data fds (non-blocking), -1 while nothing is connected. They may be
	 * the same fd. */
	int in_fd;
	int out_fd;
	bool out_is_socket; /* send with MSG_NOSIGNAL */
	bool in_eof;        /* input ended for good (stdio) */
	bool reader;        /* someone reads the output (see above) */
	/* Backend-private. */
	int aux_fd;                  /* pty: slave; socket: listener */
	struct hvd_watch *aux_watch; /* socket: listener */
	char *path;                  /* pty: link; socket: socket path */
	int notify_fd;               /* pty: inotify on the slave */
	struct hvd_watch *notify_watch;
	int opens; /* pty: slave opens by others minus their closes */
};

int backend_open(struct backend *be, struct cport *port,
		 const struct backend_cfg *cfg);
void backend_close(struct backend *be);
int backend_set_nonblock(int fd);

extern const struct backend_ops backend_pty_ops;
extern const struct backend_ops backend_socket_ops;
extern const struct backend_ops backend_stdio_ops;

/* Log file: appends fully (regular file writes never return EAGAIN). */
int log_sink_open(struct console *con, const char *path);
int log_sink_write(int fd, const void *buf, size_t len);

/* ---- Scrollback (scrollback.c) ------------------------------------------ */

struct scrollback {
	uint8_t *buf;
	size_t cap, head, len;
};

int sb_init(struct scrollback *sb, size_t cap);
void sb_free(struct scrollback *sb);
size_t sb_append(struct scrollback *sb, const uint8_t *src, size_t len);
unsigned sb_peek(const struct scrollback *sb, struct iovec iov[2]);
void sb_consume(struct scrollback *sb, size_t n);

/* ---- Ports -------------------------------------------------------------- */

struct cport {
	struct console *con;
	unsigned id;
	const char *name; /* PORT_NAME, or NULL */
	struct backend be;
	int log_fd; /* -1 without a log */

	struct hvd_watch *in_watch;  /* on be.in_fd */
	struct hvd_watch *out_watch; /* on be.out_fd when it differs */
	uint32_t in_events, out_events;

	/* Guest output being written: the chain stays ours until every byte
	 * reached the backend. */
	struct hvd_chain *tx_chain;
	size_t tx_done;
	bool tx_blocked;   /* waiting for HVD_EV_OUT */
	bool out_pollable; /* be.out_fd can be watched (not a regular file) */
	uint8_t emerg[CONSOLE_EMERG_BUF];
	size_t emerg_len;

	/* Output no reader took yet (port_tx.c). While nobody reads, or the
	 * reader stalled, every chain is copied here and returned at once. */
	struct scrollback sb;
	bool stalled; /* the reader held the guest past the limit */
	uint32_t stall_limit_ms;
	uint64_t held_since; /* ns: the guest waits on the reader since */
	struct hvd_timer *stall_timer;
	struct hvd_timer *tx_more; /* continue absorbing from the event loop */
	uint64_t drop_episode; /* bytes the scrollback dropped this episode */
	uint64_t dropped;      /* ... since the device was created */

	bool rx_starved; /* input waits for receive buffers */
	bool guest_open; /* multiport: the guest opened the port */
	uint16_t cols, rows;
};

void port_backend_up(struct cport *port);
void port_backend_down(struct cport *port);
void port_reader_changed(struct cport *port);
void port_update_watches(struct cport *port);
/* port_tx.c */
int port_tx_init(struct cport *port, size_t scrollback, uint32_t stall_ms);
void port_tx_close(struct cport *port);
void port_tx_reset(struct cport *port);
bool port_attached(const struct cport *port);
void port_tx_pump(struct cport *port);
void port_tx_kick(struct cport *port);
void port_rx_kick(struct cport *port);
void port_emerg_write(struct cport *port, uint8_t ch);
void port_check_winsize(struct cport *port);
void port_reset(struct cport *port);
/* The next chain of a queue whose kicks are off while we have work; with
 * none left, kicks are on again. */
struct hvd_chain *port_pop(struct console *con, struct hvd_vq *vq);
/* Free everything the port holds (destroy). */
void port_close(struct cport *port);
/* May bytes flow from the backend to the guest now? */
bool port_rx_allowed(const struct cport *port);

/* ---- Control queue ------------------------------------------------------ */

struct ctrl_msg {
	struct ctrl_msg *next;
	uint32_t len;
	uint8_t data[]; /* struct virtio_console_control + payload */
};

void ctrl_send(struct console *con, uint32_t id, uint16_t event, uint16_t value,
	       const void *extra, uint32_t extra_len);
void ctrl_flush(struct console *con);
void ctrl_handle_tx(struct console *con);
void ctrl_reset(struct console *con);

/* ---- The device --------------------------------------------------------- */

struct console {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	unsigned nr_ports;
	struct cport ports[CONSOLE_MAX_PORTS];
	bool active;    /* between activate() and reset() */
	bool multiport; /* VIRTIO_CONSOLE_F_MULTIPORT negotiated */
	uint64_t features;
	struct ctrl_msg *ctrl_head, **ctrl_tail;
	unsigned ctrl_queued;
	/* Control messages left for the event loop after a full batch. */
	struct hvd_timer *ctrl_more;
	uint64_t emerg_dropped;
	bool emerg_refused; /* an emergency write without EMERG_WRITE: logged */
	uint64_t ctrl_dropped; /* control messages not sent this episode */
};

/* Queue indices (virtio 1.2 5.3.2). */
static inline unsigned port_rx_queue(unsigned id)
{
	return id == 0 ? 0 : 2 * id + 2;
}

static inline unsigned port_tx_queue(unsigned id)
{
	return id == 0 ? 1 : 2 * id + 3;
}

#define CTRL_RX_QUEUE 2u
#define CTRL_TX_QUEUE 3u

/* Tell the guest the console size changed (config space or RESIZE). */
void console_size_changed(struct console *con, struct cport *port);

#endif
