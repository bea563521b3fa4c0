/* SPDX-License-Identifier: MIT */
/*
 * stdio backend: the daemon's own fd 0 and 1, for running in the
 * foreground. A terminal is put in raw mode (signals kept, so ^C still
 * stops the daemon) and restored on close, as are the fd flags. Whoever
 * started the daemon in the foreground reads: the port always has a reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

/* One daemon has one stdin: what to restore on close. */
static struct termios saved_tio;
static bool tio_saved;
static int saved_flags[2] = {-1, -1};
static const struct backend *stdio_owner;

static int stdio_open(struct backend *be, const struct backend_cfg *cfg)
{
	struct console *con = be->port->con;
	if (stdio_owner) {
		con->host->log(con->dev, HVD_LOG_ERROR,
			       "port %u: stdio is already used by a console",
			       be->port->id);
		return -EBUSY;
	}
	stdio_owner = be;
	for (int fd = 0; fd < 2; fd++) {
		saved_flags[fd] = fcntl(fd, F_GETFL);
		if (saved_flags[fd] < 0 || backend_set_nonblock(fd)) {
			con->host->log(con->dev, HVD_LOG_ERROR,
				       "port %u: stdio fd %d: %m", be->port->id,
				       fd);
			return -EBADF;
		}
	}
	if (isatty(0) && tcgetattr(0, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		cfmakeraw(&raw);
		raw.c_lflag |= ISIG;
		raw.c_oflag |= OPOST | ONLCR;
		tcsetattr(0, TCSANOW, &raw);
		tio_saved = true;
	}
	be->in_fd = 0;
	be->out_fd = 1;
	be->reader = true;
	con->host->log(con->dev, HVD_LOG_INFO, "port %u: on stdin/stdout",
		       be->port->id);
	port_backend_up(be->port);
	return 0;
}

static void stdio_close(struct backend *be)
{
	if (stdio_owner != be)
		return;
	stdio_owner = NULL;
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
	tio_saved = false;
	for (int fd = 0; fd < 2; fd++) {
		if (saved_flags[fd] >= 0)
			fcntl(fd, F_SETFL, saved_flags[fd]);
		saved_flags[fd] = -1;
	}
	be->in_fd = be->out_fd = -1;
}

static void stdio_down(struct backend *be)
{
	/* End of stdin (or a dead terminal): no more input, output goes on. */
	be->in_eof = true;
}

static int stdio_winsize(struct backend *be, uint16_t *cols, uint16_t *rows)
{
	struct winsize ws;
	if (ioctl(1, TIOCGWINSZ, &ws) < 0)
		return -errno;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return 0;
}

const struct backend_ops backend_stdio_ops = {
	.kind = "stdio",
	.open = stdio_open,
	.close = stdio_close,
	.down = stdio_down,
	.winsize = stdio_winsize,
};
