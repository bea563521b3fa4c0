/* SPDX-License-Identifier: MIT */
/*
 * The mock harness and the daemon's port, without the daemon core: the test
 * opens a mock port in-process and plays the daemon side of the bridge by
 * hand (or with a toy register file for the guest driver tests). Timeouts
 * here are failure guards only, except where a timeout is what is tested.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "cunit_main.h"
#include "hvd/mock.h"
#include "hvisor/mock_wire.h"
#include "port.h"
#include "test_mock.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Fixture: a mock and an initialised in-process mock port ------------- */

void fx_open(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->m);
	CU_ASSERT_EQUAL_FATAL(
		hvd_mock_add_ram(f->m, ZONE, RAM0, RAMX, RAM_SIZE), 0);
	f->port = port_open_mock_fd(hvd_mock_connect_fd(f->m));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->port);
	CU_ASSERT_EQUAL_FATAL(port_init_virtio(f->port, &f->b), 0);
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CU_ASSERT_FATAL(f->efd >= 0);
	CU_ASSERT_EQUAL_FATAL(port_set_eventfd(f->port, f->efd), 0);
}

void fx_close(struct fx *f)
{
	port_close(f->port);
	hvd_mock_free(f->m);
	if (f->efd >= 0)
		close(f->efd);
}

static bool efd_readable(int efd, int timeout_ms)
{
	struct pollfd p = {.fd = efd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	uint64_t v;
	return read(efd, &v, sizeof(v)) == sizeof(v);
}

/* Daemon side: sleep on the eventfd until a request is queued. */
static bool wait_request(struct fx *f)
{
	__atomic_store_n(&f->b->need_wakeup, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	bool got = __atomic_load_n(&f->b->req_rear, __ATOMIC_ACQUIRE) !=
		   f->b->req_front;
	if (!got)
		got = efd_readable(f->efd, GUARD_MS);
	__atomic_store_n(&f->b->need_wakeup, 0, __ATOMIC_RELAXED);
	return got;
}

struct hvisor_device_req pop_request(struct hvisor_bridge *b)
{
	uint32_t front = b->req_front;
	struct hvisor_device_req r = b->req_list[front];
	__atomic_store_n(&b->req_front, HVISOR_RING_NEXT(front),
			 __ATOMIC_RELEASE);
	return r;
}

void complete(struct hvisor_bridge *b, uint64_t cpu, uint64_t value)
{
	b->cfg_values[cpu] = value;
	__atomic_fetch_add(&b->cfg_flags[cpu], 1, __ATOMIC_RELEASE);
}

void raise_irq(struct fx *f, uint32_t zone, uint32_t irq)
{
	uint32_t rear = f->b->res_rear;
	f->b->res_list[rear] =
		(struct hvisor_device_res){.target_zone = zone, .irq_id = irq};
	__atomic_store_n(&f->b->res_rear, HVISOR_RING_NEXT(rear),
			 __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(port_finish_req(f->port), 0);
}

/* ---- Harness basics ------------------------------------------------------ */

static void test_new_free(void)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	char path[256];
	snprintf(path, sizeof(path), "%s", hvd_mock_socket_path(m));
	struct stat st;
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(hvd_mock_child(m), 0);
	/* A connection by path, as a spawned daemon would make it. */
	struct port *p = port_open_mock(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(port_describe(p), "mock"));
	uint64_t v = 0;
	CU_ASSERT_EQUAL(port_config_check(p, &v), 0);
	CU_ASSERT_EQUAL(v, 0x06);
	port_close(p);
	hvd_mock_free(m);
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
}

static void test_init_ready(void)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	/* The failure guard itself: nothing connected yet. */
	CU_ASSERT_EQUAL(hvd_mock_wait_ready(m, 20), -ETIMEDOUT);
	struct port *p = port_open_mock_fd(hvd_mock_connect_fd(m));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(port_finish_req(p), -ENOTCONN);
	struct hvisor_bridge *b = NULL;
	CU_ASSERT_EQUAL_FATAL(port_init_virtio(p, &b), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b->req_front, 0);
	CU_ASSERT_EQUAL(b->req_rear, 0);
	CU_ASSERT_EQUAL(b->mmio_avail, 0);
	struct hvisor_bridge *b2 = NULL;
	CU_ASSERT_EQUAL(port_init_virtio(p, &b2), -EALREADY);
	CU_ASSERT_EQUAL(hvd_mock_wait_ready(m, 20), -ETIMEDOUT);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CU_ASSERT_EQUAL(port_set_eventfd(p, efd), 0);
	CU_ASSERT_EQUAL(hvd_mock_wait_ready(m, 20), -ETIMEDOUT);
	__atomic_store_n(&b->mmio_avail, 1, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(hvd_mock_wait_ready(m, GUARD_MS), 0);
	port_close(p);
	close(efd);
	hvd_mock_free(m);
}

static void test_map_guest(void)
{
	struct fx f;
	fx_open(&f);
	uint8_t *g = port_map_guest(f.port, RAM0 + 0x1000, 0x2000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	uint8_t *h = hvd_mock_guest_ptr(f.m, ZONE, RAMX + 0x1000, 0x2000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	g[0] = 0x5a;
	g[0x1fff] = 0xa5;
	CU_ASSERT_EQUAL(h[0], 0x5a);
	CU_ASSERT_EQUAL(h[0x1fff], 0xa5);
	h[10] = 0x77;
	CU_ASSERT_EQUAL(g[10], 0x77);
	/* Not page aligned: the port maps from the page and adds the rest. */
	uint8_t *u = port_map_guest(f.port, RAM0 + 0x1010, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	CU_ASSERT_EQUAL(u[0], g[0x10]);
	u[1] = 0x42;
	CU_ASSERT_EQUAL(h[0x11], 0x42);
	/* The whole region is fine, one byte beyond is not. */
	void *all = port_map_guest(f.port, RAM0, RAM_SIZE);
	CU_ASSERT_PTR_NOT_NULL(all);
	errno = 0;
	CU_ASSERT_PTR_NULL(port_map_guest(f.port, RAM0, RAM_SIZE + 1));
	CU_ASSERT_EQUAL(errno, EPERM);
	errno = 0;
	CU_ASSERT_PTR_NULL(port_map_guest(f.port, 0x60000000, 0x1000));
	CU_ASSERT_EQUAL(errno, EPERM);
	errno = 0;
	CU_ASSERT_PTR_NULL(port_map_guest(f.port, RAM0, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(hvd_mock_guest_ptr(f.m, ZONE, RAMX + RAM_SIZE, 1));
	CU_ASSERT_PTR_NULL(hvd_mock_guest_ptr(f.m, 2, RAMX, 1));
	CU_ASSERT_EQUAL(hvd_mock_add_ram(f.m, 2, RAM0 + 0x1000, 0, 0x1000),
			-EEXIST);
	port_unmap_guest(f.port, u, 16);
	port_unmap_guest(f.port, g, 0x2000);
	port_unmap_guest(f.port, all, RAM_SIZE);
	fx_close(&f);
}

/* ---- The request ring ---------------------------------------------------- */

struct vcpu_arg {
	struct hvd_mock *m;
	uint64_t addr;
	bool is_write;
	uint64_t value;
	int timeout_ms;
	int rc;
};

static void *vcpu_main(void *p)
{
	struct vcpu_arg *a = p;
	a->rc = hvd_mock_mmio(a->m, ZONE, a->addr, 4, a->is_write, &a->value,
			      false, a->timeout_ms);
	return NULL;
}

static void test_mmio_served(void)
{
	struct fx f;
	fx_open(&f);
	uint64_t before = hvd_mock_wakeups(f.m);
	struct vcpu_arg a = {
		.m = f.m, .addr = 0x10000008, .timeout_ms = GUARD_MS};
	pthread_t t;
	/* The daemon is asleep: the push must signal our eventfd. */
	__atomic_store_n(&f.b->need_wakeup, 1, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, vcpu_main, &a), 0);
	CU_ASSERT_FATAL(efd_readable(f.efd, GUARD_MS));
	__atomic_store_n(&f.b->need_wakeup, 0, __ATOMIC_SEQ_CST);
	CU_ASSERT_NOT_EQUAL_FATAL(f.b->req_rear, f.b->req_front);
	struct hvisor_device_req r = pop_request(f.b);
	CU_ASSERT_EQUAL(r.address, 0x10000008);
	CU_ASSERT_EQUAL(r.size, 4);
	CU_ASSERT_EQUAL(r.is_write, 0);
	CU_ASSERT_EQUAL(r.need_interrupt, 0);
	CU_ASSERT_EQUAL(r.src_zone, ZONE);
	CU_ASSERT(r.src_cpu < HVISOR_MAX_CPUS);
	complete(f.b, r.src_cpu, UINT64_C(0xdeadbeef12345678));
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(a.rc, 0);
	CU_ASSERT_EQUAL(a.value, 0x12345678); /* a 4-byte read */
	CU_ASSERT_EQUAL(hvd_mock_wakeups(f.m), before + 1);

	/* A write from this thread, served by a second thread. */
	struct vcpu_arg w = {.m = f.m,
			     .addr = 0x10000070,
			     .is_write = true,
			     .value = 0xf,
			     .timeout_ms = GUARD_MS};
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, vcpu_main, &w), 0);
	CU_ASSERT_FATAL(wait_request(&f));
	r = pop_request(f.b);
	CU_ASSERT_EQUAL(r.is_write, 1);
	CU_ASSERT_EQUAL(r.value, 0xf);
	complete(f.b, r.src_cpu, 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	fx_close(&f);
}

static void test_mmio_notify_and_timeout(void)
{
	struct fx f;
	fx_open(&f);
	/* need_wakeup == 0 (daemon polling): no eventfd signal. */
	uint64_t v = 3;
	CU_ASSERT_EQUAL(hvd_mock_mmio(f.m, ZONE, 0x10000050, 4, true, &v, true,
				      GUARD_MS),
			0);
	CU_ASSERT_EQUAL(hvd_mock_wakeups(f.m), 0);
	CU_ASSERT_FALSE(efd_readable(f.efd, 0));
	CU_ASSERT_NOT_EQUAL(f.b->req_rear, f.b->req_front);
	struct hvisor_device_req r = pop_request(f.b);
	CU_ASSERT_EQUAL(r.need_interrupt, 1);
	CU_ASSERT_EQUAL(r.is_write, 1);
	CU_ASSERT_EQUAL(r.value, 3);
	CU_ASSERT_EQUAL(r.address, 0x10000050);

	/* Nobody serves: the vCPU gives up after its timeout. */
	uint64_t val = 0x1234;
	int64_t t0 = mono_ms();
	CU_ASSERT_EQUAL(hvd_mock_mmio(f.m, ZONE, 0x10000000, 4, false, &val,
				      false, 100),
			-ETIMEDOUT);
	int64_t took = mono_ms() - t0;
	CU_ASSERT(took >= 99 && took < GUARD_MS);
	CU_ASSERT_EQUAL(val, 0x1234);

	CU_ASSERT_EQUAL(hvd_mock_mmio(f.m, ZONE, 0, 3, false, &val, false, 10),
			-EINVAL);
	CU_ASSERT_EQUAL(hvd_mock_mmio(f.m, ZONE, 0, 4, false, &val, true, 10),
			-EINVAL);
	fx_close(&f);

	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(hvd_mock_mmio(m, ZONE, 0, 4, false, &val, false, 10),
			-ENOTCONN);
	hvd_mock_free(m);
}

/* ---- Interrupts ---------------------------------------------------------- */

struct irq_waiter {
	struct hvd_mock *m;
	uint32_t irq;
	uint64_t seen;
	int rc;
};

static void *irq_waiter_main(void *p)
{
	struct irq_waiter *w = p;
	w->rc = hvd_mock_wait_irq(w->m, ZONE, w->irq, w->seen, GUARD_MS);
	return NULL;
}

static void test_irq(void)
{
	struct fx f;
	fx_open(&f);
	CU_ASSERT_EQUAL(hvd_mock_irq_count(f.m, ZONE, 33), 0);
	raise_irq(&f, ZONE, 33);
	CU_ASSERT_EQUAL(hvd_mock_wait_irq(f.m, ZONE, 33, 0, GUARD_MS), 0);
	CU_ASSERT_EQUAL(hvd_mock_irq_count(f.m, ZONE, 33), 1);
	CU_ASSERT_EQUAL(__atomic_load_n(&f.b->res_front, __ATOMIC_ACQUIRE), 1);

	struct irq_waiter w = {.m = f.m, .irq = 33, .seen = 1};
	pthread_t t;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, irq_waiter_main, &w), 0);
	raise_irq(&f, ZONE, 34);
	raise_irq(&f, ZONE, 33);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT_EQUAL(hvd_mock_wait_irq(f.m, ZONE, 34, 0, GUARD_MS), 0);
	CU_ASSERT_EQUAL(hvd_mock_irq_count(f.m, ZONE, 33), 2);
	CU_ASSERT_EQUAL(hvd_mock_irq_count(f.m, ZONE, 34), 1);
	CU_ASSERT_EQUAL(hvd_mock_irq_count(f.m, 2, 33), 0);
	/* Batches that wrap the ring (31 entries fit at a time). */
	for (int batch = 1; batch <= 3; batch++) {
		for (int i = 0; i < 20; i++)
			raise_irq(&f, 2, 7);
		CU_ASSERT_EQUAL(
			hvd_mock_wait_irq(f.m, 2, 7, batch * 20 - 1, GUARD_MS),
			0);
	}
	CU_ASSERT_EQUAL(hvd_mock_irq_count(f.m, 2, 7), 60);
	CU_ASSERT_EQUAL(hvd_mock_wait_irq(f.m, ZONE, 35, 0, 20), -ETIMEDOUT);
	fx_close(&f);
}

/* Several threads waiting at once: one sleeps on the injection itself,
 * the others on the condition variable (mock_irq.c). Each must see its
 * own interrupt whichever of them takes it, in either order. */
static void test_irq_waiters(void)
{
	struct fx f;
	fx_open(&f);
	for (int round = 0; round < 20; round++) {
		struct irq_waiter w[3];
		pthread_t t[3];
		for (unsigned i = 0; i < 3; i++) {
			w[i] = (struct irq_waiter){.m = f.m,
						   .irq = 36 + i,
						   .seen = (uint64_t)round};
			CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL,
							     irq_waiter_main,
							     &w[i]),
					      0);
		}
		for (unsigned i = 0; i < 3; i++)
			raise_irq(&f, ZONE, 36 + (round + i) % 3);
		for (unsigned i = 0; i < 3; i++) {
			pthread_join(t[i], NULL);
			CU_ASSERT_EQUAL(w[i].rc, 0);
			CU_ASSERT_EQUAL(hvd_mock_irq_count(f.m, ZONE, 36 + i),
					(uint64_t)round + 1);
		}
	}
	fx_close(&f);
}

/* ---- Zone control -------------------------------------------------------- */

struct zinfo {
	uint32_t zone_id;
	uint64_t cpus;
	char name[32];
	uint8_t is_err;
};

static void test_zones(void)
{
	struct fx f;
	fx_open(&f);
	uint64_t ver = 0;
	CU_ASSERT_EQUAL(port_config_check(f.port, &ver), 0);
	CU_ASSERT_EQUAL(ver, 0x06);
	hvd_mock_set_config_version(f.m, 0x05);
	CU_ASSERT_EQUAL(port_config_check(f.port, &ver), 0);
	CU_ASSERT_EQUAL(ver, 0x05);

	struct zinfo zs[8];
	CU_ASSERT_EQUAL(port_zone_list(f.port, zs, 8, sizeof(zs[0])), 1);
	CU_ASSERT_EQUAL(zs[0].zone_id, 0);

	uint8_t cfg[2400] = {0};
	uint32_t id = 3;
	uint64_t cpus = 0xc;
	memcpy(cfg, &id, 4);
	memcpy(cfg + 8, &cpus, 8);
	strcpy((char *)cfg + 2328, "linux2");
	CU_ASSERT_EQUAL(port_zone_start(f.port, cfg, sizeof(cfg)), 0);
	CU_ASSERT_EQUAL(port_zone_start(f.port, cfg, sizeof(cfg)), -EEXIST);
	CU_ASSERT_EQUAL(port_zone_start(f.port, cfg, 4), -EINVAL);
	int n = port_zone_list(f.port, zs, 8, sizeof(zs[0]));
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(zs[1].zone_id, 3);
	CU_ASSERT_EQUAL(zs[1].cpus, 0xc);
	CU_ASSERT_STRING_EQUAL(zs[1].name, "linux2");
	CU_ASSERT_EQUAL(port_zone_list(f.port, zs, 1, sizeof(zs[0])), 1);
	CU_ASSERT_EQUAL(port_zone_list(f.port, NULL, 0, sizeof(zs[0])), 0);
	/* A caller's larger entry: same data, zero padding. */
	struct {
		struct zinfo z;
		uint64_t extra;
	} big[4];
	memset(big, 0xff, sizeof(big));
	CU_ASSERT_EQUAL(port_zone_list(f.port, big, 4, sizeof(big[0])), 2);
	CU_ASSERT_EQUAL(big[1].z.zone_id, 3);
	CU_ASSERT_EQUAL(big[1].extra, 0);

	CU_ASSERT_EQUAL(port_zone_shutdown(f.port, 3), 0);
	CU_ASSERT_EQUAL(port_zone_shutdown(f.port, 3), -ENOENT);
	CU_ASSERT_EQUAL(port_zone_shutdown(f.port, 0), -EPERM);
	CU_ASSERT_EQUAL(port_zone_list(f.port, zs, 8, sizeof(zs[0])), 1);

	/* An image larger than one message lands in mock RAM. */
	size_t len = HVISOR_MOCK_MAX_PAYLOAD + 1000;
	uint8_t *img = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	for (size_t i = 0; i < len; i++)
		img[i] = (uint8_t)(i * 7);
	CU_ASSERT_EQUAL(port_load_image(f.port, img, len, RAM0 + 0x100), 0);
	uint8_t *at = hvd_mock_guest_ptr(f.m, ZONE, RAMX + 0x100, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	CU_ASSERT_EQUAL(memcmp(at, img, len), 0);
	free(img);
	fx_close(&f);
}

/* ---- Malformed peers ----------------------------------------------------- */

static int exchange(int fd, const void *msg, size_t len,
		    struct hvisor_mock_msg *rep)
{
	if (send(fd, msg, len, 0) != (ssize_t)len)
		return -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, GUARD_MS) != 1)
		return -1;
	return recv(fd, rep, sizeof(*rep), 0) == sizeof(*rep) ? 0 : -1;
}

static void test_malformed_daemon(void)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	int fd = hvd_mock_connect_fd(m);
	CU_ASSERT_FATAL(fd >= 0);
	struct hvisor_mock_msg rep;
	CU_ASSERT_EQUAL_FATAL(exchange(fd, "abc", 3, &rep), 0);
	CU_ASSERT_EQUAL(rep.result, -EPROTO);
	struct hvisor_mock_msg msg = {.op = 99};
	CU_ASSERT_EQUAL_FATAL(exchange(fd, &msg, sizeof(msg), &rep), 0);
	CU_ASSERT_EQUAL(rep.result, -EOPNOTSUPP);
	msg = (struct hvisor_mock_msg){.op = HVISOR_MOCK_ZONE_START,
				       .payload_len = 100};
	CU_ASSERT_EQUAL_FATAL(exchange(fd, &msg, sizeof(msg), &rep), 0);
	CU_ASSERT_EQUAL(rep.result, -EPROTO);
	msg = (struct hvisor_mock_msg){.op = HVISOR_MOCK_SET_EVENTFD};
	CU_ASSERT_EQUAL_FATAL(exchange(fd, &msg, sizeof(msg), &rep), 0);
	CU_ASSERT_EQUAL(rep.result, -EBADF);
	close(fd);
	/* The mock still serves others. */
	struct port *p = port_open_mock_fd(hvd_mock_connect_fd(m));
	uint64_t v;
	CU_ASSERT_EQUAL(port_config_check(p, &v), 0);
	port_close(p);
	hvd_mock_free(m);
}

/* Queue a reply on the fake mock's end before the port asks. */
static void fake_reply(int fd, uint32_t op, int32_t result, uint64_t arg0,
		       const int *fds, unsigned nfds)
{
	struct hvisor_mock_msg msg = {.op = op, .result = result, .arg0 = arg0};
	struct iovec iov = {.iov_base = &msg, .iov_len = sizeof(msg)};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	CU_ASSERT(sendmsg(fd, &mh, 0) == sizeof(msg));
}

static void test_malformed_mock(void)
{
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(
		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	struct port *p = port_open_mock_fd(sv[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	struct hvisor_bridge *b = NULL;
	int small = memfd_create("small", MFD_CLOEXEC);
	int big = memfd_create("big", MFD_CLOEXEC);
	CU_ASSERT_FATAL(small >= 0 && big >= 0);
	CU_ASSERT_EQUAL(ftruncate(small, 100), 0);
	CU_ASSERT_EQUAL(ftruncate(big, 8192), 0);
	int efd = eventfd(0, EFD_CLOEXEC);

	fake_reply(sv[1], HVISOR_MOCK_CONFIG_CHECK, 0, 0, NULL, 0);
	CU_ASSERT_EQUAL(port_init_virtio(p, &b), -EPROTO); /* wrong op */
	fake_reply(sv[1], HVISOR_MOCK_INIT_VIRTIO, 0, 0, NULL, 0);
	CU_ASSERT_EQUAL(port_init_virtio(p, &b), -EPROTO); /* no fds */
	int two_small[2] = {small, efd};
	fake_reply(sv[1], HVISOR_MOCK_INIT_VIRTIO, 0, 0, two_small, 2);
	CU_ASSERT_EQUAL(port_init_virtio(p, &b), -EPROTO); /* short memfd */
	fake_reply(sv[1], HVISOR_MOCK_INIT_VIRTIO, -5000, 0, NULL, 0);
	CU_ASSERT_EQUAL(port_init_virtio(p, &b), -EPROTO); /* bad result */
	fake_reply(sv[1], HVISOR_MOCK_INIT_VIRTIO, -ENOMEM, 0, NULL, 0);
	CU_ASSERT_EQUAL(port_init_virtio(p, &b), -ENOMEM);
	CU_ASSERT_PTR_NULL(b);
	/* MAP answering an offset beyond the file would SIGBUS if used. */
	errno = 0;
	fake_reply(sv[1], HVISOR_MOCK_MAP, 0, 4096, &big, 1);
	CU_ASSERT_PTR_NULL(port_map_guest(p, 0x1000, 8192));
	CU_ASSERT_EQUAL(errno, EPROTO);
	fake_reply(sv[1], HVISOR_MOCK_MAP, 0, 4096, &big, 1);
	CU_ASSERT_PTR_NOT_NULL(port_map_guest(p, 0x1000, 4096));
	/* ZONE_LIST claiming more entries than it sent. */
	fake_reply(sv[1], HVISOR_MOCK_ZONE_LIST, 3, 0, NULL, 0);
	struct zinfo zs[4];
	CU_ASSERT_EQUAL(port_zone_list(p, zs, 4, sizeof(zs[0])), -EPROTO);
	/* The peer hangs up. */
	close(sv[1]);
	uint64_t v;
	CU_ASSERT(port_config_check(p, &v) < 0);
	port_close(p);
	close(small);
	close(big);
	close(efd);

	errno = 0;
	CU_ASSERT_PTR_NULL(port_open_mock("/nonexistent/hvd-mock.sock"));
	CU_ASSERT_EQUAL(errno, ENOENT);
	int pfd[2];
	CU_ASSERT_EQUAL_FATAL(pipe2(pfd, O_CLOEXEC), 0);
	CU_ASSERT_PTR_NULL(port_open_mock_fd(pfd[0])); /* not a socket */
	close(pfd[1]);
	/* The explicit choice never falls back to /dev/hvisor. */
	errno = 0;
	CU_ASSERT_PTR_NULL(port_open_auto("/nonexistent/hvd-mock.sock"));
	CU_ASSERT_EQUAL(errno, ENOENT);
}

/* ---- The daemon child ---------------------------------------------------- */

static void test_spawn_stop(void)
{
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	char *const sleeper[] = {"/bin/sleep", "30", NULL};
	CU_ASSERT_EQUAL_FATAL(hvd_mock_spawn(m, sleeper, NULL), 0);
	CU_ASSERT(hvd_mock_child(m) > 0);
	CU_ASSERT_EQUAL(hvd_mock_spawn(m, sleeper, NULL), -EBUSY);
	int st = 0;
	CU_ASSERT_EQUAL(hvd_mock_stop_child(m, SIGTERM, GUARD_MS, &st), 0);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CU_ASSERT_EQUAL(hvd_mock_child(m), 0);
	CU_ASSERT_EQUAL(hvd_mock_stop_child(m, SIGTERM, 10, &st), -ECHILD);

	char *const missing[] = {"/nonexistent/hvisor", NULL};
	CU_ASSERT_EQUAL(hvd_mock_spawn(m, missing, NULL), -ENOENT);

	/* The child sees HVISOR_MOCK; its stderr goes to the log. */
	char log[] = "/tmp/hvd-mock-test-log-XXXXXX";
	int lfd = mkstemp(log);
	CU_ASSERT_FATAL(lfd >= 0);
	char *const echo[] = {"/bin/sh", "-c", "echo \"mock=$HVISOR_MOCK\" >&2",
			      NULL};
	CU_ASSERT_EQUAL_FATAL(hvd_mock_spawn(m, echo, log), 0);
	CU_ASSERT_EQUAL(hvd_mock_stop_child(m, 0, GUARD_MS, &st), 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char buf[512] = {0}, want[512];
	CU_ASSERT(read(lfd, buf, sizeof(buf) - 1) > 0);
	snprintf(want, sizeof(want), "mock=%s\n", hvd_mock_socket_path(m));
	CU_ASSERT_STRING_EQUAL(buf, want);
	close(lfd);
	unlink(log);

	/* A child that ignores SIGTERM is killed after the timeout. It tells
	 * us through an inherited pipe once the trap is in place (through
	 * /dev/fd: dash's `>&N` takes one digit, the pipe may be fd 10+). */
	int pfd[2];
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	char script[128];
	snprintf(script, sizeof(script),
		 "trap '' TERM; echo ready >/dev/fd/%d; exec sleep 30", pfd[1]);
	char *const stubborn[] = {"/bin/sh", "-c", script, NULL};
	CU_ASSERT_EQUAL_FATAL(hvd_mock_spawn(m, stubborn, NULL), 0);
	close(pfd[1]);
	struct pollfd p = {.fd = pfd[0], .events = POLLIN};
	CU_ASSERT_EQUAL(poll(&p, 1, GUARD_MS), 1);
	CU_ASSERT_EQUAL(hvd_mock_stop_child(m, SIGTERM, 100, &st), -ETIMEDOUT);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(pfd[0]);

	/* hvd_mock_free stops a live child. */
	CU_ASSERT_EQUAL_FATAL(hvd_mock_spawn(m, sleeper, NULL), 0);
	pid_t pid = hvd_mock_child(m);
	hvd_mock_free(m);
	CU_ASSERT(kill(pid, 0) < 0 && errno == ESRCH);
}

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	int n = 0;
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

/* Everything the mock and the port open is closed again. */
static void test_no_fd_leak(void)
{
	int before = count_fds();
	CU_ASSERT_FATAL(before > 0);
	struct fx f;
	fx_open(&f);
	void *g = port_map_guest(f.port, RAM0 + 0x10, 0x100);
	CU_ASSERT_PTR_NOT_NULL(g);
	raise_irq(&f, ZONE, 9);
	CU_ASSERT_EQUAL(hvd_mock_wait_irq(f.m, ZONE, 9, 0, GUARD_MS), 0);
	struct port *second = port_open_mock(hvd_mock_socket_path(f.m));
	CU_ASSERT_PTR_NOT_NULL(second);
	uint64_t v;
	CU_ASSERT_EQUAL(port_config_check(second, &v), 0);
	char *const argv[] = {"/bin/true", NULL};
	CU_ASSERT_EQUAL(hvd_mock_spawn(f.m, argv, NULL), 0);
	CU_ASSERT_EQUAL(hvd_mock_stop_child(f.m, 0, GUARD_MS, NULL), 0);
	port_close(second);
	fx_close(&f);
	CU_ASSERT_EQUAL(count_fds(), before);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"new_free", test_new_free},
		{"init_ready", test_init_ready},
		{"map_guest", test_map_guest},
		{"mmio_served", test_mmio_served},
		{"mmio_notify_and_timeout", test_mmio_notify_and_timeout},
		{"irq", test_irq},
		{"irq_waiters", test_irq_waiters},
		{"zones", test_zones},
		{"malformed_daemon", test_malformed_daemon},
		{"malformed_mock", test_malformed_mock},
		{"spawn_stop", test_spawn_stop},
		{"no_fd_leak", test_no_fd_leak},
		{"guest_driver", test_guest_driver},
		{"guest_alloc", test_guest_alloc},
		{"guest_linux_model", test_guest_linux_model},
		{"external_ram", test_external_ram},
		{"irq_callback", test_irq_callback},
		{NULL, NULL},
	};
	return cunit_run("mock", tests);
}
