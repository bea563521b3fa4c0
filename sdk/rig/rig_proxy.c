/* SPDX-License-Identifier: MIT */
/*
 * The remote end of QEMU's multi-process proxy (`-device x-pci-proxy-dev,
 * fd=N`): a PCI device whose BAR0 holds one virtio-mmio window per device
 * of the zone. Every BAR access becomes a device_req on the bridge, exactly
 * as hvisor makes it when a guest traps on a virtio region.
 * The wire format is in mpqemu.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_mmio.h>

#include "hvisor/fd_passing.h"
#include "mpqemu.h"
#include "rig.h"

/* ---- PCI configuration space --------------------------------------------- */

/* Bits of the command register the guest may set: I/O, memory, bus
 * master, INTx disable. */
#define CMD_WRITABLE                                                \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
	 PCI_COMMAND_INTX_DISABLE)

static void put16(uint8_t *c, unsigned off, uint16_t v)
{
	c[off] = (uint8_t)v;
	c[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *c, unsigned off, uint32_t v)
{
	put16(c, off, (uint16_t)v);
	put16(c, off + 2, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *c, unsigned off)
{
	return (uint32_t)c[off] | (uint32_t)c[off + 1] << 8 |
	       (uint32_t)c[off + 2] << 16 | (uint32_t)c[off + 3] << 24;
}

static uint32_t bar_size_for(unsigned windows)
{
	uint32_t need = windows * RIG_WINDOW_SIZE, size = 4096;
	while (size < need)
		size <<= 1;
	return size;
}

void rig_proxy_init(struct rig_proxy *p, int fd, const struct rig_config *cfg,
		    struct hvd_mock *mock)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->cfg = cfg;
	p->mock = mock;
	p->mmio_timeout_ms = 10000;
	p->bar0_size = bar_size_for(cfg->windows);
	uint8_t *c = p->pci_config;
	put16(c, PCI_VENDOR_ID, RIG_PCI_VENDOR);
	put16(c, PCI_DEVICE_ID, RIG_PCI_DEVICE);
	c[PCI_REVISION_ID] = 1;
	c[PCI_CLASS_DEVICE] = 0x80;     /* other ... */
	c[PCI_CLASS_DEVICE + 1] = 0x05; /* ... memory controller */
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	put16(c, PCI_SUBSYSTEM_VENDOR_ID, RIG_PCI_VENDOR);
	put16(c, PCI_SUBSYSTEM_ID, RIG_PCI_DEVICE);
	/* BAR0: 32-bit memory, not prefetchable (flag bits all zero). */
	put32(c, PCI_BASE_ADDRESS_0, 0);
}

static uint32_t config_read(struct rig_proxy *p, uint32_t addr, int len)
{
	if ((len != 1 && len != 2 && len != 4) ||
	    addr + (uint32_t)len > sizeof(p->pci_config))
		return 0;
	uint32_t v = 0;
	for (int i = len - 1; i >= 0; i--)
		v = v << 8 | p->pci_config[addr + (uint32_t)i];
	return v;
}

/* Which bits of config byte `off` the guest may change. */
static uint8_t config_wmask(unsigned off)
{
	if (off == PCI_COMMAND)
		return (uint8_t)CMD_WRITABLE;
	if (off == PCI_COMMAND + 1)
		return (uint8_t)(CMD_WRITABLE >> 8);
	if (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_0 + 4)
		return 0xff; /* then masked to the BAR's size below */
	if (off == PCI_CACHE_LINE_SIZE || off == PCI_LATENCY_TIMER ||
	    off == PCI_INTERRUPT_LINE)
		return 0xff;
	return 0; /* everything else is read-only; BAR1..5 read as 0 */
}

static void config_write(struct rig_proxy *p, uint32_t addr, uint32_t val,
			 int len)
{
	if ((len != 1 && len != 2 && len != 4) ||
	    addr + (uint32_t)len > sizeof(p->pci_config))
		return;
	uint8_t *c = p->pci_config;
	for (int i = 0; i < len; i++) {
		unsigned off = addr + (unsigned)i;
		uint8_t m = config_wmask(off);
		uint8_t b = (uint8_t)(val >> (8 * i));
		c[off] = (uint8_t)((c[off] & ~m) | (b & m));
	}
	/* BAR sizing: the low bits a BAR of this size decodes read as 0,
	 * so writing all ones reads back the size mask. */
	uint32_t bar = get32(c, PCI_BASE_ADDRESS_0) & ~(p->bar0_size - 1);
	put32(c, PCI_BASE_ADDRESS_0, bar);
	p->bar0 = bar;
}

/* ---- Messages -------------------------------------------------------------
 */

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *b = buf;
	while (len) {
		ssize_t n = read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The header with its fds. Returns 1, 0 on EOF before any byte, -errno. */
static int recv_header(int fd, struct mpqemu_hdr *h, int *fds, unsigned *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * MPQEMU_MAX_FDS)];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {.iov_base = h, .iov_len = sizeof(*h)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	*nfds = fdpass_take(&mh, fds, MPQEMU_MAX_FDS);
	/* A stream may split the header; its fds came with the first byte. */
	int rc = read_full(fd, (uint8_t *)h + n, sizeof(*h) - (size_t)n);
	return rc < 0 ? rc : 1;
}

static int send_ret(int fd, uint64_t value)
{
	struct {
		struct mpqemu_hdr h;
		uint64_t value;
	} msg = {.h = {.cmd = MPQEMU_RET, .size = sizeof(uint64_t)},
		 .value = value};
	const uint8_t *b = (const uint8_t *)&msg;
	size_t left = sizeof(msg);
	while (left) {
		ssize_t n = send(fd, b, left, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		b += n;
		left -= (size_t)n;
	}
	return 0;
}

/* Guest RAM arrives as the memfd behind QEMU's memory backend. Every
 * layout change re-sends it (with fresh fds, ~50 times during boot); only
 * a different file, or a different place of guest-physical 0 in it, is news
 * for the mock. */
static int sync_sysmem(struct rig_proxy *p, const struct mpqemu_sysmem *s,
		       const int *fds, unsigned nfds)
{
	p->syncs++;
	for (unsigned i = 0; i < nfds; i++) {
		struct stat st;
		if (fstat(fds[i], &st) < 0 || !S_ISREG(st.st_mode) ||
		    s->offsets[i] < 0 || (uint64_t)s->offsets[i] < s->gpas[i] ||
		    s->gpas[i] >= p->cfg->ram_size ||
		    (uint64_t)st.st_size < p->cfg->ram_size)
			continue; /* not (the low part of) our RAM */
		uint64_t base = (uint64_t)s->offsets[i] - s->gpas[i];
		if (p->ram_ready && st.st_dev == p->ram_dev &&
		    st.st_ino == p->ram_ino && base == p->ram_offset)
			return 0;
		int rc = hvd_mock_add_ram_fd(p->mock, p->cfg->zone,
					     p->cfg->zone0_ipa, 0,
					     p->cfg->ram_size, fds[i], base);
		if (rc < 0) {
			fprintf(stderr,
				"hvisor-rig: guest RAM (file offset 0x%llx): "
				"%s\n",
				(unsigned long long)base, strerror(-rc));
			return rc;
		}
		bool first = !p->ram_ready;
		if (!first)
			fprintf(stderr, "hvisor-rig: warning: guest RAM moved "
					"to another file; the running daemon "
					"keeps its old mapping\n");
		p->ram_ready = true;
		p->ram_dev = st.st_dev;
		p->ram_ino = st.st_ino;
		p->ram_offset = base;
		if (first && p->on_ram_ready)
			return p->on_ram_ready(p->ctx);
		return 0;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count_wait(struct rig_proxy *p, uint64_t ns)
{
	unsigned b = 0;
	while (b + 1 < sizeof(p->wait_hist) / sizeof(p->wait_hist[0]) &&
	       (ns >> (b + 1)) != 0)
		b++;
	p->wait_hist[b]++;
	p->waited++;
	p->waited_ns += ns;
	if (ns > 20000)
		p->waited_slow++;
}

void rig_proxy_print_latency(const struct rig_proxy *p, FILE *out)
{
	if (!p->waited)
		return;
	/* The buckets where the 50th and 90th percentile fall. */
	unsigned nb = sizeof(p->wait_hist) / sizeof(p->wait_hist[0]);
	uint64_t seen = 0;
	int p50 = -1, p90 = -1;
	for (unsigned b = 0; b < nb; b++) {
		seen += p->wait_hist[b];
		if (p50 < 0 && seen * 2 >= p->waited)
			p50 = (int)b;
		if (p90 < 0 && seen * 10 >= p->waited * 9)
			p90 = (int)b;
	}
	fprintf(out,
		"hvisor-rig: %llu waited accesses, answered in %.1f us mean, "
		"median %.1f-%.1f us, 90th percentile %.1f-%.1f us, %llu "
		"over 20 us\n",
		(unsigned long long)p->waited,
		(double)p->waited_ns / (double)p->waited / 1000.0,
		(double)(UINT64_C(1) << p50) / 1000.0,
		(double)(UINT64_C(1) << (p50 + 1)) / 1000.0,
		(double)(UINT64_C(1) << p90) / 1000.0,
		(double)(UINT64_C(1) << (p90 + 1)) / 1000.0,
		(unsigned long long)p->waited_slow);
}

/* One BAR access: the hvisor trap path. */
static uint64_t bar_access(struct rig_proxy *p, const struct mpqemu_bar *a,
			   bool is_write)
{
	p->bar_accesses++;
	uint64_t off = a->addr - p->bar0;
	unsigned win = (unsigned)(off / RIG_WINDOW_SIZE);
	uint32_t reg = (uint32_t)(off % RIG_WINDOW_SIZE);
	unsigned size = a->size;
	if (!a->memory || a->addr < p->bar0 || off >= p->bar0_size ||
	    win >= p->cfg->windows ||
	    (size != 1 && size != 2 && size != 4 && size != 8) ||
	    reg + size > RIG_WINDOW_SIZE) {
		if (p->verbose)
			fprintf(stderr,
				"hvisor-rig: %s 0x%llx size %u outside the "
				"windows\n",
				is_write ? "write" : "read",
				(unsigned long long)a->addr, size);
		return 0; /* reads of nothing are 0, writes vanish */
	}
	uint64_t addr = p->cfg->window_addr[win] + reg;
	uint64_t v = is_write ? a->val : 0;
	if (is_write && size < 8)
		v &= (UINT64_C(1) << (size * 8)) - 1;
	/* hvisor does not wait for a QUEUE_NOTIFY write to complete. */
	bool notify = is_write && reg == VIRTIO_MMIO_QUEUE_NOTIFY;
	if (!p->ram_ready) {
		fprintf(stderr, "hvisor-rig: BAR access before guest RAM was "
				"shared; ignored\n");
		return 0;
	}
	uint64_t t0 = notify ? 0 : now_ns();
	int rc = hvd_mock_mmio(p->mock, p->cfg->zone, addr, size, is_write, &v,
			       notify, p->mmio_timeout_ms);
	if (!notify && rc == 0)
		count_wait(p, now_ns() - t0);
	if (rc < 0) {
		p->timeouts++;
		fprintf(stderr,
			"hvisor-rig: %s of 0x%llx (size %u) not completed by "
			"the daemon: %s\n",
			is_write ? "write" : "read", (unsigned long long)addr,
			size, strerror(-rc));
		return 0;
	}
	if (p->verbose)
		fprintf(stderr, "hvisor-rig: %s 0x%llx size %u = 0x%llx\n",
			is_write ? "write" : "read", (unsigned long long)addr,
			size, (unsigned long long)v);
	return is_write ? 0 : v;
}

static bool payload_is(const struct mpqemu_hdr *h, size_t want)
{
	return h->size == want;
}

int rig_proxy_serve_one(struct rig_proxy *p)
{
	struct mpqemu_hdr h;
	int fds[MPQEMU_MAX_FDS];
	unsigned nfds = 0;
	int rc = recv_header(p->fd, &h, fds, &nfds);
	if (rc <= 0) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		if (rc < 0)
			fprintf(stderr, "hvisor-rig: proxy socket: %s\n",
				strerror(-rc));
		return rc;
	}
	union {
		struct mpqemu_pci_conf conf;
		struct mpqemu_bar bar;
		struct mpqemu_sysmem sysmem;
		uint8_t raw[MPQEMU_MAX_PAYLOAD];
	} pl;
	memset(&pl, 0, sizeof(pl));
	if (h.size > sizeof(pl)) {
		fprintf(stderr, "hvisor-rig: proxy message %d of %llu bytes\n",
			h.cmd, (unsigned long long)h.size);
		rc = -EPROTO;
	} else {
		rc = read_full(p->fd, &pl, (size_t)h.size);
	}
	uint64_t ret = 0;
	bool reply = false;
	if (rc == 0) {
		switch (h.cmd) {
		case MPQEMU_SYNC_SYSMEM:
			if (payload_is(&h, sizeof(pl.sysmem)))
				rc = sync_sysmem(p, &pl.sysmem, fds, nfds);
			else
				rc = -EPROTO;
			break;
		case MPQEMU_SET_IRQFD:
			/* INTx eventfds: without KVM the proxy never wires
			 * them; interrupts go through ivshmem instead. */
			break;
		case MPQEMU_PCI_CFGREAD:
		case MPQEMU_PCI_CFGWRITE:
			if (!payload_is(&h, sizeof(pl.conf))) {
				rc = -EPROTO;
				break;
			}
			if (h.cmd == MPQEMU_PCI_CFGREAD)
				ret = config_read(p, pl.conf.addr, pl.conf.len);
			else
				config_write(p, pl.conf.addr, pl.conf.val,
					     pl.conf.len);
			reply = true;
			break;
		case MPQEMU_BAR_READ:
		case MPQEMU_BAR_WRITE:
			if (!payload_is(&h, sizeof(pl.bar))) {
				rc = -EPROTO;
				break;
			}
			ret = bar_access(p, &pl.bar, h.cmd == MPQEMU_BAR_WRITE);
			reply = true;
			break;
		case MPQEMU_DEVICE_RESET:
			/* The guest's drivers reset each virtio device
			 * through its Status register when they probe. */
			reply = true;
			break;
		default:
			fprintf(stderr,
				"hvisor-rig: unknown proxy command %d\n",
				h.cmd);
			rc = -EPROTO;
			break;
		}
		if (rc == -EPROTO)
			fprintf(stderr,
				"hvisor-rig: proxy command %d with a %llu-byte "
				"payload\n",
				h.cmd, (unsigned long long)h.size);
	}
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	if (rc == 0 && reply)
		rc = send_ret(p->fd, ret);
	return rc < 0 ? rc : 1;
}
