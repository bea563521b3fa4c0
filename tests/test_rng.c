/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng, the reference plugin: entropy reaches the guest, a source
 * with nothing to give holds the request (never a 0-byte completion) until
 * data arrives, and a bad source fails creation.
 */
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit_main.h"
#include "daemon_fixture.h"

#define BASE 0xa003e00ull
#define IRQ  78u

static char dir[] = "/tmp/hvd-rng-test-XXXXXX";
static char fifo[64];

static struct hvd_guest_vq *bring_up(struct fixture *f,
				     struct hvd_guest_dev **gd)
{
	*gd = hvd_guest_open(f->mock, 1, BASE, IRQ);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*gd);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_probe(*gd), VIRTIO_ID_RNG);
	uint64_t got;
	CU_ASSERT_EQUAL_FATAL(
		hvd_guest_negotiate(*gd, 1ull << VIRTIO_F_VERSION_1, &got), 0);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(*gd, 0, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vq);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_driver_ok(*gd), 0);
	return vq;
}

static void test_getrandom(void)
{
	struct fixture f = {0};
	CU_ASSERT_EQUAL_FATAL(
		fixture_start(&f,
			      "{\"type\": \"rng\", \"addr\": \"0xa003e00\", "
			      "\"len\": \"0x200\", \"irq\": 78}"),
		0);
	struct hvd_guest_dev *gd;
	struct hvd_guest_vq *vq = bring_up(&f, &gd);
	uint8_t *a, *b;
	uint64_t ga = hvd_guest_alloc(gd, 64, 8, (void **)&a);
	uint64_t gb = hvd_guest_alloc(gd, 64, 8, (void **)&b);
	struct hvd_guest_buf bufs[2] = {{ga, 64, true}, {gb, 64, true}};
	CU_ASSERT(hvd_guest_vq_add(vq, &bufs[0], 1, false, a) >= 0);
	CU_ASSERT(hvd_guest_vq_add(vq, &bufs[1], 1, false, b) >= 0);
	hvd_guest_vq_kick(vq);
	void *token;
	uint32_t len;
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(hvd_guest_vq_wait_used(vq, &token, &len,
						       FIX_TIMEOUT_MS),
				0);
		CU_ASSERT(len >= 1 && len <= 64);
	}
	/* Two 64-byte draws of real entropy do not match. */
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, 64), 0);
	hvd_guest_close(gd);
	fixture_stop(&f);
}

/* More requests than one pass serves, from a single kick: the rest is
 * served from the event loop, none is lost. */
static void test_batches_continue(void)
{
	struct fixture f = {0};
	CU_ASSERT_EQUAL_FATAL(
		fixture_start(&f,
			      "{\"type\": \"rng\", \"addr\": \"0xa003e00\", "
			      "\"len\": \"0x200\", \"irq\": 78}"),
		0);
	struct hvd_guest_dev *gd = hvd_guest_open(f.mock, 1, BASE, IRQ);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gd);
	uint64_t got;
	CU_ASSERT_EQUAL_FATAL(
		hvd_guest_negotiate(gd, 1ull << VIRTIO_F_VERSION_1, &got), 0);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(gd, 0, 256);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vq);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_driver_ok(gd), 0);
	enum { N = 200 };
	for (unsigned i = 0; i < N; i++) {
		void *p;
		uint64_t gpa = hvd_guest_alloc(gd, 16, 8, &p);
		struct hvd_guest_buf b = {gpa, 16, true};
		CU_ASSERT_FATAL(hvd_guest_vq_add(vq, &b, 1, false, p) >= 0);
	}
	hvd_guest_vq_kick(vq);
	unsigned done = 0;
	void *token;
	uint32_t len;
	while (done < N &&
	       hvd_guest_vq_wait_used(vq, &token, &len, FIX_TIMEOUT_MS) == 0) {
		CU_ASSERT(len >= 1 && len <= 16);
		done++;
	}
	CU_ASSERT_EQUAL(done, N);
	hvd_guest_close(gd);
	fixture_stop(&f);
}

static void test_source_holds_until_data(void)
{
	struct fixture f = {0};
	char json[256];
	snprintf(json, sizeof json,
		 "{\"type\": \"rng\", \"addr\": \"0xa003e00\", \"len\": "
		 "\"0x200\", \"irq\": 78, \"source\": \"%s\"}",
		 fifo);
	/* Our end first, read-write so neither side blocks on open. */
	int w = open(fifo, O_RDWR | O_CLOEXEC);
	CU_ASSERT_FATAL(w >= 0);
	CU_ASSERT_EQUAL_FATAL(fixture_start(&f, json), 0);
	struct hvd_guest_dev *gd;
	struct hvd_guest_vq *vq = bring_up(&f, &gd);
	uint8_t *buf;
	uint64_t gpa = hvd_guest_alloc(gd, 32, 8, (void **)&buf);
	struct hvd_guest_buf b = {gpa, 32, true};
	CU_ASSERT(hvd_guest_vq_add(vq, &b, 1, false, buf) >= 0);
	hvd_guest_vq_kick(vq);
	/* Requests are handled in order: after this read the kick was
	 * served, and with an empty source nothing may be completed. */
	hvd_guest_reg_read(gd, VIRTIO_MMIO_STATUS);
	void *token;
	uint32_t len;
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(vq, &token, &len), 0);
	static const char data[] = "0123456789";
	CU_ASSERT_EQUAL(write(w, data, 10), 10);
	CU_ASSERT_EQUAL(
		hvd_guest_vq_wait_used(vq, &token, &len, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(len, 10);
	CU_ASSERT_EQUAL(memcmp(buf, data, 10), 0);
	/* A reset while waiting, then the device works again. */
	CU_ASSERT(hvd_guest_vq_add(vq, &b, 1, false, buf) >= 0);
	hvd_guest_vq_kick(vq);
	CU_ASSERT_EQUAL(hvd_guest_reset(gd), 0);
	hvd_guest_close(gd);
	vq = bring_up(&f, &gd);
	CU_ASSERT(hvd_guest_vq_add(vq, &b, 1, false, buf) >= 0);
	hvd_guest_vq_kick(vq);
	CU_ASSERT_EQUAL(write(w, "abc", 3), 3);
	CU_ASSERT_EQUAL(
		hvd_guest_vq_wait_used(vq, &token, &len, FIX_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_EQUAL(memcmp(buf, "abc", 3), 0);
	hvd_guest_close(gd);
	fixture_stop(&f);
	close(w);
}

static void test_bad_source_and_key(void)
{
	struct fixture f = {0};
	CU_ASSERT_NOT_EQUAL(
		fixture_start(&f,
			      "{\"type\": \"rng\", \"addr\": \"0xa003e00\", "
			      "\"len\": \"0x200\", \"irq\": 78, \"source\": "
			      "\"/nonexistent/entropy\"}"),
		0);
	CU_ASSERT_PTR_NULL(f.daemon);
	/* The plugin's own error carries the JSON path (cfg_error). */
	CU_ASSERT_STRING_EQUAL(
		cfg_last_error(),
		"zones[0].devices[0].source: cannot open "
		"/nonexistent/entropy: No such file or directory");
	hvd_mock_free(f.mock);
	struct fixture g = {0};
	CU_ASSERT_NOT_EQUAL(
		fixture_start(&g,
			      "{\"type\": \"rng\", \"addr\": \"0xa003e00\", "
			      "\"len\": \"0x200\", \"irq\": 78, \"rate\": 1}"),
		0);
	CU_ASSERT_STRING_EQUAL(cfg_last_error(),
			       "zones[0].devices[0].rate: unknown key");
	hvd_mock_free(g.mock);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 2;
	snprintf(fifo, sizeof fifo, "%s/entropy", dir);
	if (mkfifo(fifo, 0600))
		return 2;
	static const struct cunit_test tests[] = {
		{"entropy from getrandom", test_getrandom},
		{"batches continue from the event loop", test_batches_continue},
		{"a source holds the request until data arrives",
		 test_source_holds_until_data},
		{"bad source and unknown key", test_bad_source_and_key},
		{NULL, NULL},
	};
	int rc = cunit_run("rng", tests);
	unlink(fifo);
	rmdir(dir);
	return rc;
}
