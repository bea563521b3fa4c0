/* SPDX-License-Identifier: MIT */
/*
 * The mock's interrupt lines and the requests that only some hypervisor
 * generations answer (docs/hvisor-runtime.md): LoongArch line handling of
 * hvisor v0.4 (CLEAR_INJECT_IRQ, no wake-up interrupt) and of the current
 * generation (DEASSERT_IRQ), GET_ECAM_BASE and SET_BOOT_MODE.
 */
#include <errno.h>
#include <string.h>

#include "mock_internal.h"

bool mock_has_wakeup(struct hvd_mock *m)
{
	pthread_mutex_lock(&m->lock);
	bool yes = m->irq_model != HVD_MOCK_IRQ_LOONGARCH_V04;
	pthread_mutex_unlock(&m->lock);
	return yes;
}

void mock_line_raise(struct hvd_mock *m, struct mock_irq *irq)
{
	if (m->irq_model == HVD_MOCK_IRQ_EDGE)
		return;
	if (m->irq_model == HVD_MOCK_IRQ_LOONGARCH_V04) {
		/* v0.4 writes the zone's HWI field: the new line replaces
		 * whichever was set. */
		for (unsigned i = 0; i < m->irq_count; i++)
			if (m->irqs[i].zone == irq->zone)
				m->irqs[i].line = false;
	}
	irq->line = true;
}

int mock_clear_inject_irq(struct hvd_mock *m)
{
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	if (m->irq_model != HVD_MOCK_IRQ_LOONGARCH_V04) {
		rc = -ENOSYS; /* an unknown hypercall elsewhere */
	} else {
		/* Every CPU but the root's: all guest zones. */
		for (unsigned i = 0; i < m->irq_count; i++)
			if (m->irqs[i].zone != 0)
				m->irqs[i].line = false;
		m->line_drops++;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int mock_deassert_irq(struct hvd_mock *m, uint64_t zone, uint64_t irq)
{
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	if (m->irq_model != HVD_MOCK_IRQ_LOONGARCH_LINE) {
		rc = -ENOSYS;
	} else if (m->fail_deassert) {
		m->fail_deassert--;
		rc = -EIO;
	} else {
		for (unsigned i = 0; i < m->irq_count; i++)
			if (m->irqs[i].zone == zone && m->irqs[i].irq == irq)
				m->irqs[i].line = false;
		m->line_drops++;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int mock_set_boot_mode(struct hvd_mock *m, const uint8_t *payload, uint32_t len)
{
	if (len != sizeof(m->boot_mode))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	memcpy(&m->boot_mode, payload, sizeof(m->boot_mode));
	m->boot_mode_set = true;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

HVD_API int hvd_mock_set_irq_model(struct hvd_mock *m, int model)
{
	if (!m || model < HVD_MOCK_IRQ_EDGE ||
	    model > HVD_MOCK_IRQ_LOONGARCH_LINE)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	m->irq_model = model;
	mock_irq_choose_owner(m);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

HVD_API bool hvd_mock_irq_line(struct hvd_mock *m, uint32_t zone, uint32_t irq)
{
	bool up = false;
	if (!m)
		return false;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->irq_count; i++)
		if (m->irqs[i].zone == zone && m->irqs[i].irq == irq)
			up = m->irqs[i].line;
	pthread_mutex_unlock(&m->lock);
	return up;
}

HVD_API uint64_t hvd_mock_line_drops(struct hvd_mock *m)
{
	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	uint64_t n = m->line_drops;
	pthread_mutex_unlock(&m->lock);
	return n;
}

HVD_API void hvd_mock_fail_deassert(struct hvd_mock *m, unsigned n)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->fail_deassert = n;
	pthread_mutex_unlock(&m->lock);
}

HVD_API void hvd_mock_set_ecam_base(struct hvd_mock *m, uint64_t base)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->ecam_base = base;
	pthread_mutex_unlock(&m->lock);
}

HVD_API int hvd_mock_boot_mode(struct hvd_mock *m, uint32_t *zone_id,
			       uint32_t *multiboot_enabled, uint64_t *mbi_paddr)
{
	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	int rc = m->boot_mode_set ? 0 : -ENOENT;
	if (!rc) {
		if (zone_id)
			*zone_id = m->boot_mode.zone_id;
		if (multiboot_enabled)
			*multiboot_enabled = m->boot_mode.multiboot_enabled;
		if (mbi_paddr)
			*mbi_paddr = m->boot_mode.multiboot_info_paddr;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
