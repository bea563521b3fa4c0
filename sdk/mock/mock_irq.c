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
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mock_internal.h"

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
	if (m->vcpu_ep < 0 || m->irq_ep < 0 || m->poke_efd < 0)
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
	ring_off(m->finish_efd);
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
		struct epoll_event ev[2];
		int n = epoll_wait(m->irq_ep, ev, 2, -1);
		if (n < 0 && errno != EINTR) {
			perror("hvd_mock: irq epoll");
			break;
		}
		bool stop = false, finish = false;
		for (int i = 0; i < n; i++) {
			stop |= ev[i].data.fd == m->stop_efd;
			finish |= ev[i].data.fd == m->finish_efd;
		}
		if (stop)
			break;
		if (finish)
			drain_res(m, true);
	}
	return NULL;
}

/* The vCPU in WFI: sleep until finish_efd or poke_efd rings (or
 * timeout_ms, the caller's failure guard), and take what rang. */
static void halt(struct hvd_mock *m, int timeout_ms)
{
	struct epoll_event ev[2];
	int n = epoll_wait(m->vcpu_ep, ev, 2, timeout_ms);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.fd == m->finish_efd)
			drain_res(m, false);
		else
			ring_off(m->poke_efd);
	}
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
		if (m->vcpu_halted || m->irq_fn) {
			mock_cond_wait_until(m, &deadline, timeout_ms, -1);
			continue;
		}
		m->vcpu_halted = true;
		pthread_mutex_unlock(&m->lock);
		halt(m, mock_remaining_ms(&deadline, timeout_ms));
		pthread_mutex_lock(&m->lock);
		m->vcpu_halted = false;
		/* A waiter on m->cond may take vcpu_ep over. */
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
