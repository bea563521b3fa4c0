/* SPDX-License-Identifier: MIT */
/*
 * Which of the blk plugin's workers serve what (plugins/blk/pool.c): after
 * a buffered write, the chains behind it in the queue are written by the
 * same worker, one after the other, and no second worker is called in;
 * such writes serialise on the image's inode lock anyway, and a second
 * writer on 2 cores only spins or sleeps on it. And when the guest hears
 * of a write: at once, not after the writes queued behind it.
 *
 * The daemon runs in this process and the plugin resolves pwritev to the
 * definition below (the executable exports its symbols): it counts the
 * writers inside at once, and can hold one (the first to come in while
 * none is inside, after `pass` others) until the test lets it go or a
 * second writer comes in.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <sched.h>
#include <sys/uio.h>
#include <time.h>

#include "blk_guest.h"

#define IMG_SIZE (4u << 20)
#define PAGE     4096u

static struct blkt t;

static bool watching; /* count the writers (atomic) */
static bool hold;     /* the first writer waits while set (atomic) */
static int pass;      /* writers let through before one is held (atomic) */
static int held;      /* the held writer's thread id, once waiting */
static int inside;    /* writers inside pwritev now (atomic) */
static int most;      /* the most inside at once (atomic) */

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t off)
{
	static ssize_t (*real)(int, const struct iovec *, int, off_t);
	if (!__atomic_load_n(&real, __ATOMIC_ACQUIRE))
		__atomic_store_n(&real, dlsym(RTLD_NEXT, "pwritev"),
				 __ATOMIC_RELEASE);
	if (!__atomic_load_n(&watching, __ATOMIC_ACQUIRE))
		return real(fd, iov, count, off);
	int now = __atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST);
	int seen = __atomic_load_n(&most, __ATOMIC_RELAXED);
	while (now > seen &&
	       !__atomic_compare_exchange_n(&most, &seen, now, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	if (now == 1 && __atomic_load_n(&hold, __ATOMIC_ACQUIRE) &&
	    __atomic_fetch_sub(&pass, 1, __ATOMIC_SEQ_CST) <= 0) {
		__atomic_store_n(&held, gettid(), __ATOMIC_RELEASE);
		/* Until released, or until a second writer came in (then
		 * the test fails; holding on would only hang it). */
		while (__atomic_load_n(&hold, __ATOMIC_ACQUIRE) &&
		       __atomic_load_n(&inside, __ATOMIC_SEQ_CST) == 1)
			sched_yield();
	}
	ssize_t n = real(fd, iov, count, off);
	__atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
	return n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Whether every thread of this process but the caller and `busy` sleeps
 * (state S: in a futex, poll or epoll wait). A worker woken to help is
 * runnable from the moment it was signalled until it sleeps again. */
static bool others_asleep(pid_t busy)
{
	DIR *dir = opendir("/proc/self/task");
	CU_ASSERT_FATAL(dir != NULL);
	bool asleep = true;
	struct dirent *e;
	while (asleep && (e = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0 || tid == gettid() || tid == busy)
			continue;
		char path[64], stat[512];
		snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* exited meanwhile */
		size_t n = fread(stat, 1, sizeof stat - 1, f);
		fclose(f);
		stat[n] = '\0';
		/* "tid (comm) S ...": the state follows the last ')'. */
		const char *p = strrchr(stat, ')');
		asleep = p && p[1] == ' ' && p[2] == 'S';
	}
	closedir(dir);
	return asleep;
}

static void add_write(struct treq *r, uint64_t off, int fill)
{
	treq_init(&t, r, VIRTIO_BLK_T_OUT, off / SECTOR, PAGE);
	memset(r->data, fill, PAGE);
	CU_ASSERT_FATAL(treq_add(&t, 0, r, true) >= 0);
}

/* A write first, at offset 0: a burst then comes after one, as at depth.
 * Then until the worker that wrote it stopped watching the ring: it would
 * otherwise pop each chain of the burst as soon as it is added. */
static void write_then_quiet(struct treq *r)
{
	add_write(r, 0, 0x10);
	hvd_guest_vq_kick(t.vq[0]);
	CU_ASSERT_PTR_EQUAL_FATAL(treq_wait(&t, 0, NULL), r);
	uint64_t guard = now_ms() + FIX_TIMEOUT_MS;
	while (!others_asleep(0) && now_ms() < guard)
		sched_yield();
	CU_ASSERT_FATAL(now_ms() < guard);
}

/* `n` writes behind it in one ring, at pages 1.. with fill0 + i, the
 * writers counted from now on and one held after `let_through` others;
 * not kicked yet. */
static void add_held_burst(struct treq *r, unsigned n, int fill0,
			   int let_through)
{
	__atomic_store_n(&held, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&pass, let_through, __ATOMIC_SEQ_CST);
	__atomic_store_n(&hold, true, __ATOMIC_RELEASE);
	__atomic_store_n(&watching, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++)
		add_write(&r[i], (uint64_t)(i + 1) * PAGE, fill0 + (int)i);
}

/* The held writer's thread id, once it waits (0 if none did in time). */
static pid_t wait_held(void)
{
	uint64_t guard = now_ms() + FIX_TIMEOUT_MS;
	while (!__atomic_load_n(&held, __ATOMIC_ACQUIRE) && now_ms() < guard)
		sched_yield();
	return __atomic_load_n(&held, __ATOMIC_ACQUIRE);
}

/* Let the held writer go, take all `n` completions, stop counting, and
 * check every write's status and bytes in the file. */
static void release_and_check(struct treq *r, unsigned n, int fill0)
{
	__atomic_store_n(&hold, false, __ATOMIC_RELEASE);
	treq_wait_all(&t, 0, r, n);
	__atomic_store_n(&watching, false, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++) {
		uint8_t back[PAGE];
		CU_ASSERT_EQUAL(*r[i].status, VIRTIO_BLK_S_OK);
		file_read(&t, (uint64_t)(i + 1) * PAGE, back, PAGE);
		CU_ASSERT(all_bytes(back, PAGE, fill0 + (int)i));
	}
}

/* A buffered write (the first of 16 in one kick, after another write)
 * is held in pwritev until every other thread sleeps: no second worker
 * was called in for the 15 behind it (one would be runnable from its
 * wake-up until it entered pwritev), none is inside beside another later,
 * and every write reaches the file. Writeback (FLUSH negotiated): in
 * writethrough mode each write waits for fdatasync, and then the next
 * ones are passed on (blk_pool_may_block). */
static void test_one_writer_per_burst(void)
{
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, IMG_SIZE, 0);
	CU_ASSERT_FATAL(blkt_start_daemon(&t, "") == 0);
	blkt_bring_up(&t, F_V1 | F_INDIRECT | F_EVENT_IDX | F_BLK(FLUSH), 1,
		      256);

	static struct treq r[17];
	write_then_quiet(&r[16]);

	add_held_burst(r, 16, 0x20, 0);
	hvd_guest_vq_kick(t.vq[0]);
	pid_t writer = wait_held();
	CU_ASSERT_FATAL(writer != 0);
	uint64_t guard = now_ms() + FIX_TIMEOUT_MS;
	while (__atomic_load_n(&most, __ATOMIC_SEQ_CST) == 1 &&
	       !others_asleep(writer) && now_ms() < guard)
		sched_yield();
	CU_ASSERT(now_ms() < guard);

	release_and_check(r, 16, 0x20);
	CU_ASSERT_EQUAL(__atomic_load_n(&most, __ATOMIC_SEQ_CST), 1);
	blkt_teardown(&t);
}

/* A write is told to the guest as soon as it is done, not after the ones
 * queued behind it: the driver asked for an interrupt at the next
 * completion (EVENT_IDX, used_event at the current used index) and
 * refills its ring from it. After a first write (one writer, as at
 * depth), the second of three writes in one kick is held in pwritev; the
 * interrupt must come meanwhile, with exactly the first of them used.
 * Every injection counts here (--no-irq-merge): what is tested is that
 * the device tells, not how the line merges. */
static void test_write_told_at_once(void)
{
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, IMG_SIZE, 0);
	t.irq_every_event = true;
	CU_ASSERT_FATAL(blkt_start_daemon(&t, "") == 0);
	blkt_bring_up(&t, F_V1 | F_INDIRECT | F_EVENT_IDX | F_BLK(FLUSH), 1,
		      256);
	static struct treq first, r[3];
	write_then_quiet(&first);
	struct vring_used *used = hvd_guest_vq_used(t.vq[0]);
	uint16_t base = le16toh(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE));
	hvd_guest_vq_set_used_event(t.vq[0], base);

	add_held_burst(r, 3, 0x30, 1);
	uint64_t seen = hvd_guest_irq_count(t.gd);
	hvd_guest_vq_kick(t.vq[0]);

	/* Failure guards only: the old batching never told before the
	 * held write, so the wait would run out. */
	CU_ASSERT(hvd_guest_wait_irq(t.gd, seen, FIX_TIMEOUT_MS) == 0);
	CU_ASSERT(wait_held() != 0);
	/* The held write and the one behind it are not used yet. */
	CU_ASSERT_EQUAL(le16toh(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE)),
			(uint16_t)(base + 1));

	release_and_check(r, 3, 0x30);
	blkt_teardown(&t);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"writes after a write: one worker", test_one_writer_per_burst},
		{"a write is told at once", test_write_told_at_once},
		{NULL, NULL},
	};
	return cunit_run("blk-pool", tests);
}
