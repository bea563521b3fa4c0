/* SPDX-License-Identifier: MIT */
/*
 * The vnc backend: every scanout is an RFB server (Debian's libvncserver),
 * scanout N on `listen` port + N, or on `listen`.N for a UNIX socket path.
 * A viewer sees the scanout's picture with the guest's cursor drawn in; a
 * scanout the guest resizes (SET_SCANOUT of another size) gets a new
 * framebuffer, announced to viewers that support the NewFBSize encoding.
 * Keys and pointer go to the input plugin named by `input` (vnc_input.c).
 *
 * The listening sockets are ours, not libvncserver's (its own listener only
 * logs a failed bind, and 0.9.14 has no UNIX socket server): accepted
 * connections are handed to rfbNewClient(), which takes any stream socket.
 * libvncserver runs without its threads; the backend's own thread polls
 * the sockets and calls rfbProcessEvents(screen, 0) (vnc.h says who owns
 * what). Facts: libvncserver 0.9.14 (LibVNCServer-0.9.14, 10e9eb75),
 * libvncserver/main.c, sockets.c, rfbserver.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unix_socket.h"
#include "vnc.h"

#define VNC_DEFAULT_LISTEN "127.0.0.1:5900"
/* Largest scanout shown (the EDID's modes stop at 4095): the backend
 * keeps two copies of each picture outside max_memory, 64 MiB each at
 * most. */
#define VNC_MAX_DIM 4096u

/* libvncserver logs through two process-wide hooks; the backend reports
 * what matters itself. */
static void rfb_quiet(const char *fmt, ...)
{
	(void)fmt;
}

/* ---- Listening sockets -------------------------------------------------- */

static int listen_unix(struct gpu *gpu, struct vnc_view *view, const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int n = view->sid ? snprintf(a.sun_path, sizeof a.sun_path, "%s.%u",
				     path, view->sid)
			  : snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	if (n < 0 || (size_t)n >= sizeof a.sun_path)
		return gpu->host->cfg_error(gpu->dev, "listen",
					    "%s: a socket path has at most "
					    "%zu bytes",
					    path, sizeof a.sun_path - 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	view->listen_fd = fd;
	if (unix_bind(fd, &a, SOCK_STREAM))
		return gpu->host->cfg_error(gpu->dev, "listen", "%s: %s",
					    a.sun_path, strerror(errno));
	view->unix_path = strdup(a.sun_path); /* removed at close */
	if (!view->unix_path)
		return -ENOMEM;
	if (listen(fd, 4))
		return gpu->host->cfg_error(gpu->dev, "listen", "%s: %s",
					    a.sun_path, strerror(errno));
	return 0;
}

/* "HOST:PORT" or "[IPV6]:PORT" into host and port; false if malformed. */
static bool split_host_port(const char *s, char *host, size_t room,
			    unsigned long *port)
{
	const char *colon, *h = s;
	size_t hlen;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return false;
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return false; /* none, or IPv6 without brackets */
		hlen = (size_t)(colon - s);
	}
	if (!hlen || hlen >= room || !colon[1] || colon[1] == '-' ||
	    colon[1] == '+')
		return false;
	char *end;
	errno = 0;
	*port = strtoul(colon + 1, &end, 10);
	if (errno || *end || *port > 65535)
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return true;
}

static int listen_tcp(struct gpu *gpu, struct vnc_view *view,
		      const char *listen_at)
{
	char host[256], port_s[8];
	unsigned long port;
	if (!split_host_port(listen_at, host, sizeof host, &port))
		return gpu->host->cfg_error(gpu->dev, "listen",
					    "\"%s\" is not HOST:PORT, "
					    "[IPV6]:PORT or a /socket/path",
					    listen_at);
	if (port && port + view->sid > 65535)
		return gpu->host->cfg_error(gpu->dev, "listen",
					    "scanout %u would need port %lu",
					    view->sid, port + view->sid);
	snprintf(port_s, sizeof port_s, "%lu", port ? port + view->sid : 0);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV},
			*ai;
	int e = getaddrinfo(host, port_s, &hints, &ai);
	if (e)
		return gpu->host->cfg_error(gpu->dev, "listen", "%s: %s", host,
					    gai_strerror(e));
	int fd = socket(ai->ai_family,
			SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1, r = fd < 0 ? -1 : 0;
	if (!r) {
		view->listen_fd = fd;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		r = bind(fd, ai->ai_addr, ai->ai_addrlen);
	}
	if (!r)
		r = listen(fd, 4);
	freeaddrinfo(ai);
	if (r)
		return gpu->host->cfg_error(gpu->dev, "listen",
					    "%s port %s (scanout %u): %s", host,
					    port_s, view->sid, strerror(errno));
	return 0;
}

/* ---- libvncserver ------------------------------------------------------- */

static int view_open(struct vnc *v, struct vnc_view *view,
		     const char *listen_at)
{
	struct gpu *gpu = v->gpu;
	int r = listen_at[0] == '/' ? listen_unix(gpu, view, listen_at)
				    : listen_tcp(gpu, view, listen_at);
	if (r)
		return r;
	view->w = gpu->width;
	view->h = gpu->height;
	view->fb = calloc((size_t)view->w * view->h, sizeof *view->fb);
	view->stage = calloc((size_t)view->w * view->h, sizeof *view->stage);
	/* 8 bits per colour, 3 colours, 4 bytes per pixel. */
	view->screen =
		rfbGetScreen(NULL, NULL, (int)view->w, (int)view->h, 8, 3, 4);
	if (!view->fb || !view->stage || !view->screen)
		return -ENOMEM;
	rfbScreenInfoPtr s = view->screen;
	snprintf(view->name, sizeof view->name, "%s scanout %u",
		 gpu->host->name(gpu->dev), view->sid);
	s->desktopName = view->name;
	s->frameBuffer = (char *)view->fb;
	s->screenData = view;
	/* No listener of its own (see the top), no deferred updates or
	 * pointer events (the thread would have to wake up for them), no
	 * cursor of its own drawn over the guest's. */
	s->port = 0;
	s->ipv6port = 0;
	s->deferUpdateTime = 0;
	s->deferPtrUpdateTime = 0;
	s->cursor = NULL;
	s->alwaysShared = TRUE;
	s->kbdAddEvent = vnc_key_event;
	s->ptrAddEvent = vnc_pointer_event;
	rfbInitServer(s);
	v->rshift = s->serverFormat.redShift;
	v->gshift = s->serverFormat.greenShift;
	v->bshift = s->serverFormat.blueShift;
	return 0;
}

static void view_close(struct vnc_view *view)
{
	if (view->screen)
		rfbScreenCleanup(view->screen); /* closes the viewers too */
	if (view->listen_fd >= 0)
		close(view->listen_fd);
	if (view->unix_path)
		unlink(view->unix_path);
	free(view->unix_path);
	free(view->fb);
	free(view->stage);
}

static unsigned count_clients(rfbScreenInfoPtr s)
{
	unsigned n = 0;
	rfbClientIteratorPtr it = rfbGetClientIterator(s);
	while (rfbClientIteratorNext(it))
		n++;
	rfbReleaseClientIterator(it);
	return n;
}

static void accept_viewers(struct vnc_view *view)
{
	int fd;
	while ((fd = accept4(view->listen_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		if (count_clients(view->screen) >= VNC_MAX_CLIENTS)
			close(fd);
		else
			rfbNewClient(view->screen, fd); /* closes it on error */
	}
	/* Out of descriptors or memory: the connection stays queued and the
	 * socket readable; the thread retries in a second, not in a loop. */
	view->accept_failed =
		errno != EAGAIN && errno != EINTR && errno != ECONNABORTED;
}

/* Copy what present() staged into the framebuffers; false when the
 * thread is to stop. Backend thread. */
static bool take_pictures(struct vnc *v)
{
	pthread_mutex_lock(&v->lock);
	bool go_on = !v->stop;
	for (uint32_t i = 0; i < v->nviews && go_on; i++) {
		struct vnc_view *view = &v->views[i];
		size_t n = (size_t)view->w * view->h;
		if (view->resized) {
			uint32_t *fb = malloc(n * sizeof *fb);
			if (!fb)
				continue; /* kept staged: tried at next wake */
			memcpy(fb, view->stage, n * sizeof *fb);
			rfbNewFramebuffer(view->screen, (char *)fb,
					  (int)view->w, (int)view->h, 8, 3, 4);
			free(view->fb);
			view->fb = fb;
			view->resized = false;
			view->x1 = 0;
		} else if (view->x1) {
			size_t cols = view->x1 - view->x0;
			for (uint32_t y = view->y0; y < view->y1; y++) {
				size_t at = (size_t)y * view->w + view->x0;
				memcpy(view->fb + at, view->stage + at,
				       cols * sizeof *view->fb);
			}
			rfbMarkRectAsModified(view->screen, (int)view->x0,
					      (int)view->y0, (int)view->x1,
					      (int)view->y1);
			view->x1 = 0;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return go_on;
}

static void *vnc_thread(void *arg)
{
	struct vnc *v = arg;
	struct pollfd pfd[1 + VIRTIO_GPU_MAX_SCANOUTS * (1 + VNC_MAX_CLIENTS)];
	for (;;) {
		nfds_t n = 0;
		int timeout = -1;
		pfd[n++] = (struct pollfd){.fd = v->wake_fd, .events = POLLIN};
		for (uint32_t i = 0; i < v->nviews; i++) {
			struct vnc_view *view = &v->views[i];
			if (view->accept_failed)
				timeout = 1000;
			pfd[n++] = (struct pollfd){
				.fd = view->accept_failed ? -1
							  : view->listen_fd,
				.events = POLLIN};
			rfbClientIteratorPtr it =
				rfbGetClientIterator(view->screen);
			rfbClientPtr cl;
			while ((cl = rfbClientIteratorNext(it)) &&
			       n < sizeof pfd / sizeof pfd[0])
				if (cl->sock >= 0)
					pfd[n++] = (struct pollfd){
						.fd = cl->sock,
						.events = POLLIN};
			rfbReleaseClientIterator(it);
		}
		if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
			v->gpu->host->log(v->gpu->dev, HVD_LOG_ERROR,
					  "vnc: poll: %s; viewers are no "
					  "longer served",
					  strerror(errno));
			break;
		}
		uint64_t count;
		if (pfd[0].revents && read(v->wake_fd, &count, sizeof count) &&
		    !take_pictures(v))
			break;
		for (uint32_t i = 0; i < v->nviews; i++) {
			accept_viewers(&v->views[i]);
			/* Reads what viewers sent, sends what they asked for
			 * and changed; a zero timeout: poll() waited. */
			rfbProcessEvents(v->views[i].screen, 0);
		}
	}
	return NULL;
}

/* ---- Backend hooks ------------------------------------------------------ */

static void wake(struct vnc *v)
{
	uint64_t one = 1;
	if (write(v->wake_fd, &one, sizeof one) != sizeof one)
		return; /* only at counter overflow: a wake is due anyway */
}

static void vnc_close(struct gpu *gpu)
{
	struct vnc *v = gpu->backend_state;
	if (!v)
		return;
	if (v->thread_started) {
		pthread_mutex_lock(&v->lock);
		v->stop = true;
		pthread_mutex_unlock(&v->lock);
		wake(v);
		pthread_join(v->thread, NULL);
	}
	for (uint32_t i = 0; i < v->nviews; i++)
		view_close(&v->views[i]);
	if (v->wake_fd >= 0)
		close(v->wake_fd);
	if (v->input_fd >= 0)
		close(v->input_fd);
	pthread_mutex_destroy(&v->lock);
	free(v->row);
	free(v);
	gpu->backend_state = NULL;
}

static int add_input(struct vnc *v, const char *key, const char *path)
{
	struct sockaddr_un *a = &v->input_addr[v->ninputs++];
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a->sun_path)
		return v->gpu->host->cfg_error(v->gpu->dev, key,
					       "%s: a socket path has at most "
					       "%zu bytes",
					       path, sizeof a->sun_path - 1);
	strcpy(a->sun_path, path);
	return 0;
}

/* `input`: one socket path or an array of up to VNC_MAX_INPUTS. */
static int open_input(struct vnc *v)
{
	const struct hvd_host_services *host = v->gpu->host;
	struct hvd_device *dev = v->gpu->dev;
	const char *path;
	unsigned n = 0;
	int kind = host->cfg_kind(dev, "input"), r = 0;
	if (kind == -ENOENT)
		return 0;
	if (kind == HVD_CFG_STRING) {
		host->cfg_string(dev, "input", &path);
		r = add_input(v, "input", path);
	} else if (kind != HVD_CFG_ARRAY ||
		   host->cfg_array_len(dev, "input", &n) || !n ||
		   n > VNC_MAX_INPUTS) {
		return host->cfg_error(dev, "input",
				       "expected a socket path or an array of "
				       "1 to %u of them",
				       VNC_MAX_INPUTS);
	}
	for (unsigned i = 0; i < n && !r; i++) {
		char key[32];
		snprintf(key, sizeof key, "input[%u]", i);
		r = host->cfg_string(dev, key, &path);
		if (r == -ENOENT)
			r = -EINVAL;
		if (!r)
			r = add_input(v, key, path);
	}
	if (r)
		return r;
	/* Unbound and unconnected: an input device may be created after
	 * this one, and may be restarted; each report is sent to the path. */
	v->input_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (v->input_fd < 0)
		return -errno;
	/* A report waits this long for room in the input device's queue
	 * (Linux queues 10 datagrams per socket: net.unix.max_dgram_qlen),
	 * then it is lost; only the backend's thread waits. */
	struct timeval tv = {.tv_usec = 100000};
	setsockopt(v->input_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return 0;
}

static int vnc_open(struct gpu *gpu)
{
	const struct hvd_host_services *host = gpu->host;
	const char *listen_at = VNC_DEFAULT_LISTEN;
	if (host->cfg_string(gpu->dev, "listen", &listen_at) == -EINVAL)
		return -EINVAL;
	struct vnc *v = calloc(1, sizeof *v);
	if (!v)
		return -ENOMEM;
	gpu->backend_state = v;
	v->gpu = gpu;
	v->wake_fd = v->input_fd = -1;
	pthread_mutex_init(&v->lock, NULL);
	rfbLog = rfbErr = rfb_quiet;
	int r = open_input(v);
	for (uint32_t i = 0; i < gpu->num_scanouts && !r; i++) {
		struct vnc_view *view = &v->views[i];
		view->vnc = v;
		view->sid = i;
		view->listen_fd = -1;
		v->nviews++;
		r = view_open(v, view, listen_at);
	}
	v->wake_fd = r ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!r && v->wake_fd < 0)
		r = -errno;
	if (!r) {
		r = -pthread_create(&v->thread, NULL, vnc_thread, v);
		v->thread_started = !r;
	}
	if (r) {
		vnc_close(gpu);
		return r;
	}
	host->log(gpu->dev, HVD_LOG_INFO,
		  "vnc: scanout 0 on %s%s, viewer input to %u device(s)",
		  listen_at,
		  gpu->num_scanouts > 1 ? " (scanout N: port+N / path.N)" : "",
		  v->ninputs);
	return 0;
}

static uint32_t to_fb(const struct vnc *v, uint32_t xrgb)
{
	return (xrgb >> 16 & 0xff) << v->rshift |
	       (xrgb >> 8 & 0xff) << v->gshift | (xrgb & 0xff) << v->bshift;
}

/* Stage row y from `row`; widen the damage by what changed. */
static void stage_row(struct vnc_view *view, uint32_t y, const uint32_t *row)
{
	uint32_t *dst = view->stage + (size_t)y * view->w;
	uint32_t first = 0, last = view->w;
	while (first < last && dst[first] == row[first])
		first++;
	if (first == last)
		return;
	while (dst[last - 1] == row[last - 1])
		last--;
	memcpy(dst + first, row + first, (last - first) * sizeof *dst);
	if (!view->x1) {
		view->x0 = first;
		view->x1 = last;
		view->y0 = y;
		view->y1 = y + 1;
		return;
	}
	view->x0 = first < view->x0 ? first : view->x0;
	view->x1 = last > view->x1 ? last : view->x1;
	view->y0 = y < view->y0 ? y : view->y0;
	view->y1 = y + 1 > view->y1 ? y + 1 : view->y1;
}

static void vnc_present(struct gpu *gpu, uint32_t sid)
{
	struct vnc *v = gpu->backend_state;
	struct vnc_view *view = &v->views[sid];
	uint32_t w, h;
	if (!gpu_scanout_size(gpu, sid, &w, &h))
		return;
	if (w > VNC_MAX_DIM || h > VNC_MAX_DIM) {
		gpu->host->log(gpu->dev, HVD_LOG_WARN,
			       "vnc: scanout %u is %ux%u; viewers get at most "
			       "%ux%u, so they keep the last picture",
			       sid, w, h, VNC_MAX_DIM, VNC_MAX_DIM);
		return;
	}
	uint32_t *row = realloc(v->row, (size_t)w * sizeof *row);
	if (!row)
		goto oom;
	v->row = row;
	pthread_mutex_lock(&v->lock);
	if (w != view->w || h != view->h) {
		uint32_t *stage = calloc((size_t)w * h, sizeof *stage);
		if (!stage) {
			pthread_mutex_unlock(&v->lock);
			goto oom;
		}
		free(view->stage);
		view->stage = stage;
		view->w = w;
		view->h = h;
		view->resized = true;
	}
	/* Damage not yet taken by the thread grows. */
	for (uint32_t y = 0; y < h; y++) {
		gpu_scanout_row(gpu, sid, y, row);
		for (uint32_t x = 0; x < w; x++)
			row[x] = to_fb(v, row[x]);
		stage_row(view, y, row);
	}
	bool changed = view->x1 || view->resized;
	pthread_mutex_unlock(&v->lock);
	if (changed)
		wake(v);
	return;
oom:
	gpu->host->log(gpu->dev, HVD_LOG_WARN,
		       "vnc: no memory for a %ux%u picture of scanout %u", w, h,
		       sid);
}

/* A disabled scanout shows black, at its last size. */
static void vnc_blank(struct gpu *gpu, uint32_t sid)
{
	struct vnc *v = gpu->backend_state;
	struct vnc_view *view = &v->views[sid];
	pthread_mutex_lock(&v->lock);
	memset(view->stage, 0, (size_t)view->w * view->h * sizeof *view->stage);
	view->x0 = view->y0 = 0;
	view->x1 = view->w;
	view->y1 = view->h;
	pthread_mutex_unlock(&v->lock);
	wake(v);
}

const struct gpu_backend_ops gpu_backend_vnc = {
	.name = "vnc",
	/* Pictures staged per second at most (a viewer asks for updates
	 * at its own pace; flushes in between are folded). */
	.max_fps = 30,
	.open = vnc_open,
	.close = vnc_close,
	.present = vnc_present,
	.blank = vnc_blank,
};
