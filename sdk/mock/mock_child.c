/* SPDX-License-Identifier: MIT */
/*
 * The daemon as a child process of the harness: spawn it with HVISOR_MOCK
 * pointing at the mock's socket, stop it with a signal and a timeout.
 * Its life is tied to the test's: it gets SIGKILL when the test dies
 * (PR_SET_PDEATHSIG), and a test that exits without hvd_mock_free kills
 * it and removes the mock's directory at exit (mock_live_*).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mock_internal.h"

extern char **environ;

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hvd_mock *live;
static pthread_once_t live_once = PTHREAD_ONCE_INIT;

/* At exit, whatever a failed test left: no daemon keeps the test's pipes
 * open, no directory stays in $TMPDIR. The mocks' threads still run, so
 * only the child and the files are touched. */
static void live_cleanup(void)
{
	pthread_mutex_lock(&live_lock);
	for (struct hvd_mock *m = live; m; m = m->live_next) {
		pid_t pid = m->child;
		if (pid > 0 && kill(pid, SIGKILL) == 0)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		if (m->sock_path[0])
			unlink(m->sock_path);
		if (m->dir[0])
			rmdir(m->dir);
	}
	pthread_mutex_unlock(&live_lock);
}

static void live_init(void)
{
	atexit(live_cleanup);
}

void mock_live_add(struct hvd_mock *m)
{
	pthread_once(&live_once, live_init);
	pthread_mutex_lock(&live_lock);
	m->live_next = live;
	live = m;
	pthread_mutex_unlock(&live_lock);
}

void mock_live_remove(struct hvd_mock *m)
{
	pthread_mutex_lock(&live_lock);
	for (struct hvd_mock **p = &live; *p; p = &(*p)->live_next)
		if (*p == m) {
			*p = m->live_next;
			break;
		}
	pthread_mutex_unlock(&live_lock);
}

static char **child_env(const char *sock_path)
{
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	size_t plen = strlen(HVISOR_MOCK_ENV_PREFIX);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], HVISOR_MOCK_ENV_PREFIX, plen) != 0)
			env[k++] = environ[i];
	size_t len = plen + strlen(sock_path) + 1;
	char *mine = malloc(len);
	if (!mine) {
		free(env);
		return NULL;
	}
	snprintf(mine, len, "%s%s", HVISOR_MOCK_ENV_PREFIX, sock_path);
	env[k++] = mine;
	env[k] = NULL;
	return env;
}

static void child_env_free(char **env)
{
	if (!env)
		return;
	size_t k = 0;
	while (env[k])
		k++;
	free(env[k - 1]); /* ours is last */
	free(env);
}

HVD_API int hvd_mock_spawn(struct hvd_mock *m, char *const argv[],
			   const char *log_path)
{
	if (!m || !argv || !argv[0])
		return -EINVAL;
	if (m->child > 0)
		return -EBUSY;
	char **env = child_env(m->sock_path);
	if (!env)
		return -ENOMEM;
	int logfd = -1, pipefd[2] = {-1, -1}, rc = 0;
	if (log_path) {
		logfd = open(log_path,
			     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (logfd < 0) {
			rc = -errno;
			goto out;
		}
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls until exec. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Dies with the thread that spawned it; if that already
		 * happened, do not start at all. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			goto fail;
		if (logfd >= 0 && dup2(logfd, STDERR_FILENO) < 0)
			goto fail;
		execve(argv[0], argv, env);
	fail:;
		int e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	int e = 0;
	ssize_t n;
	do {
		n = read(pipefd[0], &e, sizeof(e));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		/* exec failed: reap the child and report why */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		rc = -(e ? e : ENOEXEC);
		goto out;
	}
	m->child = pid;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (logfd >= 0)
		close(logfd);
	child_env_free(env);
	return rc;
}

HVD_API pid_t hvd_mock_child(const struct hvd_mock *m)
{
	return m ? m->child : 0;
}

/* waitpid with a timeout: poll a pidfd for the exit, else (kernels before
 * 5.3) re-check every millisecond. */
static int wait_child(pid_t pid, int timeout_ms, int *status)
{
	struct timespec deadline;
	mock_deadline(&deadline, timeout_ms);
	int pidfd = -1;
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	int rc;
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid) {
			rc = 0;
			break;
		}
		if (r < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		int left = mock_remaining_ms(&deadline, timeout_ms);
		if (left == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			poll(&p, 1, left);
		} else {
			struct timespec ms = {.tv_nsec = 1000000};
			nanosleep(&ms, NULL);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

HVD_API int hvd_mock_stop_child(struct hvd_mock *m, int sig, int timeout_ms,
				int *status)
{
	if (!m)
		return -EINVAL;
	pid_t pid = m->child;
	if (pid <= 0)
		return -ECHILD;
	if (sig && kill(pid, sig) < 0 && errno != ESRCH)
		return -errno;
	int st = 0;
	int rc = wait_child(pid, timeout_ms, &st);
	if (rc == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	m->child = 0;
	if (status)
		*status = st;
	return rc;
}
