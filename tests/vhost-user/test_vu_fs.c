/* SPDX-License-Identifier: MIT */
/*
 * virtio-fs through the vhost-user frontend, served by Debian's virtiofsd
 * (/usr/lib/qemu/virtiofsd) sharing a temp directory. The mock guest
 * speaks just enough FUSE over the request queue (virtio 1.2 section 5.11:
 * a request is the FUSE in-header and arguments, readable, then the
 * out-header and results, writable) to INIT, LOOKUP, OPEN, READ and WRITE
 * a file, checked against the host's copy. Skipped (77) without virtiofsd
 * or without root (virtiofsd needs it for its sandbox).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <sys/stat.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "vu_backends.h"

#define VIRTIOFSD "/usr/lib/qemu/virtiofsd"
#define FS_BASE   0xa003c00ull
#define FS_IRQ    77u
#define F_V1      (1ull << VIRTIO_F_VERSION_1)

struct fst {
	char dir[64], share[96], sock[128], log[128];
	pid_t backend;
	struct fixture fx;
	struct hvd_guest_dev *gd;
	struct hvd_guest_vq *req; /* queue 1, the request queue */
	uint64_t unique;
};

static void *galloc(struct fst *t, uint64_t size, uint64_t *gpa)
{
	void *p = NULL;
	*gpa = hvd_guest_alloc(t->gd, size, 64, &p);
	CU_ASSERT_FATAL(*gpa != 0 && p != NULL);
	memset(p, 0, size);
	return p;
}

/* One FUSE request: in-header + `arg` (+ `data`), out-header + `out`.
 * Returns the reply's error (0 or -errno) and copies `out_len` bytes of
 * results into `out`. */
static int fuse_call(struct fst *t, uint32_t opcode, uint64_t nodeid,
		     const void *arg, uint32_t arg_len, const void *data,
		     uint32_t data_len, void *out, uint32_t out_len)
{
	uint64_t in_gpa, data_gpa = 0, oh_gpa, out_gpa = 0;
	struct fuse_in_header *ih = galloc(t, sizeof *ih + arg_len, &in_gpa);
	*ih = (struct fuse_in_header){.len = (uint32_t)sizeof *ih + arg_len +
					     data_len,
				      .opcode = opcode,
				      .unique = ++t->unique,
				      .nodeid = nodeid};
	memcpy(ih + 1, arg, arg_len);
	if (data_len)
		memcpy(galloc(t, data_len, &data_gpa), data, data_len);
	struct fuse_out_header *oh = galloc(t, sizeof *oh, &oh_gpa);
	uint8_t *res = out_len ? galloc(t, out_len, &out_gpa) : NULL;
	struct hvd_guest_buf b[4];
	unsigned n = 0;
	b[n++] = (struct hvd_guest_buf){in_gpa, sizeof *ih + arg_len, false};
	if (data_len)
		b[n++] = (struct hvd_guest_buf){data_gpa, data_len, false};
	b[n++] = (struct hvd_guest_buf){oh_gpa, sizeof *oh, true};
	if (out_len)
		b[n++] = (struct hvd_guest_buf){out_gpa, out_len, true};
	CU_ASSERT_FATAL(hvd_guest_vq_add(t->req, b, n, false, ih) >= 0);
	hvd_guest_vq_kick(t->req);
	void *tok = NULL;
	uint32_t len = 0;
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(t->req, &tok, &len,
					       FIX_TIMEOUT_MS) == 0);
	CU_ASSERT_PTR_EQUAL(tok, ih);
	CU_ASSERT_EQUAL(oh->unique, t->unique);
	CU_ASSERT(oh->len >= sizeof *oh && oh->len <= sizeof *oh + out_len);
	if (out_len)
		memcpy(out, res, out_len);
	return oh->error;
}

static void fst_setup(struct fst *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->dir, sizeof t->dir, "/tmp/vu-fs-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(t->dir) != NULL);
	snprintf(t->share, sizeof t->share, "%s/share", t->dir);
	snprintf(t->sock, sizeof t->sock, "%s/fs.sock", t->dir);
	snprintf(t->log, sizeof t->log, "%s/virtiofsd.log", t->dir);
	CU_ASSERT_FATAL(mkdir(t->share, 0755) == 0);
	int lfd = vut_listen(t->sock);
	CU_ASSERT_FATAL(lfd >= 0);
	char fdarg[32], src[160];
	snprintf(fdarg, sizeof fdarg, "--fd=%d", VUT_LISTEN_FD);
	snprintf(src, sizeof src, "source=%s", t->share);
	char *argv[] = {VIRTIOFSD, fdarg,        "-o", src,
			"-o",      "cache=none", "-o", "sandbox=chroot",
			NULL};
	t->backend = vut_spawn(argv, lfd, t->log);
	CU_ASSERT_FATAL(t->backend > 0);
	char dev[512];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"vhost-user-fs\", \"addr\": \"0xa003c00\", "
		 "\"len\": \"0x200\", \"irq\": 77, \"socket\": \"%s\", "
		 "\"tag\": \"hostshare\", \"timeout_ms\": 5000}",
		 t->sock);
	CU_ASSERT_FATAL(fixture_start(&t->fx, dev) == 0);
	t->gd = hvd_guest_open(t->fx.mock, 1, FS_BASE, FS_IRQ);
	CU_ASSERT_FATAL(t->gd != NULL);
}

static void fst_teardown(struct fst *t)
{
	hvd_guest_close(t->gd);
	fixture_stop(&t->fx);
	vut_kill(t->backend);
	char path[192];
	snprintf(path, sizeof path, "%s/hello.txt", t->share);
	unlink(path);
	rmdir(t->share);
	unlink(t->sock);
	unlink(t->log);
	rmdir(t->dir);
}

static void test_fuse_file(void)
{
	struct fst t;
	fst_setup(&t);
	const char text[] = "written on the host\n";
	char path[192];
	snprintf(path, sizeof path, "%s/hello.txt", t.share);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));

	CU_ASSERT_EQUAL_FATAL(hvd_guest_probe(t.gd), VIRTIO_ID_FS);
	/* The tag the guest mounts by, and one request queue. */
	char tag[10] = {0};
	for (unsigned i = 0; i < 9; i++)
		tag[i] = (char)hvd_guest_config_read(t.gd, i, 1);
	ASSERT_STR(tag, "hostshare");
	CU_ASSERT_EQUAL(hvd_guest_config_read(t.gd, 36, 4), 1);
	uint64_t neg;
	CU_ASSERT_FATAL(hvd_guest_negotiate(t.gd, F_V1, &neg) == 0);
	CU_ASSERT_FATAL(hvd_guest_vq_setup(t.gd, 0, 64) != NULL);
	t.req = hvd_guest_vq_setup(t.gd, 1, 64);
	CU_ASSERT_FATAL(t.req != NULL);
	CU_ASSERT_FATAL(hvd_guest_driver_ok(t.gd) == 0);

	struct fuse_init_in init = {.major = FUSE_KERNEL_VERSION,
				    .minor = 31,
				    .max_readahead = 65536};
	struct fuse_init_out init_out;
	CU_ASSERT_EQUAL_FATAL(fuse_call(&t, FUSE_INIT, 0, &init, sizeof init,
					NULL, 0, &init_out, sizeof init_out),
			      0);
	CU_ASSERT_EQUAL(init_out.major, FUSE_KERNEL_VERSION);

	struct fuse_entry_out entry;
	CU_ASSERT_EQUAL_FATAL(fuse_call(&t, FUSE_LOOKUP, FUSE_ROOT_ID,
					"hello.txt", 10, NULL, 0, &entry,
					sizeof entry),
			      0);
	CU_ASSERT_EQUAL(entry.attr.size, strlen(text));
	/* A name that does not exist: the backend's errno comes back. */
	struct fuse_entry_out none;
	CU_ASSERT_EQUAL(fuse_call(&t, FUSE_LOOKUP, FUSE_ROOT_ID, "absent", 7,
				  NULL, 0, &none, sizeof none),
			-ENOENT);

	struct fuse_open_in oin = {.flags = O_RDWR};
	struct fuse_open_out oout;
	CU_ASSERT_EQUAL_FATAL(fuse_call(&t, FUSE_OPEN, entry.nodeid, &oin,
					sizeof oin, NULL, 0, &oout,
					sizeof oout),
			      0);

	char buf[64] = {0};
	struct fuse_read_in rin = {.fh = oout.fh, .offset = 0, .size = 64};
	CU_ASSERT_EQUAL(fuse_call(&t, FUSE_READ, entry.nodeid, &rin, sizeof rin,
				  NULL, 0, buf, sizeof buf),
			0);
	ASSERT_STR(buf, text);

	const char guest[] = "and from the guest";
	struct fuse_write_in win = {
		.fh = oout.fh, .offset = 8, .size = (uint32_t)strlen(guest)};
	struct fuse_write_out wout;
	CU_ASSERT_EQUAL(fuse_call(&t, FUSE_WRITE, entry.nodeid, &win,
				  sizeof win, guest, (uint32_t)strlen(guest),
				  &wout, sizeof wout),
			0);
	CU_ASSERT_EQUAL(wout.size, strlen(guest));
	char host[64] = {0};
	CU_ASSERT(pread(fd, host, sizeof host - 1, 0) > 0);
	ASSERT_STR(host, "written and from the guest");
	close(fd);
	fst_teardown(&t);
}

int main(void)
{
	if (access(VIRTIOFSD, X_OK) != 0) {
		printf("SKIP: %s not installed (Debian package "
		       "qemu-system-common)\n",
		       VIRTIOFSD);
		return 77;
	}
	if (geteuid() != 0) {
		printf("SKIP: virtiofsd needs root for its sandbox\n");
		return 77;
	}
	static const struct cunit_test tests[] = {
		{"FUSE INIT, LOOKUP, OPEN, READ, WRITE via virtiofsd",
		 test_fuse_file},
		{NULL, NULL},
	};
	return cunit_run("vhost-user-fs", tests);
}
