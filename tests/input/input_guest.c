/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "input_guest.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "cunit_main.h"

int ig_open(struct ig *g, struct hvd_mock *m, uint64_t base, uint32_t irq)
{
	uint64_t got = 0;
	void *p;
	memset(g, 0, sizeof *g);
	g->d = hvd_guest_open(m, 1, base, irq);
	if (!g->d)
		return -ENODEV;
	hvd_guest_set_timeout(g->d, IG_WAIT_MS);
	if (hvd_guest_probe(g->d) != VIRTIO_ID_INPUT ||
	    hvd_guest_negotiate(g->d, 1ull << VIRTIO_F_VERSION_1, &got))
		return -EPROTO;
	g->eventq = hvd_guest_vq_setup(g->d, 0, IG_QSIZE);
	g->statusq = hvd_guest_vq_setup(g->d, 1, IG_QSIZE);
	g->ev_gpa = hvd_guest_alloc(g->d, IG_QSIZE * sizeof *g->ev, 8, &p);
	g->ev = p;
	g->st_gpa = hvd_guest_alloc(g->d, sizeof *g->st, 8, &p);
	g->st = p;
	if (!g->eventq || !g->statusq || !g->ev_gpa || !g->st_gpa)
		return -ENOMEM;
	return hvd_guest_driver_ok(g->d);
}

void ig_close(struct ig *g)
{
	if (g->d)
		hvd_guest_close(g->d);
	g->d = NULL;
}

unsigned ig_select(struct ig *g, uint8_t select, uint8_t subsel)
{
	CU_ASSERT_EQUAL(hvd_guest_config_write(
				g->d,
				offsetof(struct virtio_input_config, select), 1,
				select),
			0);
	CU_ASSERT_EQUAL(hvd_guest_config_write(
				g->d,
				offsetof(struct virtio_input_config, subsel), 1,
				subsel),
			0);
	return (unsigned)hvd_guest_config_read(
		g->d, offsetof(struct virtio_input_config, size), 1);
}

uint8_t ig_u8(struct ig *g, unsigned i)
{
	return (uint8_t)hvd_guest_config_read(
		g->d, offsetof(struct virtio_input_config, u) + i, 1);
}

void ig_post(struct ig *g, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned slot = g->next++ % IG_QSIZE;
		struct hvd_guest_buf b = {
			.gpa = g->ev_gpa + slot * sizeof *g->ev,
			.len = sizeof *g->ev,
			.device_writes = true,
		};
		memset(&g->ev[slot], 0xee, sizeof g->ev[slot]);
		CU_ASSERT_FATAL(hvd_guest_vq_add(g->eventq, &b, 1, false,
						 &g->ev[slot]) >= 0);
	}
	CU_ASSERT(hvd_guest_vq_kick(g->eventq) >= 0);
}

int ig_next(struct ig *g, struct virtio_input_event *ev)
{
	void *token = NULL;
	uint32_t len = 0;
	int r = hvd_guest_vq_wait_used(g->eventq, &token, &len, IG_WAIT_MS);
	if (r)
		return r;
	if (len != sizeof *ev || !token)
		return -EPROTO;
	memcpy(ev, token, sizeof *ev);
	return 0;
}

void ig_expect(struct ig *g, uint16_t type, uint16_t code, int32_t value)
{
	struct virtio_input_event ev;
	CU_ASSERT_EQUAL_FATAL(ig_next(g, &ev), 0);
	if (le16toh(ev.type) != type || le16toh(ev.code) != code ||
	    (int32_t)le32toh(ev.value) != value)
		fprintf(stderr, "\n  want event %u %u %d, got %u %u %d\n", type,
			code, value, le16toh(ev.type), le16toh(ev.code),
			(int32_t)le32toh(ev.value));
	CU_ASSERT_EQUAL(le16toh(ev.type), type);
	CU_ASSERT_EQUAL(le16toh(ev.code), code);
	CU_ASSERT_EQUAL((int32_t)le32toh(ev.value), value);
}

int ig_status(struct ig *g, uint16_t type, uint16_t code, int32_t value)
{
	*g->st = (struct virtio_input_event){htole16(type), htole16(code),
					     htole32((uint32_t)value)};
	struct hvd_guest_buf b = {.gpa = g->st_gpa, .len = sizeof *g->st};
	void *token = NULL;
	uint32_t len = 0;
	if (hvd_guest_vq_add(g->statusq, &b, 1, false, g->st) < 0 ||
	    hvd_guest_vq_kick(g->statusq) < 0)
		return -EIO;
	int r = hvd_guest_vq_wait_used(g->statusq, &token, &len, IG_WAIT_MS);
	return r ? r : token == g->st ? 0 : -EPROTO;
}

int ig_send(const char *path, const struct virtio_input_event *ev, unsigned n)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof a.sun_path)
		return -EINVAL;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A failure guard only: the device drains its socket from the
	 * event loop. */
	struct timeval tv = {.tv_sec = IG_WAIT_MS / 1000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	ssize_t r = sendto(fd, ev, n * sizeof ev[0], 0, (struct sockaddr *)&a,
			   sizeof a);
	int e = errno;
	close(fd);
	return r == (ssize_t)(n * sizeof ev[0]) ? 0 : -e;
}
