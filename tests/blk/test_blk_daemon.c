/* SPDX-License-Identifier: MIT */
/*
 * The real `hvisor` binary serving a blk device in a child process: a
 * SIGTERM while writes are in flight loses nothing the guest saw
 * acknowledged, and a missing image stops start-up with a message naming
 * the path and the system error. The plugin is found through
 * HVISOR_PLUGIN_PATH (tests/meson.build).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "blk_guest.h"

#define TIMEOUT_MS 5000

static const char *bin(void)
{
	const char *b = getenv("HVISOR_BIN");
	return b ? b : "hvisor";
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

static char *read_text(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	if (!f)
		return strcpy(buf, "");
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* A mock with zone 1's RAM and the daemon started on a blk device for
 * t->img with `extra` JSON members; stderr of the daemon to `log`. */
static struct hvd_mock *spawn(struct blkt *t, const char *extra,
			      const char *log)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(
		hvd_mock_add_ram(m, 1, 0x50000000, 0x50000000, 0x1000000) == 0);
	char cfg[128], json[1024];
	snprintf(cfg, sizeof cfg, "%s/virtio.json", t->dir);
	snprintf(json, sizeof json,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\":"
		 " \"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x1000000\"}], \"devices\": [{\"type\": \"blk\", "
		 "\"addr\": \"0xa003c00\", \"len\": \"0x200\", \"irq\": 77, "
		 "\"img\": \"%s\"%s}]}]}",
		 t->img, extra);
	write_text(cfg, json);
	char *const argv[] = {(char *)bin(),  "virtio", "start",
			      "--foreground", cfg,      NULL};
	CU_ASSERT_FATAL(hvd_mock_spawn(m, argv, log) == 0);
	return m;
}

/* Writes with known patterns are in flight (the first has completed) when
 * SIGTERM arrives. The daemon exits 0 after resetting the device, and
 * every write the used ring reports complete, including those finished
 * during shutdown, is in the file. */
static void run_sigterm(const char *extra)
{
	enum { N = 64, LEN = 65536 };
	struct blkt t;
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, 8u << 20, 0);
	char log[128];
	snprintf(log, sizeof log, "%s/daemon.log", t.dir);
	t.fx.mock = spawn(&t, extra, log);
	CU_ASSERT_FATAL(hvd_mock_wait_ready(t.fx.mock, TIMEOUT_MS) == 0);
	t.gd = hvd_guest_open(t.fx.mock, 1, BLK_BASE, BLK_IRQ);
	CU_ASSERT_FATAL(t.gd != NULL);
	blkt_bring_up(&t, F_V1 | F_EVENT_IDX | F_BLK(FLUSH), 1, 256);

	static struct treq w[N];
	for (unsigned i = 0; i < N; i++) {
		treq_init(&t, &w[i], VIRTIO_BLK_T_OUT,
			  (uint64_t)i * (LEN / SECTOR), LEN);
		memset(w[i].data, (int)(i + 1), LEN);
		CU_ASSERT_FATAL(treq_add(&t, 0, &w[i], false) >= 0);
	}
	struct vring_used *used = hvd_guest_vq_used(t.vq[0]);
	hvd_guest_vq_kick(t.vq[0]);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		CU_ASSERT_FATAL(now.tv_sec - start.tv_sec < 5);
		sched_yield();
	}

	int status = -1;
	CU_ASSERT_EQUAL(
		hvd_mock_stop_child(t.fx.mock, SIGTERM, TIMEOUT_MS, &status),
		0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	uint16_t done = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
	CU_ASSERT(done >= 1 && done <= N);
	static uint8_t file[LEN];
	for (uint16_t u = 0; u < done && u < N; u++) {
		unsigned i = le32toh(used->ring[u].id) / 3;
		CU_ASSERT_FATAL(i < N);
		CU_ASSERT_EQUAL(*w[i].status, VIRTIO_BLK_S_OK);
		file_read(&t, (uint64_t)i * LEN, file, LEN);
		CU_ASSERT(all_bytes(file, LEN, (uint8_t)(i + 1)));
	}
	hvd_mock_free(t.fx.mock);
	t.fx.mock = NULL;
	unlink(log);
	char cfg[128];
	snprintf(cfg, sizeof cfg, "%s/virtio.json", t.dir);
	unlink(cfg);
	blkt_teardown(&t);
}

static void test_sigterm_writeback(void)
{
	run_sigterm("");
}

static void test_sigterm_writethrough(void)
{
	run_sigterm(", \"cache\": \"writethrough\"");
}

/* A missing image: non-zero exit at start-up, the path and strerror in
 * the message. */
static void test_missing_image(void)
{
	struct blkt t;
	memset(&t, 0, sizeof t);
	blkt_make_image(&t, 4096, 0);
	unlink(t.img);
	char log[128];
	snprintf(log, sizeof log, "%s/daemon.log", t.dir);
	struct hvd_mock *m = spawn(&t, "", log);
	int status = -1;
	CU_ASSERT_EQUAL(hvd_mock_stop_child(m, 0, TIMEOUT_MS, &status), 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	const char *text = read_text(log);
	char want[256];
	snprintf(want, sizeof want, "cannot open %s: %s", t.img,
		 strerror(ENOENT));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "zones[0].devices[0]"));
	hvd_mock_free(m);
	unlink(log);
	char cfg[128];
	snprintf(cfg, sizeof cfg, "%s/virtio.json", t.dir);
	unlink(cfg);
	blkt_teardown(&t);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	static const struct cunit_test tests[] = {
		{"SIGTERM with writes in flight (writeback)",
		 test_sigterm_writeback},
		{"SIGTERM with writes in flight (writethrough)",
		 test_sigterm_writethrough},
		{"missing image fails start-up", test_missing_image},
		{NULL, NULL},
	};
	return cunit_run("blk-daemon", tests);
}
