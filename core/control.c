/* SPDX-License-Identifier: MIT */
/*
 * The control socket's server side: listening, per-client buffers, line
 * framing, peer checks. What a request does is in control_cmd.c.
 */
#define _GNU_SOURCE /* accept4, struct ucred */
#include "control.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon.h"
#include "eventloop.h"
#include "log.h"

/* Bytes taken per read: one wake-up of a flooding client costs at most
 * this much copying before the loop serves its other watches. */
#define READ_CHUNK 65536u

/* Held around every control callback (the event loop takes it as the
 * watches' lock) and by control_close, so closing never races a callback.
 * Static: a zombie watch of a closed socket may still name it. */
static pthread_mutex_t control_lock = PTHREAD_MUTEX_INITIALIZER;

struct client {
	struct control *ctl;
	int fd;
	struct hvd_watch *watch;
	uid_t uid;
	bool refused;  /* peer check failed: one error reply, then close */
	bool skipping; /* inside an oversized line: drop up to '\n' */
	bool closing;  /* close once the reply is written */
	uint64_t last_active;
	size_t in_len;
	char *in; /* CONTROL_MAX_LINE */
	char *out;
	size_t out_len, out_off;
};

struct control {
	struct daemon *d;
	char *path;
	int fd;
	struct hvd_watch *watch;
	uid_t owner;
	/* Why the socket could not be opened: an error, or a warning when
	 * the daemon serves on without it (the default path). */
	enum hvd_log_level fail_level;
	uint64_t clock; /* activity counter for "idle the longest" */
	struct client *clients[CONTROL_MAX_CLIENTS];
};

bool control_peer_allowed(uid_t peer, uid_t owner)
{
	return peer == 0 || peer == owner;
}

static void client_free(struct client *cl)
{
	struct control *ctl = cl->ctl;
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i] == cl)
			ctl->clients[i] = NULL;
	eventloop_watch_remove(cl->watch);
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	free(cl);
}

/* Queue a reply (one line) and switch the client to writing. */
static void client_reply(struct client *cl, cJSON *reply)
{
	char *text = reply ? cJSON_PrintUnformatted(reply) : NULL;
	cJSON_Delete(reply);
	if (!text) {
		cl->closing = true; /* out of memory: nothing sane to say */
		return;
	}
	size_t n = strlen(text);
	cl->out = realloc(text, n + 2);
	if (!cl->out) {
		free(text);
		cl->closing = true;
		return;
	}
	cl->out[n] = '\n';
	cl->out_len = n + 1;
	cl->out_off = 0;
}

static void handle_line(struct client *cl, char *line)
{
	if (cl->refused) {
		client_reply(cl,
			     control_error("permission denied: uid %u is "
					   "neither root nor the daemon's uid "
					   "%u",
					   (unsigned)cl->uid,
					   (unsigned)cl->ctl->owner));
		cl->closing = true;
		return;
	}
	cJSON *req = cJSON_Parse(line);
	if (!req || !cJSON_IsObject(req)) {
		client_reply(cl, control_error("request: not a JSON object"));
	} else {
		client_reply(cl, control_handle(cl->ctl->d, req));
	}
	cJSON_Delete(req);
}

/* Take complete lines out of the input buffer, one reply at a time. */
static void process_input(struct client *cl)
{
	while (!cl->out && !cl->closing) {
		char *nl = memchr(cl->in, '\n', cl->in_len);
		if (!nl) {
			if (cl->in_len == CONTROL_MAX_LINE) {
				cl->in_len = 0;
				cl->skipping = true;
				client_reply(cl, control_error(
							 "request: longer than "
							 "%u bytes",
							 CONTROL_MAX_LINE));
			}
			return;
		}
		size_t len = (size_t)(nl - cl->in);
		*nl = '\0';
		if (cl->skipping)
			cl->skipping =
				false; /* the tail of an oversized line */
		else if (len)
			handle_line(cl, cl->in);
		cl->in_len -= len + 1;
		memmove(cl->in, nl + 1, cl->in_len);
	}
}

static uint32_t wanted_events(const struct client *cl)
{
	return cl->out ? EPOLLOUT : EPOLLIN;
}

/* Returns false when the client is gone. */
static bool client_write(struct client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off,
				 cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		cl->out_off += (size_t)n;
	}
	free(cl->out);
	cl->out = NULL;
	return !cl->closing;
}

static bool client_read(struct client *cl)
{
	size_t room = CONTROL_MAX_LINE - cl->in_len;
	if (room > READ_CHUNK)
		room = READ_CHUNK;
	ssize_t n = recv(cl->fd, cl->in + cl->in_len, room, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		       errno == EINTR;
	if (n == 0)
		return false; /* peer closed; unanswered input is dropped */
	if (cl->skipping) {
		/* Keep only what follows the oversized line's newline. */
		char *nl = memchr(cl->in + cl->in_len, '\n', (size_t)n);
		if (!nl)
			return true;
		cl->skipping = false;
		size_t keep =
			(size_t)n - (size_t)(nl + 1 - (cl->in + cl->in_len));
		memmove(cl->in, nl + 1, keep);
		cl->in_len = keep;
	} else {
		cl->in_len += (size_t)n;
	}
	return true;
}

static void client_event(void *opaque, int fd, uint32_t events)
{
	struct client *cl = opaque;
	(void)fd;
	cl->last_active = ++cl->ctl->clock;
	bool alive = true;
	if (cl->out)
		alive = client_write(cl);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		alive = client_read(cl);
	if (alive && !cl->out) {
		process_input(cl);
		/* Answer at once when the socket takes it (the usual case). */
		if (cl->out)
			alive = client_write(cl);
	}
	if (!alive || (cl->closing && !cl->out)) {
		client_free(cl);
		return;
	}
	if (eventloop_watch_modify(cl->watch, wanted_events(cl)))
		client_free(cl);
}

/* A free slot, or the slot of the client idle the longest (closed). */
static unsigned take_slot(struct control *ctl)
{
	unsigned oldest = 0;
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (!ctl->clients[i])
			return i;
		if (ctl->clients[i]->last_active <
		    ctl->clients[oldest]->last_active)
			oldest = i;
	}
	log_warn("control: %u clients connected; dropping the one idle the "
		 "longest",
		 CONTROL_MAX_CLIENTS);
	client_free(ctl->clients[oldest]);
	return oldest;
}

static void accept_event(void *opaque, int fd, uint32_t events)
{
	struct control *ctl = opaque;
	(void)events;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct client *cl = calloc(1, sizeof *cl);
	if (!cl || getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    !(cl->in = malloc(CONTROL_MAX_LINE)))
		goto fail;
	cl->ctl = ctl;
	cl->fd = cfd;
	cl->uid = cred.uid;
	cl->refused = !control_peer_allowed(cred.uid, ctl->owner);
	if (cl->refused)
		log_warn("control: refusing uid %u (pid %d)",
			 (unsigned)cred.uid, (int)cred.pid);
	cl->last_active = ++ctl->clock;
	unsigned slot = take_slot(ctl);
	cl->watch = eventloop_watch_add(ctl->d->loop, cfd, EPOLLIN,
					client_event, cl, &control_lock);
	if (!cl->watch)
		goto fail;
	ctl->clients[slot] = cl;
	return;
fail:
	if (cl)
		free(cl->in);
	free(cl);
	close(cfd);
}

/* -1: cannot tell; 0: nobody listens (stale); 1: a live socket. */
static int socket_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	int err = errno;
	close(fd);
	if (r == 0)
		return 1;
	return err == ECONNREFUSED || err == ENOENT ? 0 : -1;
}

static int bind_socket(struct control *ctl, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		log_msg(ctl->fail_level, "control socket %s: path too long",
			path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int live = socket_live(&sa);
	if (live) {
		log_msg(ctl->fail_level, "control socket %s: %s", path,
			live > 0 ? "another daemon is serving it (use "
				   "--control PATH or --no-control)"
				 : "exists and cannot be checked");
		return -1;
	}
	unlink(path); /* stale */
	ctl->fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->fd < 0)
		goto fail;
	/* 0600 from the start: no window where others could connect. */
	mode_t old = umask(0177);
	int r = bind(ctl->fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (r || chmod(path, 0600) || listen(ctl->fd, 16))
		goto fail;
	return 0;
fail:
	log_msg(ctl->fail_level, "control socket %s: %s", path,
		strerror(errno));
	return -1;
}

/* The default path's folder: created 0700 when missing. */
static void make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path || (size_t)(slash - path) >= sizeof dir)
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (mkdir(dir, 0700) && errno != EEXIST)
		log_warn("control socket: cannot create %s: %s", dir,
			 strerror(errno));
}

struct control *control_open(struct daemon *d, const char *path, bool optional)
{
	struct control *ctl = calloc(1, sizeof *ctl);
	if (!ctl)
		return NULL;
	ctl->d = d;
	ctl->fail_level = optional ? HVD_LOG_WARN : HVD_LOG_ERROR;
	ctl->fd = -1;
	ctl->owner = geteuid();
	ctl->path = strdup(path);
	if (!ctl->path)
		goto fail;
	make_parent(path);
	if (bind_socket(ctl, path))
		goto fail;
	ctl->watch = eventloop_watch_add(d->loop, ctl->fd, EPOLLIN,
					 accept_event, ctl, &control_lock);
	if (!ctl->watch) {
		log_msg(ctl->fail_level, "control socket %s: %s", path,
			strerror(errno));
		unlink(path);
		goto fail;
	}
	log_info("control socket: %s", path);
	return ctl;
fail:
	if (ctl->fd >= 0)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	return NULL;
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	/* With the lock held no callback runs, and a removed watch is never
	 * called again (eventloop.c checks `dead` under this lock). */
	pthread_mutex_lock(&control_lock);
	eventloop_watch_remove(ctl->watch);
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i])
			client_free(ctl->clients[i]);
	pthread_mutex_unlock(&control_lock);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

const char *control_path(const struct control *ctl)
{
	return ctl->path;
}

void control_set_owner_uid(struct control *ctl, uid_t uid)
{
	ctl->owner = uid;
}
