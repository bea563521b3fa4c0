/* SPDX-License-Identifier: MIT */
/*
 * bench_blk: virtio-blk throughput through the whole path (guest driver ->
 * QueueNotify on the bridge -> the real hvisor daemon's dispatch -> blk
 * plugin workers -> used ring -> interrupt -> guest), beside the same access
 * pattern done directly with preadv/pwritev on the same image file by one
 * thread in the same run. The image is in page cache, so the figures are
 * the cost of the path, not of a disk.
 *
 * For each workload: full-path IOPS and MB/s, the direct reference (one
 * thread, or two for random reads at depth 32: the issue-16 targets), their
 * ratio and its target, the daemon's CPU microseconds per request (utime +
 * stime of the daemon process over the path runs), the same for this
 * process (guest driver + mock hypervisor), which shares the two cores with
 * the daemon, and the interrupts the guest took per request. Then a
 * `floor` line: our daemon answering GET_ID at depth 1, the same round trip
 * with no file I/O.
 * The guest is Linux-like (docs/harness-guest.md) unless --polling.
 * With HVISOR_TOOL=/path/to/hvisor (hvisor-tool's daemon, built by
 * scripts/build-hvisor-tool), the same workloads also run through that
 * daemon under the LD_PRELOAD shim (bench/hvtool), in the same slices
 * (docs/hvisor-tool-comparison.md): one more row per workload.
 * Prints figures; asserts nothing.
 *
 * With --stats-overhead, the table is instead the full path with the
 * daemon's request counting (`hvisor virtio stats`) on and off, switched
 * through the control socket between alternating slices of each workload.
 *
 * Usage: bench_blk [--stats-overhead] [--polling] [hvisor-binary
 *                  [plugin-dir [seconds]]]
 */
#define _GNU_SOURCE
#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../bench_util.h"
#include "../hvtool/hvtool.h"
#include "hvd/mock.h"

#define RAM_BASE  0x50000000ull
#define RAM_SIZE  0x4000000ull /* 64 MiB of guest RAM */
#define BLK_BASE  0xa003c00ull
#define BLK_IRQ   77u
#define IMG_SIZE  (256ull << 20)
#define SECTOR    512u
#define MAX_DEPTH 32u
#define QSIZE     256u
#define ROUNDS    8u /* alternations of reference and path per workload */

#include "blk_load.h"

/* A daemon under test: its own mock hypervisor, guest driver and slots. */
struct dut {
	const char *label;
	struct hvd_mock *m;
	pid_t pid;
	struct hvd_guest_dev *gd;
	struct hvd_guest_vq *vq;
	struct slot slots[MAX_DEPTH];
	uint64_t features;
};

static const struct workload workloads[] = {
	{"4k randread  QD1", false, false, 4096, 1, 1, ">=0.20", false},
	{"4k randread  QD32", false, false, 4096, 32, 2, ">=0.40", false},
	{"4k randwrite QD1", true, false, 4096, 1, 1, "-", false},
	{"4k randwrite QD32", true, false, 4096, 32, 1, ">=0.90", false},
	{"128k seqread  QD1", false, true, 131072, 1, 1, "-", false},
	{"128k seqread  QD32", false, true, 131072, 32, 1, "-", false},
	{"128k seqwrite QD1", true, true, 131072, 1, 1, "-", false},
	{"128k seqwrite QD32", true, true, 131072, 32, 1, "-", false},
};

/* The image and config live here; removed on every exit path. */
static char dir[] = "/var/tmp/bench-blk-XXXXXX";
static char img[128], cfg[128], ctl[100]; /* ctl: fits sun_path */

static void remove_files(void)
{
	unlink(img);
	unlink(cfg);
	unlink(ctl);
	rmdir(dir);
}

/* Counting on or off through the daemon's control socket. */
static void set_counting(bool on)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", ctl);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char req[64], reply[256];
	int n = snprintf(req, sizeof req,
			 "{\"api\": 1, \"cmd\": \"counting\", \"on\": %s}\n",
			 on ? "true" : "false");
	ssize_t got = 0;
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof sa) &&
	    send(fd, req, (size_t)n, MSG_NOSIGNAL) == n)
		while (!memchr(reply, '\n', (size_t)got)) {
			ssize_t r = recv(fd, reply + got,
					 sizeof reply - 1 - (size_t)got, 0);
			if (r <= 0)
				break;
			got += r;
		}
	if (fd >= 0)
		close(fd);
	if (got <= 0 || !memmem(reply, (size_t)got, "\"ok\":true", 9)) {
		fprintf(stderr, "bench_blk: cannot switch counting\n");
		exit(1);
	}
}

/* --stats-overhead: per workload, path IOPS with counting on and off in
 * alternating slices (on/off, then off/on) of the same run. */
static void stats_overhead(struct hvd_guest_vq *vq, struct slot *slots,
			   double seconds)
{
	/* Short slices: the shared machine's load drifts by tens of percent
	 * within seconds (measured), so on and off must take turns often. */
	unsigned slices = 8 * ROUNDS;
	printf("bench_blk: request counting on vs off, %.1f s per workload, "
	       "%u alternating slices\n",
	       seconds, slices);
	printf("%-20s %12s %12s %8s\n", "workload", "IOPS counted", "IOPS off",
	       "cost");
	for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
		const struct workload *w = &workloads[i];
		unsigned seed = 1;
		uint64_t cursor = 0, ops[2] = {0, 0};
		double time[2] = {0, 0}, dt;
		for (unsigned r = 0; r < ROUNDS; r++)
			for (unsigned k = 0; k < 2; k++) {
				unsigned off = (r + k) & 1; /* 0: counting */
				set_counting(!off);
				ops[off] += path_run(vq, slots, w,
						     seconds / 2 / ROUNDS,
						     &seed, &cursor, &dt);
				time[off] += dt;
			}
		double on = (double)ops[0] / time[0];
		double nocount = (double)ops[1] / time[1];
		printf("%-20s %12.0f %12.0f %7.1f%%\n", w->name, on, nocount,
		       (nocount - on) / nocount * 100.0);
		fflush(stdout);
	}
	set_counting(true);
}

/* Linux's names of the blk feature bits a device may lack. */
static const char *const blk_names[64] = {
	[1] = "SIZE_MAX",  [2] = "SEG_MAX",       [4] = "GEOMETRY",
	[5] = "RO",        [6] = "BLK_SIZE",      [9] = "FLUSH",
	[10] = "TOPOLOGY", [11] = "CONFIG_WCE",   [12] = "MQ",
	[13] = "DISCARD",  [14] = "WRITE_ZEROES", [16] = "SECURE_ERASE",
	[17] = "ZONED",
};

/* The guest side of `d`, whose daemon serves the blk device: Linux's
 * features (what the device offers of them), one queue, MAX_DEPTH slots. */
static int dut_guest(struct dut *d, enum hvd_guest_model model)
{
	d->pid = hvd_mock_child(d->m);
	d->gd = hvd_guest_open(d->m, 1, BLK_BASE, BLK_IRQ);
	/* The polling guest keeps the set the earlier figures were taken
	 * with (no INDIRECT_DESC). */
	uint64_t want = model == HVD_GUEST_LINUX
				? hvd_guest_linux_features(VIRTIO_ID_BLOCK)
				: (1ull << VIRTIO_F_VERSION_1) |
					  (1ull << VIRTIO_RING_F_EVENT_IDX) |
					  (1ull << VIRTIO_BLK_F_FLUSH);
	if (!d->gd || hvd_guest_set_model(d->gd, model) ||
	    hvd_guest_probe(d->gd) != VIRTIO_ID_BLOCK ||
	    hvd_guest_negotiate(d->gd, want, &d->features))
		return -1;
	d->vq = hvd_guest_vq_setup(d->gd, 0, QSIZE);
	if (!d->vq || hvd_guest_driver_ok(d->gd))
		return -1;
	if (slots_alloc(d->gd, d->slots, MAX_DEPTH, 131072,
			d->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC)))
		return -1;
	for (unsigned i = 0; i < MAX_DEPTH; i++)
		memset(d->slots[i].data, 0xa5, 131072);
	bench_missing_features("bench_blk", d->label, want, d->features,
			       blk_names);
	return 0;
}

static void dut_stop(struct dut *d)
{
	bench_stop(d->m, d->gd, d->pid);
}

/* Figures of one daemon over one workload's slices. */
struct tally {
	uint64_t ops;
	double time, guest_cpu;
	long ticks;
	uint64_t irqs0;
};

static void print_row(const char *name, const char *label,
		      const struct workload *w, const struct tally *t,
		      double ref, uint64_t irqs)
{
	double path = t->time > 0 ? (double)t->ops / t->time : 0.0;
	double cpu = (double)t->ticks / (double)sysconf(_SC_CLK_TCK);
	double per = t->ops ? 1.0 / (double)t->ops : 0.0;
	printf("%-19s %-11s %9.0f %8.1f %9.0f %5u %6.2f %7s %7.2f %7.2f "
	       "%6.2f\n",
	       name, label, path, path * w->block / 1e6, ref, w->ref_threads,
	       path / ref, w->target, cpu * per * 1e6, t->guest_cpu * per * 1e6,
	       (double)irqs * per);
}

/* Reference and each daemon take turns in short slices, so that all see
 * the same background load of the shared machine; the daemon not in its
 * slice is held (bench_hold). */
/* One slice of the path through daemon `d` (the other one, if any, held
 * meanwhile), added to `t`. */
static void path_slice(struct dut *d, bool hold, const struct workload *w,
		       double seconds, unsigned *seed, uint64_t *cursor,
		       struct tally *t)
{
	double dt;
	if (hold)
		bench_hold(d->pid, false);
	long before = cpu_ticks(d->pid);
	double self_before = self_cpu_s();
	t->ops += path_run(d->vq, d->slots, w, seconds, seed, cursor, &dt);
	t->ticks += cpu_ticks(d->pid) - before;
	t->guest_cpu += self_cpu_s() - self_before;
	t->time += dt;
	if (hold)
		bench_hold(d->pid, true);
}

/* The floor of the path: the same round trip (kick, answer on the dispatch
 * thread, used ring, interrupt, InterruptStatus + ACK) with no file I/O, a
 * GET_ID at depth 1: what depth 1 cannot go below in this harness whatever
 * the read costs. */
static const struct workload floor_load = {
	"GET_ID QD1", false, false, 4096, 1, 1, "-", true};

/* Our daemon only: hvisor-tool's need not answer GET_ID. Its process, if
 * there is one, stays held meanwhile. */
static void run_floor(struct dut *duts, unsigned nduts, double seconds)
{
	unsigned seed = 1;
	uint64_t cursor = 0;
	struct tally t = {0};
	for (unsigned r = 0; r < ROUNDS; r++)
		path_slice(&duts[0], nduts > 1, &floor_load,
			   seconds / 2 / ROUNDS, &seed, &cursor, &t);
	double hz = (double)sysconf(_SC_CLK_TCK);
	double per = t.ops ? 1.0 / (double)t.ops : 0.0;
	printf("floor: %s (no file I/O) %.0f round trips/s, %.2f us each; "
	       "daemon %.2f us, guest %.2f us per round trip\n",
	       floor_load.name, t.time > 0 ? (double)t.ops / t.time : 0.0,
	       t.time * per * 1e6, (double)t.ticks / hz * per * 1e6,
	       t.guest_cpu * per * 1e6);
	fflush(stdout);
}

static void run_workload(const struct workload *w, struct dut *duts,
			 unsigned nduts, int fd, double seconds)
{
	unsigned dseed = 1, pseed[2] = {1, 1};
	uint64_t dcursor = 0, pcursor[2] = {0, 0}, dops = 0;
	double dtime = 0, dt;
	struct tally t[2] = {{0}};
	for (unsigned k = 0; k < nduts; k++)
		t[k].irqs0 = hvd_guest_irq_count(duts[k].gd);
	for (unsigned r = 0; r < ROUNDS; r++) {
		dops += direct_runs(fd, w, seconds / 2 / ROUNDS, duts[0].slots,
				    &dseed, &dcursor, &dt);
		dtime += dt;
		for (unsigned k = 0; k < nduts; k++)
			path_slice(&duts[k], nduts > 1, w, seconds / ROUNDS,
				   &pseed[k], &pcursor[k], &t[k]);
	}
	double ref = (double)dops / dtime;
	for (unsigned k = 0; k < nduts; k++)
		print_row(k ? "" : w->name, duts[k].label, w, &t[k], ref,
			  hvd_guest_irq_count(duts[k].gd) - t[k].irqs0);
	fflush(stdout);
}

static void print_header(enum hvd_guest_model model, double seconds)
{
	printf("bench_blk: %s\n", bench_model_label(model));
	printf("bench_blk: %.1f s per workload through the path, image %llu "
	       "MiB in page cache; reference = preadv/pwritev by 1 (ref=1) or "
	       "2 (ref=2) threads on the same file from the guest's request "
	       "buffers, alternated with the path in %u slices\n",
	       seconds, (unsigned long long)(IMG_SIZE >> 20), ROUNDS);
	printf("%-19s %-11s %9s %8s %9s %5s %6s %7s %7s %7s %6s\n", "workload",
	       "daemon", "path IOPS", "MB/s", "ref IOPS", "ref", "ratio",
	       "target", "daemon", "guest", "irq");
	printf("%-19s %-11s %9s %8s %9s %5s %6s %7s %7s %7s %6s\n", "", "", "",
	       "", "", "thr", "", "", "us/req", "us/req", "/req");
}

/* hvisor-tool's daemon beside ours, when asked for and possible. */
static unsigned add_hvtool(struct dut *duts, enum hvd_guest_model model,
			   bool overhead)
{
	const char *tool = hvtool_path("bench_blk");
	if (!tool)
		return 1;
	if (overhead || model != HVD_GUEST_LINUX) {
		printf("bench_blk: hvisor-tool's daemon is compared with the "
		       "Linux-like guest only (it injects again only after "
		       "the guest's InterruptACK)\n");
		return 1;
	}
	duts[1].label = "hvisor-tool";
	duts[1].m = hvtool_start("bench_blk", tool, cfg, RAM_BASE, RAM_SIZE);
	if (!duts[1].m)
		return 1;
	if (dut_guest(&duts[1], model)) {
		fprintf(stderr, "bench_blk: hvisor-tool's device did not come "
				"up; not compared\n");
		dut_stop(&duts[1]);
		return 1;
	}
	bench_hold(duts[1].pid, true);
	return 2;
}

int main(int argc, char **argv)
{
	bool overhead = argc > 1 && strcmp(argv[1], "--stats-overhead") == 0;
	if (overhead) {
		argv++;
		argc--;
	}
	enum hvd_guest_model model = bench_guest_model(&argc, argv);
	const char *hvisor = argc > 1 ? argv[1] : HVISOR_BUILD_BIN;
	const char *plugins = argc > 2 ? argv[2] : HVISOR_BUILD_PLUGINS;
	double seconds = argc > 3 ? atof(argv[3]) : 1.0;
	signal(SIGPIPE, SIG_IGN);

	if (!mkdtemp(dir))
		return 1;
	char json[1024];
	snprintf(img, sizeof img, "%s/disk.img", dir);
	snprintf(cfg, sizeof cfg, "%s/virtio.json", dir);
	snprintf(ctl, sizeof ctl, "%s/control.sock", dir);
	atexit(remove_files);
	int fd = bench_make_image(img);
	if (fd < 0)
		return 1;
	/* Read by both daemons: "status" is required by hvisor-tool's
	 * parser, "queue_size" is ours (hvisor-tool ignores it). */
	snprintf(json, sizeof json,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\":"
		 " \"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x4000000\"}], \"devices\": [{\"type\": \"blk\", \"addr\": "
		 "\"0xa003c00\", \"len\": \"0x200\", \"irq\": 77, \"img\": "
		 "\"%s\", \"status\": \"enable\", \"queue_size\": %u}]}]}",
		 img, QSIZE);
	FILE *f = fopen(cfg, "w");
	if (!f || fputs(json, f) < 0 || fclose(f))
		return 1;

	/* Its own control socket: the switch of --stats-overhead. */
	char ctl_opt[128];
	snprintf(ctl_opt, sizeof ctl_opt, "--control=%s", ctl);
	static struct dut duts[2];
	duts[0].label = "ours";
	duts[0].m = bench_start_daemon_with("bench_blk", hvisor, plugins, cfg,
					    RAM_BASE, RAM_SIZE, ctl_opt);
	if (!duts[0].m || dut_guest(&duts[0], model))
		return 1;
	unsigned nduts = add_hvtool(duts, model, overhead);
	if (overhead) {
		stats_overhead(duts[0].vq, duts[0].slots, seconds);
		goto done;
	}
	print_header(model, seconds);
	/* BENCH_BLK_ROWS=N: only the first N workloads (the 4K ones: 4). */
	size_t rows = sizeof workloads / sizeof workloads[0];
	const char *only = getenv("BENCH_BLK_ROWS");
	if (only && atoi(only) > 0 && (size_t)atoi(only) < rows)
		rows = (size_t)atoi(only);
	/* BENCH_BLK_ROW=N: workload N alone (from 0), no floor: for
	 * profiling one row with perf attached to the daemon. */
	const char *one = getenv("BENCH_BLK_ROW");
	size_t first = 0;
	if (one && (size_t)atoi(one) < rows) {
		first = (size_t)atoi(one);
		rows = first + 1;
	}
	for (size_t i = first; i < rows; i++)
		run_workload(&workloads[i], duts, nduts, fd, seconds);
	if (!one)
		run_floor(duts, nduts, seconds);
	printf("targets (issue 16, Linux-like guest): randread QD1 >= 0.20 of "
	       "1-thread preadv, QD32 >= 0.40 of 2-thread preadv; randwrite "
	       "QD32 >= 0.90 of 1-thread pwritev\n");

done:
	for (unsigned k = 0; k < nduts; k++)
		dut_stop(&duts[k]);
	close(fd);
	return 0;
}
