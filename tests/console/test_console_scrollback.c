/* SPDX-License-Identifier: MIT */
/*
 * virtio-console with nobody reading, through the mock harness and an
 * in-process daemon: 8 MiB with no reader return at once into a 256 KiB
 * scrollback while the log keeps everything; a reader attaching
 * mid-stream gets the scrollback then live output; a reader that stops
 * reading holds the guest only until the stall limit; the same for every
 * port of a multiport console; an emergency write
 * without EMERG_WRITE negotiated. (JSON errors: test_console_data.c.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console_guest.h"
#include "cunit_main.h"
#include "daemon_fixture.h"

#define CON_BASE 0xa003c00ull
#define CON_IRQ  77u
#define F_V1     (1ull << VIRTIO_F_VERSION_1)
#define F_MULTI  (1ull << VIRTIO_CONSOLE_F_MULTIPORT)
#define TXQ      1u
#define KIB      1024u
#define MIB      (1024u * 1024u)
#define SB_SIZE  (256u * KIB) /* the default scrollback */
/* Stall limit that no test run reaches: what completes, completes
 * without it. */
#define NEVER_MS "3600000"

static struct fixture fx;
static struct cg g;

/* A pty console at `link` logging to `log`; `extra` adds JSON members. */
static void start_pty(const char *link, const char *log, const char *extra)
{
	char dev[1024];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"console\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 77, \"pty_link\": \"%s\", \"log\": "
		 "\"%s\"%s}",
		 link, log, extra);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, dev) == 0);
	CU_ASSERT_FATAL(cg_open(&g, fx.mock, CON_BASE, CON_IRQ) == 0);
	CU_ASSERT_FATAL(cg_up(&g, F_V1, 2) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, TXQ, 16, 4096) == 0);
}

static void stop(void)
{
	cg_close(&g);
	fixture_stop(&fx);
}

static int open_client(const char *link)
{
	int fd = open(link, O_RDWR | O_NOCTTY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	return fd;
}

/* The guest writes `word`; it is exactly what the client reads next. */
static void expect_next(int fd, const char *word)
{
	char buf[16] = {0};
	size_t len = strlen(word);
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, word, len), 0);
	CU_ASSERT_EQUAL(cg_read_full(fd, buf, len), 0);
	CU_ASSERT_STRING_EQUAL(buf, word);
}

/* The log holds exactly `len` bytes equal to data. */
static bool log_holds(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	bool ok = fstat(fd, &st) == 0 && (size_t)st.st_size == len;
	uint8_t *buf = malloc(len ? len : 1);
	ok = ok && buf && pread(fd, buf, len, 0) == (ssize_t)len &&
	     memcmp(buf, data, len) == 0;
	free(buf);
	close(fd);
	return ok;
}

/* A client that reads until what it got ends with the stream's last 64
 * bytes (random data: no earlier match), or an error or the wait
 * timeout. */
struct tail_reader {
	const char *link;
	const uint8_t *stream;
	size_t total;
	uint8_t *got;
	size_t len;
	int fd; /* opened by the thread, or before it starts if >= 0 */
	int error;
	pthread_t thread;
};

#define TAIL 64u

static bool at_tail(const struct tail_reader *t)
{
	return t->len >= TAIL && memcmp(t->got + t->len - TAIL,
					t->stream + t->total - TAIL, TAIL) == 0;
}

static void *tail_thread(void *arg)
{
	struct tail_reader *t = arg;
	if (t->fd < 0)
		t->fd = open(t->link, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->fd < 0) {
		t->error = -errno;
		return NULL;
	}
	while (!at_tail(t)) {
		struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
		if (poll(&pfd, 1, CG_WAIT_MS) <= 0) {
			t->error = -ETIMEDOUT;
			break;
		}
		ssize_t n = read(t->fd, t->got + t->len, t->total - t->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			t->error = n ? -errno : -ENOSPC;
			break;
		}
		t->len += (size_t)n;
	}
	return NULL;
}

/* got[] is stream[total - len, total): a suffix, nothing missing in it,
 * nothing repeated. */
static bool is_suffix(const struct tail_reader *t)
{
	return memcmp(t->got, t->stream + t->total - t->len, t->len) == 0;
}

/* One test's console and stream: a pty at link logging to log, `total`
 * random bytes in data, room for as many in got. */
static struct run {
	char link[256], log[256];
	uint8_t *data, *got;
	size_t total;
} run;

static void run_begin(const char *extra, size_t total, uint32_t seed)
{
	start_pty(cg_tmp_path(run.link, sizeof run.link, "pty"),
		  cg_tmp_path(run.log, sizeof run.log, "log"), extra);
	run.total = total;
	run.data = malloc(total);
	run.got = malloc(total);
	CU_ASSERT_FATAL(run.data && run.got);
	cg_fill_random(run.data, total, seed);
}

static void run_end(int fd)
{
	if (fd >= 0)
		close(fd);
	free(run.data);
	free(run.got);
	stop();
}

/* 8 MiB with nobody attached: every chain comes back (the stall limit is
 * out of reach, so nothing but the scrollback released them), the log has
 * all 8 MiB, and a reader attaching afterwards gets exactly the last
 * 256 KiB, then what the guest writes next. */
static void test_unattended_8mib(void)
{
	run_begin(", \"stall_limit_ms\": " NEVER_MS, 8 * MIB, 31);
	const uint8_t *data = run.data;
	const size_t total = run.total;
	CU_ASSERT_EQUAL_FATAL(cg_send(&g, TXQ, data, total), 0);
	CU_ASSERT(log_holds(run.log, data, total));

	int fd = open_client(run.link);
	CU_ASSERT_EQUAL_FATAL(cg_read_full(fd, run.got, SB_SIZE), 0);
	CU_ASSERT(memcmp(run.got, data + total - SB_SIZE, SB_SIZE) == 0);
	/* Nothing else was kept: the next bytes are new output. */
	expect_next(fd, "next");
	run_end(fd);
}

/* 1 MiB with nobody attached, then 3 MiB while a client attaches: it gets
 * one unbroken suffix of the 4 MiB, at least the whole scrollback long,
 * ending with the last byte; with a reader attached the guest waits for it
 * (stall limit out of reach), so only the scrollback can have dropped. */
static void test_attach_mid_stream(void)
{
	run_begin(", \"stall_limit_ms\": " NEVER_MS, 4 * MIB, 32);
	const size_t first = MIB;
	CU_ASSERT_EQUAL_FATAL(cg_send(&g, TXQ, run.data, first), 0);
	struct tail_reader t = {.link = run.link,
				.stream = run.data,
				.total = run.total,
				.got = run.got,
				.fd = -1};
	CU_ASSERT_FATAL(pthread_create(&t.thread, NULL, tail_thread, &t) == 0);
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, run.data + first, run.total - first),
			0);
	pthread_join(t.thread, NULL);
	CU_ASSERT_EQUAL(t.error, 0);
	CU_ASSERT(t.len >= SB_SIZE);
	CU_ASSERT(is_suffix(&t));
	CU_ASSERT(log_holds(run.log, run.data, run.total));
	run_end(t.fd);
}

/* A client that attaches and reads nothing: once the pty is full the guest
 * waits, but only for the stall limit (100 ms here); then its output goes
 * to the scrollback. When the client reads at last it gets what the pty
 * held (the start of the stream), then the scrollback (exactly the last
 * 256 KiB), and afterwards live output again. */
static void test_reader_stops(void)
{
	run_begin(", \"stall_limit_ms\": 100", 2 * MIB, 33);
	const uint8_t *data = run.data, *got = run.got;
	const size_t total = run.total;
	int fd = open_client(run.link);
	/* Without the limit this never completes (the wait timeout fails
	 * it): nobody reads the pty. */
	CU_ASSERT_EQUAL_FATAL(cg_send(&g, TXQ, data, total), 0);
	CU_ASSERT(log_holds(run.log, data, total));

	struct tail_reader t = {
		.stream = data, .total = total, .got = run.got, .fd = fd};
	tail_thread(&t);
	CU_ASSERT_EQUAL_FATAL(t.error, 0);
	size_t head = 0;
	while (head < t.len && got[head] == data[head])
		head++;
	size_t tail = t.len - head;
	CU_ASSERT(head > 0); /* the pty took some before the guest waited */
	CU_ASSERT_EQUAL(tail, SB_SIZE);
	CU_ASSERT(memcmp(got + head, data + total - tail, tail) == 0);
	/* Caught up: live output flows to the reader again. */
	expect_next(fd, "live");
	run_end(fd);
}

/* "scrollback": 0 keeps nothing: output with nobody attached comes back
 * at once and is gone (the log has it). */
static void test_no_scrollback(void)
{
	char link[256], log[256];
	start_pty(cg_tmp_path(link, sizeof link, "pty"),
		  cg_tmp_path(log, sizeof log, "log"),
		  ", \"scrollback\": 0, \"stall_limit_ms\": " NEVER_MS);
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, "unseen", 6), 0);
	int fd = open_client(link);
	expect_next(fd, "seen");
	CU_ASSERT(log_holds(log, (const uint8_t *)"unseenseen", 10));
	close(fd);
	stop();
}

/* Every port of a multiport console keeps the same policy: with nobody
 * attached, port 1 (inheriting the top-level 8-byte scrollback) and port 2
 * (its own 4 bytes) return the guest's buffers at once and keep the last
 * bytes for the reader who comes. */
static void test_multiport_ports(void)
{
	char link0[256], link1[256], link2[256], dev[1024];
	cg_tmp_path(link0, sizeof link0, "pty");
	cg_tmp_path(link1, sizeof link1, "pty");
	cg_tmp_path(link2, sizeof link2, "pty");
	snprintf(dev, sizeof dev,
		 "{\"type\": \"console\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 77, \"pty_link\": \"%s\", "
		 "\"scrollback\": 8, \"stall_limit_ms\": " NEVER_MS
		 ", \"ports\": [{\"pty_link\": \"%s\"}, {\"pty_link\": "
		 "\"%s\", \"scrollback\": 4}]}",
		 link0, link1, link2);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, dev) == 0);
	CU_ASSERT_FATAL(cg_open(&g, fx.mock, CON_BASE, CON_IRQ) == 0);
	/* Port n transmits on queue 2n + 3 (virtio 1.2 5.3.2). */
	CU_ASSERT_FATAL(cg_up(&g, F_V1 | F_MULTI, 8) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, 5, 4, 64) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, 7, 4, 64) == 0);
	CU_ASSERT_EQUAL(cg_send(&g, 5, "port-one-output", 15), 0);
	CU_ASSERT_EQUAL(cg_send(&g, 7, "port-two-output", 15), 0);
	char got[9] = {0};
	int fd1 = open_client(link1), fd2 = open_client(link2);
	CU_ASSERT_EQUAL(cg_read_full(fd1, got, 8), 0);
	CU_ASSERT_STRING_EQUAL(got, "e-output");
	memset(got, 0, sizeof got);
	CU_ASSERT_EQUAL(cg_read_full(fd2, got, 4), 0);
	CU_ASSERT_STRING_EQUAL(got, "tput");
	close(fd1);
	close(fd2);
	stop();
}

/* emerg_wr without EMERG_WRITE negotiated is ignored, not written. */
static void test_emergency_not_negotiated(void)
{
	char link[256], log[256];
	start_pty(cg_tmp_path(link, sizeof link, "pty"),
		  cg_tmp_path(log, sizeof log, "log"), "");
	int fd = open_client(link);
	CU_ASSERT_EQUAL(hvd_guest_config_write(g.d, 8, 4, 'E'), 0);
	expect_next(fd, "ok");
	CU_ASSERT(log_holds(log, (const uint8_t *)"ok", 2));
	close(fd);
	stop();
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	static const struct cunit_test tests[] = {
		{"8 MiB with nobody attached", test_unattended_8mib},
		{"reader attaches mid-stream", test_attach_mid_stream},
		{"reader stops reading: stall limit", test_reader_stops},
		{"scrollback 0", test_no_scrollback},
		{"multiport: every port", test_multiport_ports},
		{"emergency write not negotiated",
		 test_emergency_not_negotiated},
		{NULL, NULL},
	};
	return cunit_run("console scrollback", tests);
}
