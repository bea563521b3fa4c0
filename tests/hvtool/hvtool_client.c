/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for hvisor-tool's daemon in the shim test: the calls it makes
 * on /dev/hvisor, in its order (docs/hvisor-tool-comparison.md): open,
 * INIT_VIRTIO, an eventfd handed over with SET_EVENTFD, mmap of the bridge
 * page (offset 0) and of guest RAM (offset = zone0 address), mmio_avail,
 * then requests served from the bridge, sleeping on the eventfd with
 * need_wakeup set, and interrupts through res_list + FINISH_REQ.
 *
 * One device at BASE of the zone, irq IRQ:
 *   read  BASE          -> the virtio magic 0x74726976
 *   read  BASE + 0x100  -> the u32 at guest RAM offset 8 (set by the test)
 *   write BASE + 0x50   (QueueNotify, no wait) -> one interrupt
 *   write BASE + 0x70 = 0 (Status) -> completed, then close and exit 0
 * Before serving it writes "hvtool" at guest RAM offset 0, and checks that
 * an ioctl the shim does not model fails with ENOTTY.
 *
 * Usage: hvtool_client ZONE0_IPA SIZE BASE IRQ. Exit codes: 0 done, 2
 * usage, 3 open failed (the errno is printed), 4 a later call failed,
 * 5 no request for 5 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvisor/bridge.h"

#define MAGIC 0x74726976u

static int die(int code, const char *what)
{
	fprintf(stderr, "hvtool_client: %s: %s\n", what, strerror(errno));
	exit(code);
}

/* Blocking requests complete through cfg_values/cfg_flags of the vCPU. */
static void complete(struct hvisor_bridge *b, uint64_t cpu, uint64_t value)
{
	b->cfg_values[cpu] = value;
	/* Counterpart: the hypervisor's acquire load of cfg_flags. */
	__atomic_store_n(&b->cfg_flags[cpu], b->cfg_flags[cpu] + 1,
			 __ATOMIC_RELEASE);
}

static void interrupt(int fd, struct hvisor_bridge *b, uint32_t zone,
		      uint32_t irq)
{
	uint32_t rear = b->res_rear;
	b->res_list[rear] = (struct hvisor_device_res){zone, irq};
	/* Counterpart: the hypervisor's acquire load of res_rear. */
	__atomic_store_n(&b->res_rear, HVISOR_RING_NEXT(rear),
			 __ATOMIC_RELEASE);
	if (ioctl(fd, HVISOR_FINISH_REQ) < 0)
		die(4, "FINISH_REQ");
}

/* Serves one request; false once Status was written 0. */
static bool serve(int fd, struct hvisor_bridge *b, const uint8_t *ram,
		  uint64_t base, uint32_t irq,
		  const struct hvisor_device_req *r)
{
	uint64_t off = r->address - base, value = 0;
	if (!r->is_write && off == 0)
		value = MAGIC;
	else if (!r->is_write && off == 0x100)
		memcpy(&value, ram + 8, 4);
	if (r->need_interrupt) /* QueueNotify: the vCPU does not wait */
		interrupt(fd, b, r->src_zone, irq);
	else
		complete(b, r->src_cpu, value);
	return !(r->is_write && off == 0x70 && r->value == 0);
}

static void run(int fd, int efd, struct hvisor_bridge *b, const uint8_t *ram,
		uint64_t base, uint32_t irq)
{
	for (;;) {
		__atomic_store_n(&b->need_wakeup, 1, __ATOMIC_RELAXED);
		/* need_wakeup before the look at req_rear (the hypervisor
		 * does the opposite): no request can slip past both. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		uint32_t front = b->req_front;
		if (__atomic_load_n(&b->req_rear, __ATOMIC_ACQUIRE) == front) {
			struct pollfd p = {.fd = efd, .events = POLLIN};
			if (poll(&p, 1, 5000) != 1) {
				fprintf(stderr, "hvtool_client: no request\n");
				exit(5);
			}
			uint64_t n;
			if (read(efd, &n, sizeof n) < 0 && errno != EAGAIN)
				die(4, "eventfd read");
			continue;
		}
		__atomic_store_n(&b->need_wakeup, 0, __ATOMIC_RELAXED);
		bool more = serve(fd, b, ram, base, irq, &b->req_list[front]);
		/* Counterpart: the hypervisor's acquire load of req_front. */
		__atomic_store_n(&b->req_front, HVISOR_RING_NEXT(front),
				 __ATOMIC_RELEASE);
		if (!more)
			return;
	}
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr,
			"usage: hvtool_client ZONE0_IPA SIZE BASE IRQ\n");
		return 2;
	}
	uint64_t ipa = strtoull(argv[1], NULL, 0);
	size_t size = strtoull(argv[2], NULL, 0);
	uint64_t base = strtoull(argv[3], NULL, 0);
	uint32_t irq = (uint32_t)strtoul(argv[4], NULL, 0);

	int fd = open("/dev/hvisor", O_RDWR);
	if (fd < 0)
		die(3, "open /dev/hvisor");
	if (ioctl(fd, HVISOR_INIT_VIRTIO) != 0)
		die(4, "INIT_VIRTIO");
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0 || ioctl(fd, HVISOR_SET_EVENTFD, efd) < 0)
		die(4, "SET_EVENTFD");
	struct hvisor_bridge *b =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED)
		die(4, "mmap bridge");
	uint8_t *ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    (off_t)ipa);
	if (ram == MAP_FAILED)
		die(4, "mmap guest RAM");
	if (ioctl(fd, HVISOR_GET_ECAM_BASE, &(uint64_t){0}) == 0 ||
	    errno != ENOTTY)
		die(4, "an unmodelled ioctl did not fail with ENOTTY");
	memcpy(ram, "hvtool", 7);
	/* Counterpart: hvd_mock_wait_ready's acquire load. */
	__atomic_store_n(&b->mmio_avail, 1, __ATOMIC_RELEASE);

	run(fd, efd, b, ram, base, irq);

	if (close(fd) != 0)
		die(4, "close");
	/* The program's own mappings outlive the device fd. */
	ram[6] = '!';
	munmap(ram, size);
	munmap(b, 4096);
	close(efd);
	return 0;
}
