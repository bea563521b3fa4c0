/* SPDX-License-Identifier: MIT */
/*
 * A device's interrupt line: InterruptStatus, raising the irq, and what the
 * hypervisor needs to lower it again. Three models (docs/hvisor-runtime.md,
 * "Guest interrupt lines"), chosen once per daemon from what the port
 * reports (daemon.c):
 *
 *   edge            every res_list entry is one interrupt; nothing to lower
 *   loongarch-v0.4  hvisor v0.4 keeps the line up until hypercall 20, which
 *                   we issue on every guest read of InterruptStatus
 *   loongarch-line  the line stays up until DEASSERT(zone, irq), which we
 *                   issue when an ACK clears the last status bit or on reset
 *
 * Merging: with `line_asserted` set, a new event only ORs its status bit;
 * the irq is raised again once the line went down. Always on for
 * loongarch-line (re-raising an asserted line is pointless there); for the
 * others it follows daemon->irq_merge. `irq_lock` orders the status bits,
 * the flag and the injection, so an event racing an ACK is never left with
 * a status bit set and no line raised.
 */
#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "device.h"
#include "log.h"
#include "port.h"

static bool merging(const struct device *dev)
{
	const struct daemon *d = dev->daemon;
	return d->irq_model == PORT_IRQ_LOONGARCH_LINE || d->irq_merge;
}

/* Lowers the line if the model has one to lower. Caller holds irq_lock. */
static int lower_line(struct device *dev)
{
	struct daemon *d = dev->daemon;
	if (d->irq_model != PORT_IRQ_LOONGARCH_LINE)
		return 0;
	int err = port_deassert_irq(d->port, dev->zone->id, dev->cfg->irq);
	if (err && device_may_warn(dev))
		log_error("%s: cannot deassert irq %u: %s", dev->name,
			  dev->cfg->irq, strerror(-err));
	return err;
}

void device_interrupt(struct device *dev, uint32_t bits)
{
	struct daemon *d = dev->daemon;
	if (!merging(dev)) {
		__atomic_fetch_or(&dev->interrupt_status, bits,
				  __ATOMIC_SEQ_CST);
		daemon_inject_irq(d, dev->zone->id, dev->cfg->irq);
		return;
	}
	pthread_mutex_lock(&dev->irq_lock);
	__atomic_fetch_or(&dev->interrupt_status, bits, __ATOMIC_SEQ_CST);
	if (dev->line_asserted) {
		__atomic_fetch_add(&d->irqs_merged, 1, __ATOMIC_RELAXED);
	} else if (daemon_inject_irq(d, dev->zone->id, dev->cfg->irq) == 0) {
		dev->line_asserted = true;
	}
	pthread_mutex_unlock(&dev->irq_lock);
}

uint32_t device_isr_read(struct device *dev)
{
	struct daemon *d = dev->daemon;
	if (d->irq_model == PORT_IRQ_LOONGARCH_V04) {
		/* hvisor v0.4 keeps the guest's HWI set until told: without
		 * this the guest takes the interrupt again and again. */
		int err = port_clear_inject_irq(d->port);
		if (err && device_may_warn(dev))
			log_error("%s: CLEAR_INJECT_IRQ failed: %s", dev->name,
				  strerror(-err));
	}
	return __atomic_load_n(&dev->interrupt_status, __ATOMIC_ACQUIRE);
}

void device_irq_ack(struct device *dev, uint32_t value)
{
	if (!merging(dev)) {
		__atomic_fetch_and(&dev->interrupt_status, ~value,
				   __ATOMIC_SEQ_CST);
		return;
	}
	pthread_mutex_lock(&dev->irq_lock);
	uint32_t old =
		__atomic_load_n(&dev->interrupt_status, __ATOMIC_ACQUIRE);
	uint32_t now = old & ~value;
	/* The line goes down only when nothing is pending; if the
	 * hypervisor refuses, the status stays so the guest comes back. */
	if (old && !now && dev->line_asserted) {
		if (lower_line(dev) == 0) {
			dev->line_asserted = false;
			__atomic_store_n(&dev->interrupt_status, 0,
					 __ATOMIC_SEQ_CST);
		}
	} else {
		__atomic_store_n(&dev->interrupt_status, now, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&dev->irq_lock);
}

void device_irq_reset(struct device *dev)
{
	pthread_mutex_lock(&dev->irq_lock);
	if (dev->line_asserted && lower_line(dev) == 0)
		dev->line_asserted = false;
	if (!dev->line_asserted || !merging(dev))
		__atomic_store_n(&dev->interrupt_status, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&dev->irq_lock);
}
