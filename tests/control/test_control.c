/* SPDX-License-Identifier: MIT */
/*
 * The control socket in-process: exact counters after known guest I/O,
 * list/stats replies against docs/control-schema.json, error replies,
 * and the bounds (1 MiB of garbage, a flooding client that never reads,
 * a client stuck mid-line, another uid) while the guest keeps its I/O.
 */
#define _GNU_SOURCE /* setresuid */
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ctl_guest.h"
#include "stats.h"

#define WRITES     5u
#define READS      3u
#define WRITE_LEN  4096u
#define READ_LEN   512u
#define HDR        16u /* struct virtio_blk_outhdr */
#define IO_CHECKED 4u  /* guest requests done while a client misbehaves */

/* One request the way blk_io does it, counting whether the guest really
 * wrote QueueNotify (the device may have suppressed the kick). */
static void one_io(struct ct *t, uint32_t type, uint64_t sector, uint32_t len,
		   int fill, unsigned *kicks)
{
	struct treq r;
	treq_init(&t->b, &r, type, sector, len);
	if (type == VIRTIO_BLK_T_OUT)
		memset(r.data, fill, len);
	CU_ASSERT_FATAL(treq_add(&t->b, 0, &r, false) >= 0);
	int k = hvd_guest_vq_kick(t->b.vq[0]);
	CU_ASSERT(k >= 0);
	*kicks += k == 1;
	CU_ASSERT_PTR_EQUAL(treq_wait(&t->b, 0, NULL), &r);
	CU_ASSERT_EQUAL(*r.status, VIRTIO_BLK_S_OK);
}

/* Writes of WRITE_LEN then reads of READ_LEN; returns the kicks made. */
static unsigned do_io(struct ct *t, unsigned writes, unsigned reads)
{
	unsigned kicks = 0;
	for (unsigned i = 0; i < writes; i++)
		one_io(t, VIRTIO_BLK_T_OUT, i * 8ull, WRITE_LEN, 0x30 + (int)i,
		       &kicks);
	for (unsigned i = 0; i < reads; i++)
		one_io(t, VIRTIO_BLK_T_IN, i, READ_LEN, 0, &kicks);
	return kicks;
}

/* Stats once the interrupts the daemon raised (the only device's) have
 * all reached the guest. The guest may see its last completion on the ring
 * before the daemon counted that request's interrupt, and the mock receives it
 * after; both settle within microseconds. The deadline is a failure
 * guard: a count that never matches fails the test. */
static cJSON *settled_stats(struct ct *t, uint64_t base, uint64_t *irqs)
{
	uint64_t deadline =
		stats_now_ns() + (uint64_t)FIX_TIMEOUT_MS * 1000000u;
	for (;;) {
		cJSON *r = ct_call(t, "{\"api\": 1, \"cmd\": \"stats\"}\n");
		*irqs = hvd_guest_irq_count(t->b.gd) - base;
		const cJSON *x = cJSON_GetObjectItem(r, "dispatch");
		if (ct_num(x, "interrupts") == (double)(base + *irqs) ||
		    stats_now_ns() > deadline)
			return r;
		cJSON_Delete(r);
		sched_yield();
	}
}

static void test_stats_exact(void)
{
	struct ct t;
	ct_setup(&t);
	uint64_t base = hvd_guest_irq_count(t.b.gd);
	/* blk's rings are polled (HVD_DEVICE_F_POLL_RINGS): kicks are off
	 * while the dispatch thread watches, so a guest may make none.
	 * Asleep, it is certain to need the first one. */
	CU_ASSERT_FATAL(fixture_wait_asleep(&t.b.fx) == 0);
	unsigned kicks = do_io(&t, WRITES, READS);
	uint64_t irqs;
	cJSON *r = settled_stats(&t, base, &irqs);
	CU_ASSERT(schema_valid(t.schema, "stats_reply", r));
	CU_ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(r, "counting")));
	const cJSON *dev =
		cJSON_GetArrayItem(cJSON_GetObjectItem(r, "devices"), 0);
	const cJSON *q = ct_queue0(r);
	CU_ASSERT_FATAL(q != NULL);
	/* Each request: header (out), data, status byte (in); the device
	 * reports data read + 1 status byte as written. */
	CU_ASSERT_EQUAL(ct_num(q, "requests"), WRITES + READS);
	CU_ASSERT_EQUAL(ct_num(q, "bytes_out"),
			WRITES * (HDR + WRITE_LEN) + READS * HDR);
	CU_ASSERT_EQUAL(ct_num(q, "bytes_in"),
			WRITES * 1 + READS * (READ_LEN + 1));
	/* What the guest did: kicks it wrote, interrupts it received. */
	CU_ASSERT(kicks > 0);
	CU_ASSERT_EQUAL(ct_num(q, "kicks"), kicks);
	CU_ASSERT(irqs > 0);
	/* The queue's used-buffer notifications reached the guest as
	 * interrupts, merged while its line was up (core/irqline.c); the
	 * line watch may have raised the last one again (this guest does
	 * not always ACK it). */
	const cJSON *x = cJSON_GetObjectItem(r, "dispatch");
	CU_ASSERT(ct_num(q, "interrupts") > 0);
	CU_ASSERT_EQUAL(ct_num(x, "interrupts"), base + irqs);
	CU_ASSERT_EQUAL(ct_num(q, "interrupts"),
			ct_num(x, "interrupts") +
				ct_num(x, "interrupts_merged") -
				ct_num(x, "interrupts_rearmed") -
				ct_num(x, "interrupts_after_ack"));
	CU_ASSERT_EQUAL(ct_num(q, "errors"), 0);
	CU_ASSERT_EQUAL(ct_num(q, "in_flight"), 0);
	CU_ASSERT(ct_num(q, "latency_p50_ns") > 0);
	CU_ASSERT(ct_num(q, "latency_p99_ns") >= ct_num(q, "latency_p50_ns"));
	/* The device line sums its queues. */
	CU_ASSERT_EQUAL(ct_num(dev, "requests"), WRITES + READS);
	CU_ASSERT_EQUAL(ct_num(dev, "needs_reset_events"), 0);
	cJSON_Delete(r);

	/* Filters: the device's own zone/addr, then an address with none. */
	r = ct_call(&t, "{\"api\": 1, \"cmd\": \"stats\", \"zone\": 1, "
			"\"addr\": \"0xa003c00\"}\n");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(r, "devices")),
			1);
	cJSON_Delete(r);
	r = ct_call(&t, "{\"api\": 1, \"cmd\": \"stats\", \"addr\": "
			"\"0xa003e00\"}\n");
	CU_ASSERT(schema_valid(t.schema, "stats_reply", r));
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(r, "devices")),
			0);
	cJSON_Delete(r);
	ct_teardown(&t);
}

/* The daemon-wide "dispatch" object: what the dispatch thread counted,
 * and its window's settings (the fixture's defaults). */
static void test_stats_dispatch(void)
{
	struct ct t;
	ct_setup(&t);
	uint64_t base = hvd_guest_irq_count(t.b.gd);
	unsigned kicks = do_io(&t, WRITES, READS);
	uint64_t irqs;
	cJSON_Delete(settled_stats(&t, base, &irqs));
	/* Asleep, the thread counts nothing until the next access. */
	CU_ASSERT_FATAL(fixture_wait_asleep(&t.b.fx) == 0);
	cJSON *r = ct_call(&t, "{\"api\": 1, \"cmd\": \"stats\"}\n");
	CU_ASSERT(schema_valid(t.schema, "stats_reply", r));
	const cJSON *x = cJSON_GetObjectItem(r, "dispatch");
	CU_ASSERT_FATAL(x != NULL);
	/* The reply holds the thread's own counters. */
	const struct daemon *d = t.b.fx.daemon;
	CU_ASSERT_EQUAL(
		ct_num(x, "accesses"),
		(double)__atomic_load_n(&d->requests, __ATOMIC_RELAXED));
	CU_ASSERT_EQUAL(ct_num(x, "sleeps"),
			(double)__atomic_load_n(&d->sleeps, __ATOMIC_RELAXED));
	/* Every interrupt the guest took cost it an InterruptStatus read
	 * and an InterruptACK write, beside its kicks. */
	CU_ASSERT(ct_num(x, "accesses") >= (double)(kicks + 2 * irqs));
	CU_ASSERT(ct_num(x, "interrupts") >= (double)irqs);
	CU_ASSERT(ct_num(x, "early_wakeups") <= ct_num(x, "sleeps"));
	CU_ASSERT_EQUAL(ct_num(x, "window_base_us"), 50);
	CU_ASSERT_EQUAL(ct_num(x, "window_max_us"), 1000);
	CU_ASSERT(ct_num(x, "window_us") >= 50 &&
		  ct_num(x, "window_us") <= 1000);
	cJSON_Delete(r);
	ct_teardown(&t);
}

static void test_counting_off(void)
{
	struct ct t;
	ct_setup(&t);
	unsigned kicks = do_io(&t, 1, 0);
	cJSON *r = ct_call(&t, "{\"api\": 1, \"cmd\": \"counting\", "
			       "\"on\": false}\n");
	CU_ASSERT(schema_valid(t.schema, "ok_reply", r));
	cJSON_Delete(r);
	do_io(&t, 2, 2);
	r = ct_call(&t, "{\"api\": 1, \"cmd\": \"stats\"}\n");
	CU_ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(r, "counting")));
	CU_ASSERT_EQUAL(ct_num(ct_queue0(r), "requests"), 1);
	CU_ASSERT_EQUAL(ct_num(ct_queue0(r), "kicks"), kicks);
	cJSON_Delete(r);
	cJSON_Delete(ct_call(&t, "{\"api\": 1, \"cmd\": \"counting\", "
				 "\"on\": true}\n"));
	do_io(&t, 1, 0);
	r = ct_call(&t, "{\"api\": 1, \"cmd\": \"stats\"}\n");
	CU_ASSERT_EQUAL(ct_num(ct_queue0(r), "requests"), 2);
	cJSON_Delete(r);
	ct_teardown(&t);
}

/* A ring violation counts as an error of its queue and a NEEDS_RESET
 * event of its device. */
static void test_error_counted(void)
{
	struct ct t;
	ct_setup(&t);
	uint64_t seen = hvd_guest_irq_count(t.b.gd);
	hvd_guest_vq_publish_raw(t.b.vq[0], 300); /* head beyond 256 */
	hvd_guest_vq_kick(t.b.vq[0]);
	CU_ASSERT_FATAL(hvd_guest_wait_irq(t.b.gd, seen, FIX_TIMEOUT_MS) == 0);
	CU_ASSERT(hvd_guest_status(t.b.gd) & VIRTIO_CONFIG_S_NEEDS_RESET);
	cJSON *r = ct_call(&t, "{\"api\": 1, \"cmd\": \"stats\"}\n");
	CU_ASSERT_EQUAL(ct_num(ct_queue0(r), "errors"), 1);
	CU_ASSERT_EQUAL(ct_num(ct_queue0(r), "requests"), 0);
	CU_ASSERT_EQUAL(
		ct_num(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "devices"), 0),
		       "needs_reset_events"),
		1);
	cJSON_Delete(r);
	r = ct_call(&t, "{\"api\": 1, \"cmd\": \"list\"}\n");
	CU_ASSERT(schema_valid(t.schema, "list_reply", r));
	char *text = cJSON_PrintUnformatted(r);
	CU_ASSERT(strstr(text, "\"NEEDS_RESET\"") != NULL);
	free(text);
	cJSON_Delete(r);
	ct_teardown(&t);
}

static void test_list(void)
{
	struct ct t;
	ct_setup(&t);
	cJSON *r = ct_call(&t, "{\"api\": 1, \"cmd\": \"list\"}\n");
	CU_ASSERT(schema_valid(t.schema, "list_reply", r));
	const cJSON *z = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "zones"), 0);
	CU_ASSERT_EQUAL(ct_num(z, "id"), 1);
	const cJSON *d =
		cJSON_GetArrayItem(cJSON_GetObjectItem(z, "devices"), 0);
	ASSERT_STR(cJSON_GetStringValue(cJSON_GetObjectItem(d, "type")), "blk");
	ASSERT_STR(cJSON_GetStringValue(cJSON_GetObjectItem(d, "addr")),
		   "0xa003c00");
	CU_ASSERT_EQUAL(ct_num(d, "irq"), BLK_IRQ);
	CU_ASSERT_EQUAL(ct_num(d, "device_id"), VIRTIO_ID_BLOCK);
	CU_ASSERT(((unsigned)ct_num(d, "status")) & VIRTIO_CONFIG_S_DRIVER_OK);
	char feat[24];
	snprintf(feat, sizeof feat, "0x%llx", (unsigned long long)t.b.features);
	ASSERT_STR(cJSON_GetStringValue(cJSON_GetObjectItem(d, "features")),
		   feat);
	const cJSON *q =
		cJSON_GetArrayItem(cJSON_GetObjectItem(d, "queues"), 0);
	CU_ASSERT_EQUAL(ct_num(q, "size"), 256);
	CU_ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(q, "ready")));
	cJSON_Delete(r);
	ct_teardown(&t);
}

/* Every malformed request on one connection: each gets its error, and
 * the connection keeps serving. */
static void test_bad_requests(void)
{
	static const struct {
		const char *line, *error;
	} bad[] = {
		{"not json\n", "not a JSON object"},
		{"[1, 2]\n", "not a JSON object"},
		{"{\"cmd\": \"list\"}\n", "api: missing"},
		{"{\"api\": 2, \"cmd\": \"list\"}\n", "api: 2 not supported"},
		{"{\"api\": 1}\n", "cmd: expected a string"},
		{"{\"api\": 1, \"cmd\": \"reboot\"}\n", "unknown command"},
		{"{\"api\": 1, \"cmd\": \"stats\", \"zone\": -1}\n", "zone:"},
		{"{\"api\": 1, \"cmd\": \"stats\", \"zone\": \"one\"}\n",
		 "zone:"},
		{"{\"api\": 1, \"cmd\": \"stats\", \"addr\": true}\n", "addr:"},
		{"{\"api\": 1, \"cmd\": \"counting\"}\n", "on: expected"},
	};
	struct ct t;
	ct_setup(&t);
	int fd = ct_connect(t.sock);
	CU_ASSERT_FATAL(fd >= 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CU_ASSERT_FATAL(ct_send(fd, bad[i].line) == 0);
		cJSON *r = ct_read_reply(fd);
		CU_ASSERT(ct_error_has(r, bad[i].error));
		CU_ASSERT(schema_valid(t.schema, "error_reply", r));
		cJSON_Delete(r);
	}
	/* Empty lines are skipped; the next request is served. */
	CU_ASSERT(ct_send(fd, "\n\n{\"api\": 1, \"cmd\": \"list\"}\n") == 0);
	cJSON *r = ct_read_reply(fd);
	CU_ASSERT(ct_ok(r));
	cJSON_Delete(r);
	close(fd);
	ct_teardown(&t);
}

struct flood {
	int fd;
	size_t sent;
};

static void *send_garbage(void *arg)
{
	struct flood *f = arg;
	static char junk[1 << 20];
	memset(junk, 'A', sizeof junk);
	size_t off = 0;
	while (off < sizeof junk) {
		ssize_t n = send(f->fd, junk + off, sizeof junk - off,
				 MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	f->sent = off;
	return NULL;
}

/* 1 MiB without a newline: one "too long" reply, the rest of the line
 * skipped, the connection still answers the next request. */
static void test_garbage(void)
{
	struct ct t;
	ct_setup(&t);
	struct flood f = {.fd = ct_connect(t.sock)};
	CU_ASSERT_FATAL(f.fd >= 0);
	pthread_t th;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, send_garbage, &f) == 0);
	cJSON *r = ct_read_reply(f.fd);
	CU_ASSERT(ct_error_has(r, "longer than"));
	cJSON_Delete(r);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(f.sent, 1u << 20);
	/* Meanwhile the guest's disk works. */
	do_io(&t, IO_CHECKED, 0);
	CU_ASSERT(ct_send(f.fd, "\n{\"api\": 1, \"cmd\": \"list\"}\n") == 0);
	r = ct_read_reply(f.fd);
	CU_ASSERT(ct_ok(r));
	cJSON_Delete(r);
	close(f.fd);
	ct_teardown(&t);
}

/* A client that floods requests and never reads its replies, and one
 * stuck in the middle of a line: neither stops the guest's I/O nor
 * another client. */
static void test_stuck_clients(void)
{
	struct ct t;
	ct_setup(&t);
	int flood = ct_connect(t.sock);
	CU_ASSERT_FATAL(flood >= 0);
	CU_ASSERT_FATAL(fcntl(flood, F_SETFL, O_NONBLOCK) == 0);
	static const char req[] = "{\"api\": 1, \"cmd\": \"stats\"}\n";
	size_t sent = 0;
	/* Until both socket buffers are full: the daemon stopped reading. */
	for (;;) {
		ssize_t n = send(flood, req, sizeof req - 1, MSG_NOSIGNAL);
		if (n < 0)
			break;
		sent += (size_t)n;
	}
	CU_ASSERT_EQUAL(errno, EAGAIN);
	CU_ASSERT(sent > 0);
	int half = ct_connect(t.sock);
	CU_ASSERT_FATAL(half >= 0);
	CU_ASSERT(ct_send(half, "{\"api\": 1, \"cmd\":") == 0);

	do_io(&t, IO_CHECKED, 0);
	cJSON *r = ct_call(&t, "{\"api\": 1, \"cmd\": \"stats\"}\n");
	CU_ASSERT(ct_ok(r));
	CU_ASSERT_EQUAL(ct_num(ct_queue0(r), "requests"), IO_CHECKED);
	cJSON_Delete(r);
	/* The stuck one finishes its line and is answered. */
	CU_ASSERT(ct_send(half, " \"list\"}\n") == 0);
	r = ct_read_reply(half);
	CU_ASSERT(ct_ok(r));
	cJSON_Delete(r);
	close(half);
	close(flood);
	ct_teardown(&t);
}

/* More clients than the limit: the one idle the longest makes room. */
static void test_client_limit(void)
{
	struct ct t;
	ct_setup(&t);
	int fds[CONTROL_MAX_CLIENTS + 1];
	for (unsigned i = 0; i <= CONTROL_MAX_CLIENTS; i++) {
		fds[i] = ct_connect(t.sock);
		CU_ASSERT_FATAL(fds[i] >= 0);
		/* A round trip: the daemon has accepted this one. */
		CU_ASSERT(ct_send(fds[i],
				  "{\"api\": 1, \"cmd\": \"list\"}\n") == 0);
		cJSON *r = ct_read_reply(fds[i]);
		CU_ASSERT(ct_ok(r));
		cJSON_Delete(r);
	}
	/* fds[0] was dropped: it reads EOF. */
	char c;
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	CU_ASSERT(poll(&p, 1, CTL_TIMEOUT_MS) == 1);
	CU_ASSERT(recv(fds[0], &c, 1, 0) == 0);
	for (unsigned i = 0; i <= CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
	ct_teardown(&t);
}

/* Another uid: refused by the socket's mode, and by the SO_PEERCRED check
 * when the mode is opened up. As non-root the daemon is made to believe
 * it runs as another uid, which is the same check seen from the other
 * side. */
static void test_permission(void)
{
	struct ct t;
	ct_setup(&t);
	struct stat st;
	CU_ASSERT_FATAL(stat(t.sock, &st) == 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(st.st_uid, geteuid());
	if (geteuid() == 0) {
		CU_ASSERT_FATAL(chmod(t.b.dir, 0711) == 0);
		pid_t pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			if (setresuid(65534, 65534, 65534))
				_exit(10);
			int fd = ct_connect(t.sock);
			if (fd >= 0 || errno != EACCES)
				_exit(11);
			if (chmod(t.sock, 0666) == 0)
				_exit(12); /* not ours to change */
			_exit(0);
		}
		int status;
		CU_ASSERT(waitpid(pid, &status, 0) == pid &&
			  WIFEXITED(status) && WEXITSTATUS(status) == 0);
		CU_ASSERT_FATAL(chmod(t.sock, 0666) == 0);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			if (setresuid(65534, 65534, 65534))
				_exit(10);
			int fd = ct_connect(t.sock);
			if (fd < 0 ||
			    ct_send(fd, "{\"api\": 1, \"cmd\": \"list\"}\n"))
				_exit(11);
			cJSON *r = ct_read_reply(fd);
			_exit(ct_error_has(r, "permission denied: uid 65534")
				      ? 0
				      : 12);
		}
		CU_ASSERT(waitpid(pid, &status, 0) == pid &&
			  WIFEXITED(status) && WEXITSTATUS(status) == 0);
	} else {
		control_set_owner_uid(t.b.fx.daemon->control, geteuid() + 1);
		cJSON *r = ct_call(&t, "{\"api\": 1, \"cmd\": \"list\"}\n");
		CU_ASSERT(ct_error_has(r, "permission denied"));
		cJSON_Delete(r);
	}
	CU_ASSERT(control_peer_allowed(0, 1000));
	CU_ASSERT(control_peer_allowed(1000, 1000));
	CU_ASSERT(!control_peer_allowed(1001, 1000));
	ct_teardown(&t);
}

/* A second daemon on a live socket fails; a stale socket is replaced;
 * the socket goes away with the daemon. */
static void test_socket_life(void)
{
	struct ct t;
	ct_setup(&t);
	struct fixture second = {.control_path = t.sock};
	second.mock = hvd_mock_new();
	CU_ASSERT_FATAL(second.mock != NULL);
	CU_ASSERT(fixture_start_with_mock(&second, "{\"zones\": []}") != 0);
	CU_ASSERT(second.daemon == NULL);
	hvd_mock_free(second.mock);
	/* The first still answers. */
	cJSON *r = ct_call(&t, "{\"api\": 1, \"cmd\": \"list\"}\n");
	CU_ASSERT(ct_ok(r));
	cJSON_Delete(r);
	char sock[100]; /* fits sun_path */
	snprintf(sock, sizeof sock, "%s", t.sock);
	fixture_stop(&t.b.fx);
	struct stat st;
	CU_ASSERT(stat(sock, &st) != 0 && errno == ENOENT);
	/* A stale socket file (nobody listening) is taken over. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	close(fd);
	t.b.fx.control_path = t.sock;
	CU_ASSERT_FATAL(fixture_start(&t.b.fx, "") == 0);
	r = ct_call(&t, "{\"api\": 1, \"cmd\": \"list\"}\n");
	CU_ASSERT(ct_ok(r));
	cJSON_Delete(r);
	hvd_guest_close(t.b.gd);
	t.b.gd = NULL;
	ct_teardown(&t);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"stats count exactly what the guest did", test_stats_exact},
		{"stats show the dispatch thread", test_stats_dispatch},
		{"counting can be switched off", test_counting_off},
		{"a ring violation is counted", test_error_counted},
		{"list describes the device", test_list},
		{"malformed requests get error replies", test_bad_requests},
		{"1 MiB of garbage", test_garbage},
		{"flooding and stuck clients", test_stuck_clients},
		{"client limit drops the idlest", test_client_limit},
		{"another uid is refused", test_permission},
		{"live, stale and removed socket", test_socket_life},
		{NULL, NULL},
	};
	return cunit_run("control", tests);
}
