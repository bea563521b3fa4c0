/* SPDX-License-Identifier: MIT */
/*
 * A skeleton device plugin to copy: the smallest complete plugin, with one
 * JSON key, one queue, the chain helpers of <hvd/iov.h> and its own config
 * error. It presents itself as virtio-rng (device id 4, one request queue,
 * no config space; virtio 1.2 5.4) but fills every buffer with a constant
 * byte: a template, NOT an entropy source. Rename the type, change the
 * device id and what queue_notify does.
 *
 * JSON: {"type": "skeleton", "addr": ..., "len": ..., "irq": ...,
 *        "fill": 0..255 (optional, default 0)}
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ids.h>

#include <hvd/iov.h>
#include <hvd/plugin.h>

struct skel {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	uint8_t fill;
};

static int skel_create(struct hvd_device *dev, struct hvd_device_info *info,
		       void **state)
{
	const struct hvd_host_services *host = hvd_host(dev);
	static const char *const keys[] = {"fill", NULL};
	uint64_t fill = 0;

	/* Unknown keys and bad values end here, logged with their JSON
	 * path by the host. */
	if (host->cfg_check_keys(dev, keys) ||
	    host->cfg_u64_range(dev, "fill", 0, 255, &fill))
		return -EINVAL;
	/* A rule of this device the getters cannot know: report it with
	 * the key's path, as the host does its own (ABI 1.2). */
	if (fill == 0xff && HVD_HOST_HAS(host, cfg_error))
		return host->cfg_error(dev, "fill", "0xff is reserved");

	struct skel *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->host = host;
	s->fill = (uint8_t)fill;
	info->num_queues = 1;
	info->queue_max_size = 64;
	*state = s;
	return 0;
}

static void skel_destroy(void *state)
{
	free(state);
}

/* Every chain: its writable buffers filled, up to 256 bytes. */
static void skel_queue_notify(void *state, unsigned index)
{
	struct skel *s = state;
	struct hvd_vq *vq = s->host->vq_get(s->dev, index);
	struct hvd_chain *chain;
	uint8_t block[256];

	memset(block, s->fill, sizeof block);
	while ((chain = s->host->vq_pop(vq)) != NULL) {
		if (chain->num_out != 0) {
			/* 5.4.6.1: requests are writable only. */
			s->host->vq_push(chain, 0);
			s->host->needs_reset(s->dev, "readable buffer in a "
						     "request");
			break;
		}
		size_t n = hvd_chain_write(chain, 0, block, sizeof block);
		s->host->vq_push(chain, (uint32_t)n);
	}
	s->host->vq_notify(vq);
}

static const struct hvd_device_ops skel_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = skel_create,
	.destroy = skel_destroy,
	.queue_notify = skel_queue_notify,
};

HVD_PLUGIN_DEFINE("skeleton", VIRTIO_ID_RNG,
		  "skeleton plugin (constant "
		  "bytes, not entropy)",
		  "1.0", &skel_ops);
