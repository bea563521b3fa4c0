/* SPDX-License-Identifier: MIT */
/*
 * Interrupt delivery: the daemon appends {zone, irq} to res_list and makes
 * its FINISH_REQ, which under the mock is a write to finish_efd. hvisor
 * then injects into the target vCPU itself, and a vCPU halted in WFI is
 * woken once. The mock does the same with one thread wake-up:
 *
 *   - A thread halted in hvd_mock_wait_irq (the harness guest's vCPU, or a
 *     test) sleeps in epoll_wait on vcpu_ep, which watches finish_efd, and
 *     drains res_list itself when it wakes.
 *   - The interrupt thread sleeps on irq_ep, which watches finish_efd too.
 *     It takes the injections nobody is halted for (a guest busy between
 *     two looks, irq callbacks, LoongArch lines, keeping res_list empty).
 *
 * Both watch finish_efd with EPOLLEXCLUSIVE, vcpu_ep registered first.
 * Linux wakes the exclusive entries of a wait queue in order and stops at
 * the first that reports a wake-up; an epoll's entry reports one only when
 * a thread sleeps in that epoll (Linux v6.1, commit 830b3c68c1fb,
 * fs/eventpoll.c ep_poll_callback: `ewake` is set for an EPOLLEXCLUSIVE
 * item only under waitqueue_active(&ep->wq); include/linux/wait.h
 * add_wait_queue_exclusive appends). So a write wakes the halted vCPU
 * alone when there is one, and the interrupt thread otherwise.
 *
 * The one race: the interrupt thread takes an interrupt between a waiter's
 * last look at the count and its epoll_wait. It then writes poke_efd,
 * which vcpu_ep also watches, whenever a vCPU is registered as halted.
 *
 * At most one thread is halted on vcpu_ep (`vcpu_halted`); other waiters,
 * and every waiter while an irq callback is set (it runs on the interrupt
 * thread), wait on m->cond, broadcast by whoever drains.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mock_internal.h"

/* How long a halted vCPU that owns injection polls res_list before it
 * sleeps (docs/harness-guest.md: 50 us caught 4K writes at depth 1 too;
 * 16 us did not and lost to main on them). */
#define HALT_POLL_NS 50000

static int watch(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int mock_irq_init(struct hvd_mock *m)
{
	m->vcpu_ep = epoll_create1(EPOLL_CLOEXEC);
	m->irq_ep = epoll_create1(EPOLL_CLOEXEC);
	m->poke_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->owner_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->vcpu_ep < 0 || m->irq_ep < 0 || m->poke_efd < 0 ||
	    m->owner_efd < 0)
		return -errno;
	/* vcpu_ep first: the order of the exclusive entries is the order of
	 * the wake-ups (see the top of this file). */
	int rc = watch(m->vcpu_ep, m->finish_efd, EPOLLIN | EPOLLEXCLUSIVE);
	if (!rc)
		rc = watch(m->vcpu_ep, m->poke_efd, EPOLLIN);
	if (!rc)
		rc = watch(m->irq_ep, m->finish_efd, EPOLLIN | EPOLLEXCLUSIVE);
	if (!rc)
		rc = watch(m->irq_ep, m->stop_efd, EPOLLIN);
	if (!rc)
		rc = watch(m->irq_ep, m->owner_efd, EPOLLIN);
	/* HVD_MOCK_HALT_POLL_NS: another window, 0 for none (A/B runs). */
	const char *e = getenv("HVD_MOCK_HALT_POLL_NS");
	m->halt_poll_ns = e ? atoll(e) : HALT_POLL_NS;
	return rc;
}

static void count_irq(struct hvd_mock *m, uint32_t zone, uint32_t irq)
{
	for (unsigned i = 0; i < m->irq_count; i++) {
		if (m->irqs[i].zone == zone && m->irqs[i].irq == irq) {
			m->irqs[i].count++;
			mock_line_raise(m, &m->irqs[i]);
			return;
		}
	}
	if (m->irq_count == m->irq_cap) {
		unsigned cap = m->irq_cap ? m->irq_cap * 2 : 16;
		struct mock_irq *n =
			cap <= MOCK_MAX_IRQS
				? realloc(m->irqs, cap * sizeof(*n))
				: NULL;
		if (!n) {
			m->irqs_dropped++;
			return;
		}
		m->irqs = n;
		m->irq_cap = cap;
	}
	m->irqs[m->irq_count] =
		(struct mock_irq){.zone = zone, .irq = irq, .count = 1};
	mock_line_raise(m, &m->irqs[m->irq_count++]);
}

/* Empties `efd` (a doorbell: its count means nothing). */
static void ring_off(int efd)
{
	uint64_t v;
	if (read(efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		perror("hvd_mock: irq read");
}

/* FINISH_REQ: take every {zone, irq} the daemon appended to res_list,
 * then tell the irq callback (outside the lock: it may be slow). finish_efd
 * is emptied before: an append after that comes with a new write. The
 * interrupt thread (`poke`) wakes a halted vCPU that may have missed it. */
static void drain_res(struct hvd_mock *m, bool poke)
{
	struct hvisor_device_res taken[HVISOR_MAX_REQ];
	unsigned n = 0;
	pthread_mutex_lock(&m->lock);
	struct hvisor_bridge *b = m->bridge;
	if (b) {
		/* Indices are masked: a daemon's garbage must not send us
		 * outside the array. */
		uint32_t front = b->res_front & RING_MASK;
		uint32_t rear =
			__atomic_load_n(&b->res_rear, __ATOMIC_ACQUIRE) &
			RING_MASK;
		while (front != rear && n < HVISOR_MAX_REQ) {
			struct hvisor_device_res res = b->res_list[front];
			count_irq(m, res.target_zone, res.irq_id);
			taken[n++] = res;
			front = HVISOR_RING_NEXT(front);
		}
		__atomic_store_n(&b->res_front, front, __ATOMIC_RELEASE);
		if (n)
			pthread_cond_broadcast(&m->cond);
	}
	poke = poke && n && m->vcpu_halted;
	hvd_mock_irq_fn fn = m->irq_fn;
	void *ctx = m->irq_ctx;
	pthread_mutex_unlock(&m->lock);
	if (poke) {
		uint64_t one = 1;
		if (write(m->poke_efd, &one, sizeof(one)) < 0)
			perror("hvd_mock: poke");
	}
	for (unsigned i = 0; fn && i < n; i++)
		fn(ctx, taken[i].target_zone, taken[i].irq_id);
}

void *mock_irq_main(void *arg)
{
	struct hvd_mock *m = arg;
	for (;;) {
		struct epoll_event ev[3];
		/* While the vCPU owns injection, look every 10 ms whether a
		 * full res_list has kept the daemon waiting: hvisor drains it
		 * within FINISH_REQ, so a guest that stopped looking must not
		 * stall the daemon (a worker could not finish its stop). */
		bool owned = __atomic_load_n(&m->vcpu_owns, __ATOMIC_ACQUIRE);
		int n = epoll_wait(m->irq_ep, ev, 3, owned ? 10 : -1);
		if (n == 0)
			mock_irq_look(m, true);
		if (n < 0 && errno != EINTR) {
			perror("hvd_mock: irq epoll");
			break;
		}
		bool stop = false, finish = false;
		for (int i = 0; i < n; i++) {
			stop |= ev[i].data.fd == m->stop_efd;
			finish |= ev[i].data.fd == m->finish_efd;
			if (ev[i].data.fd == m->owner_efd)
				ring_off(m->owner_efd); /* new timeout */
		}
		if (stop)
			break;
		if (finish) {
			ring_off(m->finish_efd);
			drain_res(m, true);
		}
	}
	return NULL;
}

/* Whether res_list holds an injection nobody took yet, and whether it is
 * full (the daemon then waits for room). */
static bool res_pending(const struct hvisor_bridge *b)
{
	return __atomic_load_n(&b->res_rear, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&b->res_front, __ATOMIC_RELAXED);
}

static bool res_full(const struct hvisor_bridge *b)
{
	uint32_t rear = __atomic_load_n(&b->res_rear, __ATOMIC_ACQUIRE);
	uint32_t front = __atomic_load_n(&b->res_front, __ATOMIC_RELAXED);
	return HVISOR_RING_NEXT(rear & RING_MASK) == (front & RING_MASK);
}

/* The bridge whose res_list the vCPU takes itself, or NULL when the
 * interrupt thread does. */
static const struct hvisor_bridge *owned_bridge(struct hvd_mock *m)
{
	if (!__atomic_load_n(&m->vcpu_owns, __ATOMIC_ACQUIRE))
		return NULL;
	return __atomic_load_n(&m->bridge, __ATOMIC_ACQUIRE);
}

/* Halt-poll: watch res_list for up to halt_poll_ns; true when an injection
 * came. Every ~1 us the core goes to any other runnable thread, as KVM
 * stops polling when another task can run on that CPU. */
static bool halt_poll(struct hvd_mock *m, const struct hvisor_bridge *b)
{
	int64_t now = mock_now_ns();
	int64_t end = now + m->halt_poll_ns, yield_at = now + 1000;
	for (unsigned i = 1;; i++) {
		if (res_pending(b))
			return true;
		if (i & 31) {
			cpu_relax();
			continue;
		}
		now = mock_now_ns();
		if (now >= end)
			return false;
		if (now >= yield_at) {
			sched_yield();
			yield_at = now + 1000;
		}
	}
}

/* The vCPU in WFI: sleep until finish_efd or poke_efd rings (or
 * timeout_ms, the caller's failure guard), and take what rang. With `b`
 * (the vCPU owns injection) it halt-polls res_list first, and empties
 * finish_efd only before it really sleeps: an append after that comes
 * with a new write. */
static void halt(struct hvd_mock *m, const struct hvisor_bridge *b,
		 int timeout_ms)
{
	if (b && m->halt_poll_ns > 0 && halt_poll(m, b)) {
		drain_res(m, false);
		return;
	}
	if (b) {
		ring_off(m->finish_efd);
		if (res_pending(b)) {
			drain_res(m, false);
			return;
		}
	}
	struct epoll_event ev[2];
	int n = epoll_wait(m->vcpu_ep, ev, 2, timeout_ms);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.fd == m->finish_efd) {
			ring_off(m->finish_efd);
			drain_res(m, false);
		} else {
			ring_off(m->poke_efd);
		}
	}
}

void mock_irq_choose_owner(struct hvd_mock *m)
{
	bool own = m->vcpu_injects && !m->irq_fn &&
		   m->irq_model == HVD_MOCK_IRQ_EDGE;
	if (own == m->vcpu_owns)
		return;
	/* Added back behind vcpu_ep's entry: the order of the top of this
	 * file holds again. */
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
				 .data.fd = m->finish_efd};
	if (epoll_ctl(m->irq_ep, own ? EPOLL_CTL_DEL : EPOLL_CTL_ADD,
		      m->finish_efd, &ev) < 0) {
		perror("hvd_mock: interrupt owner");
		return;
	}
	__atomic_store_n(&m->vcpu_owns, own, __ATOMIC_RELEASE);
	uint64_t one = 1;
	if (write(m->owner_efd, &one, sizeof(one)) < 0)
		perror("hvd_mock: interrupt owner");
}

void mock_irq_look(struct hvd_mock *m, bool full_only)
{
	const struct hvisor_bridge *b = owned_bridge(m);
	if (b && (full_only ? res_full(b) : res_pending(b)))
		drain_res(m, false);
}

static uint64_t irq_get(struct hvd_mock *m, uint32_t zone, uint32_t irq)
{
	for (unsigned i = 0; i < m->irq_count; i++)
		if (m->irqs[i].zone == zone && m->irqs[i].irq == irq)
			return m->irqs[i].count;
	return 0;
}

HVD_API uint64_t hvd_mock_irq_count(struct hvd_mock *m, uint32_t zone,
				    uint32_t irq)
{
	if (!m)
		return 0;
	mock_irq_look(m, false);
	pthread_mutex_lock(&m->lock);
	uint64_t c = irq_get(m, zone, irq);
	pthread_mutex_unlock(&m->lock);
	return c;
}

HVD_API int hvd_mock_wait_irq(struct hvd_mock *m, uint32_t zone, uint32_t irq,
			      uint64_t seen, int timeout_ms)
{
	if (!m)
		return -EINVAL;
	int rc = 0;
	struct timespec deadline;
	mock_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&m->lock);
	while (irq_get(m, zone, irq) <= seen) {
		if (mock_expired(&deadline, timeout_ms)) {
			rc = -ETIMEDOUT;
			break;
		}
		const struct hvisor_bridge *b = owned_bridge(m);
		if (b && res_pending(b)) {
			/* Pending already: take it instead of halting. */
			pthread_mutex_unlock(&m->lock);
			drain_res(m, false);
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if (m->vcpu_halted || m->irq_fn) {
			mock_cond_wait_until(m, &deadline, timeout_ms, -1);
			continue;
		}
		m->vcpu_halted = true;
		pthread_mutex_unlock(&m->lock);
		halt(m, b, mock_remaining_ms(&deadline, timeout_ms));
		pthread_mutex_lock(&m->lock);
		m->vcpu_halted = false;
		/* A waiter on m->cond may take vcpu_ep over. */
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
