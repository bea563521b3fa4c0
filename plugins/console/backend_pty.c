/* SPDX-License-Identifier: MIT */
/*
 * pty backend: a pseudo-terminal whose slave side an operator attaches to
 * (screen, minicom). We keep a slave fd open ourselves, so a client that
 * detaches never leaves the master without a slave: no EIO/HUP storm and
 * output keeps queueing until someone reads. The window size the client
 * sets on the slave is read back with TIOCGWINSZ on the master each time
 * input arrives and when the port comes up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

static void pty_log(struct backend *be, enum hvd_log_level level,
		    const char *what, const char *arg, int err)
{
	struct console *con = be->port->con;
	con->host->log(con->dev, level, "port %u: %s %s: %s", be->port->id,
		       what, arg, strerror(err));
}

/* Point `link` at `target`, replacing a stale symlink (never another kind
 * of file: that is a configuration mistake). */
static int make_link(struct backend *be, const char *link, const char *target)
{
	struct stat st;
	if (lstat(link, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			pty_log(be, HVD_LOG_ERROR, "pty_link", link, EEXIST);
			return -EEXIST;
		}
		if (unlink(link) < 0 && errno != ENOENT) {
			int err = errno;
			pty_log(be, HVD_LOG_ERROR, "cannot remove", link, err);
			return -err;
		}
	}
	if (symlink(target, link) < 0) {
		int err = errno;
		pty_log(be, HVD_LOG_ERROR, "cannot create pty_link", link, err);
		return -err;
	}
	return 0;
}

static int pty_open(struct backend *be, const struct backend_cfg *cfg)
{
	struct console *con = be->port->con;
	char slave[128];
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, slave, sizeof slave) ||
	    backend_set_nonblock(master)) {
		int err = errno;
		pty_log(be, HVD_LOG_ERROR, "cannot", "allocate a pty", err);
		if (master >= 0)
			close(master);
		return -err;
	}
	int keep = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios tio;
	if (keep < 0 || tcgetattr(keep, &tio)) {
		int err = errno;
		pty_log(be, HVD_LOG_ERROR, "cannot open", slave, err);
		if (keep >= 0)
			close(keep);
		close(master);
		return -err;
	}
	/* Bytes pass unchanged both ways: the guest runs its own tty. */
	cfmakeraw(&tio);
	tcsetattr(keep, TCSANOW, &tio);
	be->in_fd = be->out_fd = master;
	be->aux_fd = keep;
	if (cfg->pty_link) {
		int r = make_link(be, cfg->pty_link, slave);
		if (r) {
			close(keep);
			close(master);
			be->in_fd = be->out_fd = be->aux_fd = -1;
			return r;
		}
		be->path = strdup(cfg->pty_link);
	}
	con->host->log(con->dev, HVD_LOG_INFO, "port %u: pty %s%s%s",
		       be->port->id, slave,
		       cfg->pty_link ? " linked from " : "",
		       cfg->pty_link ? cfg->pty_link : "");
	port_backend_up(be->port);
	return 0;
}

static void pty_close(struct backend *be)
{
	if (be->path) {
		unlink(be->path);
		free(be->path);
		be->path = NULL;
	}
	if (be->in_fd >= 0)
		close(be->in_fd);
	if (be->aux_fd >= 0)
		close(be->aux_fd);
	be->in_fd = be->out_fd = be->aux_fd = -1;
}

static void pty_down(struct backend *be)
{
	/* With our own slave fd open this means the pty itself failed: stop
	 * reading rather than spin on the error. */
	struct console *con = be->port->con;
	con->host->log(con->dev, HVD_LOG_ERROR, "port %u: pty failed",
		       be->port->id);
	be->in_eof = true;
}

static int pty_winsize(struct backend *be, uint16_t *cols, uint16_t *rows)
{
	struct winsize ws;
	if (be->in_fd < 0 || ioctl(be->in_fd, TIOCGWINSZ, &ws) < 0)
		return -errno;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return 0;
}

const struct backend_ops backend_pty_ops = {
	.kind = "pty",
	.open = pty_open,
	.close = pty_close,
	.down = pty_down,
	.winsize = pty_winsize,
};
