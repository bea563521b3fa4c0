/* SPDX-License-Identifier: MIT */
/* The console suites' guest driver and host helpers (console_guest.h). */
#define _GNU_SOURCE
#include "console_guest.h"

#include <endian.h>
#include <errno.h>
#include <ftw.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cg_open(struct cg *g, struct hvd_mock *m, uint64_t base, uint32_t irq)
{
	memset(g, 0, sizeof *g);
	g->mock = m;
	g->d = hvd_guest_open(m, 1, base, irq);
	if (!g->d)
		return -ENOMEM;
	hvd_guest_set_timeout(g->d, CG_WAIT_MS);
	return hvd_guest_probe(g->d) == VIRTIO_ID_CONSOLE ? 0 : -ENODEV;
}

void cg_close(struct cg *g)
{
	if (g->d)
		hvd_guest_close(g->d);
	g->d = NULL;
	for (unsigned q = 0; q < CG_MAX_VQ; q++)
		free(g->pool[q].carry);
	memset(g->pool, 0, sizeof g->pool);
}

int cg_up(struct cg *g, uint64_t want, unsigned nvq)
{
	uint64_t got = 0;
	int r = hvd_guest_negotiate(g->d, want, &got);
	if (r)
		return r;
	if (got != want || nvq > CG_MAX_VQ)
		return -EPROTO;
	g->features = got;
	g->nvq = nvq;
	g->nctrl = 0;
	for (unsigned q = 0; q < nvq; q++) {
		g->vq[q] = hvd_guest_vq_setup(g->d, q, CG_QSIZE);
		if (!g->vq[q])
			return -ENOMEM;
		memset(g->pool[q].busy, 0, sizeof g->pool[q].busy);
	}
	return hvd_guest_driver_ok(g->d);
}

int cg_pool(struct cg *g, unsigned q, unsigned count, uint32_t size)
{
	struct cg_pool *p = &g->pool[q];
	if (p->count)
		return p->size == size && p->count == count ? 0 : -EEXIST;
	if (count > CG_MAX_BUFS)
		return -EINVAL;
	for (unsigned i = 0; i < count; i++) {
		void *ptr = NULL;
		p->gpa[i] = hvd_guest_alloc(g->d, size, 16, &ptr);
		if (!p->gpa[i])
			return -ENOMEM;
		p->ptr[i] = ptr;
	}
	p->count = count;
	p->size = size;
	return 0;
}

static void *slot_token(unsigned i)
{
	return (void *)(uintptr_t)(i + 1);
}

static unsigned token_slot(void *token)
{
	return (unsigned)((uintptr_t)token - 1);
}

static unsigned pool_busy(const struct cg_pool *p)
{
	unsigned n = 0;
	for (unsigned i = 0; i < p->count; i++)
		n += p->busy[i];
	return n;
}

/* Queue as much of data[*off..len) as free slots allow, and kick. */
static int fill_tx(struct cg *g, unsigned q, const uint8_t *data, size_t len,
		   size_t *off)
{
	struct cg_pool *p = &g->pool[q];
	bool added = false;
	for (unsigned i = 0; i < p->count && *off < len; i++) {
		if (p->busy[i])
			continue;
		uint32_t n = p->size;
		if (n > len - *off)
			n = (uint32_t)(len - *off);
		memcpy(p->ptr[i], data + *off, n);
		struct hvd_guest_buf b = {p->gpa[i], n, false};
		if (hvd_guest_vq_add(g->vq[q], &b, 1, false, slot_token(i)) < 0)
			break;
		p->busy[i] = true;
		*off += n;
		added = true;
	}
	if (added && hvd_guest_vq_kick(g->vq[q]) < 0)
		return -EIO;
	return 0;
}

/* Also reclaims buffers an earlier cg_send_nowait left in flight. */
int cg_send(struct cg *g, unsigned q, const void *data, size_t len)
{
	size_t off = 0;
	if (!g->pool[q].count)
		return -EINVAL;
	while (off < len || pool_busy(&g->pool[q])) {
		int r = fill_tx(g, q, data, len, &off);
		if (r)
			return r;
		void *token;
		uint32_t used_len;
		r = hvd_guest_vq_wait_used(g->vq[q], &token, &used_len,
					   CG_WAIT_MS);
		if (r)
			return r;
		g->pool[q].busy[token_slot(token)] = false;
		while (hvd_guest_vq_get_used(g->vq[q], &token, &used_len) == 1)
			g->pool[q].busy[token_slot(token)] = false;
	}
	return 0;
}

int cg_send_nowait(struct cg *g, unsigned q, const void *data, size_t len)
{
	size_t off = 0;
	int r = fill_tx(g, q, data, len, &off);
	return r ? r : off == len ? 0 : -ENOSPC;
}

int cg_post_rx(struct cg *g, unsigned q)
{
	struct cg_pool *p = &g->pool[q];
	bool added = false;
	for (unsigned i = 0; i < p->count; i++) {
		if (p->busy[i])
			continue;
		struct hvd_guest_buf b = {p->gpa[i], p->size, true};
		if (hvd_guest_vq_add(g->vq[q], &b, 1, false, slot_token(i)) < 0)
			return -ENOSPC;
		p->busy[i] = true;
		added = true;
	}
	if (added && hvd_guest_vq_kick(g->vq[q]) < 0)
		return -EIO;
	return 0;
}

/* Append n received bytes to what cg_recv hands out next. */
static int carry_append(struct cg_pool *p, const uint8_t *src, size_t n)
{
	uint8_t *grown = realloc(p->carry, p->carry_len + n);
	if (!grown)
		return -ENOMEM;
	memcpy(grown + p->carry_len, src, n);
	p->carry = grown;
	p->carry_len += n;
	return 0;
}

int cg_recv(struct cg *g, unsigned q, void *buf, size_t len)
{
	struct cg_pool *p = &g->pool[q];
	if (!p->count)
		return -EINVAL;
	while (p->carry_len < len) {
		int r = cg_post_rx(g, q);
		if (r)
			return r;
		void *token;
		uint32_t n;
		r = hvd_guest_vq_wait_used(g->vq[q], &token, &n, CG_WAIT_MS);
		/* Take every buffer already used before posting again. */
		while (r == 0) {
			unsigned i = token_slot(token);
			p->busy[i] = false;
			r = carry_append(p, p->ptr[i], n);
			if (r)
				return r;
			r = hvd_guest_vq_get_used(g->vq[q], &token, &n) == 1
				    ? 0
				    : 1;
		}
		if (r < 0)
			return r;
	}
	memcpy(buf, p->carry, len);
	memmove(p->carry, p->carry + len, p->carry_len - len);
	p->carry_len -= len;
	return 0;
}

/* ---- Control queue ------------------------------------------------------ */

#define CTRL_RXQ 2u
#define CTRL_TXQ 3u

int cg_ctrl_start(struct cg *g)
{
	int r = cg_pool(g, CTRL_RXQ, 16, 128);
	if (!r)
		r = cg_pool(g, CTRL_TXQ, 4, 16);
	return r ? r : cg_post_rx(g, CTRL_RXQ);
}

int cg_ctrl_send(struct cg *g, uint32_t id, uint16_t event, uint16_t value)
{
	struct virtio_console_control m = {htole32(id), htole16(event),
					   htole16(value)};
	return cg_send(g, CTRL_TXQ, &m, sizeof m);
}

static struct cg_ctrl *find_ctrl(struct cg *g, uint32_t id, uint16_t event)
{
	for (unsigned i = 0; i < g->nctrl; i++)
		if (!g->ctrl[i].used && g->ctrl[i].id == id &&
		    g->ctrl[i].event == event)
			return &g->ctrl[i];
	return NULL;
}

int cg_ctrl_wait(struct cg *g, uint32_t id, uint16_t event, uint16_t *value,
		 void *extra, size_t extra_size)
{
	struct cg_pool *p = &g->pool[CTRL_RXQ];
	struct cg_ctrl *c;
	while (!(c = find_ctrl(g, id, event))) {
		void *token;
		uint32_t n;
		int r = hvd_guest_vq_wait_used(g->vq[CTRL_RXQ], &token, &n,
					       CG_WAIT_MS);
		if (r)
			return r;
		unsigned i = token_slot(token);
		struct virtio_console_control m;
		if (n < sizeof m || g->nctrl == CG_MAX_CTRL)
			return -EPROTO;
		memcpy(&m, p->ptr[i], sizeof m);
		struct cg_ctrl *nc = &g->ctrl[g->nctrl++];
		memset(nc, 0, sizeof *nc);
		nc->id = le32toh(m.id);
		nc->event = le16toh(m.event);
		nc->value = le16toh(m.value);
		size_t extra_len = n - sizeof m;
		if (extra_len >= sizeof nc->extra)
			extra_len = sizeof nc->extra - 1;
		memcpy(nc->extra, p->ptr[i] + sizeof m, extra_len);
		p->busy[i] = false;
		r = cg_post_rx(g, CTRL_RXQ);
		if (r)
			return r;
	}
	c->used = true;
	if (value)
		*value = c->value;
	if (extra)
		memcpy(extra, c->extra,
		       extra_size < sizeof c->extra ? extra_size
						    : sizeof c->extra);
	return 0;
}

/* ---- Host side ---------------------------------------------------------- */

void cg_fill_random(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)(x >> 11);
	}
}

static int wait_fd(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int r;
	do
		r = poll(&pfd, 1, CG_WAIT_MS);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* Transfer io->want bytes in io->chunk pieces; 0 or -errno. */
static int do_io(struct cg_io *io)
{
	const struct timespec pause = {0, 20000};
	while (io->done < io->want) {
		size_t n = io->want - io->done;
		if (n > io->chunk)
			n = io->chunk;
		int r = wait_fd(io->fd, io->write ? POLLOUT : POLLIN);
		if (r)
			return r;
		ssize_t got = io->write ? write(io->fd, io->buf + io->done, n)
					: read(io->fd, io->buf + io->done, n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return got == 0 ? -EPIPE : -errno;
		io->done += (size_t)got;
		if (io->slow) /* a reader slower than the device */
			nanosleep(&pause, NULL);
	}
	return 0;
}

static void *io_thread(void *arg)
{
	struct cg_io *io = arg;
	io->error = do_io(io);
	return NULL;
}

int cg_io_start(struct cg_io *io)
{
	io->done = 0;
	io->error = 0;
	if (!io->chunk)
		io->chunk = 4096;
	return -pthread_create(&io->thread, NULL, io_thread, io);
}

int cg_io_join(struct cg_io *io)
{
	pthread_join(io->thread, NULL);
	return io->error;
}

int cg_read_full(int fd, void *buf, size_t len)
{
	struct cg_io io = {.fd = fd, .buf = buf, .want = len, .chunk = len};
	return do_io(&io);
}

int cg_write_full(int fd, const void *buf, size_t len)
{
	struct cg_io io = {.fd = fd,
			   .buf = (uint8_t *)buf,
			   .want = len,
			   .chunk = len,
			   .write = true};
	return do_io(&io);
}

static char tmpdir[64];

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

static void remove_tmpdir(void)
{
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *cg_tmpdir(void)
{
	if (!tmpdir[0]) {
		strcpy(tmpdir, "/tmp/hvd-console-XXXXXX");
		if (!mkdtemp(tmpdir))
			return NULL;
		atexit(remove_tmpdir);
	}
	return tmpdir;
}

const char *cg_tmp_path(char *buf, size_t size, const char *what)
{
	static unsigned counter;
	snprintf(buf, size, "%s/%s-%u", cg_tmpdir(), what, counter++);
	return buf;
}
