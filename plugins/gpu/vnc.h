/* SPDX-License-Identifier: MIT */
/*
 * The vnc backend's own state (backend_vnc.c: servers, thread, pictures;
 * vnc_input.c: viewer keys and pointer to input records).
 *
 * Threads: present() and blank() run on the daemon's event-loop thread and
 * only fill `stage` (under `lock`); the backend's thread owns everything
 * of libvncserver (the framebuffers, the clients, the sockets) and copies
 * stage -> framebuffer under the same lock. So a slow viewer holds up the
 * backend's thread only, never the daemon's threads or the device.
 */
#ifndef PLUGINS_GPU_VNC_H
#define PLUGINS_GPU_VNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include <rfb/rfb.h>

#include "gpu.h"

/* Viewers per scanout at most; more are turned away. */
#define VNC_MAX_CLIENTS 8u
/* Input devices viewer events go to at most (a keyboard and a tablet). */
#define VNC_MAX_INPUTS 4u

struct vnc;

/* One scanout's server. */
struct vnc_view {
	struct vnc *vnc;
	uint32_t sid;
	rfbScreenInfoPtr screen;
	int listen_fd;
	char *unix_path; /* removed at close; NULL for TCP */
	char name[96];   /* the desktop name viewers see */
	/* Backend thread only: the framebuffer libvncserver sends from. */
	uint32_t *fb;
	int buttons;        /* the viewer's last button mask */
	bool accept_failed; /* retry accepting after a pause */
	/* Under vnc->lock: the picture present() made, in fb's pixel format,
	 * and what changed since the thread last copied it. */
	uint32_t *stage;
	uint32_t w, h;
	bool resized;
	uint32_t x0, y0, x1, y1; /* damage; x1 == 0: none */
};

struct vnc {
	struct gpu *gpu;
	pthread_mutex_t lock;
	bool stop;   /* under lock */
	int wake_fd; /* eventfd: present() -> thread */
	pthread_t thread;
	bool thread_started;
	/* Where viewer input goes (input plugins' sources): every report to
	 * each; each device keeps what it knows. input_fd -1: nowhere. */
	int input_fd;
	unsigned ninputs;
	struct sockaddr_un input_addr[VNC_MAX_INPUTS];
	bool input_warned[VNC_MAX_INPUTS];
	/* Where red, green and blue sit in a framebuffer word. */
	int rshift, gshift, bshift;
	uint32_t *row; /* present()'s scratch row */
	uint32_t nviews;
	struct vnc_view views[VIRTIO_GPU_MAX_SCANOUTS];
};

/* vnc_input.c: libvncserver's kbdAddEvent and ptrAddEvent hooks (backend
 * thread). */
void vnc_key_event(rfbBool down, rfbKeySym sym, rfbClientPtr cl);
void vnc_pointer_event(int mask, int x, int y, rfbClientPtr cl);
/* The evdev key code of an X keysym, 0 for none. */
uint16_t vnc_keysym_to_key(uint32_t sym);

#endif
