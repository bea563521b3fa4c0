/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.2 section 5.3): shared state of the plugin.
 *
 * Files, one job each:
 *   console.c     device ops: JSON, features, config space, reset, routing
 *   port_io.c     one port's data path: guest output -> backend (tx) and
 *                 backend -> guest input (rx), flow control, fd watches
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

#include <linux/virtio_console.h>

#include "hvd/plugin.h"

/* Ports a device may have: port 0 plus the JSON "ports" array. Each needs
 * two queues, and the core allows HVD_MAX_QUEUES. */
#define CONSOLE_MAX_PORTS ((HVD_MAX_QUEUES - 2) / 2)

/* Emergency writes waiting for a full backend (bytes). Emergency output is
 * a last resort for a dying guest; beyond this it is counted and dropped. */
#define CONSOLE_EMERG_BUF 4096u

struct console;
struct cport;

/* ---- Backends ----------------------------------------------------------- */

struct backend_cfg {
	const char *kind;     /* "pty", "socket", "stdio" */
	const char *path;     /* socket: where to listen */
	const char *pty_link; /* pty: optional stable symlink */
};

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
	/* Backend-private. */
	int aux_fd;                  /* pty: slave; socket: listener */
	struct hvd_watch *aux_watch; /* socket: listener */
	char *path;                  /* pty: link; socket: socket path */
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

	bool rx_starved; /* input waits for receive buffers */
	bool guest_open; /* multiport: the guest opened the port */
	uint16_t cols, rows;
};

void port_backend_up(struct cport *port);
void port_backend_down(struct cport *port);
void port_update_watches(struct cport *port);
void port_tx_kick(struct cport *port);
void port_rx_kick(struct cport *port);
void port_emerg_write(struct cport *port, uint8_t ch);
void port_check_winsize(struct cport *port);
void port_reset(struct cport *port);
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
