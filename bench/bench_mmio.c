/* SPDX-License-Identifier: MIT */
/*
 * bench_mmio: the guest register round trip through the whole path
 * (mock vCPU -> bridge -> the real hvisor daemon -> completion), beside a
 * reference measured in the same run: two threads passing the same
 * request/complete handshake over shared memory with nothing in between,
 * i.e. the floor any daemon could reach on this machine.
 * Also: idle CPU ticks of the daemon over 2 s and its memory without guest
 * RAM. With HVISOR_TOOL=/path/to/hvisor, the same reads and idle figure
 * for hvisor-tool's daemon under the LD_PRELOAD shim (bench/hvtool,
 * docs/hvisor-tool-comparison.md), serving a blk device at the same
 * address (it has no rng device). Prints figures; asserts nothing.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "hvd/mock.h"
#include "hvtool/hvtool.h"

#define N    200000
#define ADDR 0xa003e00ull

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void stats(const char *what, uint64_t *ns, unsigned n, double *median)
{
	qsort(ns, n, sizeof *ns, cmp_u64);
	*median = (double)ns[n / 2];
	printf("%-34s median %7.0f ns  p90 %7llu ns  p99 %7llu ns\n", what,
	       *median, (unsigned long long)ns[n * 9 / 10],
	       (unsigned long long)ns[n * 99 / 100]);
}

/* Reference: the same handshake with a bare thread as the "daemon". */
static struct {
	uint32_t req;  /* written by the requester */
	uint64_t flag; /* written by the responder */
	uint64_t value;
	int stop;
} __attribute__((aligned(64))) ref;

static void *ref_responder(void *arg)
{
	uint32_t seen = 0;
	while (!__atomic_load_n(&ref.stop, __ATOMIC_ACQUIRE)) {
		uint32_t r = __atomic_load_n(&ref.req, __ATOMIC_ACQUIRE);
		if (r == seen) {
			relax();
			continue;
		}
		seen = r;
		__atomic_store_n(&ref.value, 0x74726976, __ATOMIC_RELAXED);
		__atomic_store_n(&ref.flag, ref.flag + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static double reference(uint64_t *ns)
{
	pthread_t t;
	pthread_create(&t, NULL, ref_responder, NULL);
	for (unsigned i = 0; i < N; i++) {
		uint64_t start = now_ns();
		uint64_t old = __atomic_load_n(&ref.flag, __ATOMIC_ACQUIRE);
		__atomic_store_n(&ref.req, i + 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&ref.flag, __ATOMIC_ACQUIRE) == old)
			relax();
		ns[i] = now_ns() - start;
	}
	__atomic_store_n(&ref.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	double median;
	stats("reference (bare shared-memory RTT)", ns, N, &median);
	return median;
}

/* N reads through `m`'s daemon into ns[], MagicValue and Version in
 * turn, each answer checked: a daemon that completed an access twice
 * would hand every later read the answer of the one before, "faster" than
 * any round trip. With MagicValue alone, hvisor-tool's rows showed a
 * 120-128 ns median (below the 187 ns bare reference, so not round trips)
 * in 2 of ~7 runs; alternating and checked, 14 runs gave 567-756 ns and no
 * wrong answer (issue 16; cause not found). 0, or -1 after saying why. */
static int register_reads(struct hvd_mock *m, uint64_t *ns, const char *who)
{
	static const struct {
		uint64_t off, value;
	} regs[2] = {{0x000, 0x74726976}, {0x004, 2}};
	for (unsigned i = 0; i < N; i++) {
		uint64_t v = 0, start = now_ns();
		if (hvd_mock_mmio(m, 1, ADDR + regs[i & 1].off, 4, false, &v,
				  false, 5000)) {
			fprintf(stderr, "bench_mmio: %s: read %u failed\n", who,
				i);
			return -1;
		}
		ns[i] = now_ns() - start;
		if (v != regs[i & 1].value) {
			printf("%s: read %u returned 0x%llx, the answer to "
			       "another access (one completed twice?): its "
			       "register figures are left out\n",
			       who, i, (unsigned long long)v);
			return -1;
		}
	}
	return 0;
}

static long idle_ticks(pid_t pid)
{
	long before = cpu_ticks(pid);
	struct timespec two = {2, 0};
	nanosleep(&two, NULL);
	return cpu_ticks(pid) - before;
}

/* The same reads through hvisor-tool's daemon, a blk device at ADDR. */
static void hvtool_reads(uint64_t *ns, double ref_median)
{
	const char *tool = hvtool_path("bench_mmio");
	char dir[] = "/tmp/bench-mmio-hvtool-XXXXXX";
	if (!tool || !mkdtemp(dir))
		return;
	char img[128], cfg[128], text[512];
	snprintf(img, sizeof img, "%s/disk.img", dir);
	snprintf(cfg, sizeof cfg, "%s/virtio.json", dir);
	snprintf(text, sizeof text,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		 "\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x4000000\"}], \"devices\": [{\"type\": \"blk\", \"addr\": "
		 "\"0xa003e00\", \"len\": \"0x200\", \"irq\": 78, \"img\": "
		 "\"%s\", \"status\": \"enable\"}]}]}",
		 img);
	int fd = open(img, O_CREAT | O_RDWR, 0600);
	int cfd = open(cfg, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	struct hvd_mock *m = NULL;
	if (fd >= 0 && ftruncate(fd, 1 << 20) == 0 && cfd >= 0 &&
	    write(cfd, text, strlen(text)) == (ssize_t)strlen(text))
		m = hvtool_start("bench_mmio", tool, cfg, 0x50000000,
				 0x4000000);
	if (cfd >= 0)
		close(cfd);
	if (m && register_reads(m, ns, "hvisor-tool") == 0) {
		double median;
		stats("hvisor-tool register read", ns, N, &median);
		printf("ratio hvisor-tool/reference: %.2f\n",
		       median / ref_median);
		printf("idle hvisor-tool CPU over 2 s: %ld tick(s)\n",
		       idle_ticks(hvd_mock_child(m)));
	}
	if (m) {
		int status;
		hvd_mock_stop_child(m, SIGTERM, 5000, &status);
		hvd_mock_free(m);
	}
	if (fd >= 0)
		close(fd);
	unlink(img);
	unlink(cfg);
	rmdir(dir);
}

/* The memory target: one blk, one console and one net device. */
static int memory_with_devices(const char *hvisor)
{
	char dir[] = "/tmp/bench-mem-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char img[128], cfg[128], text[2048];
	snprintf(img, sizeof img, "%s/disk.img", dir);
	snprintf(cfg, sizeof cfg, "%s/virtio.json", dir);
	int fd = open(img, O_CREAT | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, 64 << 20))
		return 1;
	close(fd);
	snprintf(text, sizeof text,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		 "\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x4000000\"}], \"devices\": ["
		 "{\"type\": \"blk\", \"addr\": \"0xa003000\", \"len\": "
		 "\"0x200\", "
		 "\"irq\": 75, \"img\": \"%s\"},"
		 "{\"type\": \"console\", \"addr\": \"0xa003200\", \"len\": "
		 "\"0x200\", \"irq\": 76, \"backend\": \"socket\", \"path\": "
		 "\"%s/console.sock\"},"
		 "{\"type\": \"net\", \"addr\": \"0xa003400\", \"len\": "
		 "\"0x200\", "
		 "\"irq\": 77, \"backend\": \"socket\", \"path\": "
		 "\"%s/net.sock\", "
		 "\"peer\": \"%s/peer.sock\"}]}]}",
		 img, dir, dir, dir);
	fd = open(cfg, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		return 1;
	close(fd);
	struct hvd_mock *m =
		bench_start_daemon("bench_mmio (blk+console+net)", hvisor, NULL,
				   cfg, 0x50000000, 0x4000000);
	if (!m)
		return 1;
	pid_t pid = hvd_mock_child(m);
	long anon = proc_field(pid, "status", "RssAnon:");
	long file = proc_field(pid, "status", "RssFile:");
	long threads = proc_field(pid, "status", "Threads:");
	printf("daemon memory with blk+console+net: RssAnon %ld KiB + RssFile "
	       "%ld KiB = %ld KiB without guest RAM, %ld threads (target < "
	       "16 MiB)\n",
	       anon, file, anon + file, threads);
	int status;
	hvd_mock_stop_child(m, SIGTERM, 5000, &status);
	hvd_mock_free(m);
	char rm[160];
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	return system(rm) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	/* Raw register accesses: no guest driver, so no guest model. */
	(void)bench_guest_model(&argc, argv);
	const char *hvisor = argc > 1 ? argv[1] : HVISOR_BUILD_BIN;
	const char *plugins = argc > 2 ? argv[2] : HVISOR_BUILD_PLUGINS;
	/* The device plugins of the build, for the memory figure. */
	setenv("HVISOR_PLUGIN_PATH", HVISOR_BUILD_PLUGIN_PATH, 0);
	char cfg[] = "/tmp/bench-mmio-XXXXXX";
	if (bench_rng_config(cfg))
		return 1;

	struct hvd_mock *m = bench_start_daemon("bench_mmio", hvisor, plugins,
						cfg, 0x50000000, 0x4000000);
	if (!m)
		return 1;
	pid_t pid = hvd_mock_child(m);

	uint64_t *ns = calloc(N, sizeof *ns);
	printf("bench_mmio: %d register reads each, 2 cores shared with "
	       "everything else\n",
	       N);
	double ref_median = reference(ns);

	if (register_reads(m, ns, "ours"))
		return 1;
	double median;
	stats("daemon register read (polling)", ns, N, &median);
	printf("ratio daemon/reference: %.2f (target: median <= 1000 ns; "
	       "existing tool ~1100 ns)\n",
	       median / ref_median);

	printf("idle daemon CPU over 2 s: %ld tick(s) (target 0)\n",
	       idle_ticks(pid));
	long anon = proc_field(pid, "status", "RssAnon:");
	long file = proc_field(pid, "status", "RssFile:");
	long shmem = proc_field(pid, "status", "RssShmem:");
	printf("daemon memory: RssAnon %ld KiB + RssFile %ld KiB = %ld KiB "
	       "without guest RAM (RssShmem %ld KiB is guest RAM touched; "
	       "target < 16 MiB)\n",
	       anon, file, anon + file, shmem);

	int status;
	hvd_mock_stop_child(m, SIGTERM, 5000, &status);
	hvd_mock_free(m);
	unlink(cfg);
	hvtool_reads(ns, ref_median);
	free(ns);
	return memory_with_devices(hvisor);
}
