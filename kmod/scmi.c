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
 */
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

static struct {
	struct mutex lock;
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

/* ---- the ioctls -------------------------------------------------------- */

long hvisor_scmi_ioctl(unsigned int cmd, void __user *uarg)
{
	union {
		struct hvisor_scmi_clock_args clock;
		struct hvisor_scmi_reset_args reset;
		struct hvisor_scmi_power_args power;
	} a;
	size_t len = _IOC_SIZE(cmd);
	long err;

	if (cmd != HVISOR_SCMI_CLOCK_IOCTL && cmd != HVISOR_SCMI_RESET_IOCTL &&
	    cmd != HVISOR_SCMI_POWER_IOCTL)
		return -ENOTTY;
	if (copy_from_user(&a, uarg, len))
		return -EFAULT;
	mutex_lock(&scmi.lock);
	if (!scmi.np)
		err = -ENODEV;
	else if (cmd == HVISOR_SCMI_CLOCK_IOCTL)
		err = clock_request(&a.clock);
	else if (cmd == HVISOR_SCMI_RESET_IOCTL)
		err = reset_request(&a.reset);
	else
		err = power_request(&a.power);
	mutex_unlock(&scmi.lock);
	if (err)
		return err;
	return copy_to_user(uarg, &a, len) ? -EFAULT : 0;
}
