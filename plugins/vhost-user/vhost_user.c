/* SPDX-License-Identifier: MIT */
/*
 * vhost-user frontend: the device's rings are served by another process
 * (qemu-storage-daemon, virtiofsd, SPDK, ...) that maps the zone's RAM.
 * The core keeps the register file (features, status, queue setup); this
 * plugin forwards kicks to the backend's kick eventfds and the backend's
 * call eventfds to the guest's interrupt. Protocol facts: docs/vhost-user.md.
 *
 * JSON keys: "socket" (required) the backend's UNIX socket; "device_id"
 * (type "vhost-user" only, required there): virtio device id; optional
 * "num_queues", "queue_size", "config_size", "reconnect" (seconds between
 * attempts after the backend went away; 0 = never), "timeout_ms" (bound on
 * every exchange with the backend, default 1000), "tag" (virtio-fs).
 *
 * Built three times (meson.build): types "vhost-user", "vhost-user-blk"
 * and "vhost-user-fs" differ only in VU_TYPE / VU_DEVICE_ID.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "vu.h"

#ifndef VU_TYPE
#define VU_TYPE      "vhost-user"
#define VU_DEVICE_ID 0
#endif

#define VU_DEFAULT_TIMEOUT_MS 1000u
/* virtio-blk config through write_zeroes_may_unmap (virtio 1.2 5.2.4,
 * without the zoned fields): what qemu-storage-daemon 7.2 serves. */
#define VU_BLK_CONFIG_SIZE 60u
#define VU_FS_TAG_LEN      36u
#define VU_FS_CONFIG_SIZE  40u

/* Device feature bits passed from the backend to the guest: the
 * device-specific ones and the ring features the core's register file and
 * the mock/real guest understand. Packed rings and the rest are off. */
#define VU_DEVICE_BITS 0xffffffull
#define VU_RING_BITS                             \
	((1ull << VIRTIO_RING_F_INDIRECT_DESC) | \
	 (1ull << VIRTIO_RING_F_EVENT_IDX))

static void wake_worker(struct vu *vu)
{
	uint64_t one = 1;
	if (write(vu->wake, &one, sizeof one) < 0) {
		/* A full counter still wakes the worker. */
	}
}

static void drain(int fd)
{
	uint64_t v;
	while (read(fd, &v, sizeof v) > 0) {
	}
}

/* The backend's call eventfd of a queue fired. */
static void call_fired(void *opaque, int fd, uint32_t events)
{
	struct vu *vu = opaque;
	drain(fd);
	if (__atomic_load_n(&vu->active, __ATOMIC_ACQUIRE))
		vu->host->vring_interrupt(vu->dev);
}

/* The backend signalled a ring error (SET_VRING_ERR's eventfd). */
static void err_fired(void *opaque, int fd, uint32_t events)
{
	struct vu *vu = opaque;
	drain(fd);
	if (__atomic_load_n(&vu->active, __ATOMIC_ACQUIRE))
		vu->host->needs_reset(
			vu->dev, "vhost-user backend reported a ring error");
}

/* The connection is unusable: close it and tell the driver. */
static void drop(struct vu *vu, const char *why)
{
	vu_disconnect(&vu->conn);
	vu->running = false;
	vu->started = 0;
	__atomic_store_n(&vu->active, 0, __ATOMIC_RELEASE);
	vu->host->needs_reset(vu->dev, why);
}

static int connect_backend(struct vu *vu, enum hvd_log_level level)
{
	int rc = vu_connect(&vu->conn, level);
	if (rc == 0 && (rc = vu_handshake(vu)) < 0)
		vu_disconnect(&vu->conn);
	return rc;
}

static void try_reconnect(struct vu *vu)
{
	uint64_t before = vu->backend_features;
	if (connect_backend(vu, HVD_LOG_DEBUG) < 0)
		return;
	uint64_t mask = VU_DEVICE_BITS | VU_RING_BITS;
	if ((vu->backend_features & mask) != (before & mask)) {
		vu->host->log(vu->dev, HVD_LOG_ERROR,
			      "vhost-user %s: backend came back with features "
			      "0x%llx instead of 0x%llx; not using it",
			      vu->conn.path,
			      (unsigned long long)vu->backend_features,
			      (unsigned long long)before);
		vu->backend_features = before;
		vu_disconnect(&vu->conn);
		return;
	}
	vu->host->log(vu->dev, HVD_LOG_INFO,
		      "vhost-user %s: reconnected; the guest's reset restarts "
		      "the device",
		      vu->conn.path);
	/* The config space was re-read from the new backend: tell the
	 * driver (it also learns that resetting now will succeed). */
	vu->host->config_changed(vu->dev);
}

/* One pass of the worker: act on what the dispatch thread asked for. */
static void worker_serve(struct vu *vu)
{
	pthread_mutex_lock(&vu->lock);
	uint64_t seq = vu->want_seq;
	bool run = vu->want_run, dirty = vu->cfg_dirty;
	uint64_t features = vu->features;
	uint32_t lo = vu->cfg_lo, hi = vu->cfg_hi;
	vu->cfg_dirty = false;
	pthread_mutex_unlock(&vu->lock);

	if (dirty && vu->conn.fd >= 0 && vu_push_config(vu, lo, hi) < 0)
		drop(vu, "vhost-user backend refused SET_CONFIG");
	if (seq != vu->done_seq) {
		if (run && vu->conn.fd < 0)
			vu->host->needs_reset(
				vu->dev, "vhost-user backend not connected");
		else if (run && vu_start_rings(vu, features) < 0)
			drop(vu, "vhost-user ring setup failed");
		else if (!run && vu->running && vu_stop_rings(vu) < 0)
			drop(vu, "vhost-user ring stop failed");
		pthread_mutex_lock(&vu->lock);
		vu->done_seq = seq;
		pthread_cond_broadcast(&vu->cond);
		pthread_mutex_unlock(&vu->lock);
	}
}

static void *worker(void *arg)
{
	struct vu *vu = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = vu->wake, .events = POLLIN},
				      {.fd = vu->conn.fd, .events = POLLIN}};
		int timeout = vu->conn.fd < 0 && vu->reconnect_ms
				      ? (int)vu->reconnect_ms
				      : -1;
		int n = poll(p, vu->conn.fd >= 0 ? 2 : 1, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			drain(vu->wake);
		if (vu->conn.fd >= 0 && p[1].revents) {
			/* Nothing is asked: the backend died or misbehaves. */
			vu_unsolicited(&vu->conn);
			drop(vu, "vhost-user backend went away");
		} else if (n == 0 && vu->conn.fd < 0) {
			try_reconnect(vu);
		}
		pthread_mutex_lock(&vu->lock);
		bool quit = vu->quit;
		pthread_mutex_unlock(&vu->lock);
		if (quit)
			break;
		worker_serve(vu);
	}
	return NULL;
}

/* ---- create / destroy --------------------------------------------------- */

static int read_keys(struct vu *vu)
{
	struct hvd_device *dev = vu->dev;
	const struct hvd_host_services *h = vu->host;
	static const char *const keys[] = {
		"socket",     "device_id",   "num_queues",
		"queue_size", "config_size", "reconnect",
		"timeout_ms", "tag",         NULL};
	if (h->cfg_check_keys(dev, keys))
		return -EINVAL;
	if (h->cfg_string(dev, "socket", &vu->conn.path) < 0) {
		h->log(dev, HVD_LOG_ERROR,
		       "socket: required (the backend's "
		       "vhost-user UNIX socket)");
		return -EINVAL;
	}
	uint64_t id = VU_DEVICE_ID, nq = 0, qs = 256, cs = 0, rec = 0;
	uint64_t tmo = VU_DEFAULT_TIMEOUT_MS;
	if (VU_DEVICE_ID == 0 &&
	    h->cfg_u64_range(dev, "device_id", 1, 63, &id) < 0)
		return -EINVAL;
	if (id == 0) {
		h->log(dev, HVD_LOG_ERROR,
		       "device_id: required for type vhost-user (2 blk, 26 "
		       "fs, 4 rng, ...)");
		return -EINVAL;
	}
	if (VU_DEVICE_ID != 0 && h->cfg_kind(dev, "device_id") != -ENOENT) {
		h->log(dev, HVD_LOG_ERROR,
		       "device_id: only for type vhost-user (%s is id %u)",
		       VU_TYPE, VU_DEVICE_ID);
		return -EINVAL;
	}
	if (h->cfg_u64_range(dev, "num_queues", 1, HVD_MAX_QUEUES, &nq) ||
	    h->cfg_u64_range(dev, "queue_size", 1, 32768, &qs) ||
	    h->cfg_u64_range(dev, "config_size", 0, VU_MAX_CONFIG, &cs) ||
	    h->cfg_u64_range(dev, "reconnect", 0, 3600, &rec) ||
	    h->cfg_u64_range(dev, "timeout_ms", 1, 60000, &tmo) ||
	    h->cfg_string(dev, "tag", &vu->tag) == -EINVAL)
		return -EINVAL;
	if (qs & (qs - 1)) {
		h->log(dev, HVD_LOG_ERROR,
		       "queue_size: %llu is not a power "
		       "of two",
		       (unsigned long long)qs);
		return -EINVAL;
	}
	if (id == VIRTIO_ID_FS &&
	    (!vu->tag || !*vu->tag || strlen(vu->tag) > VU_FS_TAG_LEN)) {
		h->log(dev, HVD_LOG_ERROR,
		       "tag: required for virtio-fs, 1..%u bytes (the name "
		       "the guest mounts)",
		       VU_FS_TAG_LEN);
		return -EINVAL;
	}
	if (h->cfg_kind(dev, "config_size") == -ENOENT)
		cs = id == VIRTIO_ID_BLOCK ? VU_BLK_CONFIG_SIZE
		     : id == VIRTIO_ID_FS  ? VU_FS_CONFIG_SIZE
					   : 0;
	/* virtio-fs: one high-priority queue and one request queue. */
	if (nq == 0 && id == VIRTIO_ID_FS)
		nq = 2; /* else from the backend (vu_handshake) */
	vu->device_id = (uint32_t)id;
	vu->num_queues = (unsigned)nq;
	vu->queue_size = (uint16_t)qs;
	vu->config_size = (uint32_t)cs;
	vu->reconnect_ms = rec * 1000;
	vu->conn.timeout_ms = (int)tmo;
	return 0;
}

/* virtio-fs config when the backend has none (virtiofsd): the tag from
 * the JSON and the number of request queues. */
static void synthesize_fs_config(struct vu *vu)
{
	memset(vu->config, 0, sizeof vu->config);
	memcpy(vu->config, vu->tag, strlen(vu->tag));
	uint32_t nreq = vu->num_queues - 1;
	memcpy(vu->config + VU_FS_TAG_LEN, &nreq, sizeof nreq);
}

static void vu_free(struct vu *vu)
{
	for (unsigned i = 0; i < HVD_MAX_QUEUES; i++) {
		if (vu->call_watch[i])
			vu->host->watch_remove(vu->call_watch[i]);
		if (vu->kick[i] >= 0)
			close(vu->kick[i]);
		if (vu->call[i] >= 0)
			close(vu->call[i]);
	}
	if (vu->err_watch)
		vu->host->watch_remove(vu->err_watch);
	if (vu->err >= 0)
		close(vu->err);
	if (vu->wake >= 0)
		close(vu->wake);
	vu_disconnect(&vu->conn);
	pthread_cond_destroy(&vu->cond);
	pthread_mutex_destroy(&vu->lock);
	free(vu);
}

static int make_eventfds(struct vu *vu)
{
	vu->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vu->err = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vu->wake < 0 || vu->err < 0)
		return -errno;
	vu->err_watch =
		vu->host->watch_add(vu->dev, vu->err, HVD_EV_IN, err_fired, vu);
	if (!vu->err_watch)
		return -errno;
	for (unsigned i = 0; i < vu->num_queues; i++) {
		vu->kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		vu->call[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vu->kick[i] < 0 || vu->call[i] < 0)
			return -errno;
		vu->call_watch[i] = vu->host->watch_add(
			vu->dev, vu->call[i], HVD_EV_IN, call_fired, vu);
		if (!vu->call_watch[i])
			return -errno;
	}
	return 0;
}

static void describe(struct vu *vu, struct hvd_device_info *info)
{
	uint64_t bf = vu->backend_features;
	vu->offered = bf & VU_DEVICE_BITS;
	info->num_queues = vu->num_queues;
	info->queue_max_size = vu->queue_size;
	info->config_size = vu->config_size;
	info->features = vu->offered;
	info->transport_features_off = VU_RING_BITS & ~bf;
	info->device_id = vu->device_id;
}

static int vu_create(struct hvd_device *dev, struct hvd_device_info *info,
		     void **state)
{
	const struct hvd_host_services *h = hvd_host(dev);
	if (!HVD_HOST_HAS(h, vring_interrupt)) {
		h->log(dev, HVD_LOG_ERROR,
		       "the daemon lacks plugin ABI 1.1 "
		       "(vhost-user services)");
		return -ENOTSUP;
	}
	struct vu *vu = calloc(1, sizeof *vu);
	if (!vu)
		return -ENOMEM;
	vu->dev = dev;
	vu->host = h;
	vu->conn = (struct vu_conn){.fd = -1, .dev = dev};
	vu->wake = vu->err = -1;
	for (unsigned i = 0; i < HVD_MAX_QUEUES; i++)
		vu->kick[i] = vu->call[i] = -1;
	pthread_mutex_init(&vu->lock, NULL);
	pthread_cond_init(&vu->cond, NULL);
	int rc = read_keys(vu);
	if (rc == 0)
		rc = connect_backend(vu, HVD_LOG_ERROR);
	if (rc == 0 && !(vu->backend_features & (1ull << VIRTIO_F_VERSION_1))) {
		h->log(dev, HVD_LOG_ERROR,
		       "vhost-user %s: backend lacks VIRTIO_F_VERSION_1",
		       vu->conn.path);
		rc = -ENOTSUP;
	}
	if (rc == 0 && vu->device_id == VIRTIO_ID_FS &&
	    !vu->config_from_backend)
		synthesize_fs_config(vu);
	if (rc == 0)
		rc = make_eventfds(vu);
	if (rc == 0) {
		rc = -pthread_create(&vu->thread, NULL, worker, vu);
		vu->thread_started = rc == 0;
	}
	if (rc < 0) {
		vu_free(vu);
		return rc;
	}
	describe(vu, info);
	h->log(dev, HVD_LOG_INFO,
	       "vhost-user backend %s: device id %u, features 0x%llx, "
	       "protocol features 0x%llx",
	       vu->conn.path, vu->device_id,
	       (unsigned long long)vu->backend_features,
	       (unsigned long long)vu->conn.protocol);
	*state = vu;
	return 0;
}

static void vu_destroy(void *state)
{
	struct vu *vu = state;
	pthread_mutex_lock(&vu->lock);
	vu->quit = true;
	pthread_mutex_unlock(&vu->lock);
	wake_worker(vu);
	if (vu->thread_started)
		pthread_join(vu->thread, NULL);
	vu_free(vu);
}

/* ---- dispatch-thread ops ------------------------------------------------ */

/* Hand a start/stop to the worker; returns its sequence number. */
static uint64_t ask_worker(struct vu *vu, bool run, uint64_t features)
{
	pthread_mutex_lock(&vu->lock);
	vu->want_run = run;
	vu->features = features;
	uint64_t seq = ++vu->want_seq;
	pthread_mutex_unlock(&vu->lock);
	wake_worker(vu);
	return seq;
}

static int vu_activate(void *state, uint64_t features)
{
	struct vu *vu = state;
	__atomic_store_n(&vu->active, 1, __ATOMIC_RELEASE);
	/* Kicks before the worker has set the rings up stay counted in the
	 * kick eventfds; the backend sees them when it gets the fds. */
	ask_worker(vu, true, features);
	return 0;
}

static void vu_reset(void *state)
{
	struct vu *vu = state;
	__atomic_store_n(&vu->active, 0, __ATOMIC_RELEASE);
	uint64_t seq = ask_worker(vu, false, 0);
	/* The guest may reuse ring memory once we return, so wait for the
	 * backend's GET_VRING_BASE replies: bounded, since each exchange is
	 * (timeout_ms per message), and immediate for a dead backend. */
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	uint64_t ms = (uint64_t)vu->conn.timeout_ms * (vu->num_queues + 2);
	dl.tv_sec += (time_t)(ms / 1000);
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vu->lock);
	int rc = 0;
	while (vu->done_seq < seq && rc == 0)
		rc = pthread_cond_timedwait(&vu->cond, &vu->lock, &dl);
	pthread_mutex_unlock(&vu->lock);
	if (rc)
		vu->host->log(vu->dev, HVD_LOG_ERROR,
			      "vhost-user %s: backend did not stop its rings "
			      "within %llu ms",
			      vu->conn.path, (unsigned long long)ms);
}

static void vu_queue_notify(void *state, unsigned index)
{
	struct vu *vu = state;
	uint64_t one = 1;
	if (index < vu->num_queues &&
	    write(vu->kick[index], &one, sizeof one) < 0) {
		/* EAGAIN: the counter is saturated, a kick is pending. */
	}
}

static void vu_config_read(void *state, uint32_t offset, void *buf,
			   uint32_t len)
{
	struct vu *vu = state;
	pthread_mutex_lock(&vu->lock);
	memcpy(buf, vu->config + offset, len);
	pthread_mutex_unlock(&vu->lock);
}

static void vu_config_write(void *state, uint32_t offset, const void *buf,
			    uint32_t len)
{
	struct vu *vu = state;
	pthread_mutex_lock(&vu->lock);
	memcpy(vu->config + offset, buf, len);
	if (!vu->cfg_dirty) {
		vu->cfg_lo = offset;
		vu->cfg_hi = offset + len;
	} else {
		if (offset < vu->cfg_lo)
			vu->cfg_lo = offset;
		if (offset + len > vu->cfg_hi)
			vu->cfg_hi = offset + len;
	}
	vu->cfg_dirty = true;
	pthread_mutex_unlock(&vu->lock);
	wake_worker(vu);
}

static const struct hvd_device_ops vu_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = vu_create,
	.destroy = vu_destroy,
	.activate = vu_activate,
	.reset = vu_reset,
	.config_read = vu_config_read,
	.config_write = vu_config_write,
	.queue_notify = vu_queue_notify,
};

HVD_PLUGIN_DEFINE(VU_TYPE, VU_DEVICE_ID, "vhost-user frontend", "1.0", &vu_ops);
