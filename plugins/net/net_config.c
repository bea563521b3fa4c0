/* SPDX-License-Identifier: MIT */
/*
 * The net device's JSON keys:
 *   "backend": "tap" (default) or "socket"
 *   "tap": interface name (tap backend; created if missing)
 *   "path", "peer": our and the peer's UNIX datagram address (socket)
 *   "mac": ["0x00", "0x22", ...] (six bytes, the existing format) or
 *          "02:00:00:00:00:01"; default: a random locally administered one
 *   "mtu" (68..65535, default 1500), "num_queue_pairs" (1..16, default 1),
 *   "queue_size" (power of two 2..32768, default 256)
 * Type errors are logged by the host services with the full JSON path;
 * range errors name the key here (the log prefix names the device).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "net.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly "xx:xx:xx:xx:xx:xx" with hex digits of either case. */
int net_parse_mac(const char *text, uint8_t mac[6])
{
	if (strlen(text) != 17)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		int hi = hex_digit(text[i * 3]);
		int lo = hex_digit(text[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int parse_mac_key(struct net *net)
{
	const struct hvd_host_services *host = net->host;
	int kind = host->cfg_kind(net->dev, "mac");
	if (kind == -ENOENT) {
		uint8_t *mac = net->opt.mac;
		if (getrandom(mac, 6, 0) != 6)
			return -EIO;
		mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* local unicast */
		host->log(net->dev, HVD_LOG_INFO,
			  "no \"mac\": using %02x:%02x:%02x:%02x:%02x:%02x",
			  mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return 0;
	}
	if (kind < 0)
		return -EINVAL;
	if (kind == HVD_CFG_STRING) {
		const char *text;
		if (host->cfg_string(net->dev, "mac", &text))
			return -EINVAL;
		if (net_parse_mac(text, net->opt.mac)) {
			host->log(net->dev, HVD_LOG_ERROR,
				  "mac: '%s' is not like \"02:00:00:00:00:01\"",
				  text);
			return -EINVAL;
		}
		return 0;
	}
	unsigned len;
	if (host->cfg_array_len(net->dev, "mac", &len))
		return -EINVAL;
	if (len != 6) {
		host->log(net->dev, HVD_LOG_ERROR,
			  "mac: expected six bytes, got %u", len);
		return -EINVAL;
	}
	for (unsigned i = 0; i < 6; i++) {
		char key[16];
		uint64_t v;
		snprintf(key, sizeof key, "mac[%u]", i);
		if (host->cfg_u64(net->dev, key, &v))
			return -EINVAL;
		if (v > 0xff) {
			host->log(net->dev, HVD_LOG_ERROR,
				  "%s: 0x%llx is not a byte", key,
				  (unsigned long long)v);
			return -EINVAL;
		}
		net->opt.mac[i] = (uint8_t)v;
	}
	return 0;
}

/* Optional string; *out stays NULL when absent. */
static int parse_string(struct net *net, const char *key, const char **out)
{
	int r = net->host->cfg_string(net->dev, key, out);
	return r == -ENOENT ? 0 : r;
}

/* A key that belongs to the other backend is a mistake worth reporting. */
static int refuse_key(struct net *net, const char *key, const char *value,
		      const char *backend)
{
	if (!value)
		return 0;
	net->host->log(net->dev, HVD_LOG_ERROR,
		       "%s: not used by the %s backend", key, backend);
	return -EINVAL;
}

static int parse_backend(struct net *net)
{
	struct net_options *o = &net->opt;
	const char *backend = NULL;
	if (parse_string(net, "backend", &backend) ||
	    parse_string(net, "tap", &o->tap) ||
	    parse_string(net, "path", &o->path) ||
	    parse_string(net, "peer", &o->peer))
		return -EINVAL;
	if (!backend || strcmp(backend, "tap") == 0) {
		o->backend = NET_BACKEND_TAP;
		if (refuse_key(net, "path", o->path, "tap") ||
		    refuse_key(net, "peer", o->peer, "tap"))
			return -EINVAL;
		if (!o->tap || !o->tap[0] || strlen(o->tap) >= IFNAMSIZ) {
			net->host->log(net->dev, HVD_LOG_ERROR,
				       "tap: expected an interface name of 1 "
				       "to %d characters",
				       IFNAMSIZ - 1);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(backend, "socket") == 0) {
		o->backend = NET_BACKEND_SOCKET;
		if (refuse_key(net, "tap", o->tap, "socket"))
			return -EINVAL;
		if (!o->path || !o->peer || !o->path[0] || !o->peer[0]) {
			net->host->log(net->dev, HVD_LOG_ERROR,
				       "backend \"socket\" needs \"path\" and "
				       "\"peer\"");
			return -EINVAL;
		}
		return 0;
	}
	net->host->log(net->dev, HVD_LOG_ERROR,
		       "backend: '%s' is neither \"tap\" nor \"socket\"",
		       backend);
	return -EINVAL;
}

int net_parse_options(struct net *net)
{
	static const char *const keys[] = {
		"tap",        "mac",     "mtu",  "num_queue_pairs",
		"queue_size", "backend", "path", "peer",
		NULL};
	if (net->host->cfg_check_keys(net->dev, keys))
		return -EINVAL;
	struct net_options *o = &net->opt;
	uint64_t mtu = NET_DEFAULT_MTU, pairs = 1, qsize = NET_DEFAULT_QSIZE;
	if (parse_backend(net) || parse_mac_key(net) ||
	    net->host->cfg_u64_range(net->dev, "mtu", 68, 65535, &mtu) ||
	    net->host->cfg_u64_range(net->dev, "num_queue_pairs", 1,
				     NET_MAX_PAIRS, &pairs) ||
	    net->host->cfg_u64_range(net->dev, "queue_size", 2, 32768, &qsize))
		return -EINVAL;
	if (qsize & (qsize - 1)) {
		net->host->log(net->dev, HVD_LOG_ERROR,
			       "queue_size: %llu is not a power of two",
			       (unsigned long long)qsize);
		return -EINVAL;
	}
	if (o->mac[0] & 1) {
		net->host->log(
			net->dev, HVD_LOG_ERROR,
			"mac: a multicast address cannot be a station's");
		return -EINVAL;
	}
	o->mtu = (uint16_t)mtu;
	uint64_t unused;
	o->mtu_given = net->host->cfg_u64(net->dev, "mtu", &unused) == 0;
	o->pairs = (unsigned)pairs;
	o->queue_size = (uint16_t)qsize;
	return 0;
}
