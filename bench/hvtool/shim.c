/* SPDX-License-Identifier: MIT */
/*
 * hvtool-shim: an LD_PRELOAD library that lets an unmodified program written
 * for the /dev/hvisor kernel module (hvisor-tool's `hvisor virtio start`)
 * run against the mock hypervisor of sdk/mock, for the benchmarks'
 * side-by-side figures (docs/hvisor-tool-comparison.md).
 *
 * open("/dev/hvisor") connects to the mock named by HVISOR_MOCK, and the
 * ioctls and mmaps on that fd go through core/port.c's mock port: the very
 * code our daemon runs under the harness, so both daemons see the same
 * bridge page, the same guest RAM and the same interrupt injection.
 *
 *   ioctl INIT_VIRTIO, SET_EVENTFD, FINISH_REQ, CONFIG_CHECK: the port's
 *   mmap offset 0: a second mapping of the port's bridge page
 *   mmap offset X: the port maps guest RAM at zone0 address X; the program
 *                  gets its own mapping of the same file
 *   close:         the port is closed (mappings the program made stay)
 * Any other ioctl fails with ENOTTY and a message. Everything else passes
 * through. openlog() gets LOG_PERROR, so a program logging only to syslog
 * (hvisor-tool does) shows its messages on stderr.
 *
 * Only the interposed functions are exported (shim.map): the core code
 * linked in here binds to itself, never to a same-named function of the
 * program (hvisor-tool has a log_set_level of its own, for one).
 */
/* The symbols defined here are the plain ones (open, mmap) beside their
 * 64-bit names: no header redirection of one to the other. */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "hvisor/bridge.h"
#include "hvisor/mock_wire.h"
#include "port.h"

#define SHIM_DEVICE "/dev/hvisor"

#define SHIM_API __attribute__((visibility("default")))

/* The one open device: guarded by `lock` for open/close; `dev_fd` is read
 * without it by every intercepted call (relaxed: a program does not use
 * an fd while another thread closes it). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct port *port;
static struct hvisor_bridge *bridge;
static int dev_fd = -1;

static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (!f) {
		fprintf(stderr, "hvtool-shim: no %s to forward to\n", name);
		abort();
	}
	return f;
}

#define REAL(fn, ...)                                               \
	({                                                          \
		static __typeof__(fn) *real_##fn;                   \
		if (!__atomic_load_n(&real_##fn, __ATOMIC_ACQUIRE)) \
			__atomic_store_n(&real_##fn, next(#fn),     \
					 __ATOMIC_RELEASE);         \
		real_##fn(__VA_ARGS__);                             \
	})

static bool is_ours(int fd)
{
	return fd >= 0 && fd == __atomic_load_n(&dev_fd, __ATOMIC_RELAXED);
}

static int fail(int err)
{
	errno = err;
	return -1;
}

/* The fd that stands for /dev/hvisor: the mock connection's own socket. */
static int shim_open(void)
{
	const char *sock = getenv(HVISOR_MOCK_ENV);
	if (!sock || !*sock) {
		fprintf(stderr,
			"hvtool-shim: %s is not set: no mock "
			"hypervisor to stand in for " SHIM_DEVICE "\n",
			HVISOR_MOCK_ENV);
		return fail(ENODEV);
	}
	pthread_mutex_lock(&lock);
	int rc = -EBUSY;
	if (!port) {
		port = port_open_mock(sock);
		rc = port ? port_hangup_fd(port) : -errno;
		if (port)
			__atomic_store_n(&dev_fd, rc, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&lock);
	if (rc < 0)
		fprintf(stderr, "hvtool-shim: cannot use the mock at %s: %s\n",
			sock, strerror(-rc));
	return rc < 0 ? fail(-rc) : rc;
}

static bool is_device(const char *path)
{
	return path && strcmp(path, SHIM_DEVICE) == 0;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
		       ? (mode_t)va_arg(ap, int)
		       : 0;
}

SHIM_API int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = open_mode(flags, ap);
	va_end(ap);
	return is_device(path) ? shim_open() : REAL(open, path, flags, mode);
}

/* Same thing: off_t is 64 bits here. */
SHIM_API int open64(const char *path, int flags, ...)
	__attribute__((alias("open")));

SHIM_API int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = open_mode(flags, ap);
	va_end(ap);
	return is_device(path) ? shim_open()
			       : REAL(openat, dirfd, path, flags, mode);
}

static int shim_ioctl(unsigned long req, unsigned long arg)
{
	int rc;
	switch (req) {
	case HVISOR_INIT_VIRTIO:
		pthread_mutex_lock(&lock);
		rc = bridge ? -EBUSY : port_init_virtio(port, &bridge);
		pthread_mutex_unlock(&lock);
		break;
	case HVISOR_SET_EVENTFD:
		rc = port_set_eventfd(port, (int)arg);
		break;
	case HVISOR_FINISH_REQ:
		rc = port_finish_req(port);
		break;
	case HVISOR_CONFIG_CHECK:
		rc = port_config_check(port, (uint64_t *)arg);
		break;
	default:
		fprintf(stderr,
			"hvtool-shim: ioctl 0x%lx on " SHIM_DEVICE
			" is not modelled\n",
			req);
		rc = -ENOTTY;
	}
	return rc < 0 ? fail(-rc) : 0;
}

SHIM_API int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	return is_ours(fd) ? shim_ioctl(req, arg) : REAL(ioctl, fd, req, arg);
}

/* Offset 0: the bridge page, as a new mapping of the port's (mremap with
 * old size 0 duplicates a shared mapping), so that the program's munmap
 * and the port's are independent. */
static void *map_bridge(void *addr, size_t len, int flags)
{
	if (!bridge || len == 0 || len > 4096) {
		errno = bridge ? EINVAL : ENODEV;
		return MAP_FAILED;
	}
	if (addr || (flags & MAP_FIXED) || !(flags & MAP_SHARED)) {
		errno = EINVAL; /* the program's own placement: not modelled */
		return MAP_FAILED;
	}
	return mremap(bridge, 0, len, MREMAP_MAYMOVE);
}

/* Any other offset: guest RAM seen by zone 0 at that address. */
static void *map_ram(void *addr, size_t len, int prot, int flags, off_t off)
{
	/* The kernel refuses these before a driver sees them. */
	if (len == 0 || off < 0 || off % sysconf(_SC_PAGESIZE)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	void *hva = port_map_guest(port, (uint64_t)off, len);
	int fd;
	uint64_t foff;
	if (!hva)
		return MAP_FAILED;
	if (port_guest_fd(port, hva, &fd, &foff) < 0 ||
	    foff % (uint64_t)sysconf(_SC_PAGESIZE)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	return REAL(mmap, addr, len, prot, flags, fd, (off_t)foff);
}

SHIM_API void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	if (!is_ours(fd))
		return REAL(mmap, addr, len, prot, flags, fd, off);
	return off == 0 ? map_bridge(addr, len, flags)
			: map_ram(addr, len, prot, flags, off);
}

SHIM_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off) __attribute__((alias("mmap")));

SHIM_API int close(int fd)
{
	if (!is_ours(fd))
		return REAL(close, fd);
	pthread_mutex_lock(&lock);
	struct port *p = port;
	port = NULL;
	bridge = NULL;
	__atomic_store_n(&dev_fd, -1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock);
	port_close(p); /* closes the socket through REAL(close) */
	return 0;
}

SHIM_API void openlog(const char *ident, int option, int facility)
{
	REAL(openlog, ident, option | LOG_PERROR, facility);
}
