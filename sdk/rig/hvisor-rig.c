/* SPDX-License-Identifier: MIT */
/*
 * hvisor-rig: runs a real Linux guest in QEMU against the real daemon and
 * plugins, with the rig playing hvisor in between. Usage and the guest side
 * are in docs/real-guest-rig.md.
 *
 *   QEMU guest --(proxy: BAR0 accesses)--> rig --(bridge)--> hvisor daemon
 *   QEMU guest <--(ivshmem MSI-X vector)-- rig <--(res_list)-- daemon
 *   guest RAM: QEMU's memfd --(SYNC_SYSMEM)--> rig --(mock port)--> daemon
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rig.h"

#define DAEMON_READY_MS 15000 /* failure guard: the daemon's startup */
#define DAEMON_STOP_MS  5000
#define EXIT_TIMEOUT    124
/* Accesses the daemon left unanswered (each after the proxy's own timeout)
 * before the rig gives up on it instead of letting the guest crawl on. */
#define MAX_UNANSWERED 3

struct rig {
	struct rig_config cfg;
	const char *config_path;
	const char *hvisor;
	const char *plugin_dir;
	const char *daemon_log;
	struct hvd_mock *mock;
	struct rig_ivshmem *ivshmem;
	bool daemon_up;
	uint64_t irqs; /* atomic */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvisor-rig [options] VIRTIO_JSON [-- QEMU_ARGS...]\n"
		"Boots a QEMU guest whose virtio-mmio devices are served by\n"
		"`hvisor virtio start VIRTIO_JSON` through the rig.\n"
		"  --hvisor BIN       the daemon (default: this build's)\n"
		"  --plugin-dir DIR   passed to the daemon (default: the\n"
		"                     build's plugins via HVISOR_PLUGIN_PATH)\n"
		"  --daemon-log FILE  the daemon's stderr (default: ours)\n"
		"  --qemu BIN         default qemu-system-x86_64\n"
		"  --timeout SEC      kill the guest after SEC seconds (exit "
		"124)\n"
		"  --verbose          log every register access\n"
		"QEMU_ARGS typically: -kernel K -initrd I -append '...'\n");
}

/* The daemon's CPU time so far (all its threads), from /proc: what its
 * waiting costs beside the guest's time (docs/real-guest-rig.md). */
static void print_daemon_cpu(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = pid > 0 ? fopen(path, "r") : NULL;
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	/* Fields after the ")" closing the command name: state is the 3rd
	 * field, utime and stime the 14th and 15th. */
	const char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	if (!p || sscanf(p + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %llu %llu",
			 &ut, &st) != 2)
		return;
	long hz = sysconf(_SC_CLK_TCK);
	fprintf(stderr, "hvisor-rig: the daemon used %.2f s of CPU\n",
		(double)(ut + st) / (double)(hz > 0 ? hz : 100));
}

/* Every injected interrupt becomes MSI-X vector 0 of the ivshmem device:
 * the guest module routes it to all virtio-mmio devices. */
static void on_irq(void *ctx, uint32_t zone, uint32_t irq)
{
	struct rig *r = ctx;
	__atomic_fetch_add(&r->irqs, 1, __ATOMIC_RELAXED);
	rig_ivshmem_ring(r->ivshmem);
}

/* Guest RAM is known: now the daemon can map it. */
static int start_daemon(void *ctx)
{
	struct rig *r = ctx;
	/* RIG_CONTROL: the daemon's control socket, for host checks that
	 * add and remove devices (tests/rig/hotplug.*); else none. */
	const char *control = getenv("RIG_CONTROL");
	char control_opt[320];
	snprintf(control_opt, sizeof control_opt, "--control=%s",
		 control ? control : "");
	char *argv[] = {(char *)r->hvisor,
			"virtio",
			"start",
			"--foreground",
			control ? control_opt : "--no-control",
			(char *)r->config_path,
			r->plugin_dir ? "--plugin-dir" : NULL,
			(char *)r->plugin_dir,
			NULL};
	int rc = hvd_mock_spawn(r->mock, argv, r->daemon_log);
	if (rc == 0)
		rc = hvd_mock_wait_ready(r->mock, DAEMON_READY_MS);
	if (rc < 0) {
		fprintf(stderr, "hvisor-rig: daemon %s did not come up: %s\n",
			r->hvisor, strerror(-rc));
		return rc;
	}
	r->daemon_up = true;
	fprintf(stderr, "hvisor-rig: daemon ready (pid %d), %u window(s)\n",
		(int)hvd_mock_child(r->mock), r->cfg.windows);
	/* QEMU realizes the doorbell (and connects) before it shares RAM. */
	if (!rig_ivshmem_connected(r->ivshmem))
		fprintf(stderr, "hvisor-rig: warning: QEMU's ivshmem-doorbell "
				"is not connected: the guest will get no "
				"interrupts\n");
	return 0;
}

static void add_arg(char **argv, unsigned *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_arg(char **argv, unsigned *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&argv[*n], fmt, ap) < 0) {
		perror("hvisor-rig");
		exit(EXIT_FAILURE);
	}
	va_end(ap);
	(*n)++;
}

/* QEMU with our proxy device and ivshmem doorbell; `qemu_fd` becomes its
 * proxy socket. Returns the pid or -1. */
static pid_t spawn_qemu(struct rig *r, const char *qemu, int qemu_fd,
			const char *ivshmem_path, char **extra,
			unsigned extra_count)
{
	unsigned mib = (unsigned)(r->cfg.ram_size >> 20);
	char **argv = calloc(32 + extra_count, sizeof(*argv));
	if (!argv)
		return -1;
	unsigned n = 0;
	/* No NIC: the guest's network is the daemon's virtio-net. */
	static const char *const fixed[] = {"-accel",     "tcg",  "-nographic",
					    "-no-reboot", "-nic", "none"};
	argv[n++] = strdup(qemu);
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = strdup(fixed[i]);
	add_arg(argv, &n, "-m");
	add_arg(argv, &n, "%uM", mib);
	/* A shared memfd: the only guest RAM the proxy can share. */
	add_arg(argv, &n, "-object");
	add_arg(argv, &n, "memory-backend-memfd,id=rig-ram,size=%uM,share=on",
		mib);
	add_arg(argv, &n, "-machine");
	add_arg(argv, &n, "pc,memory-backend=rig-ram");
	add_arg(argv, &n, "-chardev");
	add_arg(argv, &n, "socket,id=rig-ivshmem,path=%s", ivshmem_path);
	add_arg(argv, &n, "-device");
	add_arg(argv, &n, "ivshmem-doorbell,chardev=rig-ivshmem,vectors=1");
	add_arg(argv, &n, "-device");
	add_arg(argv, &n, "x-pci-proxy-dev,id=rig-proxy,fd=%d", qemu_fd);
	for (unsigned i = 0; i < extra_count; i++)
		argv[n++] = strdup(extra[i]);
	argv[n] = NULL;
	for (unsigned i = 0; i < n; i++)
		if (!argv[i]) {
			perror("hvisor-rig");
			exit(EXIT_FAILURE);
		}

	pid_t pid = fork();
	if (pid == 0) {
		/* QEMU inherits exactly its end of the proxy socket. */
		int fl = fcntl(qemu_fd, F_GETFD);
		fcntl(qemu_fd, F_SETFD, fl & ~FD_CLOEXEC);
		execvp(argv[0], argv);
		fprintf(stderr, "hvisor-rig: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	for (unsigned i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	return pid;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Serves QEMU until it closes the proxy socket or the deadline passes. */
static int serve(struct rig_proxy *p, int timeout_s, bool *timed_out)
{
	int64_t deadline = timeout_s > 0 ? now_ms() + timeout_s * 1000LL : 0;
	for (;;) {
		int wait = -1;
		if (deadline) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				*timed_out = true;
				return 0;
			}
			wait = left > 1000 ? 1000 : (int)left;
		}
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		int n = poll(&pfd, 1, wait);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			continue;
		int rc = rig_proxy_serve_one(p);
		if (rc <= 0)
			return rc;
		if (p->timeouts >= MAX_UNANSWERED) {
			fprintf(stderr, "hvisor-rig: the daemon stopped "
					"answering: stopping the guest\n");
			return -ETIMEDOUT;
		}
	}
}

int main(int argc, char **argv)
{
	struct rig r = {.hvisor = HVISOR_BUILD_BIN};
	const char *qemu = "qemu-system-x86_64";
	int timeout_s = 0;
	bool verbose = false;
	static const struct option opts[] = {
		{"hvisor", required_argument, NULL, 'b'},
		{"plugin-dir", required_argument, NULL, 'p'},
		{"daemon-log", required_argument, NULL, 'l'},
		{"qemu", required_argument, NULL, 'q'},
		{"timeout", required_argument, NULL, 't'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			r.hvisor = optarg;
			break;
		case 'p':
			r.plugin_dir = optarg;
			break;
		case 'l':
			r.daemon_log = optarg;
			break;
		case 'q':
			qemu = optarg;
			break;
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	r.config_path = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (rig_config_load(r.config_path, &r.cfg) < 0)
		return EXIT_FAILURE;
	/* Without --plugin-dir the daemon finds this build's plugins, as an
	 * installed daemon finds its own (unless the caller chose a path). */
	if (!r.plugin_dir)
		setenv("HVISOR_PLUGIN_PATH", HVISOR_BUILD_PLUGIN_PATH, 0);
	/* A peer that goes away must give us EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	r.mock = hvd_mock_new();
	if (!r.mock) {
		perror("hvisor-rig: mock");
		return EXIT_FAILURE;
	}
	char dir[] = "/tmp/hvisor-rig-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("hvisor-rig: temp dir");
		return EXIT_FAILURE;
	}
	char ivshmem_path[sizeof(dir) + 16];
	snprintf(ivshmem_path, sizeof(ivshmem_path), "%s/ivshmem", dir);
	r.ivshmem = rig_ivshmem_start(ivshmem_path);
	int sv[2];
	if (!r.ivshmem ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("hvisor-rig: sockets");
		return EXIT_FAILURE;
	}
	hvd_mock_set_irq_callback(r.mock, on_irq, &r);

	pid_t qpid = spawn_qemu(&r, qemu, sv[1], ivshmem_path, argv + optind,
				(unsigned)(argc - optind));
	close(sv[1]);
	if (qpid < 0) {
		perror("hvisor-rig: fork");
		return EXIT_FAILURE;
	}
	struct rig_proxy proxy;
	rig_proxy_init(&proxy, sv[0], &r.cfg, r.mock);
	proxy.verbose = verbose;
	proxy.on_ram_ready = start_daemon;
	proxy.ctx = &r;

	bool timed_out = false;
	int serve_rc = serve(&proxy, timeout_s, &timed_out);
	if (timed_out || serve_rc < 0) {
		if (timed_out)
			fprintf(stderr,
				"hvisor-rig: guest still running after %d s: "
				"killing QEMU\n",
				timeout_s);
		kill(qpid, SIGKILL);
	}
	close(sv[0]);
	int qstatus = 0;
	while (waitpid(qpid, &qstatus, 0) < 0 && errno == EINTR)
		;

	int dstatus = 0;
	bool daemon_clean = true;
	if (r.daemon_up) {
		print_daemon_cpu(hvd_mock_child(r.mock));
		int rc = hvd_mock_stop_child(r.mock, SIGTERM, DAEMON_STOP_MS,
					     &dstatus);
		daemon_clean = rc == 0 && WIFEXITED(dstatus) &&
			       WEXITSTATUS(dstatus) == 0;
	}
	fprintf(stderr,
		"hvisor-rig: QEMU %s %d; %llu BAR accesses (%llu not "
		"completed), %llu RAM syncs, %llu interrupts; daemon %s\n",
		WIFEXITED(qstatus) ? "exit" : "signal",
		WIFEXITED(qstatus) ? WEXITSTATUS(qstatus) : WTERMSIG(qstatus),
		(unsigned long long)proxy.bar_accesses,
		(unsigned long long)proxy.timeouts,
		(unsigned long long)proxy.syncs,
		(unsigned long long)__atomic_load_n(&r.irqs, __ATOMIC_RELAXED),
		!r.daemon_up   ? "never started"
		: daemon_clean ? "exited 0 on SIGTERM"
			       : "did NOT exit cleanly");
	rig_proxy_print_latency(&proxy, stderr);
	fprintf(stderr, "hvisor-rig: the daemon was woken %llu times\n",
		(unsigned long long)hvd_mock_wakeups(r.mock));
	hvd_mock_set_irq_callback(r.mock, NULL, NULL);
	hvd_mock_free(r.mock);
	rig_ivshmem_stop(r.ivshmem);
	rmdir(dir);

	if (timed_out)
		return EXIT_TIMEOUT;
	bool ok = serve_rc == 0 && WIFEXITED(qstatus) &&
		  WEXITSTATUS(qstatus) == 0 && r.daemon_up && daemon_clean &&
		  proxy.timeouts == 0;
	return ok ? 0 : EXIT_FAILURE;
}
