/* SPDX-License-Identifier: MIT */
/*
 * socket backend: a UNIX stream server at `path`, one client at a time.
 * While a client is connected we stop accepting (the next one waits in the
 * backlog); when it leaves we listen again. The connected client is the
 * port's reader; output the guest writes while nobody is connected goes to
 * the port's scrollback, which the next client gets first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "console.h"

static void sock_log(struct backend *be, enum hvd_log_level level,
		     const char *what)
{
	struct console *con = be->port->con;
	con->host->log(con->dev, level, "port %u: socket %s: %s", be->port->id,
		       be->path, what);
}

static void sock_listen(struct backend *be);

static void sock_accept(void *opaque, int fd, uint32_t events)
{
	struct backend *be = opaque;
	int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (client < 0)
		return; /* EAGAIN/ECONNABORTED/EINTR: the watch tells again */
	struct console *con = be->port->con;
	con->host->watch_remove(be->aux_watch);
	be->aux_watch = NULL;
	be->in_fd = be->out_fd = client;
	be->out_is_socket = true;
	be->reader = true;
	sock_log(be, HVD_LOG_INFO, "client connected");
	port_backend_up(be->port);
}

static void sock_listen(struct backend *be)
{
	struct console *con = be->port->con;
	be->aux_watch = con->host->watch_add(con->dev, be->aux_fd, HVD_EV_IN,
					     sock_accept, be);
	if (!be->aux_watch)
		sock_log(be, HVD_LOG_ERROR, "cannot watch the listener");
}

static int sock_open(struct backend *be, const struct backend_cfg *cfg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	be->path = strdup(cfg->path);
	if (!be->path)
		return -ENOMEM;
	if (strlen(cfg->path) >= sizeof sa.sun_path) {
		sock_log(be, HVD_LOG_ERROR, "path too long");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, cfg->path);
	struct stat st;
	if (lstat(cfg->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			sock_log(be, HVD_LOG_ERROR, "exists and is no socket");
			return -EEXIST;
		}
		unlink(cfg->path); /* left behind by an earlier run */
	}
	be->aux_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (be->aux_fd < 0 ||
	    bind(be->aux_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(be->aux_fd, 1) < 0) {
		int err = errno;
		sock_log(be, HVD_LOG_ERROR, strerror(err));
		return -err;
	}
	sock_listen(be);
	if (!be->aux_watch)
		return -ENOMEM;
	sock_log(be, HVD_LOG_INFO, "listening");
	return 0;
}

static void drop_client(struct backend *be)
{
	if (be->in_fd >= 0)
		close(be->in_fd);
	be->in_fd = be->out_fd = -1;
	be->reader = false;
}

static void sock_close(struct backend *be)
{
	struct console *con = be->port->con;
	if (be->aux_watch)
		con->host->watch_remove(be->aux_watch);
	be->aux_watch = NULL;
	drop_client(be);
	if (be->aux_fd >= 0) {
		close(be->aux_fd);
		unlink(be->path);
	}
	be->aux_fd = -1;
	free(be->path);
	be->path = NULL;
}

static void sock_down(struct backend *be)
{
	drop_client(be);
	sock_log(be, HVD_LOG_INFO, "client disconnected");
	sock_listen(be);
}

const struct backend_ops backend_socket_ops = {
	.kind = "socket",
	.open = sock_open,
	.close = sock_close,
	.down = sock_down,
};
