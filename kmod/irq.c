// SPDX-License-Identifier: MIT
/*
 * The hypervisor's "wake up the daemon" interrupt (real build). On ARM,
 * RISC-V and LoongArch zone 0's device tree has a node
 * `hvisor_virtio_device` (compatible "hvisor") with one interrupt; on x86_64
 * there is no device tree and hypercall GET_VIRTIO_IRQ gives the irq number.
 * The handler only signals the serving daemon's eventfd.
 */
#include <linux/interrupt.h>
#include <linux/of.h>
#include <linux/of_irq.h>
#include <linux/slab.h>

#include "hvisor_kmod.h"
#include "hypercall.h"

static int wakeup_irq = -1;
static int wakeup_cookie; /* dev_id for the shared line */

static irqreturn_t wakeup_handler(int irq, void *dev_id)
{
	hvisor_wake_daemon();
	hvisor_wakeup_rearm(); /* after the signal, as the protocol wants */
	return IRQ_HANDLED;
}

#ifdef CONFIG_X86_64
static int find_wakeup_irq(void)
{
	/* The hypervisor writes a u32 at a physical address: not the stack. */
	u32 *irq = kzalloc(sizeof(*irq), GFP_KERNEL);
	long err;
	int ret;

	if (!irq)
		return -ENOMEM;
	err = hvisor_call(HVISOR_HC_GET_VIRTIO_IRQ, __pa(irq), 0);
	ret = err ? -ENODEV : (int)*irq;
	if (err)
		pr_err(HVISOR_KMOD_NAME ": GET_VIRTIO_IRQ failed: %ld\n", err);
	kfree(irq);
	return ret;
}
#else
static int find_wakeup_irq(void)
{
	struct device_node *node;
	int irq;

	node = of_find_node_by_path("/hvisor_virtio_device");
	if (!node)
		node = of_find_compatible_node(NULL, NULL, "hvisor");
	if (!node) {
		pr_err(HVISOR_KMOD_NAME
		       ": no hvisor_virtio_device node in the device tree "
		       "(compatible = \"hvisor\", one interrupt): is this "
		       "zone 0 of hvisor?\n");
		return -ENODEV;
	}
	irq = of_irq_get(node, 0);
	of_node_put(node);
	if (irq <= 0) {
		pr_err(HVISOR_KMOD_NAME
		       ": hvisor_virtio_device has no usable interrupt (%d)\n",
		       irq);
		return irq ? irq : -ENODEV;
	}
	return irq;
}
#endif

int hvisor_wakeup_irq_init(void)
{
	int irq = find_wakeup_irq();
	int err;

	if (irq < 0)
		return irq;
	err = request_irq(irq, wakeup_handler, IRQF_SHARED,
			  "hvisor_virtio_device", &wakeup_cookie);
	if (err) {
		pr_err(HVISOR_KMOD_NAME ": cannot request irq %d: %d\n", irq,
		       err);
		return err;
	}
	wakeup_irq = irq;
	return 0;
}

void hvisor_wakeup_irq_exit(void)
{
	if (wakeup_irq >= 0)
		free_irq(wakeup_irq, &wakeup_cookie);
	wakeup_irq = -1;
}
