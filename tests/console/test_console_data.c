/* SPDX-License-Identifier: MIT */
/*
 * virtio-console data paths through the mock harness and an in-process
 * daemon: 1 MiB each way through a pty (slow reader, few guest receive
 * buffers), the log file, emergency writes, window-size changes, a socket
 * client leaving and coming back mid-stream, and JSON errors.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_mmio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "console_guest.h"
#include "cunit_main.h"
#include "daemon_fixture.h"

#define CON_BASE 0xa003c00ull
#define CON_IRQ  77u
#define F_V1     (1ull << VIRTIO_F_VERSION_1)
#define F_SIZE   (1ull << VIRTIO_CONSOLE_F_SIZE)
#define F_EMERG  (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE)
#define RXQ      0u
#define TXQ      1u
#define MIB      (1024u * 1024u)

static struct fixture fx;
static struct cg g;

/* Start the daemon with one console; `extra` adds JSON members. */
static void start(const char *extra)
{
	char dev[1024];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"console\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 77%s}",
		 extra);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, dev) == 0);
	CU_ASSERT_FATAL(cg_open(&g, fx.mock, CON_BASE, CON_IRQ) == 0);
}

static void stop(void)
{
	cg_close(&g);
	fixture_stop(&fx);
}

/* A pty console linked at `link` (and logging to `log` if not NULL). */
static void start_pty(const char *link, const char *log)
{
	char extra[600];
	int n = snprintf(extra, sizeof extra, ", \"pty_link\": \"%s\"", link);
	if (log)
		snprintf(extra + n, sizeof extra - (size_t)n,
			 ", \"log\": \"%s\"", log);
	start(extra);
}

static int open_client(const char *link)
{
	int fd = open(link, O_RDWR | O_NOCTTY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	return fd;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	CU_ASSERT_FATAL(f != NULL);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	rewind(f);
	uint8_t *buf = malloc((size_t)size + 1);
	CU_ASSERT_FATAL(buf != NULL);
	*len = fread(buf, 1, (size_t)size, f);
	fclose(f);
	return buf;
}

/* 1 MiB of random bytes guest -> pty, read slowly in small pieces; the log
 * file gets exactly the same bytes. */
static void test_pty_output_slow_reader_and_log(void)
{
	char link[256], log[256];
	start_pty(cg_tmp_path(link, sizeof link, "pty"),
		  cg_tmp_path(log, sizeof log, "log"));
	CU_ASSERT_FATAL(cg_up(&g, F_V1, 2) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, TXQ, 16, 4096) == 0);
	uint8_t *data = malloc(MIB), *got = calloc(1, MIB);
	CU_ASSERT_FATAL(data && got);
	cg_fill_random(data, MIB, 1);
	struct cg_io reader = {.fd = open_client(link),
			       .buf = got,
			       .want = MIB,
			       .chunk = 512,
			       .slow = true};
	CU_ASSERT_FATAL(cg_io_start(&reader) == 0);
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, data, MIB), 0);
	CU_ASSERT_EQUAL(cg_io_join(&reader), 0);
	CU_ASSERT_EQUAL(reader.done, MIB);
	CU_ASSERT(memcmp(data, got, MIB) == 0);
	/* Every chain was used, so every byte was logged. */
	size_t log_len = 0;
	uint8_t *logged = read_file(log, &log_len);
	CU_ASSERT_EQUAL(log_len, MIB);
	CU_ASSERT(log_len == MIB && memcmp(logged, data, MIB) == 0);
	free(logged);
	close(reader.fd);
	free(data);
	free(got);
	stop();
	/* The link goes away with the device. */
	struct stat st;
	CU_ASSERT(lstat(link, &st) < 0);
}

/* 1 MiB pty -> guest while the guest offers only four small buffers: the
 * host side must wait for buffers, not drop. */
static void test_pty_input_few_buffers(void)
{
	char link[256];
	start_pty(cg_tmp_path(link, sizeof link, "pty"), NULL);
	CU_ASSERT_FATAL(cg_up(&g, F_V1, 2) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, RXQ, 4, 1024) == 0);
	uint8_t *data = malloc(MIB), *got = calloc(1, MIB);
	CU_ASSERT_FATAL(data && got);
	cg_fill_random(data, MIB, 2);
	struct cg_io writer = {.fd = open_client(link),
			       .buf = data,
			       .want = MIB,
			       .chunk = 4096,
			       .write = true};
	CU_ASSERT_FATAL(cg_io_start(&writer) == 0);
	CU_ASSERT_EQUAL(cg_recv(&g, RXQ, got, MIB), 0);
	CU_ASSERT_EQUAL(cg_io_join(&writer), 0);
	CU_ASSERT(memcmp(data, got, MIB) == 0);
	close(writer.fd);
	free(data);
	free(got);
	stop();
}

/* emerg_wr reaches the backend and the log even with no queue set up. */
static void test_emergency_write(void)
{
	char link[256], log[256];
	start_pty(cg_tmp_path(link, sizeof link, "pty"),
		  cg_tmp_path(log, sizeof log, "log"));
	int fd = open_client(link);
	uint64_t got = 0;
	CU_ASSERT_FATAL(hvd_guest_negotiate(g.d, F_V1 | F_EMERG, &got) == 0);
	CU_ASSERT_EQUAL(got, F_V1 | F_EMERG);
	CU_ASSERT_EQUAL(hvd_guest_config_write(g.d, 8, 4, 'E'), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_write(g.d, 8, 4, 'W'), 0);
	char buf[2] = {0};
	CU_ASSERT_EQUAL(cg_read_full(fd, buf, 2), 0);
	CU_ASSERT(memcmp(buf, "EW", 2) == 0);
	size_t len = 0;
	uint8_t *logged = read_file(log, &len);
	CU_ASSERT(len == 2 && memcmp(logged, "EW", 2) == 0);
	free(logged);
	close(fd);
	stop();
}

/* The client resizes its terminal; with the next input the guest gets a
 * configuration interrupt and reads the new cols/rows. */
static void test_window_size_change(void)
{
	char link[256];
	start_pty(cg_tmp_path(link, sizeof link, "pty"), NULL);
	int fd = open_client(link);
	struct winsize ws = {.ws_row = 25, .ws_col = 80};
	CU_ASSERT_FATAL(ioctl(fd, TIOCSWINSZ, &ws) == 0);
	CU_ASSERT_FATAL(cg_up(&g, F_V1 | F_SIZE, 2) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, RXQ, 2, 64) == 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 0, 2), 80);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 2, 2), 25);
	uint32_t gen = hvd_guest_reg_read(g.d, VIRTIO_MMIO_CONFIG_GENERATION);
	hvd_guest_ack_interrupt(g.d);

	ws = (struct winsize){.ws_row = 43, .ws_col = 132};
	CU_ASSERT_FATAL(ioctl(fd, TIOCSWINSZ, &ws) == 0);
	CU_ASSERT_EQUAL(cg_write_full(fd, "x", 1), 0);
	char c = 0;
	CU_ASSERT_EQUAL(cg_recv(&g, RXQ, &c, 1), 0);
	CU_ASSERT_EQUAL(c, 'x');
	/* Wait for the configuration change (its interrupt may follow the
	 * used buffer's, or have been ACKed with it by cg_recv's driver):
	 * ACK, then look, then wait; the daemon raises the line again
	 * only after an ACK. */
	for (;;) {
		uint64_t seen = hvd_guest_irq_count(g.d);
		hvd_guest_ack_interrupt(g.d);
		if (hvd_guest_reg_read(g.d, VIRTIO_MMIO_CONFIG_GENERATION) !=
		    gen)
			break;
		CU_ASSERT_FATAL(hvd_guest_wait_irq(g.d, seen, CG_WAIT_MS) == 0);
	}
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 0, 2), 132);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 2, 2), 43);
	close(fd);
	stop();
}

static struct sockaddr_un unix_addr(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	CU_ASSERT_FATAL(strlen(path) < sizeof sa.sun_path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	return sa;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = unix_addr(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	return fd;
}

/* A socket client reads, types and hangs up; output the guest writes while
 * nobody is connected is kept in the scrollback and reaches the next
 * client first, then live output, nothing lost or repeated. */
static void test_socket_reconnect(void)
{
	char path[256], extra[400];
	cg_tmp_path(path, sizeof path, "sock");
	/* A stale socket file from an earlier run is replaced. */
	int stale = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = unix_addr(path);
	CU_ASSERT_FATAL(bind(stale, (struct sockaddr *)&sa, sizeof sa) == 0);
	close(stale);
	snprintf(extra, sizeof extra,
		 ", \"backend\": \"socket\", \"path\": \"%s\"", path);
	start(extra);
	CU_ASSERT_FATAL(cg_up(&g, F_V1, 2) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, TXQ, 16, 4096) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, RXQ, 4, 512) == 0);
	const size_t a_len = 64 * 1024, b_len = 256 * 1024;
	uint8_t *a = malloc(a_len), *b = malloc(b_len), *got = malloc(b_len);
	CU_ASSERT_FATAL(a && b && got);
	cg_fill_random(a, a_len, 3);
	cg_fill_random(b, b_len, 4);

	int c1 = connect_to(path);
	struct cg_io r1 = {.fd = c1, .buf = got, .want = a_len};
	CU_ASSERT_FATAL(cg_io_start(&r1) == 0);
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, a, a_len), 0);
	CU_ASSERT_EQUAL(cg_io_join(&r1), 0);
	CU_ASSERT(memcmp(got, a, a_len) == 0);
	/* Typed, then gone at once: the input still arrives. */
	CU_ASSERT_EQUAL(cg_write_full(c1, "hello-1", 7), 0);
	close(c1);
	char in[8] = {0};
	CU_ASSERT_EQUAL(cg_recv(&g, RXQ, in, 7), 0);
	CU_ASSERT_STRING_EQUAL(in, "hello-1");

	/* Nobody connected: the first 64 KiB go to the scrollback, and every
	 * chain comes back (cg_send waits for that) without a client. */
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, b, 64 * 1024), 0);

	int c2 = connect_to(path);
	struct cg_io r2 = {.fd = c2, .buf = got, .want = b_len, .chunk = 1000};
	CU_ASSERT_FATAL(cg_io_start(&r2) == 0);
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, b + 64 * 1024, b_len - 64 * 1024), 0);
	CU_ASSERT_EQUAL(cg_io_join(&r2), 0);
	CU_ASSERT(memcmp(got, b, b_len) == 0);
	CU_ASSERT_EQUAL(cg_write_full(c2, "hello-2", 7), 0);
	CU_ASSERT_EQUAL(cg_recv(&g, RXQ, in, 7), 0);
	CU_ASSERT_STRING_EQUAL(in, "hello-2");
	close(c2);
	free(a);
	free(b);
	free(got);
	stop();
	struct stat st;
	CU_ASSERT(lstat(path, &st) < 0); /* removed on destroy */
}

/* More transmit buffers in one kick than a drain takes (TX_BATCH, 32):
 * the drain gives the thread back and the writable backend resumes it, so
 * every byte still arrives, in order. */
static void test_tx_batch_resumes(void)
{
	char path[256], extra[400];
	cg_tmp_path(path, sizeof path, "sock");
	snprintf(extra, sizeof extra,
		 ", \"backend\": \"socket\", \"path\": \"%s\"", path);
	start(extra);
	CU_ASSERT_FATAL(cg_up(&g, F_V1, 2) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, TXQ, 64, 1) == 0);
	int c = connect_to(path);
	uint8_t sent[64], got[64];
	cg_fill_random(sent, sizeof sent, 9);
	struct cg_io r = {.fd = c, .buf = got, .want = sizeof got};
	CU_ASSERT_FATAL(cg_io_start(&r) == 0);
	/* 64 one-byte chains, one kick. */
	CU_ASSERT_EQUAL(cg_send_nowait(&g, TXQ, sent, sizeof sent), 0);
	CU_ASSERT_EQUAL(cg_io_join(&r), 0);
	CU_ASSERT(memcmp(got, sent, sizeof sent) == 0);
	close(c);
	stop();
}

/* The stdio backend on fds 0 and 1 (pipes here): output, input, output
 * after stdin ended; the fd flags are restored afterwards. No fatal
 * assertion while stdout is redirected: CUnit reports on it. */
static void test_stdio(void)
{
	int in_p[2], out_p[2];
	CU_ASSERT_FATAL(pipe(in_p) == 0 && pipe(out_p) == 0);
	fflush(stdout);
	int saved0 = dup(0), saved1 = dup(1);
	CU_ASSERT_FATAL(saved0 >= 0 && saved1 >= 0);
	dup2(in_p[0], 0);
	dup2(out_p[1], 1);
	int flags_before = fcntl(0, F_GETFL);

	char out[16] = {0}, in[8] = {0}, late[16] = {0};
	int r_start = -1, r_send = -1, r_read = -1, r_recv = -1, r_late = -1;
	memset(&fx, 0, sizeof fx);
	r_start = fixture_start(
		&fx, "{\"type\": \"console\", \"addr\": "
		     "\"0xa003c00\", \"len\": \"0x200\", \"irq\": 77, "
		     "\"backend\": \"stdio\"}");
	if (r_start == 0)
		r_start = cg_open(&g, fx.mock, CON_BASE, CON_IRQ);
	if (r_start == 0)
		r_start = cg_up(&g, F_V1, 2);
	if (r_start == 0)
		r_start = cg_pool(&g, TXQ, 4, 256) | cg_pool(&g, RXQ, 4, 256);
	if (r_start == 0) {
		r_send = cg_send(&g, TXQ, "to-stdout", 9);
		r_read = cg_read_full(out_p[0], out, 9);
		if (cg_write_full(in_p[1], "typed", 5) == 0)
			r_recv = cg_recv(&g, RXQ, in, 5);
		close(in_p[1]); /* end of stdin: output goes on */
		in_p[1] = -1;
		if (cg_send(&g, TXQ, "after-eof", 9) == 0)
			r_late = cg_read_full(out_p[0], late, 9);
	}
	cg_close(&g);
	fixture_stop(&fx);
	int flags_after = fcntl(0, F_GETFL);
	dup2(saved0, 0);
	dup2(saved1, 1);
	close(saved0);
	close(saved1);
	close(in_p[0]);
	if (in_p[1] >= 0)
		close(in_p[1]);
	close(out_p[0]);
	close(out_p[1]);

	CU_ASSERT_EQUAL(r_start, 0);
	CU_ASSERT_EQUAL(r_send, 0);
	CU_ASSERT_EQUAL(r_read, 0);
	CU_ASSERT_STRING_EQUAL(out, "to-stdout");
	CU_ASSERT_EQUAL(r_recv, 0);
	CU_ASSERT_STRING_EQUAL(in, "typed");
	CU_ASSERT_EQUAL(r_late, 0);
	CU_ASSERT_STRING_EQUAL(late, "after-eof");
	CU_ASSERT_EQUAL(flags_after, flags_before);
}

/* stdout a regular file, which epoll cannot watch: a drain that used its
 * batch cannot wait for HVD_EV_OUT there, and every byte still arrives. */
static void test_stdio_to_file(void)
{
	char path[256];
	cg_tmp_path(path, sizeof path, "stdout");
	int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int in_p[2];
	CU_ASSERT_FATAL(file >= 0 && pipe(in_p) == 0);
	fflush(stdout);
	int saved0 = dup(0), saved1 = dup(1);
	CU_ASSERT_FATAL(saved0 >= 0 && saved1 >= 0);
	dup2(in_p[0], 0);
	dup2(file, 1);

	uint8_t sent[64], got[64] = {0};
	cg_fill_random(sent, sizeof sent, 21);
	int r_start, r_send = -1;
	memset(&fx, 0, sizeof fx);
	r_start = fixture_start(
		&fx, "{\"type\": \"console\", \"addr\": "
		     "\"0xa003c00\", \"len\": \"0x200\", \"irq\": 77, "
		     "\"backend\": \"stdio\"}");
	if (r_start == 0)
		r_start = cg_open(&g, fx.mock, CON_BASE, CON_IRQ);
	if (r_start == 0)
		r_start = cg_up(&g, F_V1, 2);
	if (r_start == 0)
		r_start = cg_pool(&g, TXQ, 64, 1);
	if (r_start == 0)
		r_send = cg_send(&g, TXQ, sent, sizeof sent); /* one kick */
	cg_close(&g);
	fixture_stop(&fx);
	dup2(saved0, 0);
	dup2(saved1, 1);
	close(saved0);
	close(saved1);
	close(in_p[0]);
	close(in_p[1]);

	CU_ASSERT_EQUAL(r_start, 0);
	CU_ASSERT_EQUAL(r_send, 0);
	CU_ASSERT_EQUAL(pread(file, got, sizeof got, 0), (ssize_t)sizeof got);
	CU_ASSERT(memcmp(got, sent, sizeof sent) == 0);
	close(file);
	unlink(path);
}

static void expect_refused(const char *extra)
{
	char dev[600];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"console\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 77%s}",
		 extra);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT(fixture_start(&fx, dev) != 0);
	fixture_stop(&fx);
}

static void test_bad_json(void)
{
	expect_refused(", \"colour\": 1");
	expect_refused(", \"backend\": \"serial\"");
	expect_refused(", \"backend\": \"socket\"");
	expect_refused(", \"backend\": 3");
	expect_refused(", \"path\": \"/tmp/x\"");
	expect_refused(", \"backend\": \"socket\", \"path\": \"/tmp/x\", "
		       "\"pty_link\": \"/tmp/y\"");
	expect_refused(", \"ports\": {}");
	expect_refused(", \"ports\": [{\"backend\": \"socket\"}]");
	expect_refused(", \"ports\": [{\"name\": \"a\", \"colour\": 1}]");
	expect_refused(", \"ports\": [3]");
	expect_refused(", \"log\": \"/nonexistent-dir/log\"");
	expect_refused(", \"scrollback\": \"lots\"");
	expect_refused(", \"scrollback\": -1");
	expect_refused(", \"scrollback\": 67108865"); /* 64 MiB + 1 */
	expect_refused(", \"stall_limit_ms\": 3600001");
	expect_refused(", \"stall_limit_ms\": true");
	expect_refused(", \"ports\": [{\"scrollback\": 1e12}]");
	expect_refused(", \"ports\": [{\"stall_limit_ms\": -5}]");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	static const struct cunit_test tests[] = {
		{"pty output, slow reader, log",
		 test_pty_output_slow_reader_and_log},
		{"pty input, few guest buffers", test_pty_input_few_buffers},
		{"emergency write", test_emergency_write},
		{"window size change", test_window_size_change},
		{"socket disconnect and reconnect", test_socket_reconnect},
		{"transmit batch resumes", test_tx_batch_resumes},
		{"stdio backend", test_stdio},
		{"stdio backend, stdout a file", test_stdio_to_file},
		{"bad JSON refused", test_bad_json},
		{NULL, NULL},
	};
	return cunit_run("console data", tests);
}
