/* SPDX-License-Identifier: MIT */
/*
 * Binding a UNIX socket to a path a previous run may have left behind:
 * the file is replaced only when nobody answers on it (connecting gets
 * ECONNREFUSED), so a second daemon never steals a live socket. Shared by
 * the plugins that create sockets (gpu's vnc backend, input).
 */
#ifndef PLUGINS_COMMON_UNIX_SOCKET_H
#define PLUGINS_COMMON_UNIX_SOCKET_H

#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static inline bool unix_socket_stale(const struct sockaddr_un *a, int type)
{
	struct stat st;
	if (lstat(a->sun_path, &st) || !S_ISSOCK(st.st_mode))
		return false;
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool stale = connect(fd, (const struct sockaddr *)a, sizeof *a) &&
		     errno == ECONNREFUSED;
	close(fd);
	return stale;
}

/* bind(fd, a), replacing a stale socket file. 0, or -1 with errno set. */
static inline int unix_bind(int fd, const struct sockaddr_un *a, int type)
{
	int r = bind(fd, (const struct sockaddr *)a, sizeof *a);
	if (r && errno == EADDRINUSE && unix_socket_stale(a, type) &&
	    !unlink(a->sun_path))
		r = bind(fd, (const struct sockaddr *)a, sizeof *a);
	return r;
}

#endif
