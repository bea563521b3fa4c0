/* SPDX-License-Identifier: MIT */
#include "net_harness.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void set_path(struct sockaddr_un *a, const char *path)
{
	size_t n = strlen(path);
	if (n >= sizeof a->sun_path)
		n = sizeof a->sun_path - 1; /* bind/connect then fail */
	memcpy(a->sun_path, path, n);
	a->sun_path[n] = 0;
}

static int bind_wire(const char *path, const char *peer)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	set_path(&a, path);
	int size = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	set_path(&a, peer);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void pair_path(char *out, size_t size, const char *base, unsigned k)
{
	if (k == 0)
		snprintf(out, size, "%s", base);
	else
		snprintf(out, size, "%s.%u", base, k);
}

int nh_start_json(struct net_harness *h, const char *device_json)
{
	if (fixture_start(&h->fx, device_json))
		return -1;
	h->gd = hvd_guest_open(h->fx.mock, 1, NET_BASE, NET_IRQ);
	return h->gd ? 0 : -1;
}

int nh_start(struct net_harness *h, unsigned pairs, const char *extra)
{
	memset(h, 0, sizeof *h);
	for (unsigned i = 0; i < 4; i++)
		h->peer_fd[i] = -1;
	snprintf(h->dir, sizeof h->dir, "/tmp/hvd-net-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->dev_path, sizeof h->dev_path, "%s/dev", h->dir);
	snprintf(h->peer_path, sizeof h->peer_path, "%s/peer", h->dir);
	h->pairs = pairs;
	char json[1024];
	snprintf(json, sizeof json,
		 "{\"type\": \"net\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 80, \"backend\": \"socket\", \"path\": "
		 "\"%s\", \"peer\": \"%s\", \"num_queue_pairs\": %u%s%s}",
		 h->dev_path, h->peer_path, pairs,
		 /* A test that sets "mac" itself gets no default. */
		 extra && strstr(extra, "\"mac\"")
			 ? ""
			 : ", \"mac\": \"02:00:00:00:00:01\"",
		 extra ? extra : "");
	if (nh_start_json(h, json))
		return -1;
	/* The device has bound its sockets once the daemon is ready. */
	for (unsigned k = 0; k < pairs; k++) {
		char self[160], peer[160];
		pair_path(self, sizeof self, h->peer_path, k);
		pair_path(peer, sizeof peer, h->dev_path, k);
		h->peer_fd[k] = bind_wire(self, peer);
		if (h->peer_fd[k] < 0)
			return -1;
	}
	return 0;
}

void nh_stop(struct net_harness *h)
{
	if (h->gd)
		hvd_guest_close(h->gd);
	h->gd = NULL;
	if (h->fx.mock)
		fixture_stop(&h->fx);
	for (unsigned k = 0; k < 4; k++) {
		if (h->peer_fd[k] >= 0) {
			close(h->peer_fd[k]);
			char p[160];
			pair_path(p, sizeof p, h->peer_path, k);
			unlink(p);
		}
		h->peer_fd[k] = -1;
	}
	if (h->dir[0])
		rmdir(h->dir);
	h->dir[0] = 0;
}

int nh_bring_up(struct net_harness *h, uint64_t want, uint16_t qsize)
{
	if (hvd_guest_probe(h->gd) != 1)
		return -1;
	if (hvd_guest_negotiate(h->gd, want | BIT(VIRTIO_F_VERSION_1),
				&h->features))
		return -1;
	unsigned pairs = h->pairs ? h->pairs : 1;
	for (unsigned k = 0; k < pairs; k++) {
		h->rxq[k] = hvd_guest_vq_setup(h->gd, 2 * k, qsize);
		h->txq[k] = hvd_guest_vq_setup(h->gd, 2 * k + 1, qsize);
		if (!h->rxq[k] || !h->txq[k])
			return -1;
	}
	h->ctrlq =
		hvd_guest_vq_setup(h->gd, 2 * pairs, qsize > 16 ? qsize : 16);
	if (!h->ctrlq)
		return -1;
	return hvd_guest_driver_ok(h->gd);
}

struct gbuf nh_alloc(struct net_harness *h, uint32_t len)
{
	struct gbuf b = {0};
	void *p = NULL;
	b.gpa = hvd_guest_alloc(h->gd, len, 64, &p);
	b.p = p;
	b.len = b.gpa ? len : 0;
	return b;
}

int nh_post_rx(struct net_harness *h, unsigned q, struct gbuf *b)
{
	struct hvd_guest_buf gb = {b->gpa, b->len, true};
	if (hvd_guest_vq_add(h->rxq[q], &gb, 1, false, b) < 0)
		return -1;
	return hvd_guest_vq_kick(h->rxq[q]) < 0 ? -1 : 0;
}

int nh_tx_add(struct net_harness *h, unsigned q, struct gbuf *b, uint32_t len)
{
	struct hvd_guest_buf gb = {b->gpa, len, false};
	if (hvd_guest_vq_add(h->txq[q], &gb, 1, false, b) < 0)
		return -1;
	return hvd_guest_vq_kick(h->txq[q]) < 0 ? -1 : 0;
}

int nh_tx(struct net_harness *h, unsigned q, struct gbuf *b, uint32_t len)
{
	if (nh_tx_add(h, q, b, len))
		return -1;
	void *token = NULL;
	uint32_t used = 0;
	if (hvd_guest_vq_wait_used(h->txq[q], &token, &used, FIX_TIMEOUT_MS))
		return -1;
	return token == b ? 0 : -1;
}

int nh_ctrl(struct net_harness *h, uint8_t cls, uint8_t cmd, const void *data,
	    uint32_t len)
{
	struct gbuf out = nh_alloc(h, 2 + len), ack = nh_alloc(h, 1);
	if (!out.gpa || !ack.gpa)
		return -1;
	out.p[0] = cls;
	out.p[1] = cmd;
	if (len)
		memcpy(out.p + 2, data, len);
	ack.p[0] = 0xee;
	struct hvd_guest_buf gb[2] = {{out.gpa, 2 + len, false},
				      {ack.gpa, 1, true}};
	if (hvd_guest_vq_add(h->ctrlq, gb, 2, false, ack.p) < 0 ||
	    hvd_guest_vq_kick(h->ctrlq) < 0)
		return -1;
	void *token = NULL;
	uint32_t used = 0;
	if (hvd_guest_vq_wait_used(h->ctrlq, &token, &used, FIX_TIMEOUT_MS) ||
	    token != ack.p || used != 1)
		return -1;
	return ack.p[0];
}

ssize_t nh_wire_send(struct net_harness *h, unsigned q, const void *buf,
		     size_t len)
{
	return send(h->peer_fd[q], buf, len, 0);
}

ssize_t nh_wire_recv(struct net_harness *h, unsigned q, void *buf, size_t len,
		     int timeout_ms)
{
	struct pollfd p = {.fd = h->peer_fd[q], .events = POLLIN};
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return recv(h->peer_fd[q], buf, len, MSG_DONTWAIT);
}

void nh_sync(struct net_harness *h)
{
	(void)hvd_guest_reg_read(h->gd, VIRTIO_MMIO_MAGIC_VALUE);
}

bool nh_wait_needs_reset(struct net_harness *h, struct hvd_guest_vq *vq)
{
	void *token = NULL;
	uint32_t used = 0;
	int rc = 0;
	/* The device may give the refused chain back (used, length 0) before
	 * it fails; completions end, NEEDS_RESET or the failure guard does. */
	for (unsigned n = 0; n <= UINT16_MAX; n++)
		if ((rc = hvd_guest_vq_wait_used(vq, &token, &used,
						 FIX_TIMEOUT_MS)) != 0)
			break;
	return rc == -ENOTRECOVERABLE &&
	       (hvd_guest_status(h->gd) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static uint8_t frame_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 167u + i * 13u + (i >> 8) + 5u);
}

void nh_fill_frame(uint8_t *frame, uint32_t len, uint32_t seq,
		   const uint8_t *dst)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	memcpy(frame, dst ? dst : bcast, 6);
	/* Source: a local address carrying the sequence number. */
	uint8_t src[6] = {0x02,
			  0x99,
			  (uint8_t)(seq >> 24),
			  (uint8_t)(seq >> 16),
			  (uint8_t)(seq >> 8),
			  (uint8_t)seq};
	memcpy(frame + 6, src, 6);
	for (uint32_t i = 12; i < len; i++)
		frame[i] = frame_byte(seq, i);
}

bool nh_check_frame(const uint8_t *frame, uint32_t len, uint32_t seq)
{
	if (len < 14 || frame[8] != (uint8_t)(seq >> 24) ||
	    frame[9] != (uint8_t)(seq >> 16) ||
	    frame[10] != (uint8_t)(seq >> 8) || frame[11] != (uint8_t)seq)
		return false;
	for (uint32_t i = 12; i < len; i++)
		if (frame[i] != frame_byte(seq, i))
			return false;
	return true;
}

uint32_t nh_rand(uint32_t *state)
{
	/* xorshift32 */
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}
