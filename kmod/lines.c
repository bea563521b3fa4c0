// SPDX-License-Identifier: MIT
/*
 * Requests beyond the classic set, kept apart from main.c
 * (docs/hvisor-runtime.md has the facts and their upstream sources):
 *
 *   LoongArch guest interrupt lines. hvisor v0.4 (layout 0x05) has no
 *   wake-up interrupt and drops every injected guest line on hypercall 20
 *   (HVISOR_CLEAR_INJECT_IRQ, _IO(1, 6)); the current generation drops one
 *   line with hypercall 11 (HVISOR_DEASSERT_IRQ) and keeps zone 0's wake-up
 *   line (CPU interrupt 4) up until it is dropped the same way, which the
 *   wake-up handler does after signalling the daemon. CONFIG_CHECK at load
 *   tells the generations apart; HVISOR_GET_IRQ_MODEL reports the result.
 *
 *   SET_BOOT_MODE (x86_64 multiboot2): 16 bytes {u32 zone_id,
 *   u32 multiboot_enabled, u64 multiboot_info_paddr} to hypercall 8.
 */
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvisor_kmod.h"
#include "hypercall.h"

/* Zone 0's wake-up line on LoongArch: CPU interrupt 4 (HWI2). */
#define WAKEUP_ZONE 0
#define WAKEUP_HWI  4

static int irq_model = HVISOR_IRQ_MODEL_EDGE;

/* LoongArch only: 0 decides from CONFIG_CHECK; 1 forces the v0.4
 * protocol, 2 the line protocol (for a hypervisor that reports a layout
 * version the decision does not expect). */
static int loongarch_irq;
module_param(loongarch_irq, int, 0444);
MODULE_PARM_DESC(loongarch_irq,
		 "LoongArch interrupt protocol: 0 auto, 1 v0.4, 2 line");

static bool is_loongarch(void)
{
#ifdef HVISOR_FAKE
	return hvisor_fake_loongarch();
#else
	return IS_ENABLED(CONFIG_LOONGARCH);
#endif
}

int hvisor_lines_init(void)
{
	u64 *version;
	long err;

	irq_model = HVISOR_IRQ_MODEL_EDGE;
	if (!is_loongarch())
		return 0;
	/* Read by the hypervisor at a physical address: not the stack. */
	version = kzalloc(sizeof(*version), GFP_KERNEL);
	if (!version)
		return -ENOMEM;
	err = hvisor_call(HVISOR_HC_CONFIG_CHECK, __pa(version), 0);
	if (!err && (loongarch_irq == HVISOR_IRQ_MODEL_LOONGARCH_V04 ||
		     loongarch_irq == HVISOR_IRQ_MODEL_LOONGARCH_LINE))
		irq_model = loongarch_irq;
	else if (!err)
		irq_model = *version == 0x05 ? HVISOR_IRQ_MODEL_LOONGARCH_V04
					     : HVISOR_IRQ_MODEL_LOONGARCH_LINE;
	else
		pr_err(HVISOR_KMOD_NAME ": CONFIG_CHECK failed: %ld\n", err);
	if (!err)
		pr_info(HVISOR_KMOD_NAME
			": layout 0x%02llx: LoongArch interrupts of %s\n",
			*version,
			irq_model == HVISOR_IRQ_MODEL_LOONGARCH_V04
				? "hvisor v0.4 (no wake-up irq, clear all)"
				: "the line generation (deassert per line)");
	kfree(version);
	return err ? -ENODEV : 0;
}

void hvisor_wakeup_rearm(void)
{
	long err;

	if (irq_model != HVISOR_IRQ_MODEL_LOONGARCH_LINE)
		return;
	err = hvisor_call(HVISOR_HC_DEASSERT_IRQ, WAKEUP_ZONE, WAKEUP_HWI);
	if (err)
		pr_err_ratelimited(HVISOR_KMOD_NAME
				   ": cannot re-arm the wake-up line: %ld\n",
				   err);
}

static long deassert_irq(void __user *arg)
{
	struct hvisor_irq_line line;

	if (copy_from_user(&line, arg, sizeof(line)))
		return -EFAULT;
	return hvisor_call(HVISOR_HC_DEASSERT_IRQ, line.zone_id, line.irq_id);
}

static long set_boot_mode(void __user *arg)
{
	struct hvisor_boot_mode *mode;
	long err;

	mode = kmalloc(sizeof(*mode), GFP_KERNEL);
	if (!mode)
		return -ENOMEM;
	if (copy_from_user(mode, arg, sizeof(*mode)))
		err = -EFAULT;
	else
		err = hvisor_call(HVISOR_HC_SET_BOOT_MODE, __pa(mode),
				  sizeof(*mode));
	kfree(mode);
	return err;
}

long hvisor_lines_ioctl(unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	u64 model = irq_model;

	switch (cmd) {
	case HVISOR_GET_IRQ_MODEL:
		return copy_to_user(uarg, &model, sizeof(model)) ? -EFAULT : 0;
	case HVISOR_SET_BOOT_MODE:
		return set_boot_mode(uarg);
	/* LoongArch requests: passed to the hypervisor whichever
	 * generation was found, which answers for itself. */
	case HVISOR_CLEAR_INJECT_IRQ:
		if (irq_model == HVISOR_IRQ_MODEL_EDGE)
			return -ENOTTY;
		return hvisor_call(HVISOR_HC_CLEAR_INJECT_IRQ, 0, 0);
	case HVISOR_DEASSERT_IRQ:
		if (irq_model == HVISOR_IRQ_MODEL_EDGE)
			return -ENOTTY;
		return deassert_irq(uarg);
	default:
		return -ENOTTY;
	}
}
