/* SPDX-License-Identifier: MIT */
/*
 * hvisor-rig: plays hvisor for a QEMU guest (see docs/real-guest-rig.md).
 * Shared by the rig's parts: rig_config.c (the virtio JSON), rig_proxy.c
 * (QEMU's multi-process proxy protocol and the PCI device), rig_ivshmem.c
 * (interrupts through ivshmem-doorbell) and hvisor-rig.c (main).
 */
#ifndef HVISOR_RIG_H
#define HVISOR_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hvd/mock.h"

#define RIG_WINDOW_SIZE 0x200u /* one virtio-mmio window per device */
#define RIG_MAX_WINDOWS 64u
/* The PCI identity of the proxied device: the guest module binds it.
 * 0x1b36 is the QEMU vendor id; 0x4856 ("HV") is unused by QEMU. */
#define RIG_PCI_VENDOR 0x1b36u
#define RIG_PCI_DEVICE 0x4856u

/* What the rig needs from the virtio JSON; the daemon reads the rest. */
struct rig_config {
	uint32_t zone;
	uint64_t zone0_ipa; /* of the zone's one RAM region */
	uint64_t ram_size;  /* guest RAM, from guest-physical 0 */
	unsigned windows;
	uint64_t window_addr[RIG_MAX_WINDOWS]; /* BAR0 + i * 0x200 serves it */
};

/* Reads `path`; on error prints a message naming the JSON path and
 * returns -1. */
int rig_config_load(const char *path, struct rig_config *cfg);

/* The proxy side of one QEMU connection. */
struct rig_proxy {
	int fd; /* our end of the stream socket QEMU got as fd=N */
	const struct rig_config *cfg;
	struct hvd_mock *mock;
	bool verbose;
	int mmio_timeout_ms;

	uint8_t pci_config[256];
	uint32_t bar0;      /* as programmed by the guest */
	uint32_t bar0_size; /* power of two */

	/* Guest RAM: the memfd we registered, by identity. */
	bool ram_ready;
	uint64_t ram_dev, ram_ino, ram_offset;
	/* Called once, when guest RAM is first known (starts the daemon);
	 * returns 0 or the failure to report. */
	int (*on_ram_ready)(void *ctx);
	void *ctx;

	uint64_t bar_accesses, timeouts, syncs;
	/* Accesses the guest waited for (all but QueueNotify writes): how
	 * long each took from the request to the daemon's answer, in
	 * power-of-two buckets of nanoseconds (bucket i: [2^i, 2^(i+1))). */
	uint64_t waited, waited_ns, waited_slow, wait_hist[40];
};

/* One line: waited accesses, mean and median-bucket answer time. */
void rig_proxy_print_latency(const struct rig_proxy *p, FILE *out);

void rig_proxy_init(struct rig_proxy *p, int fd, const struct rig_config *cfg,
		    struct hvd_mock *mock);
/* Serves one message. Returns 1 after a message, 0 on orderly EOF from
 * QEMU, -errno on a protocol or I/O error (printed). */
int rig_proxy_serve_one(struct rig_proxy *p);

/* The ivshmem server: QEMU's ivshmem-doorbell connects to `path`. */
struct rig_ivshmem;
struct rig_ivshmem *rig_ivshmem_start(const char *path);
/* Raises the guest's MSI-X vector 0 (safe from any thread). */
void rig_ivshmem_ring(struct rig_ivshmem *s);
bool rig_ivshmem_connected(struct rig_ivshmem *s);
void rig_ivshmem_stop(struct rig_ivshmem *s);

#endif
