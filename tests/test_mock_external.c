/* SPDX-License-Identifier: MIT */
/*
 * The mock's additions for external guests (the real-guest rig): RAM backed
 * by a caller's file, re-synced when the caller hands a new one, and the
 * per-injection callback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cunit_main.h"
#include "hvd/mock.h"
#include "hvisor/bridge.h"
#include "port.h"
#include "test_mock.h"

#define EXT_ZONE  2u
#define EXT_RAM0  UINT64_C(0x70000000)
#define EXT_SIZE  UINT64_C(0x4000)
#define EXT_SHIFT UINT64_C(0x2000) /* where the region starts in the file */

static int file_with(uint64_t size, uint8_t fill)
{
	int fd = memfd_create("test-ext-ram", MFD_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)size) == 0);
	uint8_t *p =
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CU_ASSERT_FATAL(p != MAP_FAILED);
	memset(p, fill, size);
	munmap(p, size);
	return fd;
}

void test_external_ram(void)
{
	struct fx f;
	fx_open(&f);
	int fd = file_with(EXT_SHIFT + EXT_SIZE, 0x11);
	CU_ASSERT_EQUAL(hvd_mock_add_ram_fd(f.m, EXT_ZONE, EXT_RAM0, 0,
					    EXT_SIZE, fd, EXT_SHIFT),
			0);
	/* The caller's file, at the offset, is what the daemon maps. */
	uint8_t *view = mmap(NULL, EXT_SHIFT + EXT_SIZE, PROT_READ | PROT_WRITE,
			     MAP_SHARED, fd, 0);
	CU_ASSERT_FATAL(view != MAP_FAILED);
	close(fd); /* the mock keeps its own copy */
	uint8_t *g = port_map_guest(f.port, EXT_RAM0 + 0x1000, 0x1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	g[5] = 0xab;
	CU_ASSERT_EQUAL(view[EXT_SHIFT + 0x1005], 0xab);
	uint8_t *h = hvd_mock_guest_ptr(f.m, EXT_ZONE, 0x1005, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(*h, 0xab);

	/* Re-sync with another file: new maps see it, old ones keep theirs. */
	int fd2 = file_with(EXT_SIZE, 0x22);
	CU_ASSERT_EQUAL(hvd_mock_add_ram_fd(f.m, EXT_ZONE, EXT_RAM0, 0,
					    EXT_SIZE, fd2, 0),
			0);
	uint8_t *g2 = port_map_guest(f.port, EXT_RAM0, EXT_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g2);
	CU_ASSERT_EQUAL(g2[0x1005], 0x22);
	CU_ASSERT_EQUAL(g[5], 0xab);
	CU_ASSERT_EQUAL(
		*(uint8_t *)hvd_mock_guest_ptr(f.m, EXT_ZONE, 0x1005, 1), 0x22);

	/* Refused: too short a file, unaligned offset, overlap with other
	 * RAM that is not the same region. */
	CU_ASSERT_EQUAL(hvd_mock_add_ram_fd(f.m, 3, 0x80000000, 0, EXT_SIZE + 1,
					    fd2, 0),
			-EINVAL);
	CU_ASSERT_EQUAL(
		hvd_mock_add_ram_fd(f.m, 3, 0x80000000, 0, 0x1000, fd2, 1),
		-EINVAL);
	CU_ASSERT_EQUAL(hvd_mock_add_ram_fd(f.m, EXT_ZONE, EXT_RAM0, 0,
					    EXT_SIZE / 2, fd2, 0),
			-EEXIST);
	CU_ASSERT_EQUAL(
		hvd_mock_add_ram_fd(f.m, 3, 0x80000000, 0, 0x1000, -1, 0),
		-EINVAL);
	close(fd2);
	port_unmap_guest(f.port, g, 0x1000);
	port_unmap_guest(f.port, g2, EXT_SIZE);
	munmap(view, EXT_SHIFT + EXT_SIZE);
	fx_close(&f);
}

struct irq_log {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n;
	uint32_t zone[8], irq[8];
};

static void log_irq(void *ctx, uint32_t zone, uint32_t irq)
{
	struct irq_log *l = ctx;
	pthread_mutex_lock(&l->lock);
	if (l->n < 8) {
		l->zone[l->n] = zone;
		l->irq[l->n] = irq;
	}
	l->n++;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

static int wait_logged(struct irq_log *l, unsigned want)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += GUARD_MS / 1000;
	int rc = 0;
	pthread_mutex_lock(&l->lock);
	while (l->n < want && rc == 0)
		rc = pthread_cond_timedwait(&l->cond, &l->lock, &until);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void test_irq_callback(void)
{
	struct fx f;
	fx_open(&f);
	struct irq_log l = {.lock = PTHREAD_MUTEX_INITIALIZER,
			    .cond = PTHREAD_COND_INITIALIZER};
	hvd_mock_set_irq_callback(f.m, log_irq, &l);
	raise_irq(&f, ZONE, 40);
	raise_irq(&f, 3, 41);
	CU_ASSERT_EQUAL_FATAL(wait_logged(&l, 2), 0);
	CU_ASSERT_EQUAL(l.zone[0], ZONE);
	CU_ASSERT_EQUAL(l.irq[0], 40);
	CU_ASSERT_EQUAL(l.zone[1], 3);
	CU_ASSERT_EQUAL(l.irq[1], 41);
	/* Counted before the callback runs. */
	CU_ASSERT_EQUAL(hvd_mock_irq_count(f.m, 3, 41), 1);

	/* Removed: injections are still counted, no longer reported. */
	hvd_mock_set_irq_callback(f.m, NULL, NULL);
	raise_irq(&f, ZONE, 42);
	CU_ASSERT_EQUAL(hvd_mock_wait_irq(f.m, ZONE, 42, 0, GUARD_MS), 0);
	pthread_mutex_lock(&l.lock);
	CU_ASSERT_EQUAL(l.n, 2);
	pthread_mutex_unlock(&l.lock);
	fx_close(&f);
}
