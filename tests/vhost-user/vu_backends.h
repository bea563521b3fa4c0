/* SPDX-License-Identifier: MIT */
/*
 * Real vhost-user backends for the vhost-user suites, run as children of
 * the test. The test owns the backend's listening socket: it binds and
 * listens, then hands the fd to the backend (qemu-storage-daemon
 * addr.type=fd), so the daemon can connect the moment the socket exists,
 * with no wait for the backend to be ready; killing the backend closes
 * the last copy of the listening socket (connections are then refused).
 */
#ifndef TESTS_VU_BACKENDS_H
#define TESTS_VU_BACKENDS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_mmio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "hvd/mock.h"

#define QSD_BIN "qemu-storage-daemon"

/* Wait until the device's Status shows NEEDS_RESET and its configuration
 * interrupt was taken: each interrupt wakes us to look again; false when
 * none comes within timeout_ms. The daemon sets NEEDS_RESET, then bumps
 * the configuration generation, then raises the interrupt (device_fail),
 * so once both are seen the generation is the failed device's for good. */
static inline bool vut_wait_needs_reset(struct hvd_guest_dev *gd,
					int timeout_ms)
{
	bool config_irq = false;
	for (;;) {
		/* ACK before looking: the daemon raises the line again only
		 * after an ACK, and what came before it is seen here. */
		uint64_t seen = hvd_guest_irq_count(gd);
		config_irq |= (hvd_guest_ack_interrupt(gd) &
			       VIRTIO_MMIO_INT_CONFIG) != 0;
		if (config_irq &&
		    (hvd_guest_status(gd) & VIRTIO_CONFIG_S_NEEDS_RESET))
			return true;
		if (hvd_guest_wait_irq(gd, seen, timeout_ms))
			return false;
	}
}

/* Whether `prog` is on PATH (or an executable path). */
static inline bool vut_have(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	char buf[512];
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path = end ? end + 1 : NULL;
	}
	return false;
}

/* A listening UNIX socket at `path` (replacing a stale one), fd or -1. */
static inline int vut_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return -1;
	memcpy(sa.sun_path, path, strlen(path));
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The fd number a backend finds its listening socket at (vut_spawn). */
#define VUT_LISTEN_FD 3

/* Run argv with stdio to `log` and the listening socket `lfd` as fd 3,
 * nothing else inherited (the in-process daemon's fds stay ours); closes
 * the test's copy of lfd. Returns the child's pid or -1. */
static inline pid_t vut_spawn_env(char *const argv[], int lfd, const char *log,
				  bool socket_activation)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* systemd's socket activation protocol: fd 3 onwards. */
		char pidbuf[24];
		snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
		if (socket_activation && (setenv("LISTEN_PID", pidbuf, 1) ||
					  setenv("LISTEN_FDS", "1", 1)))
			_exit(126);
		int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		if (dup2(lfd, VUT_LISTEN_FD) < 0)
			_exit(126);
		close_range(VUT_LISTEN_FD + 1, ~0u, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(lfd);
	return pid;
}

static inline pid_t vut_spawn(char *const argv[], int lfd, const char *log)
{
	return vut_spawn_env(argv, lfd, log, false);
}

/* A TCP socket listening on 127.0.0.1 at a port the kernel picks. */
static inline int vut_listen_tcp(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* nbdkit serving `file` over NBD on TCP loopback (socket-activated on
 * the listening socket `lfd`). */
static inline pid_t vut_nbdkit(const char *file, int lfd, const char *log)
{
	char arg[256];
	snprintf(arg, sizeof arg, "file=%s", file);
	char *argv[] = {"nbdkit", "-f", "file", arg, NULL};
	return vut_spawn_env(argv, lfd, log, true);
}

/* SIGKILL the child and reap it. */
static inline void vut_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
	}
}

/* qemu-storage-daemon exporting the --blockdev `blockdev` (e.g.
 * "driver=file,filename=IMG") as vhost-user-blk on the listening socket
 * `lfd`, with export options `extra` ("" or ",num-queues=2"). */
static inline pid_t vut_qsd(const char *blockdev, const char *extra, int lfd,
			    const char *log)
{
	char bd[512], ex[256];
	snprintf(bd, sizeof bd, "%s,node-name=disk", blockdev);
	snprintf(ex, sizeof ex,
		 "type=vhost-user-blk,id=exp,node-name=disk,addr.type=fd,"
		 "addr.str=%d,writable=on%s",
		 VUT_LISTEN_FD, extra);
	char *argv[] = {QSD_BIN, "--blockdev", bd, "--export", ex, NULL};
	return vut_spawn(argv, lfd, log);
}

#endif
