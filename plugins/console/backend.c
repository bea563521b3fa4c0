/* SPDX-License-Identifier: MIT */
/* Backend selection and what every backend shares; the log file sink. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

static const struct backend_ops *const backends[] = {
	&backend_pty_ops,
	&backend_socket_ops,
	&backend_stdio_ops,
};

int backend_open(struct backend *be, struct cport *port,
		 const struct backend_cfg *cfg)
{
	memset(be, 0, sizeof *be);
	be->port = port;
	be->in_fd = be->out_fd = be->aux_fd = be->notify_fd = -1;
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
		if (strcmp(cfg->kind, backends[i]->kind) == 0) {
			be->ops = backends[i];
			return be->ops->open(be, cfg);
		}
	}
	return -EINVAL; /* the caller checked the name */
}

void backend_close(struct backend *be)
{
	if (be->ops && be->ops->close)
		be->ops->close(be);
	be->ops = NULL;
}

int backend_set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int log_sink_open(struct console *con, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		int err = errno;
		con->host->log(con->dev, HVD_LOG_ERROR, "log file %s: %s", path,
			       strerror(err));
		return -err;
	}
	return fd;
}

/* A regular file never answers EAGAIN, so writing it fully here is safe
 * and keeps every byte even while the port's own backend is full. */
int log_sink_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
