/* SPDX-License-Identifier: MIT */
/*
 * The mock hypervisor: guest RAM, the vCPU side of the bridge request ring,
 * interrupt collection from res_list and readiness. The socket protocol
 * (what /dev/hvisor does) is in mock_server.c, the daemon child in
 * mock_child.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock_internal.h"

#define SPIN_BEFORE_YIELD_NS 50000 /* then sched_yield while waiting */

/* ---- Time ---------------------------------------------------------------- */

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int64_t mock_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

void mock_deadline(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	if (timeout_ms < 0)
		return;
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

bool mock_expired(const struct timespec *deadline, int timeout_ms)
{
	return timeout_ms >= 0 && mock_now_ns() >= ts_ns(deadline);
}

int mock_remaining_ms(const struct timespec *deadline, int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	int64_t left = ts_ns(deadline) - mock_now_ns();
	if (left <= 0)
		return 0;
	return (int)((left + 999999) / 1000000);
}

/* Waits on m->cond (m->lock held) until `deadline`, but at most `slice_ms`
 * when slice_ms >= 0. Returns false once the deadline has passed. */
bool mock_cond_wait_until(struct hvd_mock *m, const struct timespec *deadline,
			  int timeout_ms, int slice_ms)
{
	if (mock_expired(deadline, timeout_ms))
		return false;
	struct timespec until;
	if (slice_ms >= 0) {
		mock_deadline(&until, slice_ms);
		if (timeout_ms >= 0 && ts_ns(deadline) < ts_ns(&until))
			until = *deadline;
	} else if (timeout_ms >= 0) {
		until = *deadline;
	} else {
		pthread_cond_wait(&m->cond, &m->lock);
		return true;
	}
	pthread_cond_timedwait(&m->cond, &m->lock, &until);
	return true;
}

/* ---- Creation ------------------------------------------------------------ */

HVD_API struct hvd_mock *hvd_mock_new(void)
{
	struct hvd_mock *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&m->ring_lock, NULL);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	m->wake_efd = -1;
	m->listen_fd = -1;
	m->vcpu_ep = m->irq_ep = m->poke_efd = m->owner_efd = -1;
	m->config_version = 0x06;
	/* HVD_MOCK_TRAP_YIELD_NS: a register wait's yield cadence (A/B). */
	const char *e = getenv("HVD_MOCK_TRAP_YIELD_NS");
	m->trap_yield_ns = e && atoll(e) > 0 ? atoll(e) : 0;
	mock_scmi_init(m);
	/* The root zone always exists, as on a running hypervisor. */
	m->zones[0].info.zone_id = 0;
	m->zones[0].info.cpus = 1;
	snprintf(m->zones[0].info.name, sizeof(m->zones[0].info.name),
		 "root-linux");
	m->zone_count = 1;

	m->finish_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->kick_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int err = 0;
	if (m->finish_efd < 0 || m->stop_efd < 0 || m->kick_efd < 0)
		err = errno;
	if (!err) {
		int rc = mock_irq_init(m);
		if (rc < 0)
			err = -rc;
	}
	if (!err) {
		int rc = mock_server_start(m);
		if (rc < 0)
			err = -rc;
	}
	if (!err) {
		err = pthread_create(&m->server_thread, NULL, mock_server_main,
				     m);
		m->server_started = err == 0;
		if (!err)
			pthread_setname_np(m->server_thread, "mock-server");
	}
	if (!err) {
		err = pthread_create(&m->irq_thread, NULL, mock_irq_main, m);
		m->irq_started = err == 0;
		if (!err)
			pthread_setname_np(m->irq_thread, "mock-irq");
	}
	if (err) {
		hvd_mock_free(m);
		errno = err;
		return NULL;
	}
	mock_live_add(m);
	return m;
}

HVD_API void hvd_mock_free(struct hvd_mock *m)
{
	if (!m)
		return;
	mock_live_remove(m);
	if (m->child > 0)
		hvd_mock_stop_child(m, SIGTERM, 2000, NULL);
	if (m->stop_efd >= 0) {
		uint64_t one = 1;
		if (write(m->stop_efd, &one, sizeof(one)) < 0)
			perror("hvd_mock_free: stop");
	}
	if (m->server_started)
		pthread_join(m->server_thread, NULL);
	if (m->irq_started)
		pthread_join(m->irq_thread, NULL);
	mock_server_close(m);

	int fds[] = {m->wake_efd, m->finish_efd, m->stop_efd, m->kick_efd,
		     m->vcpu_ep,  m->irq_ep,     m->poke_efd, m->owner_efd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (struct mock_bridge *b = m->bridges, *next; b; b = next) {
		next = b->next;
		munmap(b->page, MOCK_BRIDGE_SIZE);
		free(b);
	}
	for (unsigned i = 0; i < m->ram_count; i++) {
		munmap(m->ram[i].hva, m->ram[i].size);
		close(m->ram[i].memfd);
	}
	for (unsigned i = 0; i < m->zone_count; i++)
		free(m->zones[i].cfg);
	for (struct mock_retired *r = m->retired, *next; r; r = next) {
		next = r->next;
		munmap(r->hva, r->size);
		free(r);
	}
	free(m->ram);
	free(m->allocs);
	free(m->irqs);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->ring_lock);
	free(m);
}

HVD_API const char *hvd_mock_socket_path(const struct hvd_mock *m)
{
	return m ? m->sock_path : NULL;
}

HVD_API void hvd_mock_set_config_version(struct hvd_mock *m, uint64_t version)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->config_version = version;
	pthread_mutex_unlock(&m->lock);
}

HVD_API uint64_t hvd_mock_wakeups(struct hvd_mock *m)
{
	return m ? __atomic_load_n(&m->wakeups, __ATOMIC_RELAXED) : 0;
}

int mock_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) <
		    0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* ---- Guest RAM ----------------------------------------------------------- */

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Adds a region backed by `fd` (ownership taken, closed on failure) from
 * file offset `offset`. With `resync`, a region with the very same zone and
 * addresses gets the new backing instead of being refused as overlapping. */
static int ram_insert(struct hvd_mock *m, uint32_t zone, uint64_t zone0_ipa,
		      uint64_t zonex_ipa, uint64_t size, int fd,
		      uint64_t offset, bool resync)
{
	pthread_mutex_lock(&m->lock);
	struct mock_ram *same = NULL;
	int rc = 0;
	for (unsigned i = 0; i < m->ram_count; i++) {
		struct mock_ram *r = &m->ram[i];
		if (resync && r->zone == zone && r->zone0_ipa == zone0_ipa &&
		    r->zonex_ipa == zonex_ipa && r->size == size) {
			same = r;
			continue;
		}
		if (ranges_overlap(r->zone0_ipa, r->size, zone0_ipa, size) ||
		    (r->zone == zone &&
		     ranges_overlap(r->zonex_ipa, r->size, zonex_ipa, size))) {
			rc = -EEXIST;
			goto out;
		}
	}
	struct mock_retired *old = NULL;
	if (same) {
		old = calloc(1, sizeof(*old));
		if (!old) {
			rc = -ENOMEM;
			goto out;
		}
	} else if (m->ram_count == m->ram_cap) {
		unsigned cap = m->ram_cap ? m->ram_cap * 2 : 4;
		struct mock_ram *n = realloc(m->ram, cap * sizeof(*n));
		if (!n) {
			rc = -ENOMEM;
			goto out;
		}
		m->ram = n;
		m->ram_cap = cap;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)offset);
	if (p == MAP_FAILED) {
		rc = -errno;
		free(old);
		goto out;
	}
	struct mock_ram fresh = {
		.zone = zone,
		.zone0_ipa = zone0_ipa,
		.zonex_ipa = zonex_ipa,
		.size = size,
		.memfd = fd,
		.fd_offset = offset,
		.hva = p,
	};
	if (same) {
		*old = (struct mock_retired){.hva = same->hva,
					     .size = same->size,
					     .next = m->retired};
		m->retired = old;
		close(same->memfd);
		*same = fresh;
	} else {
		m->ram[m->ram_count++] = fresh;
	}
	fd = -1;
out:
	pthread_mutex_unlock(&m->lock);
	if (fd >= 0)
		close(fd);
	return rc;
}

static bool ram_args_ok(uint64_t zone0_ipa, uint64_t zonex_ipa, uint64_t size)
{
	return size != 0 && size <= SIZE_MAX / 2 &&
	       zone0_ipa + size >= zone0_ipa && zonex_ipa + size >= zonex_ipa;
}

HVD_API int hvd_mock_add_ram(struct hvd_mock *m, uint32_t zone,
			     uint64_t zone0_ipa, uint64_t zonex_ipa,
			     uint64_t size)
{
	if (!m || !ram_args_ok(zone0_ipa, zonex_ipa, size))
		return -EINVAL;
	int fd = mock_memfd("hvd-mock-guest-ram", size);
	if (fd < 0)
		return fd;
	return ram_insert(m, zone, zone0_ipa, zonex_ipa, size, fd, 0, false);
}

HVD_API int hvd_mock_add_ram_fd(struct hvd_mock *m, uint32_t zone,
				uint64_t zone0_ipa, uint64_t zonex_ipa,
				uint64_t size, int fd, uint64_t offset)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct stat st;
	if (!m || fd < 0 || !ram_args_ok(zone0_ipa, zonex_ipa, size) ||
	    offset % (uint64_t)pg || offset > INT64_MAX - size)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size < offset + size)
		return -EINVAL;
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return -errno;
	return ram_insert(m, zone, zone0_ipa, zonex_ipa, size, own, offset,
			  true);
}

HVD_API void hvd_mock_set_irq_callback(struct hvd_mock *m, hvd_mock_irq_fn fn,
				       void *ctx)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->irq_fn = fn;
	m->irq_ctx = ctx;
	mock_irq_choose_owner(m);
	pthread_mutex_unlock(&m->lock);
}

const struct mock_ram *mock_ram_by_zone0(struct hvd_mock *m, uint64_t ipa,
					 uint64_t size)
{
	if (size == 0 || ipa + size < ipa)
		return NULL;
	for (unsigned i = 0; i < m->ram_count; i++) {
		const struct mock_ram *r = &m->ram[i];
		if (ipa >= r->zone0_ipa && ipa - r->zone0_ipa <= r->size &&
		    size <= r->size - (ipa - r->zone0_ipa))
			return r;
	}
	return NULL;
}

HVD_API void *hvd_mock_guest_ptr(struct hvd_mock *m, uint32_t zone,
				 uint64_t gpa, uint64_t len)
{
	if (!m)
		return NULL;
	if (len == 0)
		len = 1;
	void *p = NULL;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->ram_count; i++) {
		const struct mock_ram *r = &m->ram[i];
		if (r->zone == zone && gpa >= r->zonex_ipa &&
		    gpa - r->zonex_ipa < r->size &&
		    len <= r->size - (gpa - r->zonex_ipa)) {
			p = r->hva + (gpa - r->zonex_ipa);
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return p;
}

/*
 * The guest driver allocates from the upper half of the zone's first RAM
 * region (in the order regions were added): tests keep the lower half for
 * buffers they place by hand. Nothing is ever freed.
 */
uint64_t mock_guest_alloc(struct hvd_mock *m, uint32_t zone, uint64_t size,
			  uint64_t align, void **ptr)
{
	if (align == 0)
		align = 1;
	if (size == 0 || (align & (align - 1)))
		return 0;
	uint64_t gpa = 0;
	pthread_mutex_lock(&m->lock);
	struct mock_alloc *a = NULL;
	for (unsigned i = 0; i < m->alloc_count; i++)
		if (m->allocs[i].zone == zone)
			a = &m->allocs[i];
	if (!a) {
		const struct mock_ram *first = NULL;
		for (unsigned i = 0; i < m->ram_count && !first; i++)
			if (m->ram[i].zone == zone)
				first = &m->ram[i];
		if (!first)
			goto out;
		if (m->alloc_count == m->alloc_cap) {
			unsigned cap = m->alloc_cap ? m->alloc_cap * 2 : 4;
			struct mock_alloc *n =
				realloc(m->allocs, cap * sizeof(*n));
			if (!n)
				goto out;
			m->allocs = n;
			m->alloc_cap = cap;
		}
		a = &m->allocs[m->alloc_count++];
		a->zone = zone;
		a->end = first->zonex_ipa + first->size;
		a->next = first->zonex_ipa +
			  ((first->size / 2 + 4095) & ~(uint64_t)4095);
		if (a->next > a->end)
			a->next = a->end;
	}
	uint64_t at = (a->next + align - 1) & ~(align - 1);
	if (at < a->next || at > a->end || size > a->end - at)
		goto out;
	const struct mock_ram *r = NULL;
	for (unsigned i = 0; i < m->ram_count && !r; i++)
		if (m->ram[i].zone == zone && at >= m->ram[i].zonex_ipa &&
		    at - m->ram[i].zonex_ipa < m->ram[i].size)
			r = &m->ram[i];
	if (!r)
		goto out;
	a->next = at + size;
	gpa = at;
	void *p = r->hva + (at - r->zonex_ipa);
	memset(p, 0, size);
	if (ptr)
		*ptr = p;
out:
	pthread_mutex_unlock(&m->lock);
	return gpa;
}

/* ---- vCPUs: the request ring --------------------------------------------- */

/* vCPU numbers: one per calling thread, from a bitmap (released when the
 * thread exits, so long test runs do not run out of the 32 numbers). */
static uint32_t vcpu_used;
static pthread_key_t vcpu_key;
static bool vcpu_key_ok;
static pthread_once_t vcpu_once = PTHREAD_ONCE_INIT;
static __thread int vcpu_self = -1;

static void vcpu_release(void *p)
{
	unsigned cpu = (unsigned)(uintptr_t)p - 1u;
	__atomic_fetch_and(&vcpu_used, ~(1u << cpu), __ATOMIC_RELEASE);
}

static void vcpu_key_init(void)
{
	vcpu_key_ok = pthread_key_create(&vcpu_key, vcpu_release) == 0;
}

_Static_assert(HVISOR_MAX_CPUS == 32, "vcpu bitmap is 32 bits");

static int vcpu_id(void)
{
	if (vcpu_self >= 0)
		return vcpu_self;
	pthread_once(&vcpu_once, vcpu_key_init);
	uint32_t cur = __atomic_load_n(&vcpu_used, __ATOMIC_RELAXED);
	for (;;) {
		if (cur == UINT32_MAX)
			return -1;
		int cpu = __builtin_ctz(~cur);
		if (__atomic_compare_exchange_n(
			    &vcpu_used, &cur, cur | (1u << cpu), false,
			    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			vcpu_self = cpu;
			if (vcpu_key_ok)
				pthread_setspecific(
					vcpu_key, (void *)(uintptr_t)(cpu + 1));
			return cpu;
		}
	}
}

/* Spin until *word != old: pause first, sched_yield after ~50 us. With
 * trap_yield_ns (HVD_MOCK_TRAP_YIELD_NS) it yields every that often from
 * the start instead; docs/harness-guest.md ("Interrupt delivery") has
 * what a 1 us cadence measured and why it is not the default. */
static int spin_until_changed(struct hvd_mock *m, const uint64_t *word,
			      uint64_t old, const struct timespec *deadline,
			      int timeout_ms)
{
	const int64_t every = m->trap_yield_ns;
	int64_t yield_at = 0;
	unsigned n = 0;
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == old) {
		if (yield_at < 0) {
			sched_yield();
		} else {
			cpu_relax();
			if (++n & 63)
				continue;
		}
		/* A trapped vCPU is in the hypervisor, which keeps res_list
		 * drained: a daemon that waits for room in it (an injection
		 * on the thread that owes us this answer) must not wait for
		 * us (mock_irq.c, vcpu_owns). */
		mock_irq_look(m, true);
		int64_t now = mock_now_ns();
		if (yield_at == 0) {
			yield_at = now + (every ? every : SPIN_BEFORE_YIELD_NS);
		} else if (yield_at > 0 && now >= yield_at) {
			if (every)
				sched_yield();
			yield_at = every ? now + every : -1;
		}
		if (timeout_ms >= 0 && now >= ts_ns(deadline))
			return -ETIMEDOUT;
	}
	return 0;
}

/* With ring_lock held: wait (lock released) until the ring has room. */
static int wait_ring_room(struct hvd_mock *m, struct hvisor_bridge **bp,
			  const struct timespec *deadline, int timeout_ms)
{
	unsigned n = 0;
	for (;;) {
		struct hvisor_bridge *b = m->bridge;
		if (!b)
			return -ENOTCONN;
		uint32_t rear = b->req_rear & RING_MASK;
		uint32_t front =
			__atomic_load_n(&b->req_front, __ATOMIC_ACQUIRE) &
			RING_MASK;
		if (HVISOR_RING_NEXT(rear) != front) {
			*bp = b;
			return 0;
		}
		pthread_mutex_unlock(&m->ring_lock);
		if (++n < 64)
			cpu_relax();
		else
			sched_yield();
		int rc = mock_expired(deadline, timeout_ms) ? -ETIMEDOUT : 0;
		pthread_mutex_lock(&m->ring_lock);
		if (rc)
			return rc;
	}
}

HVD_API int hvd_mock_mmio(struct hvd_mock *m, uint32_t zone, uint64_t addr,
			  unsigned size, bool is_write, uint64_t *value,
			  bool notify, int timeout_ms)
{
	if (!m || !value ||
	    (size != 1 && size != 2 && size != 4 && size != 8) ||
	    (notify && !is_write))
		return -EINVAL;
	int cpu = vcpu_id();
	if (cpu < 0)
		return -EBUSY; /* more live vCPU threads than HVISOR_MAX_CPUS */
	struct timespec deadline;
	mock_deadline(&deadline, timeout_ms);

	pthread_mutex_lock(&m->ring_lock);
	struct hvisor_bridge *b = NULL;
	int rc = wait_ring_room(m, &b, &deadline, timeout_ms);
	if (rc < 0) {
		pthread_mutex_unlock(&m->ring_lock);
		return rc;
	}
	uint32_t rear = b->req_rear & RING_MASK;
	uint64_t old = __atomic_load_n(&b->cfg_flags[cpu], __ATOMIC_ACQUIRE);
	struct hvisor_device_req *r = &b->req_list[rear];
	r->src_cpu = (uint64_t)cpu;
	r->address = addr;
	r->size = size;
	r->value = is_write ? *value : 0;
	r->src_zone = zone;
	r->is_write = is_write;
	r->need_interrupt = notify;
	r->padding = 0;
	__atomic_store_n(&b->req_rear, HVISOR_RING_NEXT(rear),
			 __ATOMIC_RELEASE);
	/* Pairs with the daemon's barrier between need_wakeup = 1 and its
	 * re-check of req_rear: one of the two sides sees the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&b->need_wakeup, __ATOMIC_RELAXED) == 1 &&
	    m->wake_efd >= 0 && mock_has_wakeup(m)) {
		uint64_t one = 1;
		if (write(m->wake_efd, &one, sizeof(one)) == sizeof(one))
			__atomic_fetch_add(&m->wakeups, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&m->ring_lock);
	if (notify)
		return 0;

	/* The bridge page stays mapped until hvd_mock_free even if the daemon
	 * re-initialises, so `b` is safe to keep using. */
	rc = spin_until_changed(m, &b->cfg_flags[cpu], old, &deadline,
				timeout_ms);
	if (rc < 0)
		return rc;
	uint64_t v = __atomic_load_n(&b->cfg_values[cpu], __ATOMIC_ACQUIRE);
	if (!is_write)
		*value = size == 8 ? v : v & ((UINT64_C(1) << (size * 8)) - 1);
	return 0;
}

/*
 * Ready = bridge initialised + eventfd registered (both announced on
 * m->cond by the server thread) + bridge->mmio_avail == 1. The daemon sets
 * mmio_avail by a plain store into shared memory with no message, so that
 * one flag is polled: the condvar wait is cut into 1 ms slices to re-read
 * it. The overall timeout is only the failure guard.
 */
HVD_API int hvd_mock_wait_ready(struct hvd_mock *m, int timeout_ms)
{
	if (!m)
		return -EINVAL;
	struct timespec deadline;
	mock_deadline(&deadline, timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	for (;;) {
		struct hvisor_bridge *b = m->bridge;
		if (b && m->eventfd_set &&
		    __atomic_load_n(&b->mmio_avail, __ATOMIC_ACQUIRE) == 1)
			break;
		if (!mock_cond_wait_until(m, &deadline, timeout_ms,
					  b ? 1 : -1)) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
