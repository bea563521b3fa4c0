/* SPDX-License-Identifier: MIT */
/*
 * SCMI requests through the port, with the kernel module's allowed sets
 * (interface/hvisor/scmi.h; docs/scmi.md, "Allowed sets"). Each scmi
 * device declares its zone's ids (ALLOW) when it is created; the daemon
 * seals the set when startup is over. From the first declaration on, a
 * request goes out as the zone-aware ZONE request, so the module checks
 * it against the zone the device belongs to. A module without allowed
 * sets (hvisor-tool's: ENOTTY) leaves the port undeclared and requests go
 * out as they always did.
 */
#include <errno.h>
#include <string.h>

#include "hvisor/scmi.h"
#include "port_impl.h"

int port_scmi(struct port *port, unsigned which, void *arg, uint32_t len)
{
	if (!port || !arg || len == 0 || len != hvisor_scmi_arg_size(which))
		return -EINVAL;
	return port->ops->scmi(port, which, arg, len);
}

bool port_scmi_declared(struct port *port)
{
	return port && __atomic_load_n(&port->scmi_declared, __ATOMIC_ACQUIRE);
}

static int allow(struct port *port, uint32_t zone, void *arg, uint32_t len)
{
	if (len != sizeof(struct hvisor_scmi_allow) || !arg)
		return -EINVAL;
	if (__atomic_load_n(&port->scmi_closed, __ATOMIC_ACQUIRE))
		return -EPERM; /* sealed at startup: port_scmi_seal */
	struct hvisor_scmi_allow *a = arg;
	a->zone_id = zone; /* the device's own zone, whatever it asked */
	int rc = port_scmi(port, HVISOR_SCMI_ALLOW, a, len);
	if (rc == 0)
		__atomic_store_n(&port->scmi_declared, true, __ATOMIC_RELEASE);
	return rc;
}

int port_scmi_zone(struct port *port, uint32_t zone, unsigned which, void *arg,
		   uint32_t len)
{
	if (!port)
		return -EINVAL;
	if (which == HVISOR_SCMI_ALLOW)
		return allow(port, zone, arg, len);
	if (which != HVISOR_SCMI_CLOCK && which != HVISOR_SCMI_RESET &&
	    which != HVISOR_SCMI_POWER)
		return -EINVAL; /* SEAL and ZONE are the daemon's, not a
				   device's */
	if (!port_scmi_declared(port))
		return port_scmi(port, which, arg, len);
	if (!arg || len != hvisor_scmi_arg_size(which))
		return -EINVAL;
	struct hvisor_scmi_zone_args za = {.zone_id = zone, .kind = which};
	memcpy(&za.a, arg, len);
	int rc = port_scmi(port, HVISOR_SCMI_ZONE, &za, sizeof za);
	if (rc == 0)
		memcpy(arg, &za.a, len);
	return rc;
}

int port_scmi_seal(struct port *port)
{
	if (!port)
		return -EINVAL;
	__atomic_store_n(&port->scmi_closed, true, __ATOMIC_RELEASE);
	if (!port_scmi_declared(port))
		return 0; /* nothing to seal: requests stay as upstream's */
	struct hvisor_scmi_seal seal = {0};
	return port_scmi(port, HVISOR_SCMI_SEAL, &seal, sizeof seal);
}
