/* SPDX-License-Identifier: MIT */
/*
 * SCMI protocols Base (0x10), Power domain (0x11), Clock (0x14) and Reset
 * domain (0x16) as an SCMI platform answers an agent (Arm DEN0056 v3.x;
 * the message ids and layouts Linux's drivers/firmware/arm_scmi uses).
 * Every message not implemented here gets NOT_SUPPORTED; a payload shorter
 * than its message needs gets PROTOCOL_ERROR. Nothing is asynchronous: the
 * attributes say so, and an async flag gets NOT_SUPPORTED. Facts and the
 * choices where hvisor-tool departs from the spec: docs/scmi.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hvisor/scmi.h"
#include "scmi.h"

/* Status codes (spec section 4.1.4). */
#define SCMI_SUCCESS        0
#define SCMI_NOT_SUPPORTED  (-1)
#define SCMI_INVALID_PARAMS (-2)
#define SCMI_NOT_FOUND      (-4)
#define SCMI_OUT_OF_RANGE   (-5)
#define SCMI_GENERIC_ERROR  (-8)
#define SCMI_PROTOCOL_ERROR (-10)

/* Header fields (spec 4.1.1). */
#define HDR_MSG(h)   ((h)&0xffu)
#define HDR_TYPE(h)  (((h) >> 8) & 0x3u)
#define HDR_PROTO(h) (((h) >> 10) & 0xffu)

#define PROTO_BASE  0x10u
#define PROTO_POWER 0x11u
#define PROTO_CLOCK 0x14u
#define PROTO_RESET 0x16u

#define SHORT_NAME 16u

/* One message being answered: its payload in, the reply payload out
 * (after the status word). */
struct proto;
struct msg {
	struct scmi *s;
	const struct proto *p; /* the protocol addressed */
	const uint8_t *in;
	uint32_t in_len;
	uint8_t *out;
	uint32_t out_len;
};

static uint32_t in32(const struct msg *m, unsigned word)
{
	uint32_t v;
	memcpy(&v, m->in + 4 * word, 4);
	return v;
}

static void out32(struct msg *m, uint32_t v)
{
	memcpy(m->out + m->out_len, &v, 4);
	m->out_len += 4;
}

static void out_name(struct msg *m, const char *name, uint32_t size)
{
	/* NUL-terminated within `size`, the rest zero. */
	size_t n = strlen(name); /* callers pass terminated strings */
	if (n > size - 1)
		n = size - 1;
	memset(m->out + m->out_len, 0, size);
	memcpy(m->out + m->out_len, name, n);
	m->out_len += size;
}

struct cmd {
	uint8_t id;
	uint8_t in_len; /* payload bytes required */
	int32_t (*fn)(struct msg *m);
};

struct proto {
	uint8_t id;
	int kind; /* enum scmi_kind, or -1 for Base */
	uint32_t version;
	const struct cmd *cmds;
	unsigned ncmds;
};

static const struct proto *find_proto(unsigned id);
static bool proto_present(const struct scmi *s, const struct proto *p)
{
	return p->kind < 0 || s->ids[p->kind].count > 0;
}

/* ---- the kernel module (ioctls 32-34 through the host) --------------- */

static int kernel(struct scmi *s, enum scmi_kind k, void *arg, uint32_t len)
{
	const unsigned which = SCMI_REQUEST(k);
	const struct hvd_host_services *h = s->host;
	if (!HVD_HOST_HAS(h, hv_scmi))
		return -ENOSYS;
	struct scmi_ids *ids = &s->ids[k];
	if (ids->phandle && !ids->phandle_sent) {
		/* All three argument structs start the same way. */
		struct hvisor_scmi_reset_args ph = {
			.subcmd = HVISOR_SCMI_SET_PHANDLE,
			.data_len = 4,
			.u.phandle = ids->phandle,
		};
		uint8_t buf[sizeof(struct hvisor_scmi_clock_args)] = {0};
		memcpy(buf, &ph, sizeof ph);
		int rc = h->hv_scmi(s->dev, which, buf, len);
		if (rc < 0) {
			h->log(s->dev, HVD_LOG_ERROR,
			       "kernel refused provider phandle %u (%s): "
			       "a module with SET_PHANDLE is needed",
			       ids->phandle, strerror(-rc));
			return rc;
		}
		ids->phandle_sent = true;
	}
	memcpy((uint8_t *)arg + 4, &(uint32_t){len - 8}, 4);
	int rc = h->hv_scmi(s->dev, which, arg, len);
	if (rc < 0)
		h->log(s->dev, HVD_LOG_DEBUG, "SCMI request %u.%u: %s", which,
		       *(uint32_t *)arg, strerror(-rc));
	return rc;
}

/* The kernel id of the guest id in payload word 0 (or NOT_FOUND). */
static int32_t guest_id(struct msg *m, enum scmi_kind k, uint32_t *phys)
{
	return scmi_ids_lookup(&m->s->ids[k], in32(m, 0), phys) ? SCMI_NOT_FOUND
								: SCMI_SUCCESS;
}

/* ---- messages every protocol has (0x0, 0x1, 0x2) ---------------------- */

static int32_t common_version(struct msg *m)
{
	out32(m, m->p->version);
	return SCMI_SUCCESS;
}

static int32_t common_msg_attributes(struct msg *m)
{
	uint32_t id = in32(m, 0);
	for (unsigned i = 0; i < m->p->ncmds; i++)
		if (m->p->cmds[i].id == id) {
			out32(m, 0); /* no fast channel, no notification */
			return SCMI_SUCCESS;
		}
	return SCMI_NOT_FOUND;
}

/* ---- Base ------------------------------------------------------------- */

static int32_t base_attributes(struct msg *m)
{
	unsigned n = 0;
	for (unsigned id = PROTO_BASE + 1; id <= 0xff; id++) {
		const struct proto *p = find_proto(id);
		n += p && proto_present(m->s, p);
	}
	out32(m, 1u << 8 | n); /* one agent: this guest */
	return SCMI_SUCCESS;
}

static int32_t base_vendor(struct msg *m)
{
	out_name(m, "hvisor", SHORT_NAME);
	return SCMI_SUCCESS;
}

static int32_t base_sub_vendor(struct msg *m)
{
	out_name(m, "hvd virtio", SHORT_NAME);
	return SCMI_SUCCESS;
}

static int32_t base_impl_version(struct msg *m)
{
	out32(m, 0x00010000); /* this plugin's version 1.0 */
	return SCMI_SUCCESS;
}

/* The implemented protocols other than Base, `skip` first, packed four
 * ids to a word (spec 4.2.2.7). */
static int32_t base_list_protocols(struct msg *m)
{
	uint32_t skip = in32(m, 0), n = 0, total = 0;
	uint8_t list[8] = {0};
	for (unsigned id = PROTO_BASE + 1; id <= 0xff; id++) {
		const struct proto *p = find_proto(id);
		if (!p || !proto_present(m->s, p))
			continue;
		if (total++ >= skip)
			list[n++] = (uint8_t)id;
	}
	if (skip > total)
		return SCMI_INVALID_PARAMS;
	out32(m, n);
	memcpy(m->out + m->out_len, list, (n + 3) / 4 * 4);
	m->out_len += (n + 3) / 4 * 4;
	return SCMI_SUCCESS;
}

/* Agent 0 is the platform, 1 this guest (0xffffffff: the caller). */
static int32_t base_discover_agent(struct msg *m)
{
	uint32_t id = in32(m, 0);
	if (id == 0xffffffffu)
		id = 1;
	if (id > 1)
		return SCMI_NOT_FOUND;
	out32(m, id);
	out_name(m, id == 0 ? "platform" : "guest", SHORT_NAME);
	return SCMI_SUCCESS;
}

/* ---- Clock ------------------------------------------------------------ */

static int32_t clock_proto_attributes(struct msg *m)
{
	/* Clocks in bits 15:0; max pending async requests (23:16) 0. */
	out32(m, m->s->ids[SCMI_CLOCK].count);
	return SCMI_SUCCESS;
}

static int32_t clock_attributes(struct msg *m)
{
	struct hvisor_scmi_clock_args a = {
		.subcmd = HVISOR_SCMI_CLOCK_GET_ATTRIBUTES};
	int32_t st = guest_id(m, SCMI_CLOCK, &a.u.attr.id);
	if (st)
		return st;
	if (kernel(m->s, SCMI_CLOCK, &a, sizeof a))
		return SCMI_GENERIC_ERROR;
	a.u.attr.name[sizeof a.u.attr.name - 1] = 0;
	uint32_t attr = a.u.attr.enabled ? 1u : 0u;
	if (strlen(a.u.attr.name) >= SHORT_NAME)
		attr |= 1u << 29; /* the full name through NAME_GET */
	out32(m, attr);
	out_name(m, a.u.attr.name, SHORT_NAME);
	out32(m, 0); /* enable delay: not known */
	return SCMI_SUCCESS;
}

/* One range triplet {min, max, step}: the module cannot enumerate rates,
 * and the clk framework rounds a set rate itself. */
static int32_t clock_describe_rates(struct msg *m)
{
	uint32_t phys;
	int32_t st = guest_id(m, SCMI_CLOCK, &phys);
	if (st)
		return st;
	if (in32(m, 1) != 0)
		return SCMI_OUT_OF_RANGE;
	static const uint64_t range[3] = {0, 10000000000ull, 1};
	out32(m, 3u | 1u << 12); /* 3 entries, range format, 0 remaining */
	for (unsigned i = 0; i < 3; i++) {
		out32(m, (uint32_t)range[i]);
		out32(m, (uint32_t)(range[i] >> 32));
	}
	return SCMI_SUCCESS;
}

static int32_t clock_rate_set(struct msg *m)
{
	uint32_t flags = in32(m, 0);
	struct hvisor_scmi_clock_args a = {.subcmd =
						   HVISOR_SCMI_CLOCK_RATE_SET};
	if (scmi_ids_lookup(&m->s->ids[SCMI_CLOCK], in32(m, 1), &a.u.rate.id))
		return SCMI_NOT_FOUND;
	if (flags & 1u) /* async: PROTOCOL_ATTRIBUTES allows none */
		return SCMI_NOT_SUPPORTED;
	if (flags & ~0xfu)
		return SCMI_INVALID_PARAMS;
	a.u.rate.flags = flags & 0xcu; /* rounding: up / auto */
	a.u.rate.rate = (uint64_t)in32(m, 3) << 32 | in32(m, 2);
	return kernel(m->s, SCMI_CLOCK, &a, sizeof a) ? SCMI_GENERIC_ERROR
						      : SCMI_SUCCESS;
}

static int32_t clock_rate_get(struct msg *m)
{
	struct hvisor_scmi_clock_args a = {.subcmd =
						   HVISOR_SCMI_CLOCK_RATE_GET};
	int32_t st = guest_id(m, SCMI_CLOCK, &a.u.rate.id);
	if (st)
		return st;
	if (kernel(m->s, SCMI_CLOCK, &a, sizeof a))
		return SCMI_GENERIC_ERROR;
	out32(m, (uint32_t)a.u.rate.rate);
	out32(m, (uint32_t)(a.u.rate.rate >> 32));
	return SCMI_SUCCESS;
}

/* Attributes bits 1:0: 0 disable, 1 enable, 3 leave as is (clock v3);
 * bits 23:16 an OEM config type, none supported. The v1 form (no OEM
 * value word) is accepted too. */
static int32_t clock_config_set(struct msg *m)
{
	struct hvisor_scmi_clock_args a = {
		.subcmd = HVISOR_SCMI_CLOCK_CONFIG_SET};
	int32_t st = guest_id(m, SCMI_CLOCK, &a.u.config.id);
	if (st)
		return st;
	uint32_t attr = in32(m, 1);
	if (attr & 0xff0000u)
		return SCMI_NOT_SUPPORTED;
	if ((attr & ~0xff0003u) || (attr & 3u) == 2u)
		return SCMI_INVALID_PARAMS;
	if ((attr & 3u) == 3u)
		return SCMI_SUCCESS;
	a.u.config.config = attr & 1u;
	return kernel(m->s, SCMI_CLOCK, &a, sizeof a) ? SCMI_GENERIC_ERROR
						      : SCMI_SUCCESS;
}

static int32_t clock_name_get(struct msg *m)
{
	struct hvisor_scmi_clock_args a = {.subcmd =
						   HVISOR_SCMI_CLOCK_NAME_GET};
	int32_t st = guest_id(m, SCMI_CLOCK, &a.u.name.id);
	if (st)
		return st;
	if (kernel(m->s, SCMI_CLOCK, &a, sizeof a))
		return SCMI_GENERIC_ERROR;
	a.u.name.name[sizeof a.u.name.name - 1] = 0;
	out32(m, 0); /* flags */
	out_name(m, a.u.name.name, HVISOR_SCMI_NAME_LEN);
	return SCMI_SUCCESS;
}

static int32_t clock_config_get(struct msg *m)
{
	struct hvisor_scmi_clock_args a = {
		.subcmd = HVISOR_SCMI_CLOCK_CONFIG_GET};
	int32_t st = guest_id(m, SCMI_CLOCK, &a.u.config.id);
	if (st)
		return st;
	uint32_t flags = in32(m, 1);
	if (flags & 0xffu) /* an OEM config type */
		return SCMI_NOT_SUPPORTED;
	if (flags)
		return SCMI_INVALID_PARAMS;
	if (kernel(m->s, SCMI_CLOCK, &a, sizeof a))
		return SCMI_GENERIC_ERROR;
	out32(m, 0);                      /* attributes */
	out32(m, a.u.config.config & 1u); /* bit 0: enabled */
	out32(m, 0);                      /* OEM config value */
	return SCMI_SUCCESS;
}

/* ---- Power domain ------------------------------------------------------- */

static int32_t power_proto_attributes(struct msg *m)
{
	out32(m, m->s->ids[SCMI_POWER].count);
	out32(m, 0); /* no statistics region: address low, high, length */
	out32(m, 0);
	out32(m, 0);
	return SCMI_SUCCESS;
}

static int32_t power_domain_attributes(struct msg *m)
{
	struct hvisor_scmi_power_args a = {
		.subcmd = HVISOR_SCMI_POWER_GET_ATTRIBUTES};
	int32_t st = guest_id(m, SCMI_POWER, &a.u.attr.domain);
	if (st)
		return st;
	if (kernel(m->s, SCMI_POWER, &a, sizeof a))
		return SCMI_GENERIC_ERROR;
	a.u.attr.name[sizeof a.u.attr.name - 1] = 0;
	out32(m, 1u << 29); /* synchronous state changes only */
	out_name(m, a.u.attr.name, SHORT_NAME);
	return SCMI_SUCCESS;
}

static int32_t power_state_set(struct msg *m)
{
	uint32_t flags = in32(m, 0), state = in32(m, 2);
	struct hvisor_scmi_power_args a = {.subcmd =
						   HVISOR_SCMI_POWER_STATE_SET};
	if (scmi_ids_lookup(&m->s->ids[SCMI_POWER], in32(m, 1),
			    &a.u.state.domain))
		return SCMI_NOT_FOUND;
	if (flags & 1u)
		return SCMI_NOT_SUPPORTED;
	if (flags ||
	    (state != HVISOR_SCMI_POWER_ON && state != HVISOR_SCMI_POWER_OFF))
		return SCMI_INVALID_PARAMS;
	a.u.state.state = state;
	return kernel(m->s, SCMI_POWER, &a, sizeof a) ? SCMI_GENERIC_ERROR
						      : SCMI_SUCCESS;
}

static int32_t power_state_get(struct msg *m)
{
	struct hvisor_scmi_power_args a = {.subcmd =
						   HVISOR_SCMI_POWER_STATE_GET};
	int32_t st = guest_id(m, SCMI_POWER, &a.u.state.domain);
	if (st)
		return st;
	if (kernel(m->s, SCMI_POWER, &a, sizeof a))
		return SCMI_GENERIC_ERROR;
	out32(m, a.u.state.state);
	return SCMI_SUCCESS;
}

/* ---- Reset domain ------------------------------------------------------- */

static int32_t reset_proto_attributes(struct msg *m)
{
	out32(m, m->s->ids[SCMI_RESET].count);
	return SCMI_SUCCESS;
}

static int32_t reset_domain_attributes(struct msg *m)
{
	uint32_t phys;
	int32_t st = guest_id(m, SCMI_RESET, &phys);
	if (st)
		return st;
	char name[SHORT_NAME];
	snprintf(name, sizeof name, "reset%u", in32(m, 0));
	out32(m, 0);           /* no async, no notifications */
	out32(m, 0xffffffffu); /* latency not known */
	out_name(m, name, SHORT_NAME);
	return SCMI_SUCCESS;
}

/* Flags: bit 0 autonomous reset, bit 1 explicit assert (else deassert),
 * bit 2 async. The module takes the low two bits as they are. */
static int32_t reset_reset(struct msg *m)
{
	uint32_t flags = in32(m, 1);
	struct hvisor_scmi_reset_args a = {.subcmd = HVISOR_SCMI_RESET_RESET};
	int32_t st = guest_id(m, SCMI_RESET, &a.u.reset.domain);
	if (st)
		return st;
	if (flags & 4u)
		return SCMI_NOT_SUPPORTED;
	if (flags > 3u || flags == 3u)
		return SCMI_INVALID_PARAMS;
	a.u.reset.flags = flags;
	a.u.reset.reset_state = in32(m, 2);
	return kernel(m->s, SCMI_RESET, &a, sizeof a) ? SCMI_GENERIC_ERROR
						      : SCMI_SUCCESS;
}

/* ---- tables ------------------------------------------------------------- */

#define COMMON_CMDS(attributes)                         \
	{0x0, 0, common_version}, {0x1, 0, attributes}, \
	{                                               \
		0x2, 4, common_msg_attributes           \
	}

static const struct cmd base_cmds[] = {
	COMMON_CMDS(base_attributes),  {0x3, 0, base_vendor},
	{0x4, 0, base_sub_vendor},     {0x5, 0, base_impl_version},
	{0x6, 4, base_list_protocols}, {0x7, 4, base_discover_agent},
};

static const struct cmd power_cmds[] = {
	COMMON_CMDS(power_proto_attributes),
	{0x3, 4, power_domain_attributes},
	{0x4, 12, power_state_set},
	{0x5, 4, power_state_get},
};

static const struct cmd clock_cmds[] = {
	COMMON_CMDS(clock_proto_attributes),
	{0x3, 4, clock_attributes},
	{0x4, 8, clock_describe_rates},
	{0x5, 16, clock_rate_set},
	{0x6, 4, clock_rate_get},
	{0x7, 8, clock_config_set},
	{0x8, 4, clock_name_get},
	{0xb, 8, clock_config_get},
};

static const struct cmd reset_cmds[] = {
	COMMON_CMDS(reset_proto_attributes),
	{0x3, 4, reset_domain_attributes},
	{0x4, 12, reset_reset},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct proto protos[] = {
	{PROTO_BASE, -1, 0x20000, base_cmds, N(base_cmds)},
	{PROTO_POWER, SCMI_POWER, 0x30000, power_cmds, N(power_cmds)},
	{PROTO_CLOCK, SCMI_CLOCK, 0x30000, clock_cmds, N(clock_cmds)},
	{PROTO_RESET, SCMI_RESET, 0x30000, reset_cmds, N(reset_cmds)},
};

static const struct proto *find_proto(unsigned id)
{
	for (unsigned i = 0; i < N(protos); i++)
		if (protos[i].id == id)
			return &protos[i];
	return NULL;
}

static int32_t dispatch(struct msg *m, uint32_t hdr)
{
	const struct proto *p = find_proto(HDR_PROTO(hdr));
	if (HDR_TYPE(hdr) != 0 || !p || !proto_present(m->s, p))
		return SCMI_NOT_SUPPORTED;
	for (unsigned i = 0; i < p->ncmds; i++) {
		const struct cmd *c = &p->cmds[i];
		if (c->id != HDR_MSG(hdr))
			continue;
		if (m->in_len < c->in_len)
			return SCMI_PROTOCOL_ERROR;
		m->p = p;
		return c->fn(m);
	}
	return SCMI_NOT_SUPPORTED;
}

uint32_t scmi_handle(struct scmi *s, const uint8_t *req, uint32_t req_len,
		     uint8_t *resp)
{
	uint32_t hdr;
	memcpy(&hdr, req, 4);
	struct msg m = {
		.s = s,
		.in = req + 4,
		.in_len = req_len - 4,
		.out = resp + 8,
	};
	int32_t st = dispatch(&m, hdr);
	if (st != SCMI_SUCCESS)
		m.out_len = 0;
	/* The reply keeps protocol, message and token, with type 0. */
	hdr &= ~(0x3u << 8 | 0xfu << 28);
	memcpy(resp, &hdr, 4);
	memcpy(resp + 4, &st, 4);
	return 8 + m.out_len;
}
