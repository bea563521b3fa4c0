/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for qemu-system-x86_64 that hvisor-rig starts (--qemu) in the
 * `rig` test suite: it parses the command line the rig built, plays the
 * ivshmem-doorbell client and the x-pci-proxy-dev side of the proxy
 * protocol, and drives the zone's virtio-rng device (tests/rig/rng.json) the
 * way a guest driver would, through BAR0 and guest RAM it shares as a
 * memfd. It exits 0 only if everything it saw was right; the rig passes
 * that on as its own exit status. No Linux guest, no QEMU: the rig's own
 * logic is checked on every `./dev test`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "mpqemu.h"
#include "rig.h"

#define BAR_BASE  UINT64_C(0xfe000000)
#define DESC_GPA  UINT64_C(0x100000)
#define AVAIL_GPA UINT64_C(0x101000)
#define USED_GPA  UINT64_C(0x102000)
#define BUF_GPA   UINT64_C(0x200000)
#define BUF_LEN   64u
#define QSIZE     8u
#define IRQ_MS    5000 /* failure guard for the interrupt */

static int proxy_fd = -1;
static unsigned failures;

static void check(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fake-qemu: %s: ", ok ? "ok" : "FAIL");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (!ok)
		failures++;
}

static void die(const char *what)
{
	fprintf(stderr, "fake-qemu: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- The proxy ------------------------------------------------------------
 */

static void send_msg(int32_t cmd, const void *payload, uint64_t size, int fd)
{
	struct mpqemu_hdr h = {.cmd = cmd, .size = size};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, size}};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	if (fd >= 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (sendmsg(proxy_fd, &mh, MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + size))
		die("proxy send");
}

static uint64_t await_ret(void)
{
	struct {
		struct mpqemu_hdr h;
		uint64_t value;
	} r;
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t n = read(proxy_fd, (char *)&r + got, sizeof(r) - got);
		if (n <= 0)
			die("proxy reply");
		got += (size_t)n;
	}
	if (r.h.cmd != MPQEMU_RET || r.h.size != sizeof(uint64_t)) {
		fprintf(stderr, "fake-qemu: reply cmd %d size %" PRIu64 "\n",
			r.h.cmd, r.h.size);
		exit(2);
	}
	return r.value;
}

static uint32_t cfg_read(uint32_t addr, int len)
{
	struct mpqemu_pci_conf c = {.addr = addr, .len = len};
	send_msg(MPQEMU_PCI_CFGREAD, &c, sizeof(c), -1);
	return (uint32_t)await_ret();
}

static void cfg_write(uint32_t addr, uint32_t val, int len)
{
	struct mpqemu_pci_conf c = {.addr = addr, .val = val, .len = len};
	send_msg(MPQEMU_PCI_CFGWRITE, &c, sizeof(c), -1);
	await_ret();
}

static uint32_t reg_read(uint32_t off)
{
	struct mpqemu_bar b = {.addr = BAR_BASE + off, .size = 4, .memory = 1};
	send_msg(MPQEMU_BAR_READ, &b, sizeof(b), -1);
	return (uint32_t)await_ret();
}

static void reg_write(uint32_t off, uint32_t val)
{
	struct mpqemu_bar b = {
		.addr = BAR_BASE + off, .val = val, .size = 4, .memory = 1};
	send_msg(MPQEMU_BAR_WRITE, &b, sizeof(b), -1);
	await_ret();
}

static void sync_sysmem(int ram_fd, uint64_t size)
{
	struct mpqemu_sysmem s = {.gpas = {0}, .sizes = {size}, .offsets = {0}};
	send_msg(MPQEMU_SYNC_SYSMEM, &s, sizeof(s), ram_fd);
}

/* ---- The ivshmem doorbell --------------------------------------------------
 */

static int64_t ivshmem_recv(int sock, int *fd)
{
	int64_t v;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {&v, sizeof(v)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	if (recvmsg(sock, &mh, 0) != sizeof(v))
		die("ivshmem message");
	*fd = -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return v;
}

/* Connects to the rig's ivshmem server; returns the doorbell eventfd. */
static int ivshmem_connect(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("ivshmem connect");
	int fd, shm, doorbell;
	check(ivshmem_recv(s, &fd) == 0 && fd < 0,
	      "ivshmem protocol version 0");
	int64_t id = ivshmem_recv(s, &fd);
	check(id >= 0 && fd < 0, "ivshmem peer id %" PRId64, id);
	check(ivshmem_recv(s, &shm) == -1 && shm >= 0,
	      "ivshmem shared memory fd");
	check(ivshmem_recv(s, &doorbell) == id && doorbell >= 0,
	      "ivshmem vector 0 eventfd for our id");
	return doorbell;
}

/* ---- The guest --------------------------------------------------------------
 */

static const char *arg_after(int argc, char **argv, const char *prefix,
			     const char *key)
{
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], prefix, strlen(prefix)) != 0)
			continue;
		const char *k = strstr(argv[i], key);
		if (k)
			return k + strlen(key);
	}
	return NULL;
}

static void drive_rng(uint8_t *ram, int doorbell)
{
	check(reg_read(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976, "magic");
	check(reg_read(VIRTIO_MMIO_VERSION) == 2, "version 2");
	check(reg_read(VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_RNG,
	      "device id: rng");
	/* The second window holds nothing: completed with 0. */
	check(reg_read(RIG_WINDOW_SIZE + VIRTIO_MMIO_MAGIC_VALUE) == 0,
	      "beyond the zone's windows reads 0");

	reg_write(VIRTIO_MMIO_STATUS, 0);
	reg_write(VIRTIO_MMIO_STATUS,
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint32_t hi = reg_read(VIRTIO_MMIO_DEVICE_FEATURES);
	check(hi & 1, "VERSION_1 offered (features hi 0x%x)", hi);
	reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	uint32_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		      VIRTIO_CONFIG_S_FEATURES_OK;
	reg_write(VIRTIO_MMIO_STATUS, st);
	check(reg_read(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK,
	      "FEATURES_OK accepted");

	reg_write(VIRTIO_MMIO_QUEUE_SEL, 0);
	check(reg_read(VIRTIO_MMIO_QUEUE_NUM_MAX) >= QSIZE, "queue size");
	reg_write(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	reg_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC_GPA);
	reg_write(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)AVAIL_GPA);
	reg_write(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)USED_GPA);
	reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
	reg_write(VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_DRIVER_OK);

	/* One device-writable buffer, published in guest RAM, then kicked
	 * (QueueNotify: the rig must not wait for its completion). */
	struct vring_desc *desc = (void *)(ram + DESC_GPA);
	struct vring_avail *avail = (void *)(ram + AVAIL_GPA);
	struct vring_used *used = (void *)(ram + USED_GPA);
	desc[0] = (struct vring_desc){
		.addr = BUF_GPA, .len = BUF_LEN, .flags = VRING_DESC_F_WRITE};
	avail->ring[0] = 0;
	__atomic_store_n(&avail->idx, 1, __ATOMIC_RELEASE);
	reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);

	struct pollfd p = {.fd = doorbell, .events = POLLIN};
	check(poll(&p, 1, IRQ_MS) == 1, "interrupt through the doorbell");
	uint64_t n;
	if (read(doorbell, &n, sizeof(n)) != sizeof(n))
		n = 0;
	check(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == 1 &&
		      used->ring[0].id == 0 && used->ring[0].len == BUF_LEN,
	      "used ring: buffer 0 with %u bytes", BUF_LEN);
	uint8_t zero[BUF_LEN] = {0};
	check(memcmp(ram + BUF_GPA, zero, BUF_LEN) != 0,
	      "entropy landed in guest RAM");
	check(reg_read(VIRTIO_MMIO_INTERRUPT_STATUS) & 1,
	      "InterruptStatus: used buffer");
	reg_write(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	reg_write(VIRTIO_MMIO_STATUS, 0);
	check(reg_read(VIRTIO_MMIO_STATUS) == 0, "reset");
}

int main(int argc, char **argv)
{
	const char *fd_arg = arg_after(argc, argv, "x-pci-proxy-dev", "fd=");
	const char *ivshmem =
		arg_after(argc, argv, "socket,id=rig-ivshmem", "path=");
	const char *mem =
		arg_after(argc, argv, "memory-backend-memfd", "size=");
	if (!fd_arg || !ivshmem || !mem) {
		fprintf(stderr, "fake-qemu: missing proxy, ivshmem or memory "
				"arguments\n");
		return 2;
	}
	proxy_fd = atoi(fd_arg);
	uint64_t ram_size = strtoull(mem, NULL, 10) << 20;
	check(ram_size == UINT64_C(0x20000000), "guest RAM %" PRIu64 " MiB",
	      ram_size >> 20);
	int doorbell = ivshmem_connect(ivshmem);

	int ram_fd = memfd_create("fake-qemu-ram", MFD_CLOEXEC);
	if (ram_fd < 0 || ftruncate(ram_fd, (off_t)ram_size) < 0)
		die("guest RAM");
	uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    ram_fd, 0);
	if (ram == MAP_FAILED)
		die("guest RAM map");
	/* QEMU re-sends the layout many times: the same file is no news. */
	sync_sysmem(ram_fd, 0xa0000);
	sync_sysmem(ram_fd, ram_size);

	check(cfg_read(0, 2) == RIG_PCI_VENDOR, "PCI vendor id");
	check(cfg_read(2, 2) == RIG_PCI_DEVICE, "PCI device id");
	cfg_write(0x10, 0xffffffff, 4);
	uint32_t mask = cfg_read(0x10, 4);
	check(mask == 0xfffff000, "BAR0 sizing: 0x%x (4 KiB, 32-bit memory)",
	      mask);
	cfg_write(0x14, 0xffffffff, 4);
	check(cfg_read(0x14, 4) == 0, "BAR1 not implemented");
	cfg_write(0x10, (uint32_t)BAR_BASE, 4);
	check(cfg_read(0x10, 4) == (uint32_t)BAR_BASE, "BAR0 programmed");
	cfg_write(0, 0x12345678, 4);
	check(cfg_read(0, 2) == RIG_PCI_VENDOR, "ids are read-only");

	drive_rng(ram, doorbell);

	send_msg(MPQEMU_DEVICE_RESET, NULL, 0, -1);
	await_ret();
	check(1, "DEVICE_RESET answered");
	fprintf(stderr, "fake-qemu: %u failure(s)\n", failures);
	return failures ? 1 : 0;
}
