/* SPDX-License-Identifier: MIT */
/*
 * The mock's SCMI providers: what the kernel module's ioctls 32-34 drive
 * in zone 0 (hvisor/scmi.h), played with fake clocks, resets and power
 * domains so that tests can check what reached "the kernel". The answers
 * follow the module of hvisor-tool c724e91 (docs/scmi.md): an id outside
 * the provider or an unknown sub-command is EINVAL, and so is a reset flag
 * or power state it does not know.
 *
 * The allowed sets of this project's module are modelled per connection
 * (one connection = one open file of /dev/hvisor) with the module's
 * answers (kmod/scmi.c, docs/scmi.md): ALLOW beyond the providers EINVAL,
 * after SEAL EPERM, beyond HVISOR_SCMI_MAX_ZONES zones ENOSPC; once a
 * connection declared, its upstream requests EPERM and a ZONE request for
 * an id outside that zone's set EPERM; ZONE on a connection that never
 * declared EPERM; SET_PHANDLE through ZONE EINVAL. Refused requests and
 * ALLOW / SEAL do not count as calls: nothing reached the providers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hvisor/scmi.h"
#include "mock_internal.h"

void mock_scmi_init(struct hvd_mock *m)
{
	for (unsigned i = 0; i < HVD_MOCK_SCMI_CLOCKS; i++)
		m->scmi.clock_rate[i] = (uint64_t)(i + 1) * 1000000u;
}

/* ---- allowed sets ------------------------------------------------------ */

static const uint32_t kind_count[3] = {
	HVD_MOCK_SCMI_CLOCKS, HVD_MOCK_SCMI_RESETS, HVD_MOCK_SCMI_DOMAINS};

static bool is_kind(uint64_t which)
{
	return which >= HVISOR_SCMI_CLOCK && which <= HVISOR_SCMI_POWER;
}

/* Connection `conn`'s set, NULL if it never declared one. */
static struct mock_scmi_file *file_of(struct mock_scmi *s, int conn)
{
	for (unsigned i = 0; i < MOCK_MAX_CONNS; i++)
		if (s->files[i].used && s->files[i].conn == conn)
			return &s->files[i];
	return NULL;
}

/* The same, made (empty) if new; NULL only if every slot is taken. */
static struct mock_scmi_file *file_get(struct mock_scmi *s, int conn)
{
	struct mock_scmi_file *f = file_of(s, conn);
	for (unsigned i = 0; !f && i < MOCK_MAX_CONNS; i++) {
		if (!s->files[i].used) {
			f = &s->files[i];
			memset(f, 0, sizeof *f);
			f->used = true;
			f->conn = conn;
		}
	}
	return f;
}

void mock_scmi_forget_locked(struct hvd_mock *m, int conn)
{
	struct mock_scmi_file *f = file_of(&m->scmi, conn);
	if (f)
		f->used = false;
}

static int allow(struct mock_scmi *s, int conn,
		 const struct hvisor_scmi_allow *a)
{
	struct mock_scmi_file *f = file_of(s, conn);
	if (f && f->sealed)
		return -EPERM;
	if (!is_kind(a->kind))
		return -EINVAL;
	uint32_t n = kind_count[a->kind - HVISOR_SCMI_CLOCK];
	if (a->first > n || a->count > n - a->first)
		return -EINVAL;
	f = file_get(s, conn);
	if (!f)
		return -ENOMEM;
	unsigned z = 0;
	while (z < f->nzones && f->zones[z].zone != a->zone_id)
		z++;
	if (z == f->nzones) {
		if (z == HVISOR_SCMI_MAX_ZONES)
			return -ENOSPC;
		f->nzones++;
		f->zones[z].zone = a->zone_id;
		memset(f->zones[z].bits, 0, sizeof f->zones[z].bits);
	}
	for (uint32_t id = a->first; id < a->first + a->count; id++)
		f->zones[z].bits[a->kind - HVISOR_SCMI_CLOCK] |= 1u << id;
	return 0;
}

/* Whether `f` lets zone `zone` use id `id` of `which` (32..34). */
static bool in_set(const struct mock_scmi_file *f, uint32_t zone,
		   uint64_t which, uint32_t id)
{
	uint32_t n = kind_count[which - HVISOR_SCMI_CLOCK];
	for (unsigned z = 0; f && z < f->nzones; z++)
		if (f->zones[z].zone == zone)
			return id < n &&
			       (f->zones[z].bits[which - HVISOR_SCMI_CLOCK] >>
				id) & 1u;
	return false;
}

/* The check of a ZONE request: 0 lets it through to the providers. */
static int zone_check(struct mock_scmi *s, int conn,
		      const struct hvisor_scmi_zone_args *za)
{
	const struct mock_scmi_file *f = file_of(s, conn);
	if (!f)
		return -EPERM;
	if (!is_kind(za->kind))
		return -EINVAL;
	if (za->a.clock.subcmd == HVISOR_SCMI_SET_PHANDLE)
		return -EINVAL;
	int64_t id = hvisor_scmi_arg_id(&za->a);
	if (id >= 0 && !in_set(f, za->zone_id, za->kind, (uint32_t)id))
		return -EPERM;
	return 0;
}

static int clock_req(struct mock_scmi *s, struct hvisor_scmi_clock_args *a)
{
	uint32_t id = a->u.attr.id; /* the same offset in every member */
	if (a->subcmd == HVISOR_SCMI_GET_COUNT) {
		a->u.count = HVD_MOCK_SCMI_CLOCKS;
		return 0;
	}
	if (a->subcmd == HVISOR_SCMI_SET_PHANDLE) {
		s->phandle[0] = a->u.phandle;
		return 0;
	}
	if (id >= HVD_MOCK_SCMI_CLOCKS)
		return -EINVAL;
	switch (a->subcmd) {
	case HVISOR_SCMI_CLOCK_GET_ATTRIBUTES:
		a->u.attr.enabled = s->clock_on[id];
		a->u.attr.parent_id = -1;
		snprintf(a->u.attr.name, sizeof a->u.attr.name, "clk%u", id);
		a->u.attr.is_valid = 1;
		return 0;
	case HVISOR_SCMI_CLOCK_DESCRIBE_RATES:
		return 0;
	case HVISOR_SCMI_CLOCK_RATE_GET:
		a->u.rate.rate = s->clock_rate[id];
		return 0;
	case HVISOR_SCMI_CLOCK_RATE_SET:
		s->clock_rate[id] = a->u.rate.rate;
		return 0;
	case HVISOR_SCMI_CLOCK_CONFIG_GET:
		a->u.config.config = s->clock_on[id];
		a->u.config.ext = 0;
		return 0;
	case HVISOR_SCMI_CLOCK_CONFIG_SET:
		s->clock_on[id] = a->u.config.config & 1u;
		return 0;
	case HVISOR_SCMI_CLOCK_NAME_GET:
		snprintf(a->u.name.name, sizeof a->u.name.name, "mock-clock-%u",
			 id);
		return 0;
	}
	return -EINVAL;
}

static int reset_req(struct mock_scmi *s, struct hvisor_scmi_reset_args *a)
{
	uint32_t id = a->u.reset.domain;
	if (a->subcmd == HVISOR_SCMI_GET_COUNT) {
		a->u.count = HVD_MOCK_SCMI_RESETS;
		return 0;
	}
	if (a->subcmd == HVISOR_SCMI_SET_PHANDLE) {
		s->phandle[1] = a->u.phandle;
		return 0;
	}
	if (a->subcmd != HVISOR_SCMI_RESET_RESET || id >= HVD_MOCK_SCMI_RESETS)
		return -EINVAL;
	switch (a->u.reset.flags) {
	case HVISOR_SCMI_RESET_DEASSERT:
		s->reset_asserted[id] = false;
		return 0;
	case HVISOR_SCMI_RESET_ASSERT:
		s->reset_asserted[id] = true;
		return 0;
	case HVISOR_SCMI_RESET_AUTONOMOUS:
		s->reset_pulses[id]++;
		s->reset_asserted[id] = false;
		return 0;
	}
	return -EINVAL;
}

static int power_req(struct mock_scmi *s, struct hvisor_scmi_power_args *a)
{
	uint32_t id = a->u.state.domain;
	if (a->subcmd == HVISOR_SCMI_GET_COUNT) {
		a->u.count = HVD_MOCK_SCMI_DOMAINS;
		return 0;
	}
	if (a->subcmd == HVISOR_SCMI_SET_PHANDLE) {
		s->phandle[2] = a->u.phandle;
		return 0;
	}
	if (id >= HVD_MOCK_SCMI_DOMAINS)
		return -EINVAL;
	switch (a->subcmd) {
	case HVISOR_SCMI_POWER_GET_ATTRIBUTES:
		a->u.attr.flags = 0;
		snprintf(a->u.attr.name, sizeof a->u.attr.name, "pd_%u", id);
		return 0;
	case HVISOR_SCMI_POWER_STATE_SET:
		if (a->u.state.state != HVISOR_SCMI_POWER_ON &&
		    a->u.state.state != HVISOR_SCMI_POWER_OFF)
			return -EINVAL;
		s->power_on[id] = a->u.state.state == HVISOR_SCMI_POWER_ON;
		return 0;
	case HVISOR_SCMI_POWER_STATE_GET:
		a->u.state.state = s->power_on[id] ? HVISOR_SCMI_POWER_ON
						   : HVISOR_SCMI_POWER_OFF;
		return 0;
	}
	return -EINVAL;
}

/* Request `which` (32..34) on the providers. */
static int provider_req(struct mock_scmi *s, uint64_t which, void *arg)
{
	s->calls++;
	if (s->fail) {
		s->fail--;
		return -EIO;
	}
	if (which == HVISOR_SCMI_CLOCK)
		return clock_req(s, arg);
	if (which == HVISOR_SCMI_RESET)
		return reset_req(s, arg);
	return power_req(s, arg);
}

/* The module's checks before the providers, m->lock held. */
static int request_locked(struct mock_scmi *s, int conn, uint64_t which,
			  void *arg)
{
	if (s->no_sets && !is_kind(which))
		return -ENOTTY;
	switch (which) {
	case HVISOR_SCMI_ALLOW:
		return allow(s, conn, arg);
	case HVISOR_SCMI_SEAL: {
		const struct hvisor_scmi_seal *seal = arg;
		struct mock_scmi_file *f =
			seal->flags ? NULL : file_get(s, conn);
		if (f)
			f->sealed = true;
		return seal->flags ? -EINVAL : f ? 0 : -ENOMEM;
	}
	case HVISOR_SCMI_ZONE: {
		struct hvisor_scmi_zone_args *za = arg;
		int rc = zone_check(s, conn, za);
		return rc ? rc : provider_req(s, za->kind, &za->a);
	}
	}
	if (file_of(s, conn))
		return -EPERM; /* upstream requests name no zone */
	return provider_req(s, which, arg);
}

int mock_scmi_request(struct hvd_mock *m, int conn, uint64_t which, void *arg,
		      uint32_t len)
{
	if (which > UINT32_MAX || len == 0 ||
	    len != hvisor_scmi_arg_size((unsigned)which))
		return -ENOTTY; /* what an unknown ioctl gets */
	pthread_mutex_lock(&m->lock);
	int rc = request_locked(&m->scmi, conn, which, arg);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

HVD_API int hvd_mock_scmi_clock(struct hvd_mock *m, uint32_t id, uint64_t *rate,
				bool *enabled)
{
	if (id >= HVD_MOCK_SCMI_CLOCKS)
		return -ENOENT;
	pthread_mutex_lock(&m->lock);
	if (rate)
		*rate = m->scmi.clock_rate[id];
	if (enabled)
		*enabled = m->scmi.clock_on[id];
	pthread_mutex_unlock(&m->lock);
	return 0;
}

HVD_API int hvd_mock_scmi_reset(struct hvd_mock *m, uint32_t id, bool *asserted,
				uint32_t *pulses)
{
	if (id >= HVD_MOCK_SCMI_RESETS)
		return -ENOENT;
	pthread_mutex_lock(&m->lock);
	if (asserted)
		*asserted = m->scmi.reset_asserted[id];
	if (pulses)
		*pulses = m->scmi.reset_pulses[id];
	pthread_mutex_unlock(&m->lock);
	return 0;
}

HVD_API int hvd_mock_scmi_power(struct hvd_mock *m, uint32_t id, bool *on)
{
	if (id >= HVD_MOCK_SCMI_DOMAINS)
		return -ENOENT;
	pthread_mutex_lock(&m->lock);
	*on = m->scmi.power_on[id];
	pthread_mutex_unlock(&m->lock);
	return 0;
}

HVD_API uint64_t hvd_mock_scmi_calls(struct hvd_mock *m)
{
	pthread_mutex_lock(&m->lock);
	uint64_t n = m->scmi.calls;
	pthread_mutex_unlock(&m->lock);
	return n;
}

HVD_API void hvd_mock_scmi_fail(struct hvd_mock *m, unsigned n)
{
	pthread_mutex_lock(&m->lock);
	m->scmi.fail = n;
	pthread_mutex_unlock(&m->lock);
}

HVD_API uint32_t hvd_mock_scmi_phandle(struct hvd_mock *m, unsigned which)
{
	if (which < HVISOR_SCMI_CLOCK || which > HVISOR_SCMI_POWER)
		return 0;
	pthread_mutex_lock(&m->lock);
	uint32_t v = m->scmi.phandle[which - HVISOR_SCMI_CLOCK];
	pthread_mutex_unlock(&m->lock);
	return v;
}

HVD_API bool hvd_mock_scmi_allowed(struct hvd_mock *m, uint32_t zone,
				   unsigned which, uint32_t id)
{
	if (!is_kind(which))
		return false;
	bool found = false;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; !found && i < MOCK_MAX_CONNS; i++)
		found = m->scmi.files[i].used &&
			in_set(&m->scmi.files[i], zone, which, id);
	pthread_mutex_unlock(&m->lock);
	return found;
}

HVD_API unsigned hvd_mock_scmi_sets(struct hvd_mock *m, unsigned *sealed)
{
	unsigned n = 0, s = 0;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < MOCK_MAX_CONNS; i++) {
		n += m->scmi.files[i].used;
		s += m->scmi.files[i].used && m->scmi.files[i].sealed;
	}
	pthread_mutex_unlock(&m->lock);
	if (sealed)
		*sealed = s;
	return n;
}

HVD_API void hvd_mock_scmi_no_sets(struct hvd_mock *m, bool on)
{
	pthread_mutex_lock(&m->lock);
	m->scmi.no_sets = on;
	pthread_mutex_unlock(&m->lock);
}
