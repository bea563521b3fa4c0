/* SPDX-License-Identifier: MIT */
/*
 * Fail fast (issue 20): a plugin test that fails must fail in seconds and
 * leave nothing behind. The daemon exits when its mock goes away; a child
 * spawned by the harness dies with the test; a test that exits without
 * hvd_mock_free still has its child killed and its directory removed.
 * (Guest waits ending at NEEDS_RESET: test_malformed.c.) Timeouts here
 * are failure guards only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_main.h"
#include "hvd/mock.h"

#define GUARD_MS 20000

extern char **environ;

static char tmpdir[64];

/* waitpid(pid) with a failure guard: 0 with *status, or -ETIMEDOUT after
 * killing it (so that a failing test still leaves no process). */
static int wait_guarded(pid_t pid, int *status)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int n = poll(&p, 1, GUARD_MS);
		close(pidfd);
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return -ETIMEDOUT;
		}
	}
	return waitpid(pid, status, 0) == pid ? 0 : -errno;
}

/* Zone 1 with 16 MiB of RAM at 0x50000000 and an rng device. */
static void write_rng_config(const char *path)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
	      "\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
	      "\"0x1000000\"}], \"devices\": [{\"type\": \"rng\", \"addr\": "
	      "\"0xa003e00\", \"len\": \"0x200\", \"irq\": 78}]}]}\n",
	      f);
	fclose(f);
}

/* Read from fd into buf (NUL-terminated, appended) until `needle` shows or
 * the writer closes; false when it never showed (or the guard ran out). */
static bool read_until(int fd, char *buf, size_t size, const char *needle)
{
	size_t len = strlen(buf);
	while (!strstr(buf, needle) && len + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, GUARD_MS) != 1)
			return false;
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return strstr(buf, needle) != NULL;
}

/* Spawn argv with stdout (out_fd 1) or stderr (2) into a pipe. */
static pid_t spawn_piped(char *const argv[], int out_fd, int *read_end)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], out_fd);
	pid_t pid;
	int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (err) {
		close(p[0]);
		return -1;
	}
	*read_end = p[0];
	return pid;
}

/* The daemon serving `cfg` through the mock at `sock`, its stderr into
 * a pipe (*err_fd). */
static pid_t spawn_daemon(const char *sock, const char *cfg, int *err_fd)
{
	const char *bin = getenv("HVISOR_BIN");
	const char *plugins = getenv("HVISOR_TEST_PLUGIN_DIR");
	if (!bin || !plugins)
		return -1;
	char *const argv[] = {(char *)bin,
			      "virtio",
			      "start",
			      "--foreground",
			      "--no-control",
			      "--plugin-dir",
			      (char *)plugins,
			      "--mock",
			      (char *)sock,
			      (char *)cfg,
			      NULL};
	return spawn_piped(argv, STDERR_FILENO, err_fd);
}

/* The real daemon, started by hand (not hvd_mock_spawn, whose child would
 * be stopped by hvd_mock_free): freeing the mock closes its connection,
 * and the daemon must notice, say so and exit non-zero by itself. */
static void test_daemon_exits_when_mock_goes_away(void)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(
		hvd_mock_add_ram(m, 1, 0x50000000, 0x50000000, 0x1000000), 0);
	char cfg[128];
	snprintf(cfg, sizeof cfg, "%s/virtio.json", tmpdir);
	write_rng_config(cfg);
	int err_fd = -1;
	pid_t pid = spawn_daemon(hvd_mock_socket_path(m), cfg, &err_fd);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(hvd_mock_wait_ready(m, GUARD_MS), 0);

	hvd_mock_free(m);
	int st = 0;
	CU_ASSERT_EQUAL(wait_guarded(pid, &st), 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	static char log[16384];
	log[0] = '\0';
	bool said =
		read_until(err_fd, log, sizeof log, "closed the connection");
	if (!said)
		fprintf(stderr, "\n  daemon log:\n%s\n", log);
	CU_ASSERT(said);
	close(err_fd);
	unlink(cfg);
}

/* The installed stand-alone mock serves a virtio.json's zones to a daemon
 * started by hand; when it stops, the daemon stops too. */
static void test_hvisor_mock_tool(void)
{
	const char *tool = getenv("HVISOR_MOCK_BIN");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tool);
	char cfg[128];
	snprintf(cfg, sizeof cfg, "%s/tool.json", tmpdir);
	write_rng_config(cfg);

	int mock_out = -1, daemon_err = -1;
	char *const mock_argv[] = {(char *)tool, cfg, NULL};
	pid_t mock = spawn_piped(mock_argv, STDOUT_FILENO, &mock_out);
	CU_ASSERT_FATAL(mock > 0);
	char line[512] = "";
	CU_ASSERT_FATAL(read_until(mock_out, line, sizeof line, "\n"));
	CU_ASSERT_EQUAL_FATAL(strncmp(line, "HVISOR_MOCK=/", 13), 0);
	*strchr(line, '\n') = '\0';

	pid_t daemon = spawn_daemon(line + 12, cfg, &daemon_err);
	CU_ASSERT_FATAL(daemon > 0);
	static char log[16384];
	log[0] = '\0';
	bool serving = read_until(daemon_err, log, sizeof log,
				  "serving 1 device(s) in 1 zone(s)");
	if (!serving)
		fprintf(stderr, "\n  daemon log:\n%s\n", log);
	CU_ASSERT(serving);

	int st = 0;
	CU_ASSERT_EQUAL(kill(mock, SIGTERM), 0);
	CU_ASSERT_EQUAL(wait_guarded(mock, &st), 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL(wait_guarded(daemon, &st), 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	CU_ASSERT(read_until(daemon_err, log, sizeof log,
			     "closed the connection"));
	close(mock_out);
	close(daemon_err);
	unlink(cfg);
}

struct orphan {
	pid_t child;    /* the harness's child (a sleep) */
	char dir[108];  /* the mock's socket directory */
	char sock[108]; /* and its socket */
};

/* In a forked test process: a mock with a spawned child, then the test
 * process ends without hvd_mock_free, through exit() (a failed test that
 * returns from main) or _exit() (killed: no atexit). */
static void run_orphaned(bool clean_exit, struct orphan *o)
{
	int pfd[2];
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	pid_t test = fork();
	CU_ASSERT_FATAL(test >= 0);
	if (test == 0) {
		close(pfd[0]);
		struct hvd_mock *m = hvd_mock_new();
		char *const sleeper[] = {"/bin/sleep", "60", NULL};
		struct orphan me = {0};
		if (!m || hvd_mock_spawn(m, sleeper, NULL) < 0)
			_exit(2);
		me.child = hvd_mock_child(m);
		snprintf(me.sock, sizeof me.sock, "%s",
			 hvd_mock_socket_path(m));
		snprintf(me.dir, sizeof me.dir, "%s", me.sock);
		*strrchr(me.dir, '/') = '\0';
		if (write(pfd[1], &me, sizeof me) != sizeof me)
			_exit(3);
		if (clean_exit)
			exit(1);
		_exit(1);
	}
	close(pfd[1]);
	memset(o, 0, sizeof *o);
	CU_ASSERT_EQUAL(read(pfd[0], o, sizeof *o), (ssize_t)sizeof *o);
	close(pfd[0]);
	int st = 0;
	CU_ASSERT_EQUAL(wait_guarded(test, &st), 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

/* Killed without any cleanup of its own: PR_SET_PDEATHSIG kills the
 * child. We are a subreaper, so the orphan comes to us to be reaped. */
static void test_child_dies_with_test(void)
{
	CU_ASSERT_EQUAL_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	struct orphan o;
	run_orphaned(false, &o);
	CU_ASSERT_FATAL(o.child > 0);
	int st = 0;
	CU_ASSERT_EQUAL(wait_guarded(o.child, &st), 0);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* Nothing ran in the test process to remove these. */
	unlink(o.sock);
	rmdir(o.dir);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* exit() without hvd_mock_free: the harness's exit handler has killed and
 * reaped the child (so it never came to us, the subreaper) and removed
 * the socket and its directory. */
static void test_exit_without_free_cleans_up(void)
{
	CU_ASSERT_EQUAL_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	struct orphan o;
	run_orphaned(true, &o);
	CU_ASSERT_FATAL(o.child > 0);
	int st = 0;
	pid_t r = waitpid(o.child, &st, WNOHANG);
	CU_ASSERT(r < 0 && errno == ECHILD);
	if (r == 0) /* still alive: ours now; leave nothing behind */
		wait_guarded(o.child, &st);
	struct stat sb;
	CU_ASSERT(stat(o.dir, &sb) < 0 && errno == ENOENT);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/hvd-failfast-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	static const struct cunit_test tests[] = {
		{"daemon_exits_when_mock_goes_away",
		 test_daemon_exits_when_mock_goes_away},
		{"child_dies_with_test", test_child_dies_with_test},
		{"exit_without_free_cleans_up",
		 test_exit_without_free_cleans_up},
		{"hvisor_mock_tool", test_hvisor_mock_tool},
		{NULL, NULL},
	};
	int rc = cunit_run("failfast", tests);
	rmdir(tmpdir);
	return rc;
}
