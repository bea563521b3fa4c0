/* SPDX-License-Identifier: MIT */
/* Clocks and /proc readings shared by the benchmark programs. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "hvd/mock.h"

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double now_s(void)
{
	return (double)now_ns() / 1e9;
}

/* utime + stime of a process in clock ticks, or -1. */
static inline long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof buf, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	/* The command may hold spaces: fields count from the last ')'. */
	char *p = strrchr(buf, ')');
	long utime = 0, stime = 0;
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%ld %ld",
			 &utime, &stime) != 2)
		return -1;
	return utime + stime;
}

/* A "Key:   N kB" line of /proc/<pid>/<file>, or -1. */
static inline long proc_field(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	FILE *f = fopen(path, "r");
	long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* The one-rng-device virtio JSON of the register benchmarks (zone 1, RAM
 * at 0x50000000, device at 0xa003e00, irq 78), written to a temporary file
 * made from `path` (a mkstemp template). 0 or -1. */
static inline int bench_rng_config(char *path)
{
	static const char text[] =
		"{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		"\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		"\"0x4000000\"}], \"devices\": [{\"type\": \"rng\", \"addr\": "
		"\"0xa003e00\", \"len\": \"0x200\", \"irq\": 78}]}]}";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, sizeof text - 1);
	close(fd);
	return n == (ssize_t)(sizeof text - 1) ? 0 : -1;
}

/* The guest model of a benchmark: Linux-like unless `--polling` is among
 * the arguments (removed from argv then). */
static inline enum hvd_guest_model bench_guest_model(int *argc, char **argv)
{
	enum hvd_guest_model model = HVD_GUEST_LINUX;
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--polling") == 0)
			model = HVD_GUEST_POLLING;
		else
			argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	return model;
}

static inline const char *bench_model_label(enum hvd_guest_model model)
{
	return model == HVD_GUEST_LINUX
		       ? "Linux-like guest (completion on interrupt, "
			 "InterruptStatus+ACK per interrupt, Linux 6.1 "
			 "features)"
		       : "POLLING guest (watches the used ring 50 us before "
			 "sleeping; not what Linux does)";
}

/* A mock hypervisor with zone 1 RAM at ram_base (same address for zone 0
 * and the guest) and the real daemon serving `cfg` as its child; plugins
 * from `plugins` (NULL: HVISOR_PLUGIN_PATH); `extra` (NULL: none) is one
 * more daemon option. NULL after a message. */
static inline struct hvd_mock *bench_start_daemon_with(
	const char *who, const char *hvisor, const char *plugins,
	const char *cfg, uint64_t ram_base, uint64_t ram_size,
	const char *extra)
{
	struct hvd_mock *m = hvd_mock_new();
	if (!m || hvd_mock_add_ram(m, 1, ram_base, ram_base, ram_size)) {
		fprintf(stderr, "%s: mock hypervisor setup failed\n", who);
		hvd_mock_free(m);
		return NULL;
	}
	char *child[] = {(char *)hvisor, "virtio", "start",
			 "--log-level",  "warn",   "--foreground",
			 (char *)cfg,    NULL,     NULL,
			 NULL,           NULL,     NULL};
	unsigned n = 7;
	if (plugins) {
		child[n++] = "--plugin-dir";
		child[n++] = (char *)plugins;
	}
	if (extra)
		child[n++] = (char *)extra;
	/* No control socket unless asked: the default path belongs to
	 * whatever daemon the machine runs, not to a benchmark's. */
	if (!extra || strncmp(extra, "--control", 9) != 0)
		child[n++] = "--no-control";
	if (hvd_mock_spawn(m, child, NULL) || hvd_mock_wait_ready(m, 5000)) {
		fprintf(stderr, "%s: daemon did not start\n", who);
		hvd_mock_free(m);
		return NULL;
	}
	return m;
}

/* With two daemons up (ours and hvisor-tool's), only the one measured runs:
 * the other is stopped, so that one's polling after its slice (hvisor-tool
 * spins 10^7 empty looks before it sleeps) cannot take the cores from the
 * other's slice. Resume both before they are told to exit. */
static inline void bench_hold(pid_t pid, bool hold)
{
	if (pid > 0)
		kill(pid, hold ? SIGSTOP : SIGCONT);
}

/* Close the guest driver, stop the daemon (resumed first if held) and free
 * its mock. */
static inline void bench_stop(struct hvd_mock *m, struct hvd_guest_dev *gd,
			      pid_t pid)
{
	int status;
	bench_hold(pid, false);
	hvd_guest_close(gd);
	hvd_mock_stop_child(m, SIGTERM, 5000, &status);
	hvd_mock_free(m);
}

/* The feature bits Linux's driver would use (`want`) that a device did not
 * offer (`got`), on one line: named from `names` (the device type's bits,
 * NULL entries unnamed) or as transport bits. */
static inline void bench_missing_features(const char *who, const char *label,
					  uint64_t want, uint64_t got,
					  const char *const names[64])
{
	static const char *const transport[64] = {
		[28] = "INDIRECT_DESC", [29] = "EVENT_IDX",
		[32] = "VERSION_1",     [33] = "ACCESS_PLATFORM",
		[35] = "IN_ORDER",      [36] = "ORDER_PLATFORM",
		[37] = "SR_IOV",        [40] = "RING_RESET",
	};
	uint64_t miss = want & ~got;
	printf("%s: %s: negotiated 0x%llx", who, label,
	       (unsigned long long)got);
	if (miss)
		printf("; of Linux's set the device does not offer");
	for (unsigned b = 0; b < 64; b++) {
		if (!(miss >> b & 1))
			continue;
		const char *name = names && names[b] ? names[b] : transport[b];
		if (name)
			printf(" %s", name);
		else
			printf(" bit%u", b);
	}
	printf("%s\n", miss ? " (the guest uses what is offered)" : "");
}

static inline struct hvd_mock *bench_start_daemon(
	const char *who, const char *hvisor, const char *plugins,
	const char *cfg, uint64_t ram_base, uint64_t ram_size)
{
	return bench_start_daemon_with(who, hvisor, plugins, cfg, ram_base,
				       ram_size, NULL);
}

#endif
