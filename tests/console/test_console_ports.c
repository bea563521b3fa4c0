/* SPDX-License-Identifier: MIT */
/*
 * virtio-console lifecycle through the mock harness and an in-process
 * daemon: MULTIPORT bring-up over the control queues with per-port data
 * and open/close both ways, a reset while output is held and input waits
 * (then reuse), and no thread spinning while a port is blocked both ways
 * or its client hung up with unread input.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "console_guest.h"
#include "cunit_main.h"
#include "daemon_fixture.h"

#define F_V1    (1ull << VIRTIO_F_VERSION_1)
#define F_MULTI (1ull << VIRTIO_CONSOLE_F_MULTIPORT)
#define RXQ     0u
#define TXQ     1u

static struct fixture fx;

/* One console at 0xa003c00 (irq 77) with `extra` JSON members, and a
 * second at 0xa003e00 (irq 78) if `second` is not NULL. */
static void start(const char *extra, const char *second)
{
	char dev[2048];
	int n = snprintf(dev, sizeof dev,
			 "{\"type\": \"console\", \"addr\": \"0xa003c00\", "
			 "\"len\": \"0x200\", \"irq\": 77%s}",
			 extra);
	if (second)
		snprintf(dev + n, sizeof dev - (size_t)n,
			 ", {\"type\": \"console\", \"addr\": \"0xa003e00\", "
			 "\"len\": \"0x200\", \"irq\": 78%s}",
			 second);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, dev) == 0);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	CU_ASSERT_FATAL(strlen(path) < sizeof sa.sun_path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	return fd;
}

static int open_pty(const char *link)
{
	int fd = open(link, O_RDWR | O_NOCTTY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	return fd;
}

/* Every request queued before (kicks included) has been handled. */
static void sync_daemon(struct cg *g)
{
	CU_ASSERT_EQUAL(hvd_guest_reg_read(g->d, VIRTIO_MMIO_MAGIC_VALUE),
			0x74726976);
}

static void expect_ctrl(struct cg *g, uint32_t id, uint16_t event,
			uint16_t value)
{
	uint16_t v = 0xffff;
	CU_ASSERT_EQUAL_FATAL(cg_ctrl_wait(g, id, event, &v, NULL, 0), 0);
	CU_ASSERT_EQUAL(v, value);
}

static void expect_recv(struct cg *g, unsigned q, const char *want)
{
	char buf[64] = {0};
	CU_ASSERT_EQUAL_FATAL(cg_recv(g, q, buf, strlen(want)), 0);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void expect_read(int fd, const char *want)
{
	char buf[64] = {0};
	CU_ASSERT_EQUAL_FATAL(cg_read_full(fd, buf, strlen(want)), 0);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

/* Port 0 (pty console), port 1 (socket), port 2 (pty): names, open state
 * both ways, data per port, input held while the guest has the port
 * closed. */
static void test_multiport(void)
{
	char link0[256], sock[256], link2[256], extra[1024];
	cg_tmp_path(link0, sizeof link0, "pty");
	cg_tmp_path(sock, sizeof sock, "sock");
	cg_tmp_path(link2, sizeof link2, "pty");
	snprintf(extra, sizeof extra,
		 ", \"pty_link\": \"%s\", \"ports\": [{\"name\": "
		 "\"org.test.sock\", \"backend\": \"socket\", \"path\": "
		 "\"%s\"}, {\"name\": \"org.test.pty\", \"pty_link\": \"%s\"}]",
		 link0, sock, link2);
	start(extra, NULL);
	struct cg g;
	CU_ASSERT_FATAL(cg_open(&g, fx.mock, 0xa003c00, 77) == 0);
	CU_ASSERT_FATAL(cg_up(&g, F_V1 | F_MULTI, 8) == 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 4, 4), 3);
	for (unsigned q = 0; q < 8; q++)
		if (q != 2 && q != 3)
			CU_ASSERT_FATAL(cg_pool(&g, q, 4, 256) == 0);

	CU_ASSERT_FATAL(cg_ctrl_start(&g) == 0);
	CU_ASSERT_FATAL(cg_ctrl_send(&g, 0, VIRTIO_CONSOLE_DEVICE_READY, 1) ==
			0);
	for (uint32_t id = 0; id < 3; id++)
		expect_ctrl(&g, id, VIRTIO_CONSOLE_PORT_ADD, 0);
	for (uint32_t id = 0; id < 3; id++)
		CU_ASSERT_FATAL(cg_ctrl_send(&g, id, VIRTIO_CONSOLE_PORT_READY,
					     1) == 0);
	expect_ctrl(&g, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
	char name[64];
	CU_ASSERT_FATAL(cg_ctrl_wait(&g, 1, VIRTIO_CONSOLE_PORT_NAME, NULL,
				     name, sizeof name) == 0);
	CU_ASSERT_STRING_EQUAL(name, "org.test.sock");
	CU_ASSERT_FATAL(cg_ctrl_wait(&g, 2, VIRTIO_CONSOLE_PORT_NAME, NULL,
				     name, sizeof name) == 0);
	CU_ASSERT_STRING_EQUAL(name, "org.test.pty");
	/* The ptys are there from the start; the socket has no client. */
	expect_ctrl(&g, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	expect_ctrl(&g, 2, VIRTIO_CONSOLE_PORT_OPEN, 1);
	int client = connect_to(sock);
	expect_ctrl(&g, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);

	/* Input for port 2 before the guest opens it waits, then arrives. */
	int pty2 = open_pty(link2);
	CU_ASSERT_EQUAL(cg_write_full(pty2, "early", 5), 0);
	CU_ASSERT_EQUAL(cg_post_rx(&g, 6), 0);
	CU_ASSERT_FATAL(cg_ctrl_send(&g, 2, VIRTIO_CONSOLE_PORT_OPEN, 1) == 0);
	expect_recv(&g, 6, "early");

	CU_ASSERT_FATAL(cg_ctrl_send(&g, 0, VIRTIO_CONSOLE_PORT_OPEN, 1) == 0);
	CU_ASSERT_FATAL(cg_ctrl_send(&g, 1, VIRTIO_CONSOLE_PORT_OPEN, 1) == 0);
	int pty0 = open_pty(link0);
	/* The console port's size travels as RESIZE { le16 cols; le16 rows }
	 * (virtio 1.2 5.3.6.2), noticed with the next input. */
	struct winsize ws = {.ws_row = 30, .ws_col = 100};
	CU_ASSERT_FATAL(ioctl(pty0, TIOCSWINSZ, &ws) == 0);
	CU_ASSERT_EQUAL(cg_write_full(client, "to-port-1", 9), 0);
	CU_ASSERT_EQUAL(cg_write_full(pty0, "to-port-0", 9), 0);
	CU_ASSERT_EQUAL(cg_write_full(pty2, "to-port-2", 9), 0);
	expect_recv(&g, 4, "to-port-1");
	expect_recv(&g, RXQ, "to-port-0");
	expect_recv(&g, 6, "to-port-2");
	uint8_t size[4];
	CU_ASSERT_FATAL(cg_ctrl_wait(&g, 0, VIRTIO_CONSOLE_RESIZE, NULL, size,
				     sizeof size) == 0);
	CU_ASSERT_EQUAL(size[0] | size[1] << 8, 100);
	CU_ASSERT_EQUAL(size[2] | size[3] << 8, 30);
	CU_ASSERT_EQUAL(cg_send(&g, 5, "from-1", 6), 0);
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, "from-0", 6), 0);
	CU_ASSERT_EQUAL(cg_send(&g, 7, "from-2", 6), 0);
	expect_read(client, "from-1");
	expect_read(pty0, "from-0");
	expect_read(pty2, "from-2");

	/* The guest closes port 1; its client types and leaves, and the next
	 * client waits in the backlog (one at a time). Nothing typed is lost:
	 * once the guest opens the port again it gets the first client's
	 * input, hears it leave and the second one arrive, then its input. */
	CU_ASSERT_FATAL(cg_ctrl_send(&g, 1, VIRTIO_CONSOLE_PORT_OPEN, 0) == 0);
	CU_ASSERT_EQUAL(cg_write_full(client, "while-closed", 12), 0);
	close(client);
	client = connect_to(sock);
	CU_ASSERT_EQUAL(cg_write_full(client, "again", 5), 0);
	CU_ASSERT_FATAL(cg_ctrl_send(&g, 1, VIRTIO_CONSOLE_PORT_OPEN, 1) == 0);
	expect_recv(&g, 4, "while-closed");
	expect_ctrl(&g, 1, VIRTIO_CONSOLE_PORT_OPEN, 0);
	expect_ctrl(&g, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	expect_recv(&g, 4, "again");

	/* A message for a port that does not exist is a broken driver. */
	CU_ASSERT_FATAL(cg_ctrl_send(&g, 7, VIRTIO_CONSOLE_PORT_OPEN, 1) == 0);
	CU_ASSERT(hvd_guest_status(g.d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	close(client);
	close(pty0);
	close(pty2);
	cg_close(&g);
	fixture_stop(&fx);
}

/* Reset while input waits (no receive buffers) after output went to the
 * scrollback (socket without a client): the scrollback survives the reset
 * and the first client gets it once, before the new boot's output; no
 * input is lost, and a third boot sees nothing stale. */
static void test_reset_then_reuse(void)
{
	char sock[256], extra[400];
	snprintf(extra, sizeof extra,
		 ", \"backend\": \"socket\", \"path\": \"%s\"",
		 cg_tmp_path(sock, sizeof sock, "sock"));
	start(extra, NULL);
	struct cg g;
	CU_ASSERT_FATAL(cg_open(&g, fx.mock, 0xa003c00, 77) == 0);
	CU_ASSERT_FATAL(cg_up(&g, F_V1, 2) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, TXQ, 8, 1024) == 0);
	CU_ASSERT_FATAL(cg_pool(&g, RXQ, 4, 256) == 0);
	char stale[8 * 1024];
	memset(stale, 'S', sizeof stale);
	/* Returned at once although nobody reads. */
	CU_ASSERT_EQUAL(cg_send(&g, TXQ, stale, sizeof stale), 0);

	for (int boot = 0; boot < 2; boot++) {
		CU_ASSERT_EQUAL_FATAL(hvd_guest_reset(g.d), 0);
		CU_ASSERT_EQUAL(hvd_guest_status(g.d), 0);
		int client = connect_to(sock);
		/* Typed while the guest reboots: waits for the new queues. */
		CU_ASSERT_EQUAL(cg_write_full(client, "typed", 5), 0);
		CU_ASSERT_FATAL(cg_up(&g, F_V1, 2) == 0);
		expect_recv(&g, RXQ, "typed");
		CU_ASSERT_EQUAL(cg_send(&g, TXQ, "after-reset", 11), 0);
		if (boot == 0) {
			char got[sizeof stale];
			CU_ASSERT_EQUAL_FATAL(
				cg_read_full(client, got, sizeof got), 0);
			CU_ASSERT(memcmp(got, stale, sizeof got) == 0);
		}
		/* Then exactly this, with nothing stale before it. */
		expect_read(client, "after-reset");
		CU_ASSERT_EQUAL(cg_send(&g, TXQ, "end", 3), 0);
		expect_read(client, "end");
		close(client);
	}
	cg_close(&g);
	fixture_stop(&fx);
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Device A (pty): output blocked on a full pty and input waiting for
 * receive buffers. Device B (socket): its client typed and hung up while
 * the guest had no buffers. Over an idle second the whole process (daemon,
 * event loop, mock) uses almost no CPU; afterwards everything still
 * flows. */
static void test_idle_without_spinning(void)
{
	char link[256], sock[256], a[300], b[300];
	snprintf(a, sizeof a, ", \"pty_link\": \"%s\"",
		 cg_tmp_path(link, sizeof link, "pty"));
	snprintf(b, sizeof b, ", \"backend\": \"socket\", \"path\": \"%s\"",
		 cg_tmp_path(sock, sizeof sock, "sock"));
	start(a, b);
	struct cg ga, gb;
	CU_ASSERT_FATAL(cg_open(&ga, fx.mock, 0xa003c00, 77) == 0);
	CU_ASSERT_FATAL(cg_open(&gb, fx.mock, 0xa003e00, 78) == 0);
	CU_ASSERT_FATAL(cg_up(&ga, F_V1, 2) == 0);
	CU_ASSERT_FATAL(cg_up(&gb, F_V1, 2) == 0);
	CU_ASSERT_FATAL(cg_pool(&ga, TXQ, 16, 4096) == 0);
	CU_ASSERT_FATAL(cg_pool(&ga, RXQ, 4, 256) == 0);
	CU_ASSERT_FATAL(cg_pool(&gb, RXQ, 4, 256) == 0);

	/* Fill the pty until the device holds a chain: kicks are handled
	 * before a register read returns, so a round that leaves a chain
	 * unused means the backend is full. */
	int pty = open_pty(link);
	char chunk[16 * 4096];
	memset(chunk, 'o', sizeof chunk);
	size_t queued = 0, used_total = 0;
	bool blocked = false;
	for (int round = 0; round < 256 && !blocked; round++) {
		void *token;
		uint32_t len;
		while (hvd_guest_vq_get_used(ga.vq[TXQ], &token, &len) == 1) {
			ga.pool[TXQ].busy[(uintptr_t)token - 1] = false;
			used_total++;
		}
		unsigned free_slots = 0;
		for (unsigned i = 0; i < 16; i++)
			free_slots += !ga.pool[TXQ].busy[i];
		CU_ASSERT_EQUAL_FATAL(
			cg_send_nowait(&ga, TXQ, chunk, free_slots * 4096), 0);
		queued += free_slots;
		sync_daemon(&ga);
		blocked = hvd_guest_vq_get_used(ga.vq[TXQ], &token, &len) == 0;
		if (!blocked) {
			ga.pool[TXQ].busy[(uintptr_t)token - 1] = false;
			used_total++;
		}
	}
	CU_ASSERT_FATAL(blocked);
	/* The client types and detaches (screen -d): no client is left, which
	 * hangs nothing up since the daemon holds the slave itself. */
	CU_ASSERT_EQUAL(cg_write_full(pty, "input-a", 7), 0);
	close(pty);

	int client = connect_to(sock);
	CU_ASSERT_EQUAL(cg_write_full(client, "input-b", 7), 0);
	close(client);

	double before = cpu_seconds();
	/* The interval being measured, not a synchronisation. */
	struct timespec second = {1, 0};
	nanosleep(&second, NULL);
	double used = cpu_seconds() - before;
	printf("\n    idle second: %.1f ms CPU for the whole process ",
	       used * 1e3);
	CU_ASSERT(used < 0.05);

	/* Nothing was lost while waiting. */
	expect_recv(&gb, RXQ, "input-b");
	client = connect_to(sock);
	CU_ASSERT_EQUAL(cg_write_full(client, "next", 4), 0);
	expect_recv(&gb, RXQ, "next");
	close(client);
	expect_recv(&ga, RXQ, "input-a");
	/* Attach again and drain the pty: all queued output arrives and every
	 * chain is used. */
	pty = open_pty(link);
	size_t total = queued * 4096;
	char *sink = malloc(total);
	CU_ASSERT_FATAL(sink != NULL);
	struct cg_io reader = {
		.fd = pty, .buf = (uint8_t *)sink, .want = total};
	CU_ASSERT_FATAL(cg_io_start(&reader) == 0);
	CU_ASSERT_EQUAL(cg_send(&ga, TXQ, NULL, 0), 0);
	CU_ASSERT_EQUAL(cg_io_join(&reader), 0);
	CU_ASSERT(memchr(sink, 0, total) == NULL);
	free(sink);
	close(pty);
	cg_close(&ga);
	cg_close(&gb);
	fixture_stop(&fx);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	static const struct cunit_test tests[] = {
		{"multiport open/close and per-port data", test_multiport},
		{"reset then reuse", test_reset_then_reuse},
		{"no spinning while idle", test_idle_without_spinning},
		{NULL, NULL},
	};
	return cunit_run("console ports", tests);
}
