/* SPDX-License-Identifier: MIT */
/*
 * `hvisor virtio list|stats` run as a user runs them, against an
 * in-process daemon's control socket: the three output formats, and every
 * error path with its exit code (1 refused, 2 usage).
 */
#include <sys/wait.h>

#include "ctl_guest.h"
#include "run_cmd.h"

/* The child only talks to the in-process daemon; this is a failure guard. */
#define CHILD_TIMEOUT "30"

static const char *bin(void)
{
	const char *b = getenv("HVISOR_BIN");
	return b ? b : "hvisor";
}

/* `hvisor <args>`: exit code, stdout (+ stderr unless stdout_only). */
static int hvisor(const char *args, bool stdout_only, char **out)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "timeout " CHILD_TIMEOUT " %s %s %s", bin(),
		 args, stdout_only ? "2>/dev/null" : "2>&1");
	return run_cmd(cmd, out);
}

/* `hvisor <args> --control <the test's socket>`. */
static int run(struct ct *t, const char *args_in, bool stdout_only, char **out)
{
	char args[512];
	snprintf(args, sizeof args, "%s --control %s", args_in, t->sock);
	return hvisor(args, stdout_only, out);
}

static void do_writes(struct ct *t, unsigned n)
{
	uint8_t buf[512] = {0};
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_EQUAL(
			blk_io(&t->b, VIRTIO_BLK_T_OUT, i, buf, sizeof buf),
			VIRTIO_BLK_S_OK);
}

static void test_list_text_and_json(void)
{
	struct ct t;
	ct_setup(&t);
	char *out;
	CU_ASSERT_EQUAL(run(&t, "virtio list", false, &out), 0);
	CU_ASSERT(strstr(out, "zone 1: 1 device(s)") != NULL);
	CU_ASSERT(strstr(out, "blk      0xa003c00") != NULL);
	CU_ASSERT(strstr(out, "DRIVER_OK") != NULL);
	CU_ASSERT_EQUAL(run(&t, "virtio list --json", true, &out), 0);
	cJSON *r = cJSON_Parse(out);
	CU_ASSERT(schema_valid(t.schema, "list_reply", r));
	cJSON_Delete(r);
	ct_teardown(&t);
}

static void test_stats_formats(void)
{
	struct ct t;
	ct_setup(&t);
	do_writes(&t, 7);
	char *out;
	CU_ASSERT_EQUAL(run(&t,
			    "virtio stats --json --zone 1 --addr "
			    "0xa003c00",
			    true, &out),
			0);
	cJSON *r = cJSON_Parse(out);
	CU_ASSERT(schema_valid(t.schema, "stats_reply", r));
	CU_ASSERT_EQUAL(ct_num(ct_queue0(r), "requests"), 7);
	cJSON_Delete(r);

	CU_ASSERT_EQUAL(run(&t, "virtio stats --prometheus", true, &out), 0);
	CU_ASSERT(strstr(out, "# TYPE hvisor_virtio_requests_total counter\n"
			      "hvisor_virtio_requests_total{zone=\"1\","
			      "addr=\"0xa003c00\",type=\"blk\",queue=\"0\"} "
			      "7\n") != NULL);
	CU_ASSERT(strstr(out,
			 "hvisor_virtio_needs_reset_events_total{zone="
			 "\"1\",addr=\"0xa003c00\",type=\"blk\"} 0\n") != NULL);
	CU_ASSERT(strstr(out,
			 "# TYPE hvisor_virtio_dispatch_accesses_total "
			 "counter\nhvisor_virtio_dispatch_accesses_total ") !=
		  NULL);
	CU_ASSERT(
		strstr(out, "\nhvisor_virtio_dispatch_poll_window_seconds ") !=
		NULL);

	CU_ASSERT_EQUAL(run(&t, "virtio stats", true, &out), 0);
	/* zone addr type queue requests ... */
	CU_ASSERT(strstr(out,
			 "\n1     0xa003c00    blk          0          7 ") !=
		  NULL);
	/* Unfiltered: the dispatch thread's line too. */
	CU_ASSERT(strstr(out, "\ndispatch: ") != NULL);
	CU_ASSERT(strstr(out, "poll window ") != NULL);
	/* A filter matching nothing: just the header. */
	CU_ASSERT_EQUAL(run(&t, "virtio stats --zone 9", true, &out), 0);
	CU_ASSERT(strchr(out, '\n') == out + strlen(out) - 1);
	ct_teardown(&t);
}

static void test_usage_errors(void)
{
	static const char *const bad[] = {
		"virtio list --prometheus",
		"virtio list --zone 1",
		"virtio stats --json --prometheus",
		"virtio stats --zone one",
		"virtio stats --zone -1",
		"virtio stats --zone 4294967296",
		"virtio stats --addr 0xq",
		"virtio stats --bogus",
		"virtio stats extra",
		"virtio remove",
		"virtio remove --addr 0xa003c00",
		"virtio remove --zone 1 --json",
		"virtio remove --zone x",
		"virtio add",
		"virtio add a.json b.json",
		"virtio add --json a.json",
		"virtio add --zone 1 a.json",
		"virtio list --json --control",
	};
	struct ct t;
	ct_setup(&t);
	char *out;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* The last one lacks the argument of --control: as given. */
		int rc = i + 1 < sizeof bad / sizeof bad[0]
				 ? run(&t, bad[i], false, &out)
				 : hvisor(bad[i], false, &out);
		if (rc != 2)
			fprintf(stderr, "\n  %s: exit %d\n", bad[i], rc);
		CU_ASSERT_EQUAL(rc, 2);
		CU_ASSERT(strstr(out, "usage") || strstr(out, "expected"));
	}
	ct_teardown(&t);
}

static void test_refusals(void)
{
	char *out;
	/* No daemon there. */
	CU_ASSERT_EQUAL(
		hvisor("virtio stats --control /nonexistent/sock", false, &out),
		1);
	CU_ASSERT(strstr(out, "cannot reach the daemon at /nonexistent/sock") !=
		  NULL);
	char longpath[200];
	memset(longpath, 'x', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	char args[300];
	snprintf(args, sizeof args, "virtio list --control /%s", longpath);
	CU_ASSERT_EQUAL(hvisor(args, false, &out), 1);
	CU_ASSERT(strstr(out, "path too long") != NULL);
	/* `plugins` needs no daemon. */
	CU_ASSERT_EQUAL(hvisor("virtio plugins", true, &out), 0);
	CU_ASSERT(strstr(out, "blk") != NULL);

	/* The daemon refuses: an error reply is exit 1 with its message. */
	struct ct t;
	ct_setup(&t);
	if (geteuid() == 0) {
		/* Root passes any check: run the command as nobody, with the
		 * socket's mode opened so that only SO_PEERCRED refuses. */
		CU_ASSERT_FATAL(chmod(t.b.dir, 0711) == 0);
		CU_ASSERT_FATAL(chmod(t.sock, 0666) == 0);
		snprintf(args, sizeof args,
			 "--reuid=65534 --regid=65534 --clear-groups %s virtio "
			 "list --control %s",
			 bin(), t.sock);
		char cmd[512];
		snprintf(cmd, sizeof cmd, "setpriv %s 2>&1", args);
		CU_ASSERT_EQUAL(run_cmd(cmd, &out), 1);
		CU_ASSERT(
			strstr(out, "refused: permission denied: uid 65534") !=
			NULL);
	} else {
		control_set_owner_uid(t.b.fx.daemon->control, geteuid() + 1);
		CU_ASSERT_EQUAL(run(&t, "virtio list", false, &out), 1);
		CU_ASSERT(strstr(out, "refused: permission denied") != NULL);
		control_set_owner_uid(t.b.fx.daemon->control, geteuid());
	}
	/* A peer that is not a daemon: no reply line. */
	char fake[100];
	snprintf(fake, sizeof fake, "%s/fake.sock", t.b.dir);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", fake);
	CU_ASSERT_FATAL(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
	CU_ASSERT_FATAL(listen(lfd, 1) == 0);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) { /* accept, then close without answering */
		int c = accept(lfd, NULL, NULL);
		char buf[256];
		(void)!read(c, buf, sizeof buf);
		_exit(0);
	}
	snprintf(args, sizeof args, "virtio list --control %s", fake);
	CU_ASSERT_EQUAL(hvisor(args, false, &out), 1);
	CU_ASSERT(strstr(out, "no reply from the daemon") != NULL);
	waitpid(pid, NULL, 0);
	close(lfd);
	unlink(fake);
	ct_teardown(&t);
}

static void test_remove(void)
{
	struct ct t;
	ct_setup(&t);
	char *out;
	CU_ASSERT_EQUAL(run(&t, "virtio remove --zone 9", false, &out), 1);
	CU_ASSERT(strstr(out, "refused: zone 9 has no devices") != NULL);
	CU_ASSERT_EQUAL(
		run(&t, "virtio remove --zone 1 --addr 0xa003e00", false, &out),
		1);
	CU_ASSERT(strstr(out, "no device at 0xa003e00") != NULL);
	CU_ASSERT_EQUAL(
		run(&t, "virtio remove --zone 1 --addr 0xa003c00", true, &out),
		0);
	ASSERT_STR(out, "removed 1 device(s) of zone 1\n");
	/* add: a missing file, then a file the daemon refuses. */
	CU_ASSERT_EQUAL(
		run(&t, "virtio add /nonexistent/new.json", false, &out), 1);
	CU_ASSERT(strstr(out, "/nonexistent/new.json: No such file") != NULL);
	char bad[128], args[256];
	snprintf(bad, sizeof bad, "%s/bad.json", t.b.dir);
	FILE *f = fopen(bad, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("{\"zones\": [{\"id\": 1, \"memory_region\": [], "
	      "\"devices\": [{\"type\": \"blk\"}]}]}\n",
	      f);
	fclose(f);
	snprintf(args, sizeof args, "virtio add %s", bad);
	CU_ASSERT_EQUAL(run(&t, args, false, &out), 1);
	CU_ASSERT(strstr(out, "refused: zones[0].") != NULL);
	unlink(bad);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(t.b.gd, VIRTIO_MMIO_DEVICE_ID), 0);
	CU_ASSERT_EQUAL(run(&t, "virtio list", true, &out), 0);
	CU_ASSERT(strstr(out, "zone 1: 0 device(s)") != NULL);
	ct_teardown(&t);
}

/* `virtio start --control` on a live socket refuses to start. */
static void test_start_on_live_socket(void)
{
	struct ct t;
	ct_setup(&t);
	char cfg[128];
	snprintf(cfg, sizeof cfg, "%s/virtio.json", t.b.dir);
	FILE *f = fopen(cfg, "w");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "{\"zones\": [{\"id\": 1, \"memory_region\": [{"
		   "\"zone0_ipa\": \"0x50000000\", \"zonex_ipa\": "
		   "\"0x50000000\", \"size\": \"0x1000000\"}], \"devices\": "
		   "[{\"type\": \"rng\", \"addr\": \"0xa003e00\", \"len\": "
		   "\"0x200\", \"irq\": 78}]}]}\n");
	fclose(f);
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(
		hvd_mock_add_ram(m, 1, 0x50000000, 0x50000000, 0x1000000) == 0);
	char log[128];
	snprintf(log, sizeof log, "%s/start.log", t.b.dir);
	char *argv[] = {(char *)bin(), "virtio", "start", "--foreground",
			"--control",   t.sock,   cfg,     NULL};
	CU_ASSERT_FATAL(hvd_mock_spawn(m, argv, log) == 0);
	int status = 0;
	/* It exits by itself (no signal; the timeout is a failure guard). */
	CU_ASSERT(hvd_mock_stop_child(m, 0, FIX_TIMEOUT_MS, &status) == 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	hvd_mock_free(m);
	f = fopen(log, "r");
	char text[4096] = "";
	if (f) {
		text[fread(text, 1, sizeof text - 1, f)] = '\0';
		fclose(f);
	}
	CU_ASSERT(strstr(text, "error: control socket") != NULL);
	CU_ASSERT(strstr(text, "another daemon is serving it") != NULL);
	unlink(log);
	unlink(cfg);
	ct_teardown(&t);
}

/* `hvisor-sim --hold` as the README shows it: the socket it prints answers
 * list and stats, and SIGINT ends it cleanly. */
static void test_sim_hold(void)
{
	int fds[2];
	CU_ASSERT_FATAL(pipe(fds) == 0);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		const char *sim = getenv("HVISOR_SIM_BIN");
		execl(sim, sim, "--hold", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	CU_ASSERT_FATAL(f != NULL);
	char line[512], sock[256] = "";
	/* Ends at the line, or at EOF if the sim failed before it. */
	while (!sock[0] && fgets(line, sizeof line, f))
		if (sscanf(line, "control socket: %255s", sock) != 1)
			sock[0] = '\0';
	CU_ASSERT_FATAL(sock[0] != '\0');
	char args[512], *out;
	snprintf(args, sizeof args, "virtio list --control %s", sock);
	CU_ASSERT_EQUAL(hvisor(args, true, &out), 0);
	CU_ASSERT(strstr(out, "zone 1: 4 device(s)") != NULL);
	snprintf(args, sizeof args, "virtio stats --prometheus --control %s",
		 sock);
	CU_ASSERT_EQUAL(hvisor(args, true, &out), 0);
	/* The demo's blk requests are counted. */
	CU_ASSERT(strstr(out,
			 "hvisor_virtio_requests_total{zone=\"1\","
			 "addr=\"0xa003c00\",type=\"blk\",queue=\"0\"} ") !=
		  NULL);
	CU_ASSERT(kill(pid, SIGINT) == 0);
	while (fgets(line, sizeof line, f))
		; /* the rest of its report, up to EOF */
	fclose(f);
	int status;
	CU_ASSERT(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"list as text and JSON", test_list_text_and_json},
		{"stats as JSON, Prometheus and text", test_stats_formats},
		{"usage errors exit 2", test_usage_errors},
		{"refusals exit 1", test_refusals},
		{"remove", test_remove},
		{"start on a live socket fails", test_start_on_live_socket},
		{"hvisor-sim --hold", test_sim_hold},
		{NULL, NULL},
	};
	return cunit_run("control_cli", tests);
}
