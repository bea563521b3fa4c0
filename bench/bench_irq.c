/* SPDX-License-Identifier: MIT */
/*
 * bench_irq: does interrupt merging (the default, core/irqline.c; off
 * with `--no-irq-merge`) save interrupts, and does it lose any? The real
 * daemon serves a virtio-rng device under the mock; the guest keeps DEPTH
 * requests in flight and handles interrupts as Linux's virtio-mmio driver
 * does: read InterruptStatus, ACK it, then take every used buffer. Run
 * once without and once with merging (same run, same machine):
 *   interrupts/request  fewer is the saving
 *   stalls              waits for an interrupt that did not come within
 *                       1 s while requests were outstanding: a lost
 *                       interrupt (must be 0)
 * Then the hvisor v0.4 LoongArch model (no wake-up interrupt: the daemon
 * naps between looks): its CPU use over 2 idle seconds, and how long the
 * first register read after 50 ms of idleness takes.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "hvd/mock.h"

#define ADDR  0xa003e00ull
#define IRQ   78u
#define N     20000u
#define DEPTH 8u

static int run(const char *hvisor, const char *plugins, const char *cfg,
	       bool merge)
{
	struct hvd_mock *m = bench_start_daemon_with(
		"bench_irq", hvisor, plugins, cfg, 0x50000000, 0x4000000,
		merge ? NULL : "--no-irq-merge");
	if (!m)
		return 1;
	struct hvd_guest_dev *g = hvd_guest_open(m, 1, ADDR, IRQ);
	struct hvd_guest_vq *vq = NULL;
	if (!g || hvd_guest_negotiate(g, 1ull << 32, NULL) ||
	    !(vq = hvd_guest_vq_setup(g, 0, 64)) || hvd_guest_driver_ok(g)) {
		fprintf(stderr, "bench_irq: device bring-up failed\n");
		return 1;
	}
	void *buf;
	uint64_t gpa = hvd_guest_alloc(g, 64 * DEPTH, 64, &buf);
	unsigned sent = 0, done = 0, inflight = 0, stalls = 0, spurious = 0;
	uint64_t seen = hvd_guest_irq_count(g), start = now_ns();
	while (done < N) {
		for (; inflight < DEPTH && sent < N; sent++, inflight++) {
			struct hvd_guest_buf b = {gpa + 64 * (sent % DEPTH), 64,
						  true};
			if (hvd_guest_vq_add(vq, &b, 1, false, NULL) < 0)
				break;
			hvd_guest_vq_kick(vq);
		}
		if (hvd_guest_wait_irq(g, seen, 1000)) {
			stalls++; /* the 1 s guard: an interrupt went missing */
		}
		seen = hvd_guest_irq_count(g);
		if (!hvd_guest_ack_interrupt(g))
			spurious++;
		void *token;
		uint32_t len;
		while (hvd_guest_vq_get_used(vq, &token, &len) == 1) {
			done++;
			inflight--;
		}
	}
	double s = (double)(now_ns() - start) / 1e9;
	uint64_t irqs = hvd_guest_irq_count(g);
	printf("%-14s %u requests in %.2f s: %" PRIu64 " interrupts (%.3f "
	       "per request), %u with nothing pending, %u stall(s)\n",
	       merge ? "merged" : "every event", N, s, irqs, (double)irqs / N,
	       spurious, stalls);
	hvd_guest_close(g);
	int status;
	hvd_mock_stop_child(m, SIGTERM, 5000, &status);
	hvd_mock_free(m);
	return stalls ? 2 : 0;
}

static int v04_idle(const char *hvisor, const char *plugins, const char *cfg)
{
	struct hvd_mock *m = bench_start_daemon_with(
		"bench_irq", hvisor, plugins, cfg, 0x50000000, 0x4000000,
		"--irq-model=loongarch-v0.4");
	if (!m || hvd_mock_set_irq_model(m, HVD_MOCK_IRQ_LOONGARCH_V04))
		return 1;
	pid_t pid = hvd_mock_child(m);
	long before = cpu_ticks(pid);
	struct timespec two = {2, 0}, gap = {0, 50000000};
	nanosleep(&two, NULL);
	long idle = cpu_ticks(pid) - before;
	uint64_t ns[20];
	for (unsigned i = 0; i < 20; i++) {
		uint64_t v = 0;
		nanosleep(&gap, NULL);
		uint64_t t = now_ns();
		if (hvd_mock_mmio(m, 1, ADDR, 4, false, &v, false, 5000))
			return 1;
		ns[i] = now_ns() - t;
	}
	uint64_t lo = ns[0], hi = ns[0], sum = 0;
	for (unsigned i = 0; i < 20; i++) {
		lo = ns[i] < lo ? ns[i] : lo;
		hi = ns[i] > hi ? ns[i] : hi;
		sum += ns[i];
	}
	printf("loongarch-v0.4 idle: %ld CPU tick(s) in 2 s (%ld per s), "
	       "first read after 50 ms idle: mean %.0f us (%.0f..%.0f)\n",
	       idle, sysconf(_SC_CLK_TCK), (double)sum / 20 / 1000,
	       (double)lo / 1000, (double)hi / 1000);
	int status;
	hvd_mock_stop_child(m, SIGTERM, 5000, &status);
	hvd_mock_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	const char *hvisor = argc > 1 ? argv[1] : HVISOR_BUILD_BIN;
	const char *plugins = argc > 2 ? argv[2] : HVISOR_BUILD_PLUGINS;
	char cfg[] = "/tmp/bench-irq-XXXXXX";
	if (bench_rng_config(cfg))
		return 1;
	printf("bench_irq: virtio-rng, %u requests of 64 bytes, %u in "
	       "flight, Linux-style handler (status, ACK, drain)\n",
	       N, DEPTH);
	int rc = run(hvisor, plugins, cfg, false);
	if (!rc)
		rc = run(hvisor, plugins, cfg, true);
	if (!rc)
		rc = v04_idle(hvisor, plugins, cfg);
	unlink(cfg);
	return rc;
}
