/* SPDX-License-Identifier: MIT */
/*
 * testdev: a device plugin that exists to exercise the core from tests.
 *
 * Features: bit 1 and bit 2 (device-specific); FEATURES_OK is refused when
 * bit 2 is accepted without bit 1.
 * Config space (16 bytes): 0 u32 magic (read-only) 0x11223344, 4 u8 command,
 * 6 u16 scratch, 8 u64 scratch.
 * Queue 0 echoes: readable bytes are copied into the writable buffers, at
 * most "budget" chains per queue_notify (0, the default: all).
 * "flags" is handed to the host as hvd_device_info.flags (ABI 1.3).
 * Queue 1 holds chains until a command:
 *   command 1: push every held chain now (dispatch thread)
 *   command 2: config_changed()
 *   command 3: needs_reset()
 *   command 4: push every held chain from a 1 ms timer (event-loop thread)
 * reset() deliberately keeps held chains and activate() pushes them: the
 * host must drop chains that predate a reset without touching any ring.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "hvd/plugin.h"

#define TESTDEV_ID 0xfffu
#define MAX_HELD   256u

struct testdev {
	struct hvd_device *dev;
	const struct hvd_host_services *host;
	uint8_t config[16];
	struct hvd_chain *held[MAX_HELD];
	unsigned held_count;
	struct hvd_timer *timer;
	uint64_t budget;
};

static int td_create(struct hvd_device *dev, struct hvd_device_info *info,
		     void **state)
{
	const struct hvd_host_services *host = hvd_host(dev);
	static const char *const keys[] = {"queue_size", "budget", "flags",
					   NULL};
	if (host->cfg_check_keys(dev, keys))
		return -EINVAL;
	uint64_t qsize = 256, budget = 0, flags = 0;
	if (host->cfg_u64(dev, "queue_size", &qsize) == -EINVAL ||
	    host->cfg_u64(dev, "budget", &budget) == -EINVAL ||
	    host->cfg_u64(dev, "flags", &flags) == -EINVAL)
		return -EINVAL;
	struct testdev *td = calloc(1, sizeof *td);
	if (!td)
		return -ENOMEM;
	td->dev = dev;
	td->host = host;
	uint32_t magic = 0x11223344;
	memcpy(td->config, &magic, sizeof magic);
	info->num_queues = 2;
	info->queue_max_size = (uint16_t)qsize;
	info->config_size = sizeof td->config;
	info->features = (1ull << 1) | (1ull << 2);
	info->flags = (uint32_t)flags;
	td->budget = budget;
	*state = td;
	return 0;
}

static void td_destroy(void *state)
{
	struct testdev *td = state;
	/* Armed by a config write, which needs no DRIVER_OK: then no reset
	 * came to cancel it (fuzz_mmio regression config-timer-before-
	 * driver-ok). */
	td->host->timer_cancel(td->timer);
	/* Chains kept past the last reset are stale: pushing frees them. */
	for (unsigned i = 0; i < td->held_count; i++)
		td->host->vq_push(td->held[i], 0);
	free(td);
}

static int td_features_ok(void *state, uint64_t features)
{
	return (features & (1ull << 2)) && !(features & (1ull << 1)) ? -1 : 0;
}

static void push_held(struct testdev *td)
{
	struct hvd_vq *vq = td->host->vq_get(td->dev, 1);
	for (unsigned i = 0; i < td->held_count; i++)
		td->host->vq_push(td->held[i], 0);
	td->held_count = 0;
	td->host->vq_notify(vq);
}

static void timer_push(void *opaque)
{
	struct testdev *td = opaque;
	push_held(td);
	td->host->timer_cancel(td->timer);
	td->timer = NULL;
}

static void td_reset(void *state)
{
	struct testdev *td = state;
	if (td->timer) {
		td->host->timer_cancel(td->timer);
		td->timer = NULL;
	}
	/* Held chains stay held on purpose (see activate). */
}

static int td_activate(void *state, uint64_t features)
{
	struct testdev *td = state;
	/* Stale after a reset: the host must free these without writing to
	 * the old rings or the new ones. */
	push_held(td);
	return 0;
}

static void td_config_read(void *state, uint32_t offset, void *buf,
			   uint32_t len)
{
	struct testdev *td = state;
	memcpy(buf, td->config + offset, len);
}

static void td_config_write(void *state, uint32_t offset, const void *buf,
			    uint32_t len)
{
	struct testdev *td = state;
	if (offset < 4)
		return; /* magic is read-only */
	memcpy(td->config + offset, buf, len);
	if (offset != 4 || len != 1)
		return;
	switch (td->config[4]) {
	case 1:
		push_held(td);
		break;
	case 2:
		td->host->config_changed(td->dev);
		break;
	case 3:
		td->host->needs_reset(td->dev, "testdev asked for it");
		break;
	case 4:
		if (!td->timer)
			td->timer = td->host->timer_add(td->dev, 1000000, 0,
							timer_push, td);
		break;
	}
}

static uint32_t echo(const struct hvd_chain *c)
{
	/* Copy the readable bytes, in order, into the writable buffers.
	 * They may overlap in guest memory (the guest chooses): memmove. */
	uint32_t done = 0;
	unsigned in = c->num_out, in_off = 0;
	for (unsigned o = 0; o < c->num_out; o++) {
		const uint8_t *src = c->iov[o].iov_base;
		size_t left = c->iov[o].iov_len;
		while (left && in < c->num_out + c->num_in) {
			size_t room = c->iov[in].iov_len - in_off;
			size_t n = left < room ? left : room;
			memmove((uint8_t *)c->iov[in].iov_base + in_off, src,
				n);
			src += n;
			left -= n;
			in_off += n;
			done += (uint32_t)n;
			if (in_off == c->iov[in].iov_len) {
				in++;
				in_off = 0;
			}
		}
	}
	return done;
}

static void td_queue_notify(void *state, unsigned index)
{
	struct testdev *td = state;
	struct hvd_vq *vq = td->host->vq_get(td->dev, index);
	struct hvd_chain *c;
	uint64_t served = 0;
	while ((index != 0 || !td->budget || served < td->budget) &&
	       (c = td->host->vq_pop(vq)) != NULL) {
		if (index == 0) {
			served++;
			td->host->vq_push(c, echo(c));
		} else if (td->held_count < MAX_HELD) {
			td->held[td->held_count++] = c;
		} else {
			td->host->vq_unpop(c);
			break;
		}
	}
	if (index == 0)
		td->host->vq_notify(vq);
}

static const struct hvd_device_ops td_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = td_create,
	.destroy = td_destroy,
	.features_ok = td_features_ok,
	.activate = td_activate,
	.reset = td_reset,
	.config_read = td_config_read,
	.config_write = td_config_write,
	.queue_notify = td_queue_notify,
};

HVD_PLUGIN_DEFINE("testdev", TESTDEV_ID, "core test device", "1.0", &td_ops);
