// SPDX-License-Identifier: MIT
/*
 * SCMI requests (ioctls 32-34, interface/hvisor/scmi.h): the daemon's
 * virtio-scmi device forwards a guest's clock, reset and power-domain
 * operations here, and they are done with the kernel's own frameworks on
 * the resources zone 0's device tree lists in the node
 * `compatible = "hvisor"`: its `clocks`, `resets` and `power-domains`
 * properties, addressed by index (docs/scmi.md).
 *
 * Without that node (x86, or a DT that gives no resources) the module
 * still loads; every SCMI request then fails with ENODEV. A property that
 * is absent gives that kind a count of 0.
 *
 * Each resource is looked up on first use and kept until unload. What the
 * guest enabled (clock prepare+enable, power-domain runtime reference) is
 * counted once per resource here and undone at unload, so a guest can
 * neither unbalance the frameworks' counts nor leave them raised.
 *
 * Allowed sets (our extension, hvisor/scmi.h): a file may declare, per
 * zone and kind, which ids it will use (ALLOW) and then SEAL that set.
 * From its first declaration on, the file's requests must name a zone
 * (ZONE) and an id in that zone's set; the upstream requests on it are
 * refused. A file that declares nothing behaves as hvisor-tool's module.
 */
#include <linux/bitmap.h>
#include <linux/clk-provider.h>
#include <linux/clk.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/pm_domain.h>
#include <linux/pm_runtime.h>
#include <linux/reset.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "hvisor/scmi.h"
#include "hvisor_kmod.h"

struct scmi_clock {
	struct clk *clk; /* NULL until first use */
	bool enabled;    /* by a guest, through us */
};

struct scmi_reset {
	struct reset_control *rc;
};

struct scmi_domain {
	struct device *dev; /* genpd's virtual device, NULL until used */
	bool on;            /* a runtime reference held for the guest */
};

/* One zone's ids in a file's set: a bitmap per kind, sized to the node. */
struct scmi_zone_set {
	u32 zone_id;
	unsigned long *bits[3]; /* clock, reset, power */
};

/* A file's allowed set (hvisor_file.scmi), under scmi.lock. */
struct hvisor_scmi_set {
	bool sealed;
	unsigned int nzones;
	struct scmi_zone_set zones[HVISOR_SCMI_MAX_ZONES];
};

static struct {
	struct mutex lock;            /* everything here and every file's set */
	struct device_node *np;       /* NULL: SCMI unavailable */
	struct platform_device *pdev; /* owner of the domains' devices */
	unsigned int nclocks, nresets, ndomains;
	struct scmi_clock *clocks;
	struct scmi_reset *resets;
	struct scmi_domain *domains;
} scmi;

static unsigned int count_list(const char *list, const char *cells)
{
	int n = of_count_phandle_with_args(scmi.np, list, cells);

	return n > 0 ? n : 0;
}

int hvisor_scmi_init(void)
{
	mutex_init(&scmi.lock);
	scmi.np = of_find_compatible_node(NULL, NULL, "hvisor");
	if (!scmi.np) {
		pr_info(HVISOR_KMOD_NAME
			": no \"hvisor\" DT node: SCMI unavailable\n");
		return 0;
	}
	scmi.nclocks = count_list("clocks", "#clock-cells");
	scmi.nresets = count_list("resets", "#reset-cells");
	scmi.ndomains = count_list("power-domains", "#power-domain-cells");
	scmi.clocks = kcalloc(scmi.nclocks, sizeof(*scmi.clocks), GFP_KERNEL);
	scmi.resets = kcalloc(scmi.nresets, sizeof(*scmi.resets), GFP_KERNEL);
	scmi.domains =
		kcalloc(scmi.ndomains, sizeof(*scmi.domains), GFP_KERNEL);
	if ((scmi.nclocks && !scmi.clocks) || (scmi.nresets && !scmi.resets) ||
	    (scmi.ndomains && !scmi.domains)) {
		hvisor_scmi_exit();
		return -ENOMEM;
	}
	pr_info(HVISOR_KMOD_NAME
		": SCMI: %u clocks, %u resets, %u power domains\n",
		scmi.nclocks, scmi.nresets, scmi.ndomains);
	return 0;
}

void hvisor_scmi_exit(void)
{
	unsigned int i;

	for (i = 0; i < scmi.nclocks && scmi.clocks; i++) {
		if (scmi.clocks[i].enabled)
			clk_disable_unprepare(scmi.clocks[i].clk);
		if (scmi.clocks[i].clk)
			clk_put(scmi.clocks[i].clk);
	}
	for (i = 0; i < scmi.nresets && scmi.resets; i++)
		if (scmi.resets[i].rc)
			reset_control_put(scmi.resets[i].rc);
	for (i = 0; i < scmi.ndomains && scmi.domains; i++) {
		if (scmi.domains[i].on)
			pm_runtime_put_sync(scmi.domains[i].dev);
		if (scmi.domains[i].dev)
			dev_pm_domain_detach(scmi.domains[i].dev, true);
	}
	if (scmi.pdev)
		platform_device_unregister(scmi.pdev);
	kfree(scmi.clocks);
	kfree(scmi.resets);
	kfree(scmi.domains);
	of_node_put(scmi.np);
	scmi.np = NULL;
	scmi.pdev = NULL;
	scmi.clocks = NULL;
	scmi.resets = NULL;
	scmi.domains = NULL;
	scmi.nclocks = scmi.nresets = scmi.ndomains = 0;
}

/* ---- clocks ---------------------------------------------------------- */

static struct clk *clock_get(u32 id)
{
	struct clk *clk;

	if (id >= scmi.nclocks)
		return ERR_PTR(-EINVAL);
	if (scmi.clocks[id].clk)
		return scmi.clocks[id].clk;
	clk = of_clk_get(scmi.np, id);
	if (!IS_ERR(clk))
		scmi.clocks[id].clk = clk;
	return clk;
}

static int clock_enable(u32 id, struct clk *clk, bool on)
{
	struct scmi_clock *c = &scmi.clocks[id];
	int err = 0;

	if (on && !c->enabled)
		err = clk_prepare_enable(clk);
	else if (!on && c->enabled)
		clk_disable_unprepare(clk);
	if (!err)
		c->enabled = on;
	return err;
}

static int clock_request(struct hvisor_scmi_clock_args *a)
{
	struct clk *clk;

	if (a->subcmd == HVISOR_SCMI_GET_COUNT) {
		a->u.count = scmi.nclocks;
		return 0;
	}
	clk = clock_get(a->u.attr.id); /* the id is first in every member */
	if (IS_ERR(clk))
		return PTR_ERR(clk);
	switch (a->subcmd) {
	case HVISOR_SCMI_CLOCK_GET_ATTRIBUTES:
		a->u.attr.enabled = __clk_is_enabled(clk);
		a->u.attr.parent_id = -1;
		strscpy(a->u.attr.name, __clk_get_name(clk),
			sizeof(a->u.attr.name));
		a->u.attr.is_valid = 1;
		return 0;
	case HVISOR_SCMI_CLOCK_DESCRIBE_RATES:
		return 0;
	case HVISOR_SCMI_CLOCK_RATE_GET:
		a->u.rate.rate = clk_get_rate(clk);
		return 0;
	case HVISOR_SCMI_CLOCK_RATE_SET:
		if (a->u.rate.rate > ULONG_MAX)
			return -ERANGE;
		return clk_set_rate(clk, (unsigned long)a->u.rate.rate);
	case HVISOR_SCMI_CLOCK_CONFIG_GET:
		a->u.config.config = __clk_is_enabled(clk);
		a->u.config.ext = 0;
		return 0;
	case HVISOR_SCMI_CLOCK_CONFIG_SET:
		return clock_enable(a->u.config.id, clk,
				    a->u.config.config & 1);
	case HVISOR_SCMI_CLOCK_NAME_GET:
		strscpy(a->u.name.name, __clk_get_name(clk),
			sizeof(a->u.name.name));
		return 0;
	}
	return -EINVAL;
}

/* ---- resets ---------------------------------------------------------- */

static struct reset_control *reset_get(u32 id)
{
	struct reset_control *rc;

	if (id >= scmi.nresets)
		return ERR_PTR(-EINVAL);
	if (scmi.resets[id].rc)
		return scmi.resets[id].rc;
	/* The public wrapper: its internals changed at 5.2, 6.13 and 7.1. */
	rc = of_reset_control_get_exclusive_by_index(scmi.np, id);
	if (!IS_ERR(rc))
		scmi.resets[id].rc = rc;
	return rc;
}

static int reset_request(struct hvisor_scmi_reset_args *a)
{
	struct reset_control *rc;
	int err;

	if (a->subcmd == HVISOR_SCMI_GET_COUNT) {
		a->u.count = scmi.nresets;
		return 0;
	}
	if (a->subcmd != HVISOR_SCMI_RESET_RESET)
		return -EINVAL;
	rc = reset_get(a->u.reset.domain);
	if (IS_ERR(rc))
		return PTR_ERR(rc);
	switch (a->u.reset.flags) {
	case HVISOR_SCMI_RESET_DEASSERT:
		return reset_control_deassert(rc);
	case HVISOR_SCMI_RESET_ASSERT:
		return reset_control_assert(rc);
	case HVISOR_SCMI_RESET_AUTONOMOUS:
		err = reset_control_reset(rc);
		if (err != -ENOTSUPP)
			return err;
		/* A controller without a reset operation: a pulse. */
		err = reset_control_assert(rc);
		if (err)
			return err;
		udelay(1);
		return reset_control_deassert(rc);
	}
	return -EINVAL;
}

/* ---- power domains ---------------------------------------------------- */

static struct device *domain_get(u32 id)
{
	struct device *dev;

	if (id >= scmi.ndomains)
		return ERR_PTR(-EINVAL);
	if (scmi.domains[id].dev)
		return scmi.domains[id].dev;
	if (!scmi.pdev) {
		struct platform_device *pdev;
		int err;

		pdev = platform_device_alloc("hvisor-pd", PLATFORM_DEVID_NONE);
		if (!pdev)
			return ERR_PTR(-ENOMEM);
		pdev->dev.of_node = of_node_get(scmi.np);
		err = platform_device_add(pdev);
		if (err) {
			platform_device_put(pdev);
			return ERR_PTR(err);
		}
		scmi.pdev = pdev;
	}
	dev = dev_pm_domain_attach_by_id(&scmi.pdev->dev, id);
	if (!dev)
		return ERR_PTR(-ENODEV);
	if (!IS_ERR(dev))
		scmi.domains[id].dev = dev;
	return dev;
}

static int domain_set(u32 id, struct device *dev, bool on)
{
	struct scmi_domain *d = &scmi.domains[id];
	int err = 0;

	if (on && !d->on) {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 10, 0)
		err = pm_runtime_resume_and_get(dev);
#else
		err = pm_runtime_get_sync(dev);
		if (err < 0)
			pm_runtime_put_noidle(dev);
		else
			err = 0;
#endif
	} else if (!on && d->on) {
		err = pm_runtime_put_sync(dev);
		if (err > 0)
			err = 0;
	}
	if (!err)
		d->on = on;
	return err;
}

static int power_request(struct hvisor_scmi_power_args *a)
{
	struct device *dev;

	if (a->subcmd == HVISOR_SCMI_GET_COUNT) {
		a->u.count = scmi.ndomains;
		return 0;
	}
	dev = domain_get(a->u.state.domain); /* first in every member */
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	switch (a->subcmd) {
	case HVISOR_SCMI_POWER_GET_ATTRIBUTES:
		a->u.attr.flags = 0;
		snprintf(a->u.attr.name, sizeof(a->u.attr.name), "pd_%u",
			 a->u.attr.domain);
		return 0;
	case HVISOR_SCMI_POWER_STATE_SET:
		if (a->u.state.state != HVISOR_SCMI_POWER_ON &&
		    a->u.state.state != HVISOR_SCMI_POWER_OFF)
			return -EINVAL;
		return domain_set(a->u.state.domain, dev,
				  a->u.state.state == HVISOR_SCMI_POWER_ON);
	case HVISOR_SCMI_POWER_STATE_GET:
		a->u.state.state = pm_runtime_active(dev)
					   ? HVISOR_SCMI_POWER_ON
					   : HVISOR_SCMI_POWER_OFF;
		return 0;
	}
	return -EINVAL;
}

/* ---- allowed sets ------------------------------------------------------ */

/* The node's count of `kind` (32-34), or -1 for another value. */
static long kind_count(u32 kind)
{
	switch (kind) {
	case HVISOR_SCMI_CLOCK:
		return scmi.nclocks;
	case HVISOR_SCMI_RESET:
		return scmi.nresets;
	case HVISOR_SCMI_POWER:
		return scmi.ndomains;
	}
	return -1;
}

void hvisor_scmi_release(struct hvisor_scmi_set *set)
{
	unsigned int i, k;

	if (!set)
		return;
	for (i = 0; i < set->nzones; i++)
		for (k = 0; k < 3; k++)
			bitmap_free(set->zones[i].bits[k]);
	kfree(set);
}

/* The file's set, made empty on first use. */
static struct hvisor_scmi_set *set_get(struct hvisor_scmi_set **set)
{
	if (!*set)
		*set = kzalloc(sizeof(**set), GFP_KERNEL);
	return *set;
}

static struct scmi_zone_set *zone_find(struct hvisor_scmi_set *set, u32 id)
{
	unsigned int i;

	for (i = 0; set && i < set->nzones; i++)
		if (set->zones[i].zone_id == id)
			return &set->zones[i];
	return NULL;
}

/* Zone `id`'s entry in `set`, added with empty bitmaps if new. */
static struct scmi_zone_set *zone_add(struct hvisor_scmi_set *set, u32 id)
{
	struct scmi_zone_set *z = zone_find(set, id);
	unsigned int k;

	if (z)
		return z;
	if (set->nzones == HVISOR_SCMI_MAX_ZONES)
		return ERR_PTR(-ENOSPC);
	z = &set->zones[set->nzones];
	z->zone_id = id;
	for (k = 0; k < 3; k++) {
		z->bits[k] = bitmap_zalloc(kind_count(HVISOR_SCMI_CLOCK + k),
					   GFP_KERNEL);
		if (!z->bits[k]) {
			while (k--)
				bitmap_free(z->bits[k]);
			return ERR_PTR(-ENOMEM);
		}
	}
	set->nzones++;
	return z;
}

static int allow_locked(struct hvisor_scmi_set **setp,
			const struct hvisor_scmi_allow *a)
{
	long n = kind_count(a->kind);
	struct hvisor_scmi_set *set;
	struct scmi_zone_set *z;

	if (*setp && (*setp)->sealed)
		return -EPERM;
	if (n < 0 || a->first > n || a->count > n - a->first)
		return -EINVAL;
	set = set_get(setp);
	if (!set)
		return -ENOMEM;
	z = zone_add(set, a->zone_id);
	if (IS_ERR(z))
		return PTR_ERR(z);
	bitmap_set(z->bits[a->kind - HVISOR_SCMI_CLOCK], a->first, a->count);
	return 0;
}

/* 0 if `set` lets zone `zone_id` make request `a` of `kind`. */
static int zone_check(struct hvisor_scmi_set *set, u32 zone_id, u32 kind,
		      const void *a)
{
	struct scmi_zone_set *z = zone_find(set, zone_id);
	s64 id = hvisor_scmi_arg_id(a);

	if (*(const u32 *)a == HVISOR_SCMI_SET_PHANDLE)
		return -EINVAL; /* never supported: docs/scmi.md */
	if (id < 0)
		return 0;
	if (!z || id >= kind_count(kind) ||
	    !test_bit(id, z->bits[kind - HVISOR_SCMI_CLOCK]))
		return -EPERM;
	return 0;
}

/* One line per seal, for the operator (and CI's check that the daemon's
 * set reached the module). */
static void log_sealed(const struct hvisor_scmi_set *set)
{
	unsigned int i, k, ids = 0;

	for (i = 0; i < set->nzones; i++)
		for (k = 0; k < 3; k++)
			ids += bitmap_weight(set->zones[i].bits[k],
					     kind_count(HVISOR_SCMI_CLOCK + k));
	pr_info(HVISOR_KMOD_NAME
		": SCMI allowed set sealed: %u zone(s), %u id(s)\n",
		set->nzones, ids);
}

/* ---- the ioctls -------------------------------------------------------- */

union scmi_args {
	struct hvisor_scmi_clock_args clock;
	struct hvisor_scmi_reset_args reset;
	struct hvisor_scmi_power_args power;
	struct hvisor_scmi_allow allow;
	struct hvisor_scmi_seal seal;
	struct hvisor_scmi_zone_args zone;
};

/* Request `kind` (32-34) on its argument struct `a`. */
static long request_locked(u32 kind, void *a)
{
	if (kind == HVISOR_SCMI_CLOCK)
		return clock_request(a);
	if (kind == HVISOR_SCMI_RESET)
		return reset_request(a);
	return power_request(a);
}

static long dispatch_locked(struct hvisor_scmi_set **setp, u32 which,
			    union scmi_args *a)
{
	long err;

	switch (which) {
	case HVISOR_SCMI_SEAL:
		if (a->seal.flags)
			return -EINVAL;
		if (!set_get(setp))
			return -ENOMEM;
		if (!(*setp)->sealed)
			log_sealed(*setp);
		(*setp)->sealed = true;
		return 0;
	case HVISOR_SCMI_ALLOW:
		return scmi.np ? allow_locked(setp, &a->allow) : -ENODEV;
	}
	if (!scmi.np)
		return -ENODEV;
	if (which != HVISOR_SCMI_ZONE) /* upstream: no zone, no set */
		return *setp ? -EPERM : request_locked(which, a);
	if (!*setp || kind_count(a->zone.kind) < 0)
		return *setp ? -EINVAL : -EPERM;
	err = zone_check(*setp, a->zone.zone_id, a->zone.kind, &a->zone.a);
	if (err)
		return err;
	return request_locked(a->zone.kind, &a->zone.a);
}

long hvisor_scmi_ioctl(struct hvisor_scmi_set **setp, unsigned int cmd,
		       void __user *uarg)
{
	u32 which = _IOC_NR(cmd);
	size_t len = _IOC_SIZE(cmd);
	union scmi_args a;
	long err;

	if (cmd != hvisor_scmi_ioctl_of(which))
		return -ENOTTY;
	if (copy_from_user(&a, uarg, len))
		return -EFAULT;
	mutex_lock(&scmi.lock);
	err = dispatch_locked(setp, which, &a);
	mutex_unlock(&scmi.lock);
	if (err || !(_IOC_DIR(cmd) & _IOC_READ))
		return err;
	return copy_to_user(uarg, &a, len) ? -EFAULT : 0;
}
