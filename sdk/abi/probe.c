/* SPDX-License-Identifier: MIT */
/*
 * The ABI probe: plugin.h is a header-only ABI, which libabigail can only
 * see through exported functions that use its types. This library exports
 * one function per public type (and one object whose member sizes carry the
 * public constants), so `abidw` of it describes the whole plugin ABI and
 * `abidiff` against the committed baseline (sdk/abi/hvd-plugin-X.Y.abi)
 * catches any change. Never installed; see sdk/abi/abi-check.sh.
 */
#include "hvd/plugin.h"

#define PROBE __attribute__((visibility("default"), used, noinline))

PROBE void hvd_abi_probe_descriptor(const struct hvd_plugin_descriptor *d);
PROBE void hvd_abi_probe_device_ops(const struct hvd_device_ops *o);
PROBE void hvd_abi_probe_device_info(const struct hvd_device_info *i);
PROBE void hvd_abi_probe_chain(const struct hvd_chain *c);
PROBE void hvd_abi_probe_host_services(const struct hvd_host_services *h);
PROBE void hvd_abi_probe_log_level(enum hvd_log_level level);
PROBE void hvd_abi_probe_callbacks(hvd_watch_cb w, hvd_timer_cb t);

void hvd_abi_probe_descriptor(const struct hvd_plugin_descriptor *d)
{
	(void)d;
}

void hvd_abi_probe_device_ops(const struct hvd_device_ops *o)
{
	(void)o;
}

void hvd_abi_probe_device_info(const struct hvd_device_info *i)
{
	(void)i;
}

void hvd_abi_probe_chain(const struct hvd_chain *c)
{
	(void)c;
}

void hvd_abi_probe_host_services(const struct hvd_host_services *h)
{
	(void)h;
}

void hvd_abi_probe_log_level(enum hvd_log_level level)
{
	(void)level;
}

void hvd_abi_probe_callbacks(hvd_watch_cb w, hvd_timer_cb t)
{
	(void)w;
	(void)t;
}

/* The public constants, as array lengths (+1: none may be zero), so a
 * changed value is a changed type in the dump. The version numbers are not
 * here: they name the baseline file instead. */
struct hvd_abi_probe_constants {
	char max_queues[HVD_MAX_QUEUES + 1];
	char ev_in[HVD_EV_IN + 1];
	char ev_out[HVD_EV_OUT + 1];
	char ev_err[HVD_EV_ERR + 1];
	char ev_hup[HVD_EV_HUP + 1];
	char plugin_symbol[sizeof HVD_PLUGIN_SYMBOL];
};

__attribute__((visibility("default")))
const struct hvd_abi_probe_constants hvd_abi_probe_constants;
