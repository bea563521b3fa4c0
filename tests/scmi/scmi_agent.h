/* SPDX-License-Identifier: MIT */
/*
 * The guest side of the virtio-scmi suites: an SCMI agent on the mock
 * guest, talking to an in-process daemon (daemon_fixture.h). Messages are
 * built and read as little-endian 32-bit words, the way Linux's arm_scmi
 * lays them out. Static inline: each suite uses what it needs.
 */
#ifndef TESTS_SCMI_AGENT_H
#define TESTS_SCMI_AGENT_H

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "daemon_fixture.h"

#define SCMI_BASE_ADDR 0xa003e00ull
#define SCMI_IRQ       78u

#define P_BASE  0x10u
#define P_POWER 0x11u
#define P_CLOCK 0x14u
#define P_RESET 0x16u

#define ST_OK             0
#define ST_NOT_SUPPORTED  (-1)
#define ST_INVALID_PARAMS (-2)
#define ST_NOT_FOUND      (-4)
#define ST_OUT_OF_RANGE   (-5)
#define ST_GENERIC_ERROR  (-8)
#define ST_PROTOCOL_ERROR (-10)

struct agent {
	struct fixture f;
	struct hvd_guest_dev *gd;
	struct hvd_guest_vq *cmdq;
	uint16_t token;
};

/* One reply: words[0] header, [1] status, then the payload. */
struct reply {
	uint32_t words[32];
	uint32_t len; /* bytes the device wrote */
};

static inline uint32_t scmi_hdr(unsigned proto, unsigned msg, unsigned type,
				unsigned token)
{
	return msg | type << 8 | proto << 10 | (token & 0x3ffu) << 18;
}

/* Start a daemon with one scmi device whose extra keys are `keys` (JSON
 * members without braces, may be ""), and bring the driver up as Linux's
 * virtio_scmi does without P2A (both queues set up, cmdq used). `prepare`
 * (may be NULL) sets the mock up before the daemon starts. */
static inline int agent_start_prepared(struct agent *a, const char *keys,
				       void (*prepare)(struct hvd_mock *))
{
	char json[3072];
	snprintf(json, sizeof json,
		 "{\"type\": \"scmi\", \"addr\": \"0xa003e00\", \"len\": "
		 "\"0x200\", \"irq\": 78%s%s}",
		 *keys ? ", " : "", keys);
	memset(a, 0, sizeof *a);
	a->f.prepare = prepare;
	if (fixture_start(&a->f, json))
		return -1;
	a->gd = hvd_guest_open(a->f.mock, 1, SCMI_BASE_ADDR, SCMI_IRQ);
	if (!a->gd || hvd_guest_probe(a->gd) != 32)
		return -1;
	uint64_t got;
	if (hvd_guest_negotiate(a->gd, 1ull << VIRTIO_F_VERSION_1, &got))
		return -1;
	a->cmdq = hvd_guest_vq_setup(a->gd, 0, 64);
	if (!a->cmdq || !hvd_guest_vq_setup(a->gd, 1, 64))
		return -1;
	return hvd_guest_driver_ok(a->gd);
}

static inline int agent_start(struct agent *a, const char *keys)
{
	return agent_start_prepared(a, keys, NULL);
}

static inline void agent_stop(struct agent *a)
{
	if (a->gd)
		hvd_guest_close(a->gd);
	fixture_stop(&a->f);
}

/* Queue one request (header + n words) with a reply buffer of `cap`
 * bytes; the reply lands in *r once used. Does not kick. */
static inline int agent_post(struct agent *a, uint32_t hdr, const uint32_t *in,
			     unsigned n, struct reply *r, uint32_t cap)
{
	uint32_t *req, *resp;
	uint64_t greq = hvd_guest_alloc(a->gd, 4 + 4 * n, 8, (void **)&req);
	uint64_t gresp = hvd_guest_alloc(a->gd, cap, 8, (void **)&resp);
	if (!greq || !gresp)
		return -1;
	req[0] = hdr;
	if (n)
		memcpy(req + 1, in, 4 * n);
	memset(resp, 0xee, cap);
	struct hvd_guest_buf b[2] = {{greq, 4 + 4 * n, false},
				     {gresp, cap, true}};
	memset(r, 0, sizeof *r);
	return hvd_guest_vq_add(a->cmdq, b, 2, false, resp) < 0 ? -1 : 0;
}

/* Wait for one used request; copies its reply into *r and returns the
 * guest pointer it came from (the token given to vq_add). */
static inline void *agent_wait(struct agent *a, struct reply *r)
{
	void *tok = NULL;
	uint32_t len = 0;
	if (hvd_guest_vq_wait_used(a->cmdq, &tok, &len, FIX_TIMEOUT_MS))
		return NULL;
	r->len = len;
	memcpy(r->words, tok, len < sizeof r->words ? len : sizeof r->words);
	return tok;
}

/* A full call: returns the status word (or a large positive number when
 * the reply is missing or its header does not echo the request's). */
static inline int32_t scmi_call(struct agent *a, unsigned proto, unsigned msg,
				const uint32_t *in, unsigned n, struct reply *r)
{
	uint32_t hdr = scmi_hdr(proto, msg, 0, ++a->token);
	if (agent_post(a, hdr, in, n, r, 128))
		return 1000;
	hvd_guest_vq_kick(a->cmdq);
	if (!agent_wait(a, r) || r->len < 8)
		return 1001;
	if (r->words[0] != hdr)
		return 1002;
	return (int32_t)r->words[1];
}

/* Shorthands for messages with a few argument words. */
static inline int32_t call0(struct agent *a, unsigned p, unsigned m,
			    struct reply *r)
{
	return scmi_call(a, p, m, NULL, 0, r);
}

static inline int32_t call1(struct agent *a, unsigned p, unsigned m,
			    uint32_t w0, struct reply *r)
{
	return scmi_call(a, p, m, &w0, 1, r);
}

static inline int32_t call2(struct agent *a, unsigned p, unsigned m,
			    uint32_t w0, uint32_t w1, struct reply *r)
{
	uint32_t in[2] = {w0, w1};
	return scmi_call(a, p, m, in, 2, r);
}

static inline int32_t call3(struct agent *a, unsigned p, unsigned m,
			    uint32_t w0, uint32_t w1, uint32_t w2,
			    struct reply *r)
{
	uint32_t in[3] = {w0, w1, w2};
	return scmi_call(a, p, m, in, 3, r);
}

/* The 16-byte name at payload word `w` of a reply. */
static inline const char *reply_name(struct reply *r, unsigned w)
{
	return (const char *)&r->words[w];
}

#endif
