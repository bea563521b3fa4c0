/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (virtio 1.2 section 5.4): one request queue; the driver posts
 * writable buffers and we fill them from the host's getrandom().
 * The smallest complete device: the reference for plugin authors.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include <linux/virtio_ids.h>

#include "hvd/plugin.h"

/* Bytes handed out per request at most: the guest asks again for more, and
 * one greedy request must not hold the dispatch thread. */
#define RNG_MAX_PER_REQUEST 4096u

struct rng {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
};

static int rng_create(struct hvd_device *dev, struct hvd_device_info *info,
		      void **state)
{
	const struct hvd_host_services *host = hvd_host(dev);
	static const char *const keys[] = {NULL};
	if (host->cfg_check_keys(dev, keys))
		return -EINVAL;
	struct rng *rng = calloc(1, sizeof *rng);
	if (!rng)
		return -ENOMEM;
	rng->dev = dev;
	rng->host = host;
	info->num_queues = 1;
	info->queue_max_size = 256;
	*state = rng;
	host->log(dev, HVD_LOG_INFO, "entropy from getrandom()");
	return 0;
}

static void rng_destroy(void *state)
{
	free(state);
}

/* Fill the chain's writable buffers; returns bytes written. */
static uint32_t fill(const struct hvd_chain *chain)
{
	uint32_t written = 0;
	for (uint32_t i = chain->num_out; i < chain->num_out + chain->num_in;
	     i++) {
		size_t want = chain->iov[i].iov_len;
		if (want > RNG_MAX_PER_REQUEST - written)
			want = RNG_MAX_PER_REQUEST - written;
		if (want == 0)
			break;
		ssize_t got =
			getrandom(chain->iov[i].iov_base, want, GRND_NONBLOCK);
		if (got <= 0)
			break; /* pool not ready: hand out what we have */
		written += (uint32_t)got;
		if ((size_t)got < want)
			break;
	}
	return written;
}

static void rng_queue_notify(void *state, unsigned index)
{
	struct rng *rng = state;
	struct hvd_vq *vq = rng->host->vq_get(rng->dev, index);
	struct hvd_chain *chain;
	while ((chain = rng->host->vq_pop(vq)) != NULL)
		rng->host->vq_push(chain, fill(chain));
	rng->host->vq_notify(vq);
}

static const struct hvd_device_ops rng_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = rng_create,
	.destroy = rng_destroy,
	.queue_notify = rng_queue_notify,
};

HVD_PLUGIN_DEFINE("rng", VIRTIO_ID_RNG, "virtio entropy source", "1.0",
		  &rng_ops);
