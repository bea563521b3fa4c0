/* SPDX-License-Identifier: MIT */
/*
 * bench_engine: the two I/O engine shapes considered for the blk plugin,
 * measured alone (no virtio path) on the same page-cached image in the same
 * run, for 4 KiB random reads and writes at queue depth 1 and 32:
 *   direct   preadv/pwritev on the calling thread (the reference)
 *   pool     requests handed to 4 worker threads over a mutex/condvar
 *            queue, completions handed back the same way (the plugin's
 *            shape: a kick wakes a worker, a worker completes)
 *   io_uring one ring, readv/writev SQEs submitted and reaped by the
 *            calling thread (the plugin would submit from the dispatch
 *            thread and reap on another)
 * Prints IOPS and each engine's ratio to direct. Asserts nothing.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define IMG_SIZE (256ull << 20)
#define BLOCK    4096u
#define WORKERS  4u
#define MAXQD    32u

static int fd;
static double seconds = 0.5;
static uint8_t bufs[MAXQD][BLOCK] __attribute__((aligned(4096)));

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static off_t random_offset(unsigned *seed)
{
	uint64_t b = ((uint64_t)rand_r(seed) << 16 ^ (uint64_t)rand_r(seed)) %
		     (IMG_SIZE / BLOCK);
	return (off_t)(b * BLOCK);
}

static void io_direct(bool write, unsigned slot, off_t off)
{
	struct iovec iov = {bufs[slot], BLOCK};
	ssize_t n =
		write ? pwritev(fd, &iov, 1, off) : preadv(fd, &iov, 1, off);
	if (n != BLOCK) {
		perror("bench_engine: I/O");
		exit(1);
	}
}

static double run_direct(bool write)
{
	unsigned seed = 1;
	uint64_t ops = 0;
	double start = now_s(), t = start;
	while (t < start + seconds) {
		for (int i = 0; i < 64; i++, ops++)
			io_direct(write, 0, random_offset(&seed));
		t = now_s();
	}
	return (double)ops / (t - start);
}

/* ---- pool: a submission queue and a completion count under one lock ---- */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	off_t offs[MAXQD];
	unsigned slots[MAXQD];
	unsigned queued, completed;
	bool write, stop;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
	  .work = PTHREAD_COND_INITIALIZER,
	  .done = PTHREAD_COND_INITIALIZER};

static void *pool_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (!pool.stop && pool.queued == 0)
			pthread_cond_wait(&pool.work, &pool.lock);
		if (pool.stop)
			break;
		pool.queued--;
		off_t off = pool.offs[pool.queued];
		unsigned slot = pool.slots[pool.queued];
		bool write = pool.write;
		pthread_mutex_unlock(&pool.lock);
		io_direct(write, slot, off);
		pthread_mutex_lock(&pool.lock);
		pool.completed++;
		pthread_cond_signal(&pool.done);
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

static double run_pool(bool write, unsigned qd)
{
	pthread_t t[WORKERS];
	pool.write = write;
	pool.stop = false;
	pool.queued = pool.completed = 0;
	for (unsigned i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, pool_worker, NULL);
	unsigned seed = 1;
	uint64_t ops = 0;
	double start = now_s(), now = start;
	pthread_mutex_lock(&pool.lock);
	for (unsigned i = 0; i < qd; i++) {
		pool.offs[pool.queued] = random_offset(&seed);
		pool.slots[pool.queued++] = i;
	}
	pthread_cond_broadcast(&pool.work);
	while (now < start + seconds) {
		while (pool.completed == 0)
			pthread_cond_wait(&pool.done, &pool.lock);
		unsigned n = pool.completed;
		pool.completed = 0;
		ops += n;
		for (unsigned i = 0; i < n; i++) {
			pool.offs[pool.queued] = random_offset(&seed);
			pool.slots[pool.queued++] = i % qd;
		}
		pthread_cond_signal(&pool.work);
		if (n > 1)
			pthread_cond_broadcast(&pool.work);
		now = now_s();
	}
	pool.stop = true;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	for (unsigned i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	return (double)ops / (now - start);
}

/* ---- io_uring ------------------------------------------------------------ */
static struct iovec uring_iov[MAXQD];

static void uring_queue(struct io_uring *ring, bool write, unsigned slot,
			unsigned *seed)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	uring_iov[slot] = (struct iovec){bufs[slot], BLOCK};
	if (write)
		io_uring_prep_writev(sqe, fd, &uring_iov[slot], 1,
				     (uint64_t)random_offset(seed));
	else
		io_uring_prep_readv(sqe, fd, &uring_iov[slot], 1,
				    (uint64_t)random_offset(seed));
	io_uring_sqe_set_data64(sqe, slot);
}

static double run_uring(bool write, unsigned qd)
{
	struct io_uring ring;
	if (io_uring_queue_init(2 * MAXQD, &ring, 0) < 0)
		return -1;
	unsigned seed = 1;
	uint64_t ops = 0;
	for (unsigned i = 0; i < qd; i++)
		uring_queue(&ring, write, i, &seed);
	double start = now_s(), now = start;
	while (now < start + seconds) {
		if (io_uring_submit_and_wait(&ring, 1) < 0)
			return -1;
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			if (cqe->res != BLOCK) {
				fprintf(stderr, "bench_engine: io_uring %d\n",
					cqe->res);
				exit(1);
			}
			uring_queue(&ring, write, (unsigned)cqe->user_data,
				    &seed);
			n++;
		}
		io_uring_cq_advance(&ring, n);
		ops += n;
		now = now_s();
	}
	io_uring_queue_exit(&ring);
	return (double)ops / (now - start);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		seconds = atof(argv[1]);
	char path[] = "/var/tmp/bench-engine-XXXXXX";
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	unlink(path);
	static uint8_t chunk[1 << 20];
	memset(chunk, 0x5a, sizeof chunk);
	for (uint64_t off = 0; off < IMG_SIZE; off += sizeof chunk)
		if (pwrite(fd, chunk, sizeof chunk, (off_t)off) !=
		    (ssize_t)sizeof chunk)
			return 1;
	printf("bench_engine: 4 KiB random I/O on a %llu MiB page-cached "
	       "file, %.1f s per run\n",
	       (unsigned long long)(IMG_SIZE >> 20), seconds);
	printf("%-16s %11s %11s %6s %11s %6s\n", "workload", "direct IOPS",
	       "pool IOPS", "ratio", "uring IOPS", "ratio");
	for (int w = 0; w < 2; w++) {
		unsigned qds[2] = {1, 32};
		for (int q = 0; q < 2; q++) {
			double d = run_direct(w);
			double p = run_pool(w, qds[q]);
			double u = run_uring(w, qds[q]);
			printf("%-9s QD%-4u %11.0f %11.0f %6.2f %11.0f %6.2f\n",
			       w ? "randwrite" : "randread", qds[q], d, p,
			       p / d, u, u / d);
		}
	}
	close(fd);
	return 0;
}
