/* SPDX-License-Identifier: MIT */
/*
 * The guest side of hvisor-sim: for each device type a short scenario a
 * Linux driver would run, through the mock's guest virtio-mmio driver, with
 * the host side of the backend checked where the data lands.
 */
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim.h"

#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)
#define F_RING      ((1ull << 28) | (1ull << 29)) /* indirect, event idx */

static void hexdump(const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* Probe, negotiate `want`, set up `nq` queues; NULL on failure. */
static struct hvd_guest_dev *bring_up(struct hvd_mock *m, uint64_t base,
				      uint32_t irq, const char *what,
				      uint64_t want, unsigned nq,
				      struct hvd_guest_vq **vqs)
{
	struct hvd_guest_dev *d = hvd_guest_open(m, SIM_ZONE, base, irq);
	if (!d)
		return NULL;
	/* A Linux-like guest (docs/harness-guest.md): completions on the
	 * interrupt, through InterruptStatus/ACK, with what Linux 6.1 asks
	 * for within what the scenario drives. */
	int id = hvd_guest_probe(d);
	uint64_t got = 0;
	if (id > 0)
		want = hvd_guest_linux_features((uint32_t)id) & want;
	if (id < 0 || hvd_guest_set_model(d, HVD_GUEST_LINUX) ||
	    hvd_guest_negotiate(d, want, &got)) {
		printf("guest: %s at 0x%llx: probe/negotiation failed\n", what,
		       (unsigned long long)base);
		hvd_guest_close(d);
		return NULL;
	}
	for (unsigned i = 0; i < nq; i++)
		if (!(vqs[i] = hvd_guest_vq_setup(d, i, 64))) {
			hvd_guest_close(d);
			return NULL;
		}
	if (hvd_guest_driver_ok(d)) {
		hvd_guest_close(d);
		return NULL;
	}
	printf("guest: %s at 0x%llx: device id %d, features 0x%llx\n", what,
	       (unsigned long long)base, id, (unsigned long long)got);
	return d;
}

/* Add one chain, kick, wait for it; returns the written length or -1. */
static long round_trip(struct hvd_guest_vq *vq, const struct hvd_guest_buf *b,
		       unsigned n, bool indirect)
{
	void *token;
	uint32_t len;
	if (hvd_guest_vq_add(vq, b, n, indirect, (void *)b) < 0 ||
	    hvd_guest_vq_kick(vq) < 0 ||
	    hvd_guest_vq_wait_used(vq, &token, &len, SIM_TIMEOUT_MS))
		return -1;
	return len;
}

static void *alloc(struct hvd_guest_dev *d, uint32_t len, uint64_t *gpa)
{
	void *p = NULL;
	*gpa = hvd_guest_alloc(d, len, 16, &p);
	return *gpa ? p : NULL;
}

int sim_rng(struct hvd_mock *m, uint64_t base, uint32_t irq)
{
	struct hvd_guest_vq *vq;
	struct hvd_guest_dev *d = bring_up(m, base, irq, "virtio-rng",
					   F_VERSION_1 | F_RING, 1, &vq);
	if (!d)
		return -1;
	int rc = 0;
	for (int round = 0; round < 2 && rc == 0; round++) {
		uint64_t gpa;
		uint8_t *buf = alloc(d, 32, &gpa);
		struct hvd_guest_buf b = {gpa, 32, true};
		long len = buf ? round_trip(vq, &b, 1, round == 1) : -1;
		if (len < 0) {
			rc = -1;
			break;
		}
		printf("guest: rng (%s chain): %ld random bytes: ",
		       round ? "indirect" : "direct", len);
		hexdump(buf, (unsigned)len);
	}
	hvd_guest_reset(d);
	hvd_guest_close(d);
	return rc;
}

/* One request: header, data, status byte. Returns the status or -1. */
static int blk_request(struct hvd_guest_dev *d, struct hvd_guest_vq *vq,
		       uint32_t type, uint64_t sector, uint64_t data_gpa,
		       uint32_t len, bool device_writes)
{
	uint64_t hgpa, sgpa;
	struct virtio_blk_outhdr *h = alloc(d, sizeof *h, &hgpa);
	uint8_t *status = alloc(d, 1, &sgpa);
	if (!h || !status)
		return -1;
	*h = (struct virtio_blk_outhdr){.type = type, .sector = sector};
	*status = 0xff;
	struct hvd_guest_buf b[3] = {{hgpa, sizeof *h, false},
				     {data_gpa, len, device_writes},
				     {sgpa, 1, true}};
	return round_trip(vq, b, 3, false) < 0 ? -1 : *status;
}

int sim_blk(struct hvd_mock *m, uint64_t base, uint32_t irq,
	    const struct sim_paths *paths)
{
	struct hvd_guest_vq *vq;
	struct hvd_guest_dev *d = bring_up(
		m, base, irq, "virtio-blk",
		F_VERSION_1 | F_RING | (1ull << VIRTIO_BLK_F_FLUSH), 1, &vq);
	if (!d)
		return -1;
	uint64_t sectors = hvd_guest_config_read(d, 0, 8);
	printf("guest: blk capacity %llu sectors (%llu KiB)\n",
	       (unsigned long long)sectors, (unsigned long long)sectors / 2);
	static const char msg[] = "written by the guest through virtio-blk";
	uint64_t wgpa, rgpa;
	char *wbuf = alloc(d, 512, &wgpa);
	char *rbuf = alloc(d, 512, &rgpa);
	int rc = -1;
	if (!wbuf || !rbuf)
		goto out;
	memset(wbuf, 0, 512);
	memcpy(wbuf, msg, sizeof msg);
	int st_w = blk_request(d, vq, VIRTIO_BLK_T_OUT, 8, wgpa, 512, false);
	int st_f = blk_request(d, vq, VIRTIO_BLK_T_FLUSH, 0, wgpa, 0, false);
	memset(rbuf, 0, 512);
	int st_r = blk_request(d, vq, VIRTIO_BLK_T_IN, 8, rgpa, 512, true);
	/* What landed in the image file, seen from the host. */
	char file[512] = {0};
	int fd = open(paths->image, O_RDONLY);
	ssize_t n = fd >= 0 ? pread(fd, file, 512, 8 * 512) : -1;
	if (fd >= 0)
		close(fd);
	printf("guest: blk write sector 8: status %d, flush: status %d, "
	       "read back: status %d, \"%s\"\n",
	       st_w, st_f, st_r, rbuf);
	printf("host: image file at byte 4096: \"%s\"\n",
	       n == 512 ? file : "(unreadable)");
	if (st_w == 0 && st_f == 0 && st_r == 0 && n == 512 &&
	    memcmp(rbuf, msg, sizeof msg) == 0 &&
	    memcmp(file, msg, sizeof msg) == 0)
		rc = 0;
out:
	hvd_guest_reset(d);
	hvd_guest_close(d);
	return rc;
}

static int connect_unix(int type, const char *path, const char *bind_to)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (fd < 0)
		return -1;
	if (bind_to) {
		snprintf(a.sun_path, sizeof a.sun_path, "%s", bind_to);
		unlink(bind_to);
		if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
			goto fail;
	}
	if (path) {
		snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
		if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, SIM_TIMEOUT_MS) == 1;
}

int sim_console(struct hvd_mock *m, uint64_t base, uint32_t irq,
		const struct sim_paths *paths)
{
	struct hvd_guest_vq *vqs[2]; /* receiveq, transmitq of port 0 */
	struct hvd_guest_dev *d = bring_up(m, base, irq, "virtio-console",
					   F_VERSION_1 | F_RING, 2, vqs);
	if (!d)
		return -1;
	int rc = -1;
	int client = connect_unix(SOCK_STREAM, paths->console, NULL);
	static const char out[] = "hello from the guest console\n";
	static const char in[] = "hello from the operator\n";
	uint64_t ogpa, igpa;
	char *obuf = alloc(d, sizeof out, &ogpa);
	char *ibuf = alloc(d, 64, &igpa);
	if (client < 0 || !obuf || !ibuf)
		goto out;
	/* Guest -> operator. */
	memcpy(obuf, out, sizeof out - 1);
	struct hvd_guest_buf ob = {ogpa, sizeof out - 1, false};
	char got[64] = {0};
	if (round_trip(vqs[1], &ob, 1, false) < 0 || !readable(client) ||
	    read(client, got, sizeof got - 1) <= 0)
		goto out;
	printf("host: console socket client read: %s", got);
	/* Operator -> guest. */
	struct hvd_guest_buf ib = {igpa, 64, true};
	memset(ibuf, 0, 64);
	if (hvd_guest_vq_add(vqs[0], &ib, 1, false, ibuf) < 0 ||
	    hvd_guest_vq_kick(vqs[0]) < 0 ||
	    write(client, in, sizeof in - 1) != sizeof in - 1)
		goto out;
	void *token;
	uint32_t len;
	if (hvd_guest_vq_wait_used(vqs[0], &token, &len, SIM_TIMEOUT_MS))
		goto out;
	printf("guest: console received %u bytes: %.*s", len, (int)len, ibuf);
	rc = strcmp(got, out) == 0 && len == sizeof in - 1 &&
			     memcmp(ibuf, in, len) == 0
		     ? 0
		     : -1;
out:
	if (client >= 0)
		close(client);
	hvd_guest_reset(d);
	hvd_guest_close(d);
	return rc;
}

int sim_net(struct hvd_mock *m, uint64_t base, uint32_t irq,
	    const struct sim_paths *paths)
{
	struct hvd_guest_vq *vqs[2]; /* receiveq1, transmitq1 */
	struct hvd_guest_dev *d = bring_up(
		m, base, irq, "virtio-net",
		F_VERSION_1 | F_RING | (1ull << VIRTIO_NET_F_MAC), 2, vqs);
	if (!d)
		return -1;
	int rc = -1;
	uint8_t mac[6];
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)hvd_guest_config_read(d, i, 1);
	printf("guest: net mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1],
	       mac[2], mac[3], mac[4], mac[5]);
	int peer = connect_unix(SOCK_DGRAM, NULL, paths->peer);
	const size_t hdr = sizeof(struct virtio_net_hdr_v1);
	uint8_t frame[64];
	memset(frame, 0xff, 6);             /* broadcast */
	memcpy(frame + 6, mac, 6);          /* from the guest */
	frame[12] = 0x88, frame[13] = 0xb5; /* local experimental type */
	memcpy(frame + 14, "frame from the guest", 21);
	uint64_t tgpa, rgpa;
	uint8_t *tbuf = alloc(d, hdr + sizeof frame, &tgpa);
	uint8_t *rbuf = alloc(d, hdr + 1514, &rgpa);
	if (peer < 0 || !tbuf || !rbuf)
		goto out;
	/* Post a receive buffer first, so the frame from the host has room. */
	struct hvd_guest_buf rb = {rgpa, (uint32_t)(hdr + 1514), true};
	if (hvd_guest_vq_add(vqs[0], &rb, 1, false, rbuf) < 0 ||
	    hvd_guest_vq_kick(vqs[0]) < 0)
		goto out;
	/* Guest -> host. */
	memset(tbuf, 0, hdr);
	memcpy(tbuf + hdr, frame, sizeof frame);
	struct hvd_guest_buf tb = {tgpa, (uint32_t)(hdr + sizeof frame), false};
	uint8_t got[2048];
	ssize_t n = -1;
	if (round_trip(vqs[1], &tb, 1, false) >= 0 && readable(peer))
		n = recv(peer, got, sizeof got, 0);
	printf("host: socket peer got a %zd-byte datagram: \"%s\"\n", n,
	       n > (ssize_t)(hdr + 14) ? (char *)got + hdr + 14 : "");
	/* Host -> guest: same header + frame format back to the daemon. */
	memcpy(frame + 14, "frame from the host!", 21);
	memset(got, 0, hdr);
	memcpy(got + hdr, frame, sizeof frame);
	struct sockaddr_un to = {.sun_family = AF_UNIX};
	snprintf(to.sun_path, sizeof to.sun_path, "%s", paths->net);
	void *token;
	uint32_t len = 0;
	if (sendto(peer, got, hdr + sizeof frame, 0, (struct sockaddr *)&to,
		   sizeof to) < 0 ||
	    hvd_guest_vq_wait_used(vqs[0], &token, &len, SIM_TIMEOUT_MS))
		goto out;
	printf("guest: net received %u bytes (header + frame): \"%s\"\n", len,
	       (char *)rbuf + hdr + 14);
	rc = n == (ssize_t)(hdr + sizeof frame) && len == hdr + sizeof frame &&
			     memcmp(rbuf + hdr, frame, sizeof frame) == 0
		     ? 0
		     : -1;
out:
	if (peer >= 0)
		close(peer);
	hvd_guest_reset(d);
	hvd_guest_close(d);
	return rc;
}
