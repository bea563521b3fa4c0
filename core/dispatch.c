/* SPDX-License-Identifier: MIT */
/*
 * The bridge consumer: takes register accesses off the request ring in
 * order, answers them, and sleeps on the wake-up eventfd when idle.
 *
 * Ordering (docs/hvisor-interface.md): read req_rear with acquire before
 * reading the entry; write cfg_values[cpu] before cfg_flags[cpu]++ with a
 * release; before sleeping set need_wakeup, full barrier, re-check.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "device.h"
#include "log.h"
#include "port.h"
#include "stats.h"

/* Polling after work: long enough to catch the next access of a register
 * burst (a driver probing or a guest kicking in a loop), short enough that
 * a plugin worker sharing the core is not starved. It grows up to
 * DEFAULT_POLL_MAX_NS while the guest's accesses come just after it closed
 * (dispatch_window_slept). */
#define DEFAULT_POLL_NS     50000ull
#define DEFAULT_POLL_MAX_NS 1000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static void complete(struct hvisor_bridge *b, uint64_t cpu, uint64_t value)
{
	__atomic_store_n(&b->cfg_values[cpu], value, __ATOMIC_RELAXED);
	/* Release: the vCPU that sees the new flag sees the value. */
	__atomic_store_n(&b->cfg_flags[cpu], b->cfg_flags[cpu] + 1,
			 __ATOMIC_RELEASE);
}

/* One register access of a present device; the value read (0 for a
 * write). */
static uint64_t dev_access(struct device *dev,
			   const struct hvisor_device_req *req)
{
	uint64_t offset = req->address - dev->cfg->addr;
	unsigned size = req->size <= 8 ? (unsigned)req->size : 0;
	uint64_t value = req->value;
	/* The guest's interrupt handler does not wait for a plugin callback
	 * that holds cb_lock on another thread: net's receive drain holds it
	 * ~0.2 ms per 64 frames, and both accesses of every interrupt
	 * waited for one (bench_net, issue 16). */
	if (device_mmio_irq_access(dev, offset, size, req->is_write, &value))
		return req->is_write ? 0 : value;
	value = 0;
	pthread_mutex_lock(&dev->cb_lock);
	if (req->is_write)
		device_mmio_write(dev, offset, size, req->value);
	else
		value = device_mmio_read(dev, offset, size);
	pthread_mutex_unlock(&dev->cb_lock);
	return value;
}

static void handle(struct daemon *d, const struct hvisor_device_req *req)
{
	uint64_t value = 0;
	const struct dev_slot *slot =
		daemon_find_slot(d, req->src_zone, req->address);
	struct device *dev = slot ? slot->dev : NULL;
	stats_add(&d->requests, 1); /* read by the control socket's stats */
	if (slot && !dev) {
		if (!req->is_write)
			value = device_removed_read(req->address - slot->addr);
	} else if (dev) {
		value = dev_access(dev, req);
	} else if (d->unserved++ < 16) {
		log_warn("zone %u %s of 0x%llx: no device there (answered 0)",
			 req->src_zone, req->is_write ? "write" : "read",
			 (unsigned long long)req->address);
	}
	if (req->need_interrupt)
		return; /* QUEUE_NOTIFY: the vCPU did not wait */
	if (req->src_cpu >= HVISOR_MAX_CPUS) {
		log_error("request from cpu %llu beyond the bridge's %u cpus",
			  (unsigned long long)req->src_cpu, HVISOR_MAX_CPUS);
		return;
	}
	complete(d->bridge, req->src_cpu, value);
}

/* No device pointer held from here: a table replaced before this point
 * may be freed (seq-cst, see daemon_synchronize). */
static void quiescent(struct daemon *d)
{
	__atomic_store_n(&d->qs_epoch, d->qs_epoch + 1, __ATOMIC_SEQ_CST);
}

/* Drain the ring; returns how many requests were handled. */
static unsigned drain(struct daemon *d)
{
	struct hvisor_bridge *b = d->bridge;
	unsigned handled = 0;
	uint32_t front = b->req_front;
	for (;;) {
		uint32_t rear = __atomic_load_n(&b->req_rear, __ATOMIC_ACQUIRE);
		if (front == rear)
			break;
		/* Copy once: the entry is shared memory. */
		struct hvisor_device_req req;
		__builtin_memcpy(&req,
				 &b->req_list[front & (HVISOR_MAX_REQ - 1)],
				 sizeof req);
		front = HVISOR_RING_NEXT(front);
		handle(d, &req);
		quiescent(d);
		/* Free the slot after answering: stores become visible in
		 * order, and the spinning vCPU waits on the completion, not
		 * on this line. */
		__atomic_store_n(&b->req_front, front, __ATOMIC_RELEASE);
		handled++;
	}
	return handled;
}

static bool ring_empty(const struct hvisor_bridge *b)
{
	return __atomic_load_n(&b->req_rear, __ATOMIC_ACQUIRE) ==
	       __atomic_load_n(&b->req_front, __ATOMIC_RELAXED);
}

static bool stopping(const struct daemon *d)
{
	return __atomic_load_n(&d->stop, __ATOMIC_ACQUIRE);
}

/* Pure spinning for this long, then the window goes on yielding the CPU
 * between looks: on two shared cores a spinner starves exactly the threads
 * the next access waits for (the vCPU itself, a plugin worker, the
 * interrupt injection). */
#define SPIN_NS 2000ull

/*
 * Ring polling (HVD_DEVICE_F_POLL_RINGS): while the window below is open,
 * queue_notify for every queue of such a device where the driver added
 * buffers or the last call left some, and the driver is asked not to kick
 * those queues (vq_poll_due) until the thread is about to sleep.
 *
 * Why: the window spins anyway. At 4K randread depth 32 (bench_blk,
 * release) it was ~a core of its own beside blk's polling worker and the
 * guest vCPU, three busy threads on two cores (perf sched: the dispatch
 * thread ran 245 ms of 400). Doing the device's work in it instead took
 * the daemon from 1.5-1.9 to 1.0-1.2 us per request and the row from
 * 0.29-0.34 to 0.40-0.44 of 2-thread preadv; turning kicks off meanwhile
 * took randwrite QD1 from 0.43-0.48 to 0.47-0.49 (3-4 alternating rounds
 * each). Rings are looked at every RING_LOOK_MASK + 1 turns: every 64th
 * made randread QD1 wait for its read to be seen (0.17-0.20 against
 * 0.22-0.26 of 1-thread preadv). No pointer survives a call: tables are
 * looked up again each time (see quiescent()).
 */
#define RING_LOOK_MASK 7u

static bool unquiet_one(struct device *dev, bool unused)
{
	device_unquiet_rings(dev);
	return false;
}

/* Each look also turns the ring's kicks off (vq_poll_due). */
static bool poll_rings(struct daemon *d)
{
	if (!__atomic_load_n(&d->ring_pollers, __ATOMIC_RELAXED))
		return false;
	d->rings_quiet = true;
	return daemon_for_each_device(d, device_poll_rings, true);
}

/* Before sleeping: kicks on again, then one more look, which closes the
 * race with a buffer published while they were off (the fence is in
 * vq_poll_unquiet). True if that look found work. */
static bool unquiet_rings(struct daemon *d)
{
	if (!d->rings_quiet)
		return false;
	daemon_for_each_device(d, unquiet_one, false);
	d->rings_quiet = false;
	return daemon_for_each_device(d, device_poll_rings, false);
}

/* Stores are atomic only for readers on other threads (the control
 * socket's stats, tests): only this thread writes them. */
static void set_window(struct daemon *d, uint64_t ns, uint64_t *counter)
{
	__atomic_store_n(&d->window_ns, ns, __ATOMIC_RELAXED);
	stats_add(counter, 1);
}

/*
 * The window's length adapts, like KVM's halt polling (Linux
 * Documentation/virt/kvm/halt-polling.rst): a sleep that ended with an
 * access no later than the ceiling after the window opened means a longer
 * window would have answered it without a wake-up, and the window doubles;
 * a longer wait puts it back to the base. Unlike KVM's, it also shrinks: a
 * window that caught work past its base length while another thread raised
 * an interrupt was waiting for an announced access, which the early
 * wake-up (dispatch_irq_raised) serves as well, and the extra length is
 * halved. So a guest whose accesses come unannounced every 0.1-1 ms (a
 * stock Linux guest streaming TCP: every frame a kick) is answered by a
 * polling thread while that lasts, and a guest that only answers
 * interrupts costs one base window per interrupt, as with a fixed window.
 *
 * Measured (issue 16, docs/design.md): the rig's TCP upload
 * (tests/rig/net_tcp.json, QEMU TCG) took a median 0.69 s over 28
 * transfers against 0.83 s with the fixed window and 0.62 s with
 * hvisor-tool's always-spinning daemon, which used 1.6x our CPU time;
 * bench_net's steady 10k pps receive cost the daemon 45-68 us per frame
 * against 33-72 us with the fixed window, 89-103 us without the halving.
 */
void dispatch_window_slept(struct daemon *d, uint64_t waited)
{
	if (waited > d->poll_max_ns) {
		if (d->window_ns != d->poll_ns)
			set_window(d, d->poll_ns, &d->window_reset);
	} else if (d->window_ns < d->poll_max_ns) {
		set_window(d,
			   d->window_ns * 2 < d->poll_max_ns ? d->window_ns * 2
							     : d->poll_max_ns,
			   &d->window_grown);
	}
}

void dispatch_window_announced(struct daemon *d)
{
	if (d->window_ns > d->poll_ns)
		set_window(d,
			   d->window_ns / 2 > d->poll_ns ? d->window_ns / 2
							 : d->poll_ns,
			   &d->window_halved);
}

/* Work came while the window was open: past its base length, with an
 * interrupt raised elsewhere since it opened, it was announced. */
static void window_caught(struct daemon *d, uint64_t start, uint64_t irqs)
{
	if (d->window_ns > d->poll_ns &&
	    __atomic_load_n(&d->irqs_elsewhere, __ATOMIC_RELAXED) != irqs &&
	    now_ns() - start > d->poll_ns)
		dispatch_window_announced(d);
}

/* Poll the ring (and the rings, above) for the polling window from
 * `start`; true if work arrived or was done. */
static bool poll_window(struct daemon *d, uint64_t start)
{
	uint64_t deadline = start + d->window_ns;
	uint64_t irqs = __atomic_load_n(&d->irqs_elsewhere, __ATOMIC_RELAXED);
	for (unsigned spin = 0;; spin++) {
		/* The rings every RING_LOOK_MASK + 1 looks, first thing
		 * after work (a call that left chains is called again at
		 * once); the clock every 64. */
		if (!ring_empty(d->bridge) ||
		    ((spin & RING_LOOK_MASK) == 0 && poll_rings(d))) {
			window_caught(d, start, irqs);
			return true;
		}
		if ((spin & 63) != 0) {
			cpu_relax();
			continue;
		}
		uint64_t now = now_ns();
		if (now >= deadline || stopping(d))
			return false;
		if (now - start >= SPIN_NS)
			sched_yield();
	}
}

/* The mock's socket closes when the mock (the test that ran it) goes
 * away: nothing will ever ask again, so stop instead of serving nobody.
 * The socket carries no unsolicited data, so only a hang-up is watched. */
#define HANGUP_EVENTS (POLLRDHUP | POLLHUP | POLLERR)

static void check_hangup(struct daemon *d, const struct pollfd *p)
{
	if (!(p->revents & HANGUP_EVENTS) || d->hangup)
		return;
	log_error("%s: the hypervisor closed the connection; stopping",
		  port_describe(d->port));
	__atomic_store_n(&d->hangup, true, __ATOMIC_RELEASE);
	daemon_request_stop(d);
}

/* True if the thread slept and what woke it was not an injection's early
 * wake-up (dispatch_irq_raised). */
static bool sleep_until_woken(struct daemon *d)
{
	struct hvisor_bridge *b = d->bridge;
	bool slept = false;
	__atomic_store_n(&b->need_wakeup, 1, __ATOMIC_RELAXED);
	/* Full barrier: either the hypervisor sees need_wakeup and sends the
	 * wake-up, or we see its request here. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* A wake-up left over (sent for a request this thread then found
	 * while still looking, or an early one that came as it woke) would
	 * end the sleep at once for nothing, and be taken for a missed
	 * access: take it now. The look below comes after, so a request it
	 * was for, or one sent meanwhile, is seen; a later one finds
	 * need_wakeup set and signals again. Only this thread clears
	 * prewoken while it is awake, when no injector sets it (qs_idle). */
	uint64_t count;
	__atomic_store_n(&d->prewoken, false, __ATOMIC_SEQ_CST);
	(void)!read(d->wake_fd, &count, sizeof count);
	if (ring_empty(b) && !stopping(d)) {
		struct pollfd fds[3] = {
			{.fd = d->wake_fd, .events = POLLIN},
			{.fd = d->stop_fd, .events = POLLIN},
			{.fd = port_hangup_fd(d->port), .events = POLLRDHUP}};
		stats_add(&d->sleeps, 1);
		__atomic_store_n(&d->qs_idle, true, __ATOMIC_SEQ_CST);
		if (poll(fds, 3, -1) < 0 && errno != EINTR)
			log_error("dispatch: poll: %m");
		__atomic_store_n(&d->qs_idle, false, __ATOMIC_SEQ_CST);
		if (fds[0].revents & POLLIN)
			(void)!read(d->wake_fd, &count, sizeof count);
		check_hangup(d, &fds[2]);
		slept = !__atomic_exchange_n(&d->prewoken, false,
					     __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&b->need_wakeup, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return slept;
}

/*
 * Linux's virtio_mmio answers every interrupt with an InterruptStatus read
 * and an InterruptACK write, and its vCPU waits for each. An injection by
 * another thread (a plugin worker, the event loop) while the dispatch
 * thread sleeps so wakes it at once: the wake-up overlaps the interrupt's
 * way into the guest instead of following the guest's first access. One
 * early wake-up per sleep; a spurious one (the thread woke meanwhile) costs
 * one empty poll window.
 */
static __thread bool on_dispatch_thread;

void dispatch_irq_raised(struct daemon *d)
{
	if (on_dispatch_thread)
		return;
	__atomic_fetch_add(&d->irqs_elsewhere, 1, __ATOMIC_RELAXED);
	if (!__atomic_load_n(&d->qs_idle, __ATOMIC_SEQ_CST) ||
	    __atomic_exchange_n(&d->prewoken, true, __ATOMIC_SEQ_CST))
		return;
	uint64_t one = 1;
	if (write(d->wake_fd, &one, sizeof one) == sizeof one)
		__atomic_fetch_add(&d->prewakes, 1, __ATOMIC_RELAXED);
}

/*
 * hvisor v0.4 on LoongArch never sends the wake-up interrupt
 * (docs/hvisor-runtime.md), so the daemon must keep looking while it has
 * devices. hvisor-tool spins without pause; we nap between looks instead,
 * doubling from NAP_MIN_NS to NAP_MAX_NS while idle: an access after a long
 * idle time waits at most ~NAP_MAX_NS (plus timer slack) for its answer,
 * and an idle daemon wakes ~2000 times a second rather than burning a core.
 */
#define NAP_MIN_NS 10000ull
#define NAP_MAX_NS 500000ull

static void nap(struct daemon *d, uint64_t *nap_ns)
{
	struct pollfd fds[2] = {
		{.fd = d->stop_fd, .events = POLLIN},
		{.fd = port_hangup_fd(d->port), .events = POLLRDHUP}};
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)*nap_ns};
	__atomic_fetch_add(&d->naps, 1, __ATOMIC_RELAXED);
	if (ppoll(fds, 2, &ts, NULL) < 0 && errno != EINTR)
		log_error("dispatch: ppoll: %m");
	check_hangup(d, &fds[1]);
	if (*nap_ns < NAP_MAX_NS)
		*nap_ns *= 2;
}

void dispatch_init(struct daemon *d)
{
	const struct daemon_options *o = &d->opts;
	d->poll_ns = o->poll_us ? o->poll_us * 1000ull : DEFAULT_POLL_NS;
	if (o->poll_us || o->poll_max_us < 0)
		d->poll_max_ns = d->poll_ns; /* fixed */
	else
		d->poll_max_ns = o->poll_max_us ? o->poll_max_us * 1000ull
						: DEFAULT_POLL_MAX_NS;
	if (d->poll_max_ns < d->poll_ns)
		d->poll_max_ns = d->poll_ns;
	d->window_ns = d->poll_ns;
}

int dispatch_run(struct daemon *d)
{
	bool no_wakeup = d->irq_model == PORT_IRQ_LOONGARCH_V04;
	uint64_t nap_ns = NAP_MIN_NS;
	on_dispatch_thread = true;
	__atomic_store_n(&d->dispatching, true, __ATOMIC_SEQ_CST);
	while (!stopping(d)) {
		quiescent(d); /* also while idle without sleeping (naps) */
		if (drain(d)) {
			nap_ns = NAP_MIN_NS;
			continue;
		}
		uint64_t idle_from = now_ns();
		if (poll_window(d, idle_from) || unquiet_rings(d))
			continue;
		if (no_wakeup) {
			nap(d, &nap_ns);
		} else {
			if (sleep_until_woken(d))
				dispatch_window_slept(d, now_ns() - idle_from);
		}
	}
	/* Whatever arrived meanwhile still gets an answer: a vCPU must never
	 * spin forever on a daemon that went away. */
	drain(d);
	__atomic_store_n(&d->dispatching, false, __ATOMIC_SEQ_CST);
	log_info("dispatch: %llu accesses, %llu sleeps (%llu ended early "
		 "by an interrupt); poll window grown %llu times, halved %llu, "
		 "reset %llu",
		 (unsigned long long)d->requests, (unsigned long long)d->sleeps,
		 (unsigned long long)__atomic_load_n(&d->prewakes,
						     __ATOMIC_RELAXED),
		 (unsigned long long)d->window_grown,
		 (unsigned long long)d->window_halved,
		 (unsigned long long)d->window_reset);
	return __atomic_load_n(&d->hangup, __ATOMIC_ACQUIRE) ? -ECONNRESET : 0;
}
