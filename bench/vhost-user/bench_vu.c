/* SPDX-License-Identifier: MIT */
/*
 * bench_vu: 4k random reads at QD1 and QD32 through three paths on the same
 * image in the same run, alternated in short slices so that all see the
 * same background load: direct preadv by one thread; the daemon's blk
 * plugin; a vhost-user-blk device whose rings qemu-storage-daemon serves
 * (kick eventfd -> backend -> call eventfd -> our interrupt). The image
 * is in page cache (both backends use it), so the figures are the cost of
 * the path. CPU per 100k requests: the daemon's, and for vhost-user also
 * the backend's. Prints figures; asserts nothing. Exits 77 without
 * qemu-storage-daemon.
 *
 * Usage: bench_vu [--polling] [hvisor-binary [seconds-per-run]]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../../tests/vhost-user/vu_backends.h"

#define RAM_BASE  0x50000000ull
#define RAM_SIZE  0x4000000ull
#define IMG_SIZE  (256ull << 20)
#define SECTOR    512u
#define MAX_DEPTH 32u
#define QSIZE     256u
#define ROUNDS    8u

#include "../blk/blk_load.h"

static const struct workload workloads[] = {
	{"4k randread  QD1", false, false, 4096, 1, 1, "-", false},
	{"4k randread  QD32", false, false, 4096, 32, 1, "-", false},
};

struct target {
	const char *name;
	uint64_t base;
	uint32_t irq;
	struct hvd_guest_dev *gd;
	struct hvd_guest_vq *vq;
	struct slot slots[MAX_DEPTH];
};

static char dir[] = "/var/tmp/bench-vu-XXXXXX";
static char img[128], cfg[128], sock[128], qlog[128];
static pid_t qsd = -1;

static void cleanup(void)
{
	vut_kill(qsd);
	unlink(img);
	unlink(cfg);
	unlink(sock);
	unlink(qlog);
	rmdir(dir);
}

/* Linux-like unless --polling (bench_guest_model). */
static enum hvd_guest_model model;

static int bring_up(struct hvd_mock *m, struct target *t)
{
	uint64_t features;
	t->gd = hvd_guest_open(m, 1, t->base, t->irq);
	if (!t->gd || hvd_guest_set_model(t->gd, model) ||
	    hvd_guest_probe(t->gd) != VIRTIO_ID_BLOCK ||
	    hvd_guest_negotiate(t->gd,
				(1ull << VIRTIO_F_VERSION_1) |
					(1ull << VIRTIO_RING_F_EVENT_IDX),
				&features))
		return -1;
	t->vq = hvd_guest_vq_setup(t->gd, 0, QSIZE);
	if (!t->vq || hvd_guest_driver_ok(t->gd))
		return -1;
	/* INDIRECT_DESC is not asked for above. */
	if (slots_alloc(t->gd, t->slots, MAX_DEPTH, 4096, false))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	model = bench_guest_model(&argc, argv);
	const char *hvisor = argc > 1 ? argv[1] : HVISOR_BUILD_BIN;
	double seconds = argc > 2 ? atof(argv[2]) : 1.0;
	signal(SIGPIPE, SIG_IGN);
	if (!vut_have(QSD_BIN)) {
		printf("bench_vu: skipped: %s not installed (Debian package "
		       "qemu-system-common)\n",
		       QSD_BIN);
		return 77;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(img, sizeof img, "%s/disk.img", dir);
	snprintf(cfg, sizeof cfg, "%s/virtio.json", dir);
	snprintf(sock, sizeof sock, "%s/vu.sock", dir);
	snprintf(qlog, sizeof qlog, "%s/qsd.log", dir);
	atexit(cleanup);
	int fd = bench_make_image(img);
	int lfd = vut_listen(sock);
	if (fd < 0 || lfd < 0)
		return 1;
	char bd[192];
	snprintf(bd, sizeof bd, "driver=file,filename=%s", img);
	qsd = vut_qsd(bd, "", lfd, qlog);

	char json[1024];
	snprintf(json, sizeof json,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\":"
		 " \"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x4000000\"}], \"devices\": [{\"type\": \"blk\", \"addr\": "
		 "\"0xa003c00\", \"len\": \"0x200\", \"irq\": 77, \"img\": "
		 "\"%s\", \"queue_size\": %u}, {\"type\": \"vhost-user-blk\", "
		 "\"addr\": \"0xa003e00\", \"len\": \"0x200\", \"irq\": 78, "
		 "\"socket\": \"%s\", \"queue_size\": %u, \"timeout_ms\": "
		 "5000}]}]}",
		 img, QSIZE, sock, QSIZE);
	FILE *f = fopen(cfg, "w");
	if (!f || fputs(json, f) < 0 || fclose(f))
		return 1;
	setenv("HVISOR_PLUGIN_PATH", HVISOR_BUILD_PLUGIN_PATH, 1);
	struct hvd_mock *m = bench_start_daemon("bench_vu", hvisor, NULL, cfg,
						RAM_BASE, RAM_SIZE);
	if (!m)
		return 1;
	pid_t pid = hvd_mock_child(m);
	static struct target tg[2] = {
		{.name = "blk plugin", .base = 0xa003c00, .irq = 77},
		{.name = "vhost-user", .base = 0xa003e00, .irq = 78},
	};
	for (unsigned i = 0; i < 2; i++)
		if (bring_up(m, &tg[i])) {
			fprintf(stderr, "bench_vu: %s did not come up\n",
				tg[i].name);
			return 1;
		}
	long hz = sysconf(_SC_CLK_TCK);

	printf("bench_vu: %s\n", bench_model_label(model));
	printf("bench_vu: %.1f s per workload and path, image %llu MiB in "
	       "page cache, %u alternating slices; CPU in s/100k requests\n",
	       seconds, (unsigned long long)(IMG_SIZE >> 20), ROUNDS);
	printf("%-18s %11s %10s %6s %10s %6s %10s %10s %10s\n", "workload",
	       "direct IOPS", "blk IOPS", "ratio", "vu IOPS", "ratio",
	       "blk daemon", "vu daemon", "vu backend");
	for (size_t w = 0; w < sizeof workloads / sizeof workloads[0]; w++) {
		const struct workload *wl = &workloads[w];
		unsigned seed[3] = {1, 1, 1};
		uint64_t cur[3] = {0, 0, 0}, ops[3] = {0, 0, 0};
		double time[3] = {0, 0, 0}, dt;
		long dcpu[2] = {0, 0}, qcpu = 0;
		for (unsigned r = 0; r < ROUNDS; r++) {
			ops[0] += direct_run(fd, wl, seconds / 2 / ROUNDS,
					     tg[0].slots, 0, 1, &seed[0],
					     &cur[0], &dt);
			time[0] += dt;
			for (unsigned i = 0; i < 2; i++) {
				long d0 = cpu_ticks(pid), q0 = cpu_ticks(qsd);
				ops[i + 1] +=
					path_run(tg[i].vq, tg[i].slots, wl,
						 seconds / ROUNDS, &seed[i + 1],
						 &cur[i + 1], &dt);
				time[i + 1] += dt;
				dcpu[i] += cpu_ticks(pid) - d0;
				if (i == 1)
					qcpu += cpu_ticks(qsd) - q0;
			}
		}
		double iops[3];
		for (unsigned i = 0; i < 3; i++)
			iops[i] = (double)ops[i] / time[i];
		printf("%-18s %11.0f %10.0f %6.2f %10.0f %6.2f %10.2f %10.2f "
		       "%10.2f\n",
		       wl->name, iops[0], iops[1], iops[1] / iops[0], iops[2],
		       iops[2] / iops[0],
		       (double)dcpu[0] / (double)hz / (double)ops[1] * 1e5,
		       (double)dcpu[1] / (double)hz / (double)ops[2] * 1e5,
		       (double)qcpu / (double)hz / (double)ops[2] * 1e5);
		fflush(stdout);
	}
	int status;
	for (unsigned i = 0; i < 2; i++)
		hvd_guest_close(tg[i].gd);
	hvd_mock_stop_child(m, SIGTERM, 5000, &status);
	hvd_mock_free(m);
	close(fd);
	return 0;
}
