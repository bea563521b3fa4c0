/* SPDX-License-Identifier: MIT */
/*
 * The mock's SCMI providers: what the kernel module's ioctls 32-34 drive
 * in zone 0 (hvisor/scmi.h), played with fake clocks, resets and power
 * domains so that tests can check what reached "the kernel". The answers
 * follow the module of hvisor-tool c724e91 (docs/scmi.md): an id outside
 * the provider or an unknown sub-command is EINVAL, and so is a reset flag
 * or power state it does not know.
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

int mock_scmi_request(struct hvd_mock *m, uint64_t which, void *arg,
		      uint32_t len)
{
	if (len == 0 || len != hvisor_scmi_arg_size((unsigned)which) ||
	    which > HVISOR_SCMI_POWER)
		return -ENOTTY; /* what an unknown ioctl gets */
	pthread_mutex_lock(&m->lock);
	struct mock_scmi *s = &m->scmi;
	s->calls++;
	int rc;
	if (s->fail) {
		s->fail--;
		rc = -EIO;
	} else if (which == HVISOR_SCMI_CLOCK) {
		rc = clock_req(s, arg);
	} else if (which == HVISOR_SCMI_RESET) {
		rc = reset_req(s, arg);
	} else {
		rc = power_req(s, arg);
	}
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
