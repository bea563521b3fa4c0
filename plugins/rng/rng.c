/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (virtio 1.2 section 5.4): one request queue; the driver posts
 * writable buffers and we fill them with entropy. The smallest complete
 * device: the reference for plugin authors.
 *
 * JSON key: "source" (optional), a file or device to read entropy from
 * (e.g. "/dev/hwrng" or a FIFO); default: the host's getrandom().
 *
 * The spec wants at least one byte in every completed buffer, so when no
 * entropy is available (getrandom() before the host pool is ready, an empty
 * FIFO) the request is given back to the ring and retried later: on a timer
 * for getrandom(), when the source becomes readable otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <linux/virtio_ids.h>

#include "hvd/plugin.h"

/* Bytes handed out per request at most: the guest asks again for more, and
 * one greedy request must not hold the dispatch thread. */
#define RNG_MAX_PER_REQUEST 4096u
/* Retry period while the host's pool is not ready yet. */
#define RNG_RETRY_NS 50000000ull
/* Requests served per pass: a guest that keeps refilling the ring must not
 * keep the dispatch thread (every device's register accesses) to itself.
 * The rest is served from the event loop right after. */
#define RNG_BATCH 64u

struct rng {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	int source_fd; /* -1: getrandom() */
	const char *source;
	bool source_ended; /* EOF seen once: said so in the log */
	/* Waiting for entropy (at most one of these is set). */
	struct hvd_timer *retry;
	struct hvd_watch *readable;
};

static int rng_create(struct hvd_device *dev, struct hvd_device_info *info,
		      void **state)
{
	const struct hvd_host_services *host = hvd_host(dev);
	static const char *const keys[] = {"source", NULL};
	if (host->cfg_check_keys(dev, keys))
		return -EINVAL;
	const char *source = NULL;
	if (host->cfg_string(dev, "source", &source) == -EINVAL)
		return -EINVAL;
	int fd = -1;
	if (source) {
		fd = open(source, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			int err = errno;
			if (HVD_HOST_HAS(host, cfg_error))
				host->cfg_error(dev, "source",
						"cannot open %s: %s", source,
						strerror(err));
			else
				host->log(dev, HVD_LOG_ERROR, "source: %s: %s",
					  source, strerror(err));
			return -err;
		}
	}
	struct rng *rng = calloc(1, sizeof *rng);
	if (!rng) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	rng->dev = dev;
	rng->host = host;
	rng->source_fd = fd;
	rng->source = source;
	info->num_queues = 1;
	info->queue_max_size = 256;
	*state = rng;
	host->log(dev, HVD_LOG_INFO, "entropy from %s",
		  source ? source : "getrandom()");
	return 0;
}

/* Stop waiting for entropy (a reset, or it arrived). */
static void stop_waiting(struct rng *rng)
{
	if (rng->retry)
		rng->host->timer_cancel(rng->retry);
	if (rng->readable)
		rng->host->watch_remove(rng->readable);
	rng->retry = NULL;
	rng->readable = NULL;
}

static void rng_destroy(void *state)
{
	struct rng *rng = state;
	stop_waiting(rng);
	if (rng->source_fd >= 0)
		close(rng->source_fd);
	free(rng);
}

/* Up to `len` bytes of entropy into buf: > 0, or 0 when none is available
 * right now. */
static size_t entropy(struct rng *rng, void *buf, size_t len)
{
	ssize_t got;
	do {
		got = rng->source_fd < 0 ? getrandom(buf, len, GRND_NONBLOCK)
					 : read(rng->source_fd, buf, len);
	} while (got < 0 && errno == EINTR);
	if (got == 0 && rng->source_fd >= 0 && !rng->source_ended) {
		rng->source_ended = true;
		rng->host->log(
			rng->dev, HVD_LOG_WARN,
			"%s: end of file: the guest gets no more entropy",
			rng->source);
	}
	return got > 0 ? (size_t)got : 0;
}

/* Fill the chain's writable buffers; returns bytes written. */
static uint32_t fill(struct rng *rng, const struct hvd_chain *chain)
{
	uint32_t written = 0;
	for (uint32_t i = chain->num_out; i < chain->num_out + chain->num_in;
	     i++) {
		size_t want = chain->iov[i].iov_len;
		if (want > RNG_MAX_PER_REQUEST - written)
			want = RNG_MAX_PER_REQUEST - written;
		if (want == 0)
			break;
		size_t got = entropy(rng, chain->iov[i].iov_base, want);
		written += (uint32_t)got;
		if (got < want)
			break; /* hand out what we have */
	}
	return written;
}

static void serve(struct rng *rng);

static void retry_fired(void *opaque)
{
	struct rng *rng = opaque;
	stop_waiting(rng);
	serve(rng);
}

static void source_readable(void *opaque, int fd, uint32_t events)
{
	retry_fired(opaque);
}

/* No entropy now: wait for some without spinning. */
static void wait_for_entropy(struct rng *rng)
{
	if (rng->retry || rng->readable)
		return;
	if (rng->source_fd < 0)
		rng->retry = rng->host->timer_add(rng->dev, RNG_RETRY_NS, 0,
						  retry_fired, rng);
	else if (!rng->source_ended)
		rng->readable =
			rng->host->watch_add(rng->dev, rng->source_fd,
					     HVD_EV_IN, source_readable, rng);
}

static void serve(struct rng *rng)
{
	struct hvd_vq *vq = rng->host->vq_get(rng->dev, 0);
	unsigned served;
	for (served = 0; served < RNG_BATCH; served++) {
		struct hvd_chain *chain = rng->host->vq_pop(vq);
		if (!chain)
			break;
		uint32_t n = fill(rng, chain);
		if (n == 0 && chain->in_bytes > 0) {
			/* Nothing to give: the request waits in the ring. */
			rng->host->vq_unpop(chain);
			wait_for_entropy(rng);
			break;
		}
		rng->host->vq_push(chain, n);
	}
	rng->host->vq_notify(vq);
	if (served == RNG_BATCH && !rng->retry && !rng->readable &&
	    rng->host->vq_has_work(vq))
		rng->retry =
			rng->host->timer_add(rng->dev, 1, 0, retry_fired, rng);
}

static void rng_queue_notify(void *state, unsigned index)
{
	serve(state);
}

static void rng_reset(void *state)
{
	stop_waiting(state);
}

static const struct hvd_device_ops rng_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = rng_create,
	.destroy = rng_destroy,
	.reset = rng_reset,
	.queue_notify = rng_queue_notify,
};

HVD_PLUGIN_DEFINE("rng", VIRTIO_ID_RNG, "virtio entropy source", "1.1",
		  &rng_ops);
