/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-blk through the frontend plugin, served by Debian's
 * qemu-storage-daemon exporting a raw file: the mock guest's requests go
 * through rings the backend reads straight from the zone's RAM memfd, and
 * every byte is checked against the file. Then the backend is killed with
 * requests in flight and restarted: NEEDS_RESET, reconnection, I/O again.
 * Skipped (77) when qemu-storage-daemon is not installed.
 */
#define _GNU_SOURCE
#include "../blk/blk_guest.h"
#include "vu_backends.h"

#define IMG_SIZE (4u << 20)

struct vut {
	struct blkt t; /* image, daemon, guest: the blk suites' helpers */
	char sock[128];
	char log[128];
	char blockdev[256]; /* what qemu-storage-daemon exports */
	const char *export_opts;
	pid_t backend;
	pid_t nbd; /* nbdkit, when the disk is a network disk */
};

static void vut_backend_start(struct vut *v)
{
	int lfd = vut_listen(v->sock);
	CU_ASSERT_FATAL(lfd >= 0);
	v->backend = vut_qsd(v->blockdev, v->export_opts, lfd, v->log);
	CU_ASSERT_FATAL(v->backend > 0);
}

/* The image file served directly, or (nbd) by nbdkit over TCP loopback
 * with qemu-storage-daemon as its NBD client. */
static void vut_setup(struct vut *v, const char *extra, bool nbd,
		      const char *export_opts)
{
	memset(v, 0, sizeof *v);
	v->export_opts = export_opts;
	blkt_make_image(&v->t, IMG_SIZE, 0);
	snprintf(v->sock, sizeof v->sock, "%s/vu.sock", v->t.dir);
	snprintf(v->log, sizeof v->log, "%s/backend.log", v->t.dir);
	snprintf(v->blockdev, sizeof v->blockdev, "driver=file,filename=%s",
		 v->t.img);
	if (nbd) {
		int port = 0;
		int lfd = vut_listen_tcp(&port);
		CU_ASSERT_FATAL(lfd >= 0);
		v->nbd = vut_nbdkit(v->t.img, lfd, v->log);
		CU_ASSERT_FATAL(v->nbd > 0);
		snprintf(v->blockdev, sizeof v->blockdev,
			 "driver=nbd,server.type=inet,server.host=127.0.0.1,"
			 "server.port=%d",
			 port);
	}
	vut_backend_start(v);
	char dev[512];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"vhost-user-blk\", \"addr\": \"0xa003c00\", "
		 "\"len\": \"0x200\", \"irq\": 77, \"socket\": \"%s\", "
		 "\"timeout_ms\": 5000%s}",
		 v->sock, extra);
	CU_ASSERT_FATAL(fixture_start(&v->t.fx, dev) == 0);
	v->t.gd = hvd_guest_open(v->t.fx.mock, 1, BLK_BASE, BLK_IRQ);
	CU_ASSERT_FATAL(v->t.gd != NULL);
}

static void vut_teardown(struct vut *v)
{
	blkt_teardown(&v->t);
	vut_kill(v->backend);
	vut_kill(v->nbd);
	unlink(v->sock);
	unlink(v->log);
	rmdir(v->t.dir);
}

/* Write a pattern through the guest, read it back, compare with the file
 * (and file contents written behind the guest's back with a read). */
static void check_io(struct vut *v, unsigned seed0)
{
	struct blkt *t = &v->t;
	unsigned seed = seed0;
	uint8_t buf[8192], file[8192];
	for (unsigned i = 0; i < 8; i++) {
		uint64_t sector =
			(uint64_t)rand_r(&seed) % (IMG_SIZE / SECTOR - 16);
		fill_random(buf, sizeof buf, &seed);
		CU_ASSERT_EQUAL(
			blk_io(t, VIRTIO_BLK_T_OUT, sector, buf, sizeof buf),
			VIRTIO_BLK_S_OK);
		file_read(t, sector * SECTOR, file, sizeof file);
		CU_ASSERT(memcmp(buf, file, sizeof buf) == 0);
		fill_random(file, sizeof file, &seed);
		file_write(t, sector * SECTOR, file, sizeof file);
		CU_ASSERT_EQUAL(
			blk_io(t, VIRTIO_BLK_T_IN, sector, buf, sizeof buf),
			VIRTIO_BLK_S_OK);
		CU_ASSERT(memcmp(buf, file, sizeof buf) == 0);
	}
}

static void test_blk_data(void)
{
	struct vut v;
	vut_setup(&v, "", false, "");
	blkt_bring_up(&v.t, F_V1 | F_EVENT_IDX | F_INDIRECT | F_BLK(FLUSH), 1,
		      256);
	/* Capacity comes from the backend's config space. */
	CU_ASSERT_EQUAL(hvd_guest_config_read(v.t.gd, 0, 8), IMG_SIZE / SECTOR);
	check_io(&v, 1);
	CU_ASSERT_EQUAL(blk_io(&v.t, VIRTIO_BLK_T_FLUSH, 0, NULL, 0),
			VIRTIO_BLK_S_OK);
	/* A reset stops the backend's rings; the device comes up again. */
	CU_ASSERT_FATAL(hvd_guest_reset(v.t.gd) == 0);
	blkt_bring_up(&v.t, F_V1, 1, 128);
	check_io(&v, 2);
	vut_teardown(&v);
}

/* A network disk: nbdkit serves the file over NBD on TCP loopback,
 * qemu-storage-daemon is its client and our backend. */
static void test_nbd_disk(void)
{
	if (!vut_have("nbdkit")) {
		printf("skipped: nbdkit not installed (Debian package "
		       "nbdkit) ");
		return;
	}
	struct vut v;
	vut_setup(&v, "", true, "");
	blkt_bring_up(&v.t, F_V1 | F_EVENT_IDX | F_BLK(FLUSH), 1, 256);
	CU_ASSERT_EQUAL(hvd_guest_config_read(v.t.gd, 0, 8), IMG_SIZE / SECTOR);
	check_io(&v, 5);
	vut_teardown(&v);
}

static void test_backend_killed(void)
{
	struct vut v;
	vut_setup(&v, ", \"reconnect\": 1", false, "");
	blkt_bring_up(&v.t, F_V1 | F_EVENT_IDX, 1, 256);
	check_io(&v, 3);

	/* 32 reads in flight, then the backend dies. */
	struct treq r[32];
	for (unsigned i = 0; i < 32; i++) {
		treq_init(&v.t, &r[i], VIRTIO_BLK_T_IN, i * 64, 32768);
		CU_ASSERT_FATAL(treq_add(&v.t, 0, &r[i], false) >= 0);
	}
	hvd_guest_vq_kick(v.t.vq[0]);
	vut_kill(v.backend);
	CU_ASSERT_FATAL(vut_wait_needs_reset(v.t.gd, FIX_TIMEOUT_MS));
	uint32_t gen =
		hvd_guest_reg_read(v.t.gd, VIRTIO_MMIO_CONFIG_GENERATION);

	/* The backend comes back: the frontend reconnects and says so with a
	 * configuration interrupt (its config space is re-read). An interrupt
	 * of the failure itself (the NEEDS_RESET one, or a completion) may
	 * still be on its way when Status shows NEEDS_RESET: look again after
	 * each interrupt until the generation moved. */
	vut_backend_start(&v);
	for (;;) {
		/* ACK, then look (see vut_wait_needs_reset). */
		uint64_t seen = hvd_guest_irq_count(v.t.gd);
		hvd_guest_ack_interrupt(v.t.gd);
		if (hvd_guest_reg_read(v.t.gd, VIRTIO_MMIO_CONFIG_GENERATION) !=
		    gen)
			break;
		CU_ASSERT_FATAL(hvd_guest_wait_irq(v.t.gd, seen,
						   3 * FIX_TIMEOUT_MS) == 0);
	}

	/* The driver resets the device, and I/O works again. */
	CU_ASSERT_FATAL(hvd_guest_reset(v.t.gd) == 0);
	blkt_bring_up(&v.t, F_V1 | F_EVENT_IDX, 1, 256);
	check_io(&v, 4);
	vut_teardown(&v);
}

/* A backend serving two queues: without "num_queues" the device has as
 * many, the driver learns the number from the backend's config space,
 * and a request on queue 1 reaches the file. */
static void test_multiqueue(void)
{
	struct vut v;
	vut_setup(&v, "", false, ",num-queues=2");
	blkt_bring_up(&v.t, F_V1 | F_BLK(MQ), 2, 64);
	CU_ASSERT(v.t.features & F_BLK(MQ));
	CU_ASSERT_EQUAL(hvd_guest_config_read(v.t.gd, 34, 2), 2);
	CU_ASSERT_EQUAL(hvd_guest_reg_write(v.t.gd, VIRTIO_MMIO_QUEUE_SEL, 2),
			0);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(v.t.gd, VIRTIO_MMIO_QUEUE_NUM_MAX),
			0);
	struct treq r;
	treq_init(&v.t, &r, VIRTIO_BLK_T_OUT, 100, 4096);
	memset(r.data, 0x3c, 4096);
	CU_ASSERT_FATAL(treq_add(&v.t, 1, &r, false) >= 0);
	hvd_guest_vq_kick(v.t.vq[1]);
	CU_ASSERT_PTR_EQUAL(treq_wait(&v.t, 1, NULL), &r);
	CU_ASSERT_EQUAL(*r.status, VIRTIO_BLK_S_OK);
	uint8_t file[4096];
	file_read(&v.t, 100 * SECTOR, file, sizeof file);
	CU_ASSERT(all_bytes(file, sizeof file, 0x3c));
	vut_teardown(&v);
}

/* The daemon refuses to start when the backend socket is absent, and the
 * error names the socket. */
static void test_no_backend(void)
{
	struct fixture fx = {0};
	CU_ASSERT(fixture_start(&fx,
				"{\"type\": \"vhost-user-blk\", \"addr\": "
				"\"0xa003c00\", \"len\": \"0x200\", \"irq\": "
				"77, \"socket\": \"/nonexistent/vu.sock\"}") !=
		  0);
	CU_ASSERT_PTR_NULL(fx.daemon);
	hvd_mock_free(fx.mock);
}

int main(void)
{
	if (!vut_have(QSD_BIN)) {
		printf("SKIP: %s not installed (Debian package "
		       "qemu-system-common)\n",
		       QSD_BIN);
		return 77;
	}
	static const struct cunit_test tests[] = {
		{"blk data checked against the file", test_blk_data},
		{"backend killed mid-I/O, restarted", test_backend_killed},
		{"NBD disk (nbdkit) behind qemu-storage-daemon", test_nbd_disk},
		{"two queues from the backend", test_multiqueue},
		{"no backend: refused at start", test_no_backend},
		{NULL, NULL},
	};
	return cunit_run("vhost-user-blk", tests);
}
