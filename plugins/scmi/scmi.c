/* SPDX-License-Identifier: MIT */
/*
 * virtio-scmi (virtio 1.2 section 5.17, device id 32): the guest is an SCMI
 * agent and this device its platform, for the clocks, resets and power
 * domains its JSON lists (scmi_cfg.c). Queue 0 (cmdq) carries one request
 * per chain: the readable part is the message (header + payload), the
 * writable part receives the response. Queue 1 (eventq) exists but stays
 * unused: no notifications are offered (no VIRTIO_SCMI_F_P2A_CHANNELS).
 *
 * Requests reach the zone-0 kernel (ioctls 32-34), which may sleep in the
 * clk framework, so the queue is served from the event loop, never on the
 * dispatch thread that answers every device's register accesses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scmi.h"

#define SCMI_DEVICE_ID 32u
/* Requests served per pass; the rest continue on the next pass. */
#define SCMI_BATCH 32u
/* Request bytes looked at: the largest message (RATE_SET) is 20. */
#define SCMI_MAX_REQ 128u

static int scmi_create(struct hvd_device *dev, struct hvd_device_info *info,
		       void **state)
{
	struct scmi *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->host = hvd_host(dev);
	int rc = scmi_cfg_parse(s);
	if (rc) {
		scmi_cfg_free(s);
		free(s);
		return rc;
	}
	info->num_queues = 2;
	info->queue_max_size = 64;
	*state = s;
	s->host->log(dev, HVD_LOG_INFO, "%u clocks, %u resets, %u domains",
		     s->ids[SCMI_CLOCK].count, s->ids[SCMI_RESET].count,
		     s->ids[SCMI_POWER].count);
	return 0;
}

static void stop_serving(struct scmi *s)
{
	if (s->serve)
		s->host->timer_cancel(s->serve);
	s->serve = NULL;
}

static void scmi_destroy(void *state)
{
	struct scmi *s = state;
	stop_serving(s);
	scmi_cfg_free(s);
	free(s);
}

/* Copy up to `cap` readable bytes of the chain into buf; the count. */
static uint32_t gather(const struct hvd_chain *c, uint8_t *buf, uint32_t cap)
{
	uint32_t got = 0;
	for (uint32_t i = 0; i < c->num_out && got < cap; i++) {
		size_t n = c->iov[i].iov_len;
		if (n > cap - got)
			n = cap - got;
		memcpy(buf + got, c->iov[i].iov_base, n);
		got += (uint32_t)n;
	}
	return got;
}

static void scatter(const struct hvd_chain *c, const uint8_t *buf, uint32_t len)
{
	uint32_t done = 0;
	for (uint32_t i = c->num_out; i < c->num_out + c->num_in && done < len;
	     i++) {
		size_t n = c->iov[i].iov_len;
		if (n > len - done)
			n = len - done;
		memcpy(c->iov[i].iov_base, buf + done, n);
		done += (uint32_t)n;
	}
}

/* One request. false: it was malformed and the device needs a reset. */
static bool serve_one(struct scmi *s, struct hvd_chain *c)
{
	uint8_t req[SCMI_MAX_REQ], resp[SCMI_MAX_RESP];
	uint32_t req_len = gather(c, req, sizeof req);
	if (req_len < 4) {
		s->host->needs_reset(s->dev, "SCMI request without a header");
		return false;
	}
	uint32_t len = scmi_handle(s, req, req_len, resp);
	if (c->in_bytes < len) {
		s->host->needs_reset(s->dev, "SCMI response buffer too small");
		return false;
	}
	scatter(c, resp, len);
	s->host->vq_push(c, len);
	return true;
}

static void serve(void *opaque)
{
	struct scmi *s = opaque;
	stop_serving(s);
	struct hvd_vq *vq = s->host->vq_get(s->dev, 0);
	unsigned served;
	for (served = 0; served < SCMI_BATCH; served++) {
		struct hvd_chain *c = s->host->vq_pop(vq);
		if (!c)
			break;
		if (!serve_one(s, c)) {
			s->host->vq_push(c, 0);
			break;
		}
	}
	s->host->vq_notify(vq);
	if (served == SCMI_BATCH && s->host->vq_has_work(vq))
		s->serve = s->host->timer_add(s->dev, 1, 0, serve, s);
}

static void scmi_queue_notify(void *state, unsigned index)
{
	struct scmi *s = state;
	if (index != 0 || s->serve)
		return; /* the eventq is never used */
	s->serve = s->host->timer_add(s->dev, 1, 0, serve, s);
}

static void scmi_reset(void *state)
{
	stop_serving(state);
}

static const struct hvd_device_ops scmi_ops = {
	.size = sizeof(struct hvd_device_ops),
	.create = scmi_create,
	.destroy = scmi_destroy,
	.reset = scmi_reset,
	.queue_notify = scmi_queue_notify,
};

HVD_PLUGIN_DEFINE("scmi", SCMI_DEVICE_ID,
		  "virtio SCMI: clocks, resets and power domains", "1.0",
		  &scmi_ops);
