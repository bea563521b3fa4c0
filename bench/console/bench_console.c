/* SPDX-License-Identifier: MIT */
/*
 * bench_console: virtio-console throughput through the real hvisor daemon
 * on the mock hypervisor, guest -> pty and pty -> guest, beside a plain pty
 * copy (one thread writing the master, one reading the slave, and the
 * reverse) measured in the same run with the same chunk size. Every byte is
 * compared; lost or changed bytes are reported. Prints figures; asserts
 * nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "console_guest.h"

#define TOTAL (32u * 1024u * 1024u)
#define CHUNK 4096u /* a guest page per buffer, as Linux's driver posts */
#define BUFS  32u

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double mbps(double seconds)
{
	return TOTAL / seconds / 1e6;
}

/* Bytes that differ or never arrived. */
static size_t lost(const uint8_t *want, const uint8_t *got, size_t done)
{
	size_t bad = TOTAL - done;
	for (size_t i = 0; i < done; i++)
		bad += want[i] != got[i];
	return bad;
}

/* Copy TOTAL bytes from `from` to `to` with a writer thread; seconds. */
static double plain_copy(int from_writer, int to_reader, const uint8_t *data,
			 uint8_t *got, size_t *bad)
{
	struct cg_io w = {.fd = from_writer,
			  .buf = (uint8_t *)data,
			  .want = TOTAL,
			  .chunk = CHUNK,
			  .write = true};
	struct cg_io r = {.fd = to_reader, .buf = got, .want = TOTAL,
			  .chunk = 65536};
	double t0 = now_s();
	if (cg_io_start(&r) || cg_io_start(&w))
		return -1;
	cg_io_join(&w);
	cg_io_join(&r);
	double t = now_s() - t0;
	*bad = lost(data, got, r.done);
	return t;
}

static int open_pty_pair(int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY);
	if (*master < 0 || grantpt(*master) || unlockpt(*master))
		return -1;
	*slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
	struct termios tio;
	if (*slave < 0 || tcgetattr(*slave, &tio))
		return -1;
	cfmakeraw(&tio);
	return tcsetattr(*slave, TCSANOW, &tio);
}

int main(int argc, char **argv)
{
	const char *hvisor = argc > 1 ? argv[1] : HVISOR_BUILD_BIN;
	const char *plugins = argc > 2 ? argv[2] : HVISOR_BUILD_PLUGINS;
	signal(SIGPIPE, SIG_IGN);
	uint8_t *data = malloc(TOTAL), *got = malloc(TOTAL);
	if (!data || !got)
		return 1;
	cg_fill_random(data, TOTAL, 42);

	/* Reference: a plain pty, both ways. */
	int master, slave;
	if (open_pty_pair(&master, &slave))
		return 1;
	size_t bad_ref_out, bad_ref_in;
	double ref_out = plain_copy(master, slave, data, got, &bad_ref_out);
	double ref_in = plain_copy(slave, master, data, got, &bad_ref_in);
	close(master);
	close(slave);

	/* The daemon with one console on a pty. */
	char link[128], cfg[128], json[1024];
	snprintf(link, sizeof link, "%s/console", cg_tmpdir());
	snprintf(cfg, sizeof cfg, "%s/config.json", cg_tmpdir());
	snprintf(json, sizeof json,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		 "\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x4000000\"}], \"devices\": [{\"type\": \"console\", "
		 "\"addr\": \"0xa003e00\", \"len\": \"0x200\", \"irq\": 78, "
		 "\"pty_link\": \"%s\"}]}]}",
		 link);
	FILE *f = fopen(cfg, "w");
	if (!f || fputs(json, f) < 0 || fclose(f))
		return 1;
	struct hvd_mock *m = hvd_mock_new();
	if (!m || hvd_mock_add_ram(m, 1, 0x50000000, 0x50000000, 0x4000000))
		return 1;
	char *const child[] = {(char *)hvisor, "virtio", "start",
			       "--log-level", "warn", "--foreground",
			       "--plugin-dir", (char *)plugins, cfg, NULL};
	if (hvd_mock_spawn(m, child, NULL) || hvd_mock_wait_ready(m, 5000)) {
		fprintf(stderr, "bench_console: daemon did not start\n");
		return 1;
	}
	struct cg g;
	int pty = open(link, O_RDWR | O_NOCTTY);
	if (pty < 0 || cg_open(&g, m, 0xa003e00, 78) ||
	    cg_up(&g, (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX), 2) ||
	    cg_pool(&g, 0, BUFS, CHUNK) || cg_pool(&g, 1, BUFS, CHUNK)) {
		fprintf(stderr, "bench_console: guest bring-up failed\n");
		return 1;
	}

	/* guest -> pty */
	memset(got, 0, TOTAL);
	struct cg_io r = {.fd = pty, .buf = got, .want = TOTAL, .chunk = 65536};
	double t0 = now_s();
	if (cg_io_start(&r))
		return 1;
	int send_err = cg_send(&g, 1, data, TOTAL);
	cg_io_join(&r);
	double out = now_s() - t0;
	size_t bad_out = lost(data, got, r.done);

	/* pty -> guest */
	memset(got, 0, TOTAL);
	struct cg_io w = {.fd = pty,
			  .buf = data,
			  .want = TOTAL,
			  .chunk = CHUNK,
			  .write = true};
	t0 = now_s();
	if (cg_io_start(&w))
		return 1;
	int recv_err = cg_recv(&g, 0, got, TOTAL);
	cg_io_join(&w);
	double in = now_s() - t0;
	size_t bad_in = lost(data, got, recv_err ? 0 : TOTAL);

	printf("bench_console: %u MiB each way, %u-byte chunks, 2 cores "
	       "shared with everything else\n",
	       TOTAL >> 20, CHUNK);
	printf("reference plain pty  master->slave %8.1f MB/s  lost %zu\n",
	       mbps(ref_out), bad_ref_out);
	printf("reference plain pty  slave->master %8.1f MB/s  lost %zu\n",
	       mbps(ref_in), bad_ref_in);
	printf("console guest -> pty               %8.1f MB/s  lost %zu%s  "
	       "ratio %.2f\n",
	       mbps(out), bad_out, send_err ? " (guest send failed)" : "",
	       ref_out / out);
	printf("console pty -> guest               %8.1f MB/s  lost %zu%s  "
	       "ratio %.2f\n",
	       mbps(in), bad_in, recv_err ? " (guest receive failed)" : "",
	       ref_in / in);
	printf("(ratio = console / plain pty throughput; target >= 0.5 "
	       "both ways, 0 bytes lost)\n");
	close(pty);
	cg_close(&g);
	int status;
	hvd_mock_stop_child(m, SIGTERM, 5000, &status);
	hvd_mock_free(m);
	free(data);
	free(got);
	return 0;
}
