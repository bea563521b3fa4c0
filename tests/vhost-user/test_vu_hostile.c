/* SPDX-License-Identifier: MIT */
/*
 * A vhost-user backend that misbehaves once the guest starts the device:
 * file descriptors with a reply, an oversized reply, garbage, no reply at
 * all. Each time the device goes to NEEDS_RESET (the guest is told), the
 * daemon keeps serving another device meanwhile, nothing crashes, and
 * after the daemon stops no file descriptor is left behind.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "fake_backend.h"
#include "vu_backends.h"

#define VU_BASE  0xa003c00ull
#define VU_IRQ   77u
#define RNG_BASE 0xa003e00ull
#define RNG_IRQ  78u
#define F_V1     (1ull << VIRTIO_F_VERSION_1)

#define REQ_SET_FEATURES   2
#define REQ_SET_MEM_TABLE  5
#define REQ_SET_VRING_ADDR 9
#define REQ_SET_VRING_ERR  14

static unsigned open_fds(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	CU_ASSERT_FATAL(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Bring a device up with one queue of 8; returns the queue. */
static struct hvd_guest_vq *bring_up(struct hvd_guest_dev *gd, int id)
{
	uint64_t neg;
	CU_ASSERT_EQUAL_FATAL(hvd_guest_probe(gd), id);
	CU_ASSERT_FATAL(hvd_guest_negotiate(gd, F_V1, &neg) == 0);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(gd, 0, 8);
	CU_ASSERT_FATAL(vq != NULL);
	CU_ASSERT_FATAL(hvd_guest_driver_ok(gd) == 0);
	return vq;
}

/* The rng device still answers: 16 bytes of entropy come back. */
static void rng_serves(struct hvd_guest_dev *rng)
{
	struct hvd_guest_vq *vq = bring_up(rng, VIRTIO_ID_RNG);
	void *p;
	uint64_t gpa = hvd_guest_alloc(rng, 16, 16, &p);
	CU_ASSERT_FATAL(gpa != 0);
	struct hvd_guest_buf b = {gpa, 16, true};
	int tok = 1;
	CU_ASSERT_FATAL(hvd_guest_vq_add(vq, &b, 1, false, &tok) >= 0);
	hvd_guest_vq_kick(vq);
	void *got = NULL;
	uint32_t len = 0;
	CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &got, &len, FIX_TIMEOUT_MS),
			0);
	CU_ASSERT_PTR_EQUAL(got, &tok);
	CU_ASSERT(len > 0);
}

static void run_fault(enum fake_fault fault, uint32_t on_request,
		      unsigned timeout_ms)
{
	char dir[] = "/tmp/vu-hostile-XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	char sock[64];
	snprintf(sock, sizeof sock, "%s/vu.sock", dir);
	unsigned fds_before = open_fds();

	struct fake_backend fb;
	CU_ASSERT_FATAL(fake_start(&fb, sock, fault, on_request) == 0);
	char devs[512];
	snprintf(devs, sizeof devs,
		 "{\"type\": \"vhost-user\", \"device_id\": 4, \"addr\": "
		 "\"0xa003c00\", \"len\": \"0x200\", \"irq\": 77, \"socket\": "
		 "\"%s\", \"timeout_ms\": %u}, {\"type\": \"rng\", \"addr\": "
		 "\"0xa003e00\", \"len\": \"0x200\", \"irq\": 78}",
		 sock, timeout_ms);
	struct fixture fx = {0};
	CU_ASSERT_FATAL(fixture_start(&fx, devs) == 0);
	struct hvd_guest_dev *vu = hvd_guest_open(fx.mock, 1, VU_BASE, VU_IRQ);
	struct hvd_guest_dev *rng =
		hvd_guest_open(fx.mock, 1, RNG_BASE, RNG_IRQ);
	CU_ASSERT_FATAL(vu && rng);

	bring_up(vu, VIRTIO_ID_RNG);
	/* A hung backend holds only its own device: the rng answers while
	 * the frontend still waits for the reply. */
	if (fault == FAKE_HANG)
		rng_serves(rng);
	CU_ASSERT(vut_wait_needs_reset(vu, FIX_TIMEOUT_MS));
	/* Acquire, paired with fake_serve's release store. */
	CU_ASSERT(__atomic_load_n(&fb.hit, __ATOMIC_ACQUIRE));
	if (fault != FAKE_HANG)
		rng_serves(rng);
	/* The driver's reset is answered at once: no backend to wait for,
	 * except after a ring error, where the connection stays and the
	 * backend is asked to stop its ring. */
	CU_ASSERT_EQUAL(hvd_guest_reset(vu), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&fb.get_bases, __ATOMIC_SEQ_CST),
			fault == FAKE_RING_ERR ? 1u : 0u);

	hvd_guest_close(vu);
	hvd_guest_close(rng);
	fixture_stop(&fx);
	fake_stop(&fb);
	unlink(sock);
	rmdir(dir);
	CU_ASSERT_EQUAL(open_fds(), fds_before);
}

static void test_fds_with_reply(void)
{
	run_fault(FAKE_FDS, REQ_SET_MEM_TABLE, 5000);
}

static void test_oversized_reply(void)
{
	run_fault(FAKE_OVERSIZE, REQ_SET_FEATURES, 5000);
}

static void test_garbage_reply(void)
{
	run_fault(FAKE_GARBAGE, REQ_SET_VRING_ADDR, 5000);
}

/* The frontend gives up after timeout_ms (the bound under test is the
 * daemon's, not a timing assertion: only the outcome is checked). */
static void test_no_reply(void)
{
	run_fault(FAKE_HANG, REQ_SET_MEM_TABLE, 300);
}

/* The backend reports a ring error through SET_VRING_ERR's eventfd. */
static void test_ring_error(void)
{
	run_fault(FAKE_RING_ERR, REQ_SET_VRING_ERR, 5000);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"fds with a reply", test_fds_with_reply},
		{"oversized reply", test_oversized_reply},
		{"garbage instead of a reply", test_garbage_reply},
		{"no reply: bounded, others keep serving", test_no_reply},
		{"ring error signalled", test_ring_error},
		{NULL, NULL},
	};
	return cunit_run("vhost-user hostile backend", tests);
}
