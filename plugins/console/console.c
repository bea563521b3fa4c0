/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.2 section 5.3) device ops: JSON, features,
 * config space, activation and reset, and routing of queue kicks to the
 * ports and the control queue.
 *
 * JSON (all optional): "backend" ("pty" default, "socket", "stdio"),
 * "path" (socket), "pty_link" (pty), "log" (file that gets every byte the
 * guest prints), "scrollback" (bytes kept while nobody reads),
 * "stall_limit_ms" (longest a reader may hold the guest back),
 * "ports": [{"name", "backend", "path", "pty_link", "log", "scrollback",
 * "stall_limit_ms"}] for MULTIPORT; port 0 is the console described by the
 * top-level keys, and the extra ports take its scrollback and stall limit
 * unless they set their own.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ids.h>

#include "console.h"

#define F_SIZE        (1ull << VIRTIO_CONSOLE_F_SIZE)
#define F_MULTIPORT   (1ull << VIRTIO_CONSOLE_F_MULTIPORT)
#define F_EMERG_WRITE (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE)

/* Offsets in struct virtio_console_config. */
#define CFG_COLS     0u
#define CFG_ROWS     2u
#define CFG_MAXPORTS 4u
#define CFG_EMERG    8u
#define CFG_SIZE     12u

static const char *const backend_kinds[] = {"pty", "socket", "stdio", NULL};

/* Reads one string key of a port; 0, or -EINVAL (already logged). */
static int port_string(struct console *con, const char *prefix, const char *key,
		       const char **out)
{
	char full[64];
	snprintf(full, sizeof full, "%s%s", prefix, key);
	int r = con->host->cfg_string(con->dev, full, out);
	return r == -ENOENT ? 0 : r;
}

/* Unknown keys in a "ports" entry are errors, as at the top level. */
static int check_port_keys(struct console *con, unsigned index)
{
	static const char *const keys[] = {
		"name", "backend",    "path",           "pty_link",
		"log",  "scrollback", "stall_limit_ms", NULL};
	char key[32];
	snprintf(key, sizeof key, "ports[%u]", index);
	return con->host->cfg_check_keys_at(con->dev, key, keys) ? -EINVAL : 0;
}

/* "scrollback" and "stall_limit_ms" of a port; an extra port inherits
 * port 0's. 0, or -EINVAL (logged with the key's path). */
static int parse_tx_policy(struct console *con, struct cport *port,
			   const char *prefix)
{
	uint64_t sb = CONSOLE_SCROLLBACK_DEFAULT;
	uint64_t stall = CONSOLE_STALL_DEFAULT_MS;
	if (port->id) {
		sb = con->ports[0].sb.cap;
		stall = con->ports[0].stall_limit_ms;
	}
	char key[64];
	snprintf(key, sizeof key, "%sscrollback", prefix);
	if (con->host->cfg_u64_range(con->dev, key, 0, CONSOLE_SCROLLBACK_MAX,
				     &sb))
		return -EINVAL;
	snprintf(key, sizeof key, "%sstall_limit_ms", prefix);
	if (con->host->cfg_u64_range(con->dev, key, 0, CONSOLE_STALL_MAX_MS,
				     &stall))
		return -EINVAL;
	return port_tx_init(port, (size_t)sb, (uint32_t)stall);
}

static int parse_port(struct console *con, struct cport *port,
		      const char *prefix)
{
	struct backend_cfg cfg = {.kind = "pty"};
	if (port->id && check_port_keys(con, port->id - 1))
		return -EINVAL;
	const char *log_path = NULL;
	if (port_string(con, prefix, "backend", &cfg.kind) ||
	    port_string(con, prefix, "path", &cfg.path) ||
	    port_string(con, prefix, "pty_link", &cfg.pty_link) ||
	    port_string(con, prefix, "log", &log_path) ||
	    (port->id && port_string(con, prefix, "name", &port->name)))
		return -EINVAL;
	bool known = false;
	for (const char *const *k = backend_kinds; *k; k++)
		known |= strcmp(*k, cfg.kind) == 0;
	const char *problem = NULL;
	if (!known)
		problem = "backend: expected \"pty\", \"socket\" or \"stdio\"";
	else if (strcmp(cfg.kind, "socket") == 0 && !cfg.path)
		problem = "path: required by the socket backend";
	else if (strcmp(cfg.kind, "socket") != 0 && cfg.path)
		problem = "path: only the socket backend takes one";
	else if (strcmp(cfg.kind, "pty") != 0 && cfg.pty_link)
		problem = "pty_link: only the pty backend takes one";
	if (problem) {
		con->host->log(con->dev, HVD_LOG_ERROR, "%s%s", prefix,
			       problem);
		return -EINVAL;
	}
	int r = parse_tx_policy(con, port, prefix);
	if (r)
		return r;
	if (log_path) {
		port->log_fd = log_sink_open(con, log_path);
		if (port->log_fd < 0)
			return port->log_fd;
	}
	return backend_open(&port->be, port, &cfg);
}

static void console_destroy(void *state)
{
	struct console *con = state;
	for (unsigned i = 0; i < con->nr_ports; i++)
		port_close(&con->ports[i]);
	ctrl_reset(con);
	if (con->emerg_dropped)
		con->host->log(con->dev, HVD_LOG_WARN,
			       "%llu emergency bytes dropped",
			       (unsigned long long)con->emerg_dropped);
	free(con);
}

static int console_create(struct hvd_device *dev, struct hvd_device_info *info,
			  void **state)
{
	const struct hvd_host_services *host = hvd_host(dev);
	static const char *const keys[] = {
		"backend",    "path",           "pty_link", "log",
		"scrollback", "stall_limit_ms", "ports",    NULL};
	if (host->cfg_check_keys(dev, keys))
		return -EINVAL;
	unsigned extra = 0;
	int r = host->cfg_array_len(dev, "ports", &extra);
	if (r == -EINVAL)
		return r;
	if (extra >= CONSOLE_MAX_PORTS) {
		host->log(dev, HVD_LOG_ERROR, "ports: at most %u entries",
			  CONSOLE_MAX_PORTS - 1);
		return -EINVAL;
	}
	struct console *con = calloc(1, sizeof *con);
	if (!con)
		return -ENOMEM;
	con->dev = dev;
	con->host = host;
	con->ctrl_tail = &con->ctrl_head;
	r = 0;
	for (unsigned i = 0; i <= extra && !r; i++) {
		struct cport *port = &con->ports[i];
		port->con = con;
		port->id = i;
		port->log_fd = -1;
		port->be.in_fd = port->be.out_fd = port->be.aux_fd = -1;
		con->nr_ports++;
		char prefix[32] = "";
		if (i)
			snprintf(prefix, sizeof prefix, "ports[%u].", i - 1);
		r = parse_port(con, port, prefix);
	}
	if (r) {
		console_destroy(con);
		return r;
	}
	info->num_queues = extra ? 2 * con->nr_ports + 2 : 2;
	info->queue_max_size = 256;
	info->config_size = CFG_SIZE;
	info->features = F_EMERG_WRITE;
	if (extra)
		info->features |= F_MULTIPORT;
	/* SIZE only when port 0 has a terminal to follow (not a socket, nor
	 * stdio redirected to a file). */
	uint16_t cols, rows;
	const struct backend_ops *ops0 = con->ports[0].be.ops;
	if (ops0->winsize &&
	    ops0->winsize(&con->ports[0].be, &cols, &rows) == 0)
		info->features |= F_SIZE;
	*state = con;
	return 0;
}

static int console_features_ok(void *state, uint64_t features)
{
	struct console *con = state;
	con->features = features;
	return 0;
}

static int console_activate(void *state, uint64_t features)
{
	struct console *con = state;
	con->features = features;
	con->multiport = (features & F_MULTIPORT) != 0;
	con->active = true;
	for (unsigned i = 0; i < con->nr_ports; i++) {
		port_check_winsize(&con->ports[i]);
		port_tx_kick(&con->ports[i]);
	}
	return 0;
}

static void console_reset(void *state)
{
	struct console *con = state;
	con->active = false;
	con->features = 0;
	for (unsigned i = 0; i < con->nr_ports; i++)
		port_reset(&con->ports[i]);
	ctrl_reset(con);
	con->multiport = false;
}

void console_size_changed(struct console *con, struct cport *port)
{
	if (port->id != 0)
		return; /* only a console port has a size */
	if (con->active && con->multiport) {
		/* virtio 1.2 5.3.6.2: struct virtio_console_resize is
		 * { le16 cols; le16 rows; }. */
		uint16_t size[2] = {htole16(port->cols), htole16(port->rows)};
		ctrl_send(con, 0, VIRTIO_CONSOLE_RESIZE, 0, size, sizeof size);
	}
	if (con->features & F_SIZE)
		con->host->config_changed(con->dev);
}

static void console_config_read(void *state, uint32_t offset, void *buf,
				uint32_t len)
{
	struct console *con = state;
	uint8_t cfg[CFG_SIZE] = {0};
	uint16_t cols = htole16(con->ports[0].cols);
	uint16_t rows = htole16(con->ports[0].rows);
	uint32_t max_ports = htole32(con->nr_ports);
	memcpy(cfg + CFG_COLS, &cols, sizeof cols);
	memcpy(cfg + CFG_ROWS, &rows, sizeof rows);
	memcpy(cfg + CFG_MAXPORTS, &max_ports, sizeof max_ports);
	memcpy(buf, cfg + offset, len);
}

static void console_config_write(void *state, uint32_t offset, const void *buf,
				 uint32_t len)
{
	struct console *con = state;
	/* Only emerg_wr is writable, its low byte the character, and only
	 * with EMERG_WRITE negotiated (virtio 1.2 5.3.4: emerg_wr is part of
	 * the device only with that feature). */
	if (offset == CFG_EMERG && !(con->features & F_EMERG_WRITE)) {
		if (!con->emerg_refused)
			con->host->log(con->dev, HVD_LOG_WARN,
				       "emergency write without EMERG_WRITE "
				       "negotiated: ignored");
		con->emerg_refused = true;
		return;
	}
	if (offset == CFG_EMERG)
		port_emerg_write(&con->ports[0], *(const uint8_t *)buf);
}

static void console_queue_notify(void *state, unsigned index)
{
	struct console *con = state;
	if (index == CTRL_RX_QUEUE || index == CTRL_TX_QUEUE) {
		if (!con->multiport)
			return;
		if (index == CTRL_RX_QUEUE)
			ctrl_flush(con);
		else
			ctrl_handle_tx(con);
		return;
	}
	unsigned id = index < 2 ? 0 : (index - 2) / 2;
	if (id >= con->nr_ports || (id && !con->multiport))
		return;
	struct cport *port = &con->ports[id];
	if (index == port_rx_queue(id))
		port_rx_kick(port);
	else
		port_tx_kick(port);
}

static const struct hvd_device_ops console_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = console_create,
	.destroy = console_destroy,
	.features_ok = console_features_ok,
	.activate = console_activate,
	.reset = console_reset,
	.config_read = console_config_read,
	.config_write = console_config_write,
	.queue_notify = console_queue_notify,
};

HVD_PLUGIN_DEFINE("console", VIRTIO_ID_CONSOLE, "virtio console", "1.0",
		  &console_ops);
