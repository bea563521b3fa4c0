// SPDX-License-Identifier: MIT
/*
 * Test-only providers for the QEMU test of hvisor.ko's SCMI requests
 * (.ci/steps/30-kmod.sh, kmod_test scmi-sets): QEMU's virt machine has no
 * reset controller and no power domains, so this module plays both for the
 * DT node the stage adds:
 *
 *   fake-provider { compatible = "hvisor-test,fake-provider";
 *                   #reset-cells = <1>; #power-domain-cells = <1>; };
 *
 * FAKEPROV_N resets and FAKEPROV_N power domains (genpd, one cell). What
 * reached them is counted per id in read-only module parameters, e.g.
 * /sys/module/hvisor_fakeprov/parameters/reset_pulses = "1,0". Never built
 * outside the test stage.
 */
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/pm_domain.h>
#include <linux/reset-controller.h>

#define FAKEPROV_N 2

static unsigned int reset_asserts[FAKEPROV_N];
static unsigned int reset_deasserts[FAKEPROV_N];
static unsigned int reset_pulses[FAKEPROV_N];
static unsigned int pd_ons[FAKEPROV_N];
static unsigned int pd_offs[FAKEPROV_N];
module_param_array(reset_asserts, uint, NULL, 0444);
module_param_array(reset_deasserts, uint, NULL, 0444);
module_param_array(reset_pulses, uint, NULL, 0444);
module_param_array(pd_ons, uint, NULL, 0444);
module_param_array(pd_offs, uint, NULL, 0444);

static int fp_assert(struct reset_controller_dev *rc, unsigned long id)
{
	reset_asserts[id]++;
	return 0;
}

static int fp_deassert(struct reset_controller_dev *rc, unsigned long id)
{
	reset_deasserts[id]++;
	return 0;
}

static int fp_reset(struct reset_controller_dev *rc, unsigned long id)
{
	reset_pulses[id]++;
	return 0;
}

static const struct reset_control_ops fp_reset_ops = {
	.assert = fp_assert,
	.deassert = fp_deassert,
	.reset = fp_reset,
};

static struct reset_controller_dev fp_rcdev = {
	.ops = &fp_reset_ops,
	.owner = THIS_MODULE,
	.nr_resets = FAKEPROV_N,
	.of_reset_n_cells = 1,
};

static struct generic_pm_domain fp_pd[FAKEPROV_N];
static struct generic_pm_domain *fp_pds[FAKEPROV_N] = {&fp_pd[0], &fp_pd[1]};
static struct genpd_onecell_data fp_onecell = {
	.domains = fp_pds,
	.num_domains = FAKEPROV_N,
};

static int fp_power_on(struct generic_pm_domain *pd)
{
	pd_ons[pd - fp_pd]++;
	return 0;
}

static int fp_power_off(struct generic_pm_domain *pd)
{
	pd_offs[pd - fp_pd]++;
	return 0;
}

static void fp_domains_remove(unsigned int n)
{
	while (n--)
		pm_genpd_remove(&fp_pd[n]);
}

static int fp_probe(struct platform_device *pdev)
{
	struct device_node *np = pdev->dev.of_node;
	unsigned int i;
	int err;

	for (i = 0; i < FAKEPROV_N; i++) {
		fp_pd[i].name = i ? "fakeprov-pd1" : "fakeprov-pd0";
		fp_pd[i].power_on = fp_power_on;
		fp_pd[i].power_off = fp_power_off;
		err = pm_genpd_init(&fp_pd[i], NULL, true); /* starts off */
		if (err) {
			fp_domains_remove(i);
			return err;
		}
	}
	err = of_genpd_add_provider_onecell(np, &fp_onecell);
	if (err)
		goto fail_domains;
	fp_rcdev.dev = &pdev->dev;
	fp_rcdev.of_node = np;
	err = reset_controller_register(&fp_rcdev);
	if (err)
		goto fail_provider;
	dev_info(&pdev->dev, "%d fake resets and power domains\n", FAKEPROV_N);
	return 0;
fail_provider:
	of_genpd_del_provider(np);
fail_domains:
	fp_domains_remove(FAKEPROV_N);
	return err;
}

/* No remove and no module_exit: once bound, the providers stay until the
 * guest powers off (hvisor.ko may hold their resets and domains). */
static const struct of_device_id fp_match[] = {
	{.compatible = "hvisor-test,fake-provider"},
	{/* end */},
};
MODULE_DEVICE_TABLE(of, fp_match);

static struct platform_driver fp_driver = {
	.probe = fp_probe,
	.driver.name = "hvisor-fakeprov",
	.driver.of_match_table = fp_match,
	.driver.suppress_bind_attrs = true,
};

static int __init fp_init(void)
{
	return platform_driver_register(&fp_driver);
}
module_init(fp_init);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("hvisor.ko test: fake reset and power-domain providers");
