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
 * Merging (the default; `--no-irq-merge` turns it off except on the line
 * model): with `line_asserted` set, a new event only ORs its status bit; the
 * irq is raised again once the guest's ACK brought the status to 0. Linux's
 * vm_interrupt reads InterruptStatus, ACKs what it read, then drains the
 * rings, so an event merged before the ACK is seen by that drain. Bits that
 * arrived between the read and the ACK are left set: on the edge models
 * nothing else would raise them, so the ACK raises the irq again. `irq_lock`
 * orders the status bits, the flag and the injection, so an event racing an
 * ACK is never left with a status bit set and no line raised.
 *
 * The line watch: one injection the guest never saw would silence a
 * merging device for good. A timer on the event loop, running only while
 * some line is asserted, raises again a line that stayed asserted with no
 * ACK for a whole period (LINE_WATCH_NS), at most LINE_REARM_MAX times
 * until the guest ACKs.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon.h"
#include "device.h"
#include "eventloop.h"
#include "log.h"
#include "port.h"
#include "stats.h"

/* A line asserted this long without an ACK is raised again: far beyond
 * any guest's interrupt latency (the rig's TCG guest answers in well under
 * a millisecond), short enough that a device recovers before its driver's
 * own timeouts (Linux's blk request timeout is 30 s, the net tx watchdog
 * 5 s). A line is raised again after one to two periods. */
#define LINE_WATCH_NS  (100 * 1000 * 1000ull)
#define LINE_REARM_MAX 4

static bool merging(const struct device *dev)
{
	return dev->daemon->irq_merge;
}

/* The line model's line is a level: it stays up until lowered, so there
 * is never an edge to send again (and DEASSERT to send when it goes). */
static bool level_line(const struct daemon *d)
{
	return d->irq_model == PORT_IRQ_LOONGARCH_LINE;
}

/* Lowers the line if the model has one to lower. Caller holds irq_lock. */
static int lower_line(struct device *dev)
{
	struct daemon *d = dev->daemon;
	if (!level_line(d))
		return 0;
	int err = port_deassert_irq(d->port, dev->zone->id, dev->cfg->irq);
	if (err && device_may_warn(dev))
		log_error("%s: cannot deassert irq %u: %s", dev->name,
			  dev->cfg->irq, strerror(-err));
	return err;
}

/* A line went up: make sure the watch will look at it. The flag keeps
 * this to one timerfd_settime per period, not one per interrupt; its
 * counterpart is the seq-cst store in watch_tick, made before the tick
 * reads any line: either the tick sees this line or we see the flag
 * down and arm again. */
static void watch_arm(struct daemon *d)
{
	if (d->line_watch_fd < 0 ||
	    __atomic_load_n(&d->line_watch_armed, __ATOMIC_SEQ_CST) ||
	    __atomic_exchange_n(&d->line_watch_armed, true, __ATOMIC_SEQ_CST))
		return;
	struct itimerspec its = {
		.it_value = {.tv_sec = LINE_WATCH_NS / 1000000000ull,
			     .tv_nsec = LINE_WATCH_NS % 1000000000ull},
	};
	if (timerfd_settime(d->line_watch_fd, 0, &its, NULL) < 0)
		log_error("interrupt line watch: timerfd_settime: %s",
			  strerror(errno));
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
		dev->line_events++;
		watch_arm(d);
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
	struct daemon *d = dev->daemon;
	pthread_mutex_lock(&dev->irq_lock);
	uint32_t old =
		__atomic_load_n(&dev->interrupt_status, __ATOMIC_ACQUIRE);
	uint32_t now = old & ~value;
	dev->line_events++;
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
		/* The guest took the edge for what it read; what came after
		 * its read has none (the line model's level stays up). */
		if (now && (old & value) && dev->line_asserted &&
		    !level_line(d) &&
		    daemon_inject_irq(d, dev->zone->id, dev->cfg->irq) == 0)
			stats_add(&d->irqs_after_ack, 1);
	}
	pthread_mutex_unlock(&dev->irq_lock);
}

void device_irq_reset(struct device *dev)
{
	pthread_mutex_lock(&dev->irq_lock);
	dev->line_events++;
	if (dev->line_asserted && lower_line(dev) == 0)
		dev->line_asserted = false;
	if (!dev->line_asserted || !merging(dev))
		__atomic_store_n(&dev->interrupt_status, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&dev->irq_lock);
}

/* One device at a tick: whether its line needs another look. */
static bool watch_device(struct device *dev, bool unused)
{
	struct daemon *d = dev->daemon;
	bool again = false;
	pthread_mutex_lock(&dev->irq_lock);
	if (!dev->line_asserted) {
		dev->watch_seen = false;
	} else if (!dev->watch_seen || dev->line_events != dev->watch_events) {
		/* Up now, or ACKed, reset or raised since the last tick:
		 * look next time. */
		dev->watch_seen = true;
		dev->watch_events = dev->line_events;
		dev->rearms = 0;
		again = true;
	} else if (dev->rearms < LINE_REARM_MAX) {
		/* Up for a whole period and not one ACK. */
		dev->rearms++;
		if (device_may_warn(dev))
			log_warn("%s: interrupt %u not acknowledged for %llu "
				 "ms: raising it again (%u of %u)",
				 dev->name, dev->cfg->irq,
				 (unsigned long long)(LINE_WATCH_NS / 1000000),
				 dev->rearms, LINE_REARM_MAX);
		if (daemon_inject_irq(d, dev->zone->id, dev->cfg->irq) == 0)
			stats_add(&d->irqs_rearmed, 1);
		again = dev->rearms < LINE_REARM_MAX;
	}
	pthread_mutex_unlock(&dev->irq_lock);
	return again;
}

/* The watch's timer (event loop thread, as control's add and remove:
 * the zone index and tables cannot change under it). */
static void watch_tick(void *opaque, int fd, uint32_t events)
{
	(void)events;
	struct daemon *d = opaque;
	uint64_t expirations;
	(void)!read(fd, &expirations, sizeof expirations);
	/* Down before any line is read: see watch_arm. */
	__atomic_store_n(&d->line_watch_armed, false, __ATOMIC_SEQ_CST);
	if (daemon_for_each_device(d, watch_device, false))
		watch_arm(d);
}

int irqline_watch_start(struct daemon *d)
{
	if (!d->irq_merge || level_line(d))
		return 0; /* every event raises, or a level line stays up */
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0) {
		log_error("interrupt line watch: timerfd_create: %s",
			  strerror(errno));
		return -1;
	}
	d->line_watch =
		eventloop_watch_add(d->loop, fd, EPOLLIN, watch_tick, d, NULL);
	if (!d->line_watch) {
		log_error("interrupt line watch: %s", strerror(errno));
		close(fd);
		return -1;
	}
	d->line_watch_fd = fd;
	return 0;
}

void irqline_watch_stop(struct daemon *d)
{
	/* Raised flag: no watch_arm from here on goes past its first check.
	 * The timerfd stays open until daemon_destroy is past the devices,
	 * for one that did. */
	__atomic_store_n(&d->line_watch_armed, true, __ATOMIC_SEQ_CST);
	eventloop_watch_remove(d->line_watch);
	d->line_watch = NULL;
}
