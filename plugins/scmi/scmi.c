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

#include "hvisor/scmi.h"
#include "scmi.h"

#define SCMI_DEVICE_ID 32u
/* Requests served per pass; the rest continue on the next pass. */
#define SCMI_BATCH 32u
/* Request bytes looked at: the largest message (RATE_SET) is 20. */
#define SCMI_MAX_REQ 128u

/* Declares kernel ids [first, first+count) of kind k. 1: the module has no
 * allowed sets (hvisor-tool's) or no hypervisor behind the daemon; 0;
 * -errno after logging why. */
static int declare_range(struct scmi *s, enum scmi_kind k, uint32_t first,
			 uint32_t count)
{
	static const char *const kind_name[SCMI_KINDS] = {"clock", "reset",
							  "power domain"};
	struct hvisor_scmi_allow a = {
		.kind = SCMI_REQUEST(k), .first = first, .count = count};
	int rc = s->host->hv_scmi(s->dev, HVISOR_SCMI_ALLOW, &a, sizeof a);
	switch (rc) {
	case 0:
		return 0;
	case -ENODEV: /* no hypervisor (--check), or no "hvisor" DT node */
	case -ENOTTY: /* hvisor-tool's module: no allowed sets */
		s->host->log(s->dev, HVD_LOG_INFO,
			     "kernel keeps no SCMI allowed set (%s): only "
			     "this device's id lists confine the guest",
			     strerror(-rc));
		return 1;
	case -EINVAL: /* an id the zone-0 DT node does not list */
		s->host->log(s->dev, HVD_LOG_WARN,
			     "kernel %s ids %u..%u are not in its \"hvisor\" "
			     "DT node: the guest's requests for them will fail",
			     kind_name[k], first, first + count - 1);
		return 0;
	case -EPERM:
		s->host->log(s->dev, HVD_LOG_ERROR,
			     "%s ids %u..%u cannot join this zone's SCMI "
			     "allowed set (EPERM): the set is sealed when the "
			     "daemon has started, so an scmi device that needs "
			     "kernel ids cannot be added at runtime; put it in "
			     "the start configuration (declaring also needs "
			     "CAP_SYS_RAWIO; docs/scmi.md, \"Allowed sets\")",
			     kind_name[k], first, first + count - 1);
		return rc;
	}
	s->host->log(
		s->dev, HVD_LOG_ERROR,
		"kernel refused %s ids %u..%u for this zone's SCMI allowed "
		"set: %s",
		kind_name[k], first, first + count - 1, strerror(-rc));
	return rc;
}

int scmi_declare(struct scmi *s)
{
	if (!HVD_HOST_HAS(s->host, hv_scmi))
		return 0;
	for (int k = 0; k < SCMI_KINDS; k++) {
		const struct scmi_ids *ids = &s->ids[k];
		if (ids->phandle)
			continue; /* a provider's own ids: never in a set */
		uint32_t i = 0;
		while (i < ids->count) {
			if (!ids->allowed[i]) {
				i++;
				continue;
			}
			/* A run of consecutive kernel ids goes as one range. */
			uint32_t first = ids->phys[i], n = 1;
			for (i++; i < ids->count && ids->allowed[i] &&
				  ids->phys[i] == first + n;
			     i++)
				n++;
			int rc = declare_range(s, (enum scmi_kind)k, first, n);
			if (rc)
				return rc < 0 ? rc : 0;
		}
	}
	return 0;
}

static int scmi_create(struct hvd_device *dev, struct hvd_device_info *info,
		       void **state)
{
	struct scmi *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->host = hvd_host(dev);
	int rc = scmi_cfg_parse(s);
	if (!rc)
		rc = scmi_declare(s);
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

/* One request. false: it was malformed and the device needs a reset. */
static bool serve_one(struct scmi *s, struct hvd_chain *c)
{
	uint8_t req[SCMI_MAX_REQ], resp[SCMI_MAX_RESP];
	uint32_t req_len = (uint32_t)hvd_chain_read(c, 0, req, sizeof req);
	if (req_len < 4) {
		s->host->needs_reset(s->dev, "SCMI request without a header");
		return false;
	}
	uint32_t len = scmi_handle(s, req, req_len, resp);
	if (c->in_bytes < len) {
		s->host->needs_reset(s->dev, "SCMI response buffer too small");
		return false;
	}
	hvd_chain_write(c, 0, resp, len);
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
