/* SPDX-License-Identifier: MIT */
/*
 * pty backend: a pseudo-terminal whose slave side an operator attaches to
 * (screen, minicom). We keep a slave fd open ourselves, so a client that
 * detaches never leaves the master without a slave: no EIO/HUP storm and
 * output keeps queueing until someone reads. The window size the client
 * sets on the slave is read back with TIOCGWINSZ on the master each time
 * input arrives and when the port comes up.
 *
 * Whether a client has the slave open (the port has a reader) cannot be
 * read off the master while our own slave fd is open: the master reports
 * a hang-up only when no slave fd is left at all. An inotify watch on the
 * slave node counts the opens and closes of everyone else instead: ours
 * happened before the watch existed. Each open(2) of the node is one
 * IN_OPEN, and the last close of that open file (dup'ed and inherited fds
 * share it) one IN_CLOSE_*; both are queued before the system call
 * returns, so draining the queue tells the state as of now (verified on
 * Linux 6.1 with dup'ed fds and opens through a symlink: one event each).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
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

/* Bring be->reader up to date from the queued inotify events. */
static void pty_count_clients(struct backend *be)
{
	/* Aligned for struct inotify_event, as inotify(7) asks. */
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	bool overflow = false;
	for (;;) {
		ssize_t n = read(be->notify_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EAGAIN: all read */
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			overflow |= (ev->mask & IN_Q_OVERFLOW) != 0;
			if (ev->mask & IN_OPEN)
				be->opens++;
			if (ev->mask & IN_CLOSE)
				be->opens--;
			p += sizeof *ev + ev->len;
		}
	}
	if (overflow) {
		/* The count is lost: assume a reader (no loss), which the
		 * stall limit bounds; the next close corrects it. */
		pty_log(be, HVD_LOG_WARN, "lost count of", "pty clients",
			EOVERFLOW);
		be->opens = 1;
	}
	if (be->opens < 0)
		be->opens = 0;
	be->reader = be->opens > 0 && be->notify_fd >= 0;
}

static void pty_clients_changed(void *opaque, int fd, uint32_t events)
{
	struct backend *be = opaque;
	bool before = be->reader;
	pty_count_clients(be);
	if (be->reader != before)
		port_reader_changed(be->port);
}

/* Without inotify the port counts as read all the time, as before the
 * scrollback existed; the stall limit still bounds the guest's wait. */
static void watch_clients(struct backend *be, const char *slave)
{
	struct console *con = be->port->con;
	be->notify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (be->notify_fd < 0 ||
	    inotify_add_watch(be->notify_fd, slave, IN_OPEN | IN_CLOSE) < 0 ||
	    !(be->notify_watch =
		      con->host->watch_add(con->dev, be->notify_fd, HVD_EV_IN,
					   pty_clients_changed, be))) {
		pty_log(be, HVD_LOG_WARN, "cannot watch for clients of", slave,
			errno);
		if (be->notify_fd >= 0)
			close(be->notify_fd);
		be->notify_fd = -1;
		be->reader = true;
	}
}

static void pty_refresh(struct backend *be)
{
	if (be->notify_fd >= 0)
		pty_count_clients(be);
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
	watch_clients(be, slave);
	con->host->log(con->dev, HVD_LOG_INFO, "port %u: pty %s%s%s",
		       be->port->id, slave,
		       cfg->pty_link ? " linked from " : "",
		       cfg->pty_link ? cfg->pty_link : "");
	port_backend_up(be->port);
	return 0;
}

static void unwatch_clients(struct backend *be)
{
	if (be->notify_watch)
		be->port->con->host->watch_remove(be->notify_watch);
	be->notify_watch = NULL;
	if (be->notify_fd >= 0)
		close(be->notify_fd);
	be->notify_fd = -1;
}

static void pty_close(struct backend *be)
{
	unwatch_clients(be);
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
	 * reading rather than spin on the error, and keep the output in the
	 * scrollback (and log) rather than hold the guest for good. */
	struct console *con = be->port->con;
	con->host->log(con->dev, HVD_LOG_ERROR, "port %u: pty failed",
		       be->port->id);
	be->in_eof = true;
	unwatch_clients(be);
	be->reader = false;
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
	.refresh = pty_refresh,
};
