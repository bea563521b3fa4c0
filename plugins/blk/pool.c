/* SPDX-License-Identifier: MIT */
/*
 * The I/O engine: a fixed set of worker threads doing blocking
 * preadv/pwritev/fdatasync, so no register access of any device waits for
 * the disk. A kick only marks its queue pending and wakes one worker; the
 * worker pops chains itself (vq services are thread-safe), and when it sees
 * more chains waiting it wakes a sleeping colleague, so up to `workers`
 * requests of one queue run at once; not after a buffered write, though:
 * those serialise on the image's inode lock, and extra writers only spun
 * on it (rwsem_spin_on_owner ~8% of the daemon's samples at depth 32) or
 * slept and woke (~1k switches a second each, 10x fewer with one writer).
 * One writer that keeps popping took bench_blk 4K randwrite QD32 from
 * 0.68-0.79 of pwritev to 0.74-0.87 and the daemon from 9.4-12.9 to
 * 9.9-11.6 us per write, median 12.0 -> 10.4 (9 alternating rounds each,
 * release build).
 * Completions are pushed one by one; the guest is told after each request
 * that waited (a write, a read from disk) and after each batch of quick
 * ones (vq_notify applies EVENT_IDX, so the driver decides which of these
 * become interrupts).
 *
 * After a burst, one worker keeps watching the rings for a while with
 * kicks turned off (poll_rings). It yields the CPU between looks instead
 * of spinning: on a machine with two shared cores a pure spinner holds its
 * core for a whole scheduler slice against the guest vCPU and the thread
 * that injects our interrupts, which made queue depth 1 ten times slower
 * in bench/blk than yielding.
 *
 * While no worker is at work, queue_notify serves reads the page cache
 * holds whole (preadv2 RWF_NOWAIT) itself, on the dispatch thread, up to a
 * budget per call (blk_pool_serve_inline); the first chain it cannot serve
 * that way and everything behind it go to a worker as above. Chains left
 * over the budget stay in the ring: the device polls its rings
 * (HVD_DEVICE_F_POLL_RINGS), so the host calls again as soon as it has
 * answered the register accesses that came meanwhile. A read then costs no
 * thread hand-off at all, at any depth, and no worker polls beside the
 * dispatch thread, which watches the bridge and the rings anyway: at 4K
 * randread depth 32 the three busy threads (guest vCPU, dispatch thread,
 * polling worker) on two cores became two. Writes cannot be done that way:
 * ext4 here refuses buffered RWF_NOWAIT writes (EOPNOTSUPP, kernel 6.18).
 *
 * Why threads and not io_uring (bench/blk/bench_engine measures both
 * shapes alone): io_uring's edge on a page-cached image is that a read
 * completes inline on the submitting thread, with no hand-off. The inline
 * path above and the polling worker get the same by running preadv
 * themselves, and the poller also spares the guest its kicks; workers
 * additionally keep reset (wait for `busy` to drop) and O_DIRECT bouncing
 * plain blocking code.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>

#include "blk.h"

/* Quick completions (reads from page cache, ~1 us each) pushed before the
 * guest is told, when a worker keeps finding work: bounds the latency a
 * busy queue adds to its first completions. A request that waited is told
 * at once: vq_notify costs a lock and a fence, nothing beside a ~8 us
 * write, and holding an interrupt the driver asked for (EVENT_IDX: its
 * used_event is the next completion) back by up to 15 writes delayed its
 * refill of the ring until the queue ran dry. bench_blk 4K randwrite QD32
 * (release build, alternating runs): batch of 16 for writes 0.66-0.89 of
 * pwritev (median 0.83, 6 runs), at once 0.82-0.94 (0.90), and daemon CPU
 * per write 10.0-11.3 -> 8.3-9.2 us. Interrupts per write stay 0.03; the
 * harness guest's CPU per write rises (5.6-7.1 -> 8.3-9.0 us): answered
 * sooner, it halt-polls instead of sleeping. Reads keep the batch: told
 * per completion, 4K randread QD32 went 0.42-0.45 -> 0.40-0.46. */
#define BLK_NOTIFY_BATCH 16u

/* How long the last worker out keeps watching the rings after its queue ran
 * dry. While it does, the driver is asked not to kick: a guest that submits
 * again soon after a completion (queue depth 1) then reaches a worker with
 * no bridge round trip, no dispatch thread and no thread wake-up, and the
 * dispatch thread can go to sleep. The window is short because a poller
 * competes for the 2 shared cores with the guest vCPU and the thread that
 * injects our interrupts: with the Linux-like guest, 50 us beat the earlier
 * 100 us (bench_blk 4K rows, release build, 15-19 alternating runs,
 * medians): randread QD1 37k -> 45k IOPS, randwrite QD1 18k -> 27k, QD32
 * rows unchanged. 20 us gave randread QD1 57k but randwrite QD32 91k -> 86k;
 * 0 (no window) gave randread QD1 28k. Since page-cached reads are served
 * inline (blk_pool_serve_inline), a worker takes this role only after a
 * run worth it (serve_queue): polling for a lone cached read would keep a
 * second thread spinning beside the dispatch thread and take the reads
 * away from the inline path, which needs the pool idle. */
#define BLK_POLL_NS 50000ull

/* What queue_notify serves inline per call at most, before it leaves the
 * rest for the host's next call: every register access of every device
 * waits behind it on the dispatch thread. A 4 KiB read from page cache
 * takes ~0.8 us here (1-thread preadv 1.3M IOPS), so the bound is ~10-15
 * us per call. 8 and 32 chains were no better at 4K randread depth 32
 * (0.36-0.43 against 0.39-0.44 of 2-thread preadv, 4 alternating rounds). */
#define BLK_INLINE_CHAINS 16u
#define BLK_INLINE_BYTES  (64u << 10)

struct blk_pool {
	struct blk *blk;
	pthread_mutex_t lock;
	pthread_cond_t work;  /* pending became non-zero, or stop */
	pthread_cond_t quiet; /* busy dropped to 0 */
	uint64_t pending;     /* bit per kicked queue not yet taken */
	uint64_t serving;     /* bit per queue a worker took from pending */
	bool active;          /* between activate and reset */
	bool stop;            /* workers exit */
	unsigned busy;        /* workers serving a queue right now */
	unsigned sleepers;    /* workers waiting on `work` */
	bool polling;         /* a worker has the poller role: kicks are off */
	bool handoff;         /* the poller role waits for a sleeping worker */
	/* The last request completed was BLK_QUICK (atomic, a hint): only
	 * then does queue_notify try to serve the next kick inline. */
	bool last_quick;
	/* The last request completed was a buffered write (atomic, a hint):
	 * then a second worker is not called for (see serve_queue). */
	bool last_write;
	unsigned count;
	pthread_t *threads;
	struct iovec *scratch;    /* BLK_REQ_IOV_MAX per worker */
	struct iovec *inline_iov; /* the dispatch thread's, after those */
};

struct worker_arg {
	struct blk_pool *pool;
	struct iovec *iov;
};

static bool still_active(struct blk_pool *pool)
{
	return __atomic_load_n(&pool->active, __ATOMIC_ACQUIRE);
}

/* Another worker may help with queue `index` if one is asleep. */
static void offer_help(struct blk_pool *pool, unsigned index)
{
	pthread_mutex_lock(&pool->lock);
	if (pool->sleepers > 0 && !(pool->pending & (1ull << index))) {
		pool->pending |= 1ull << index;
		pthread_cond_signal(&pool->work);
	}
	pthread_mutex_unlock(&pool->lock);
}

/* Pop, run and complete chains of queue `index` until it is empty, the
 * device is reset or it needs a reset; *served_out (if given) counts the
 * chains. Returns whether watching the rings afterwards is worth a
 * thread: a chain waited for I/O or the queue was deeper than one chain.
 * A lone read from page cache is not: queue_notify serves the next one
 * inline, which costs the guest a kick but keeps no thread polling. */
static bool serve_queue(struct blk_pool *pool, unsigned index,
			struct iovec *iov, unsigned *served_out)
{
	struct blk *blk = pool->blk;
	const struct hvd_host_services *host = blk->host;
	struct hvd_vq *vq = host->vq_get(blk->dev, index);
	unsigned served = 0, slow = 0, unnotified = 0;
	bool writing = __atomic_load_n(&pool->last_write, __ATOMIC_RELAXED);
	struct hvd_chain *chain;

	while (still_active(pool) &&
	       !__atomic_load_n(&blk->failed, __ATOMIC_ACQUIRE) &&
	       (chain = host->vq_pop(vq)) != NULL) {
		/* Cheap test first: only take the pool lock when there is
		 * something for a second worker to do. Not behind a
		 * buffered write: it holds the image's inode lock, so a
		 * second writer would only spin or sleep on it. */
		if (!writing &&
		    __atomic_load_n(&pool->sleepers, __ATOMIC_RELAXED) > 0 &&
		    host->vq_has_work(vq))
			offer_help(pool, index);
		served++;
		enum blk_outcome r = blk_request_run(blk, chain, iov);
		bool quick = r == BLK_QUICK;
		writing = r == BLK_WRITE;
		/* Stored only when it changes: every worker would otherwise
		 * write this line, which the pool lock shares. */
		if (__atomic_load_n(&pool->last_write, __ATOMIC_RELAXED) !=
		    writing)
			__atomic_store_n(&pool->last_write, writing,
					 __ATOMIC_RELAXED);
		__atomic_store_n(&pool->last_quick, quick, __ATOMIC_RELAXED);
		slow += !quick;
		if (!quick || ++unnotified == BLK_NOTIFY_BATCH) {
			host->vq_notify(vq);
			unnotified = 0;
		}
	}
	host->vq_notify(vq);
	if (served_out)
		*served_out += served;
	return slow > 0 || served > 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set_kicks(struct blk_pool *pool, int enable)
{
	const struct hvd_host_services *host = pool->blk->host;
	for (unsigned q = 0; q < pool->blk->num_queues; q++)
		host->vq_kick_enable(host->vq_get(pool->blk->dev, q), enable);
}

/* Serve every queue with work; *served counts the chains. Returns whether
 * any queue's run was worth polling for (serve_queue). */
static bool serve_ready_queues(struct blk_pool *pool, struct iovec *iov,
			       unsigned *served)
{
	const struct hvd_host_services *host = pool->blk->host;
	bool worth = false;
	for (unsigned q = 0; q < pool->blk->num_queues; q++)
		if (host->vq_has_work(host->vq_get(pool->blk->dev, q)) &&
		    serve_queue(pool, q, iov, served))
			worth = true;
	return worth;
}

/* Whether the calling worker holds the poller role. */
static __thread bool poller_here;

/* The poller role (caller counts as busy): watch the rings with kicks off
 * until BLK_POLL_NS pass without work, then turn kicks back on and look
 * once more, which closes the race with a buffer added meanwhile. Returns
 * false if the role was handed to another worker meanwhile (see
 * blk_pool_may_block): the kick state is then that worker's. */
static bool poll_rings(struct blk_pool *pool, struct iovec *iov)
{
	poller_here = true;
	set_kicks(pool, 0);
	uint64_t deadline = now_ns() + BLK_POLL_NS;
	for (;;) {
		if (!still_active(pool))
			break;
		unsigned served = 0;
		if (serve_ready_queues(pool, iov, &served)) {
			if (!poller_here)
				return false;
			deadline = now_ns() + BLK_POLL_NS;
			continue;
		}
		if (served > 0 && !poller_here)
			return false;
		if (now_ns() < deadline) {
			sched_yield();
			continue;
		}
		set_kicks(pool, 1);
		unsigned served_late = 0;
		bool more = still_active(pool) &&
			    serve_ready_queues(pool, iov, &served_late);
		if (!poller_here)
			return false;
		if (!more)
			break;
		set_kicks(pool, 0);
		deadline = now_ns() + BLK_POLL_NS;
	}
	set_kicks(pool, 1);
	poller_here = false;
	return true;
}

void blk_pool_may_block(struct blk_pool *pool)
{
	if (!poller_here)
		return;
	/* The poller is about to wait for the disk: arrivals must not wait
	 * behind it. Pass the role to a sleeping worker, or, if every
	 * worker is busy, give it up and let kicks flow again. */
	poller_here = false;
	bool handed = false;
	pthread_mutex_lock(&pool->lock);
	if (pool->sleepers > 0) {
		pool->handoff = handed = true;
		pthread_cond_signal(&pool->work);
	} else {
		pool->polling = false;
	}
	pthread_mutex_unlock(&pool->lock);
	if (!handed)
		set_kicks(pool, 1);
}

static void *worker_main(void *opaque)
{
	struct worker_arg *arg = opaque;
	struct blk_pool *pool = arg->pool;
	struct iovec *iov = arg->iov;
	free(arg);

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (!pool->stop &&
		       !(pool->active && (pool->pending || pool->handoff))) {
			/* Atomic: serve_queue peeks at it without the lock. */
			__atomic_add_fetch(&pool->sleepers, 1,
					   __ATOMIC_RELAXED);
			pthread_cond_wait(&pool->work, &pool->lock);
			__atomic_sub_fetch(&pool->sleepers, 1,
					   __ATOMIC_RELAXED);
		}
		if (pool->stop)
			break;
		if (pool->handoff) {
			/* `polling` stayed true: the role is ours now. */
			pool->handoff = false;
			pool->busy++;
			pthread_mutex_unlock(&pool->lock);
			bool owner = poll_rings(pool, iov);
			pthread_mutex_lock(&pool->lock);
			if (owner)
				pool->polling = false;
			if (--pool->busy == 0 && !pool->active)
				pthread_cond_broadcast(&pool->quiet);
			continue;
		}
		unsigned index = (unsigned)__builtin_ctzll(pool->pending);
		/* Taken before popping: a kick arriving while we serve sets
		 * the bit again, so no chain is left without a worker. */
		pool->pending &= ~(1ull << index);
		pool->serving |= 1ull << index;
		pool->busy++;
		pthread_mutex_unlock(&pool->lock);

		bool worth = serve_queue(pool, index, iov, NULL);

		pthread_mutex_lock(&pool->lock);
		pool->serving &= ~(1ull << index);
		if (worth && pool->active && !pool->polling) {
			pool->polling = true;
			pthread_mutex_unlock(&pool->lock);
			bool owner = poll_rings(pool, iov);
			pthread_mutex_lock(&pool->lock);
			/* Kicks that came while we polled set `pending`
			 * without waking anyone: the loop sees them. */
			if (owner)
				pool->polling = false;
		}
		if (--pool->busy == 0 && !pool->active)
			pthread_cond_broadcast(&pool->quiet);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct blk_pool *blk_pool_new(struct blk *blk, unsigned workers)
{
	struct blk_pool *pool = calloc(1, sizeof *pool);
	if (!pool)
		return NULL;
	pool->blk = blk;
	pool->threads = calloc(workers, sizeof *pool->threads);
	pool->scratch = calloc((size_t)(workers + 1) * BLK_REQ_IOV_MAX,
			       sizeof *pool->scratch);
	if (!pool->threads || !pool->scratch) {
		free(pool->threads);
		free(pool->scratch);
		free(pool);
		return NULL;
	}
	pool->inline_iov = pool->scratch + (size_t)workers * BLK_REQ_IOV_MAX;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->work, NULL);
	pthread_cond_init(&pool->quiet, NULL);
	for (unsigned i = 0; i < workers; i++) {
		struct worker_arg *arg = malloc(sizeof *arg);
		if (!arg)
			break;
		arg->pool = pool;
		arg->iov = pool->scratch + (size_t)i * BLK_REQ_IOV_MAX;
		if (pthread_create(&pool->threads[i], NULL, worker_main, arg)) {
			free(arg);
			break;
		}
		pool->count++;
	}
	if (pool->count == 0) {
		blk_pool_free(pool);
		return NULL;
	}
	return pool;
}

void blk_pool_free(struct blk_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->count; i++)
		pthread_join(pool->threads[i], NULL);
	pthread_cond_destroy(&pool->quiet);
	pthread_cond_destroy(&pool->work);
	pthread_mutex_destroy(&pool->lock);
	free(pool->scratch);
	free(pool->threads);
	free(pool);
}

void blk_pool_start(struct blk_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->pending = 0;
	pool->polling = false;
	pool->handoff = false;
	__atomic_store_n(&pool->last_quick, true, __ATOMIC_RELAXED);
	__atomic_store_n(&pool->last_write, false, __ATOMIC_RELAXED);
	__atomic_store_n(&pool->active, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&pool->lock);
}

void blk_pool_kick(struct blk_pool *pool, unsigned index)
{
	pthread_mutex_lock(&pool->lock);
	if (pool->active && !(pool->pending & (1ull << index))) {
		pool->pending |= 1ull << index;
		/* A polling worker finds the chains itself, and so does
		 * one serving this queue after a buffered write
		 * (serve_queue): it sees `pending` before it next sleeps
		 * (worker_main). */
		if (!pool->polling &&
		    !((pool->serving & (1ull << index)) &&
		      __atomic_load_n(&pool->last_write, __ATOMIC_RELAXED)))
			pthread_cond_signal(&pool->work);
	}
	pthread_mutex_unlock(&pool->lock);
}

/* No worker serves, polls or is about to: then the dispatch thread is the
 * only consumer of the queues until it kicks the pool itself. A worker
 * only becomes busy through `pending` or `handoff`, which are set by
 * blk_pool_kick (the dispatch thread, and the host runs one callback of a
 * device at a time) or by a worker that is already busy. */
static bool pool_idle(struct blk_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	bool idle = pool->active && pool->busy == 0 && !pool->pending &&
		    !pool->handoff;
	pthread_mutex_unlock(&pool->lock);
	return idle;
}

bool blk_pool_serve_inline(struct blk_pool *pool, unsigned index)
{
	struct blk *blk = pool->blk;
	const struct hvd_host_services *host = blk->host;
	/* After a write (or a read from disk) the next chain is most
	 * likely one too: popping it here only to give it back costs the
	 * dispatch thread a chain walk per kick for nothing. */
	if (blk->direct || __atomic_load_n(&blk->failed, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&pool->last_quick, __ATOMIC_RELAXED) ||
	    !pool_idle(pool))
		return false;
	struct hvd_vq *vq = host->vq_get(blk->dev, index);
	unsigned chains = 0;
	size_t bytes = 0;
	bool rest = false;
	struct hvd_chain *chain;
	while (chains < BLK_INLINE_CHAINS &&
	       (chain = host->vq_pop(vq)) != NULL) {
		size_t len = chain->in_bytes;
		if (chains > 0 && bytes + len > BLK_INLINE_BYTES) {
			/* Over the budget: the host calls again. */
			host->vq_unpop(chain);
			break;
		}
		enum blk_outcome r = BLK_DEFER;
		if (len <= BLK_INLINE_BYTES)
			r = blk_request_try_inline(blk, chain,
						   pool->inline_iov);
		if (r == BLK_DEFER) {
			/* Still the latest pop of this queue: nobody else
			 * pops while the pool is idle. */
			host->vq_unpop(chain);
			rest = true;
			if (chains == 0)
				__atomic_store_n(&pool->last_quick, false,
						 __ATOMIC_RELAXED);
			break;
		}
		chains++;
		bytes += len;
		if (r == BLK_FAILED)
			break;
	}
	if (chains > 0)
		host->vq_notify(vq);
	return !rest;
}

void blk_pool_quiesce(struct blk_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	__atomic_store_n(&pool->active, false, __ATOMIC_RELEASE);
	pool->pending = 0;
	/* A worker in serve_queue finishes the request it holds (the I/O is
	 * already under way; its completion is still valid for the old
	 * rings, which the host drops only after we return) and then stops
	 * popping because active is false. */
	while (pool->busy > 0)
		pthread_cond_wait(&pool->quiet, &pool->lock);
	/* A role handed to a worker that never woke is void. */
	pool->handoff = false;
	pool->polling = false;
	pthread_mutex_unlock(&pool->lock);
}
