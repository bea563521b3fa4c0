/* SPDX-License-Identifier: MIT */
/*
 * hvisor-sim: the daemon serving a simulated zone through the mock
 * hypervisor. It starts the real `hvisor virtio start` against the mock,
 * plays the guest driver on every device of the embedded configuration
 * (or of --config), and prints what the guest sees.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvd/mock.h"

#define ZONE       1u
#define RAM_BASE   0x50000000ull
#define RAM_SIZE   0x1000000ull
#define RNG_BASE   0xa003e00ull
#define RNG_IRQ    78u
#define NOWHERE    0xa00f000ull /* no device there */
#define TIMEOUT_MS 5000

static const char embedded_config[] =
	"// Embedded default of hvisor-sim: one guest zone with an\n"
	"// entropy device. Same format as /etc/hvisor virtio.json.\n"
	"{\n"
	"  \"zones\": [{\n"
	"    \"id\": 1,\n"
	"    \"memory_region\": [{\"zone0_ipa\": \"0x50000000\",\n"
	"                       \"zonex_ipa\": \"0x50000000\",\n"
	"                       \"size\": \"0x1000000\"}],\n"
	"    \"devices\": [\n"
	"      {\"type\": \"rng\", \"addr\": \"0xa003e00\", \"len\": "
	"\"0x200\",\n"
	"       \"irq\": 78, \"status\": \"enable\"}\n"
	"    ]\n"
	"  }]\n"
	"}\n";

static int fail(const char *what, int err)
{
	fprintf(stderr, "hvisor-sim: %s: %s\n", what,
		strerror(err < 0 ? -err : err));
	return EXIT_FAILURE;
}

static void hexdump(const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* The guest side of virtio-rng: three requests, direct and indirect. */
static int drive_rng(struct hvd_mock *m)
{
	struct hvd_guest_dev *d = hvd_guest_open(m, ZONE, RNG_BASE, RNG_IRQ);
	if (!d)
		return fail("guest open", ENOMEM);
	int id = hvd_guest_probe(d);
	if (id < 0)
		return fail("probe", id);
	printf("guest: virtio-mmio at 0x%llx: magic 0x%08x version %u device "
	       "id %d vendor 0x%08x\n",
	       (unsigned long long)RNG_BASE,
	       hvd_guest_reg_read(d, VIRTIO_MMIO_MAGIC_VALUE),
	       hvd_guest_reg_read(d, VIRTIO_MMIO_VERSION), id,
	       hvd_guest_reg_read(d, VIRTIO_MMIO_VENDOR_ID));
	uint64_t feats = 0;
	int err = hvd_guest_negotiate(
		d, (1ull << VIRTIO_F_VERSION_1) | (1ull << 28) | (1ull << 29),
		&feats);
	if (err)
		return fail("negotiate", err);
	printf("guest: negotiated features 0x%llx\n",
	       (unsigned long long)feats);
	struct hvd_guest_vq *vq = hvd_guest_vq_setup(d, 0, 64);
	if (!vq || hvd_guest_driver_ok(d))
		return fail("queue setup", EIO);
	for (int round = 0; round < 3; round++) {
		uint8_t *buf;
		uint64_t gpa = hvd_guest_alloc(d, 32, 16, (void **)&buf);
		struct hvd_guest_buf b = {
			.gpa = gpa, .len = 32, .device_writes = true};
		bool indirect = round == 2;
		if (hvd_guest_vq_add(vq, &b, 1, indirect, buf) < 0 ||
		    hvd_guest_vq_kick(vq) < 0)
			return fail("add buffer", EIO);
		void *token;
		uint32_t len;
		err = hvd_guest_vq_wait_used(vq, &token, &len, TIMEOUT_MS);
		if (err)
			return fail("wait for entropy", err);
		printf("guest: %s request: %u random bytes: ",
		       indirect ? "indirect" : "direct", len);
		hexdump(token, len);
	}
	printf("guest: %llu interrupt(s) received, status 0x%x\n",
	       (unsigned long long)hvd_guest_irq_count(d), hvd_guest_status(d));
	hvd_guest_reset(d);
	hvd_guest_close(d);
	return 0;
}

int main(int argc, char **argv)
{
	const char *hvisor = HVISOR_BUILD_BIN;
	const char *plugin_dir = NULL; /* default: the build's plugins */
	static const struct option opts[] = {
		{"hvisor", required_argument, NULL, 'b'},
		{"plugin-dir", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			hvisor = optarg;
			break;
		case 'p':
			plugin_dir = optarg;
			break;
		default:
			printf("usage: hvisor-sim [--hvisor BIN] [--plugin-dir "
			       "DIR]\n");
			return c == 'h' ? 0 : 2;
		}
	}

	/* Our lines and the daemon's stderr interleave in time order. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct hvd_mock *m = hvd_mock_new();
	if (!m)
		return fail("mock", errno);
	int err = hvd_mock_add_ram(m, ZONE, RAM_BASE, RAM_BASE, RAM_SIZE);
	if (err)
		return fail("guest RAM", err);
	char cfg_path[] = "/tmp/hvisor-sim-XXXXXX.json";
	int fd = mkstemps(cfg_path, 5);
	if (fd < 0 || write(fd, embedded_config, sizeof embedded_config - 1) !=
			      (ssize_t)(sizeof embedded_config - 1))
		return fail("config file", errno);
	close(fd);
	printf("sim: zone %u, RAM 0x%llx+0x%llx, config:\n%s", ZONE,
	       (unsigned long long)RAM_BASE, (unsigned long long)RAM_SIZE,
	       embedded_config);
	/* Without --plugin-dir the child finds the build's plugins through
	 * the search path, as an installed daemon would find its own. */
	char *child_argv[] = {(char *)hvisor, "virtio", "start", "--foreground",
			      cfg_path,       NULL,     NULL,    NULL};
	if (plugin_dir) {
		child_argv[5] = "--plugin-dir";
		child_argv[6] = (char *)plugin_dir;
	} else {
		setenv("HVISOR_PLUGIN_PATH", HVISOR_BUILD_PLUGIN_PATH, 1);
		printf("sim: HVISOR_PLUGIN_PATH=%s\n",
		       HVISOR_BUILD_PLUGIN_PATH);
	}
	printf("sim: starting %s virtio start --foreground %s%s%s\n", hvisor,
	       cfg_path, plugin_dir ? " --plugin-dir " : "",
	       plugin_dir ? plugin_dir : "");
	fflush(stdout);
	err = hvd_mock_spawn(m, child_argv, NULL);
	if (!err)
		err = hvd_mock_wait_ready(m, TIMEOUT_MS);
	if (err) {
		unlink(cfg_path);
		hvd_mock_free(m);
		return fail("daemon did not come up", err);
	}
	printf("sim: daemon ready (pid %d)\n", (int)hvd_mock_child(m));

	int rc = drive_rng(m);
	uint64_t v = 1;
	err = hvd_mock_mmio(m, ZONE, NOWHERE, 4, false, &v, false, TIMEOUT_MS);
	printf("guest: read of 0x%llx where no device is: %s, value %llu\n",
	       (unsigned long long)NOWHERE, err ? strerror(-err) : "completed",
	       (unsigned long long)v);
	if (err)
		rc = EXIT_FAILURE;

	int status = 0;
	err = hvd_mock_stop_child(m, SIGTERM, TIMEOUT_MS, &status);
	if (err || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("sim: daemon did not exit cleanly on SIGTERM\n");
		rc = EXIT_FAILURE;
	} else {
		printf("sim: SIGTERM: daemon reset its devices and exited 0\n");
	}
	unlink(cfg_path);
	hvd_mock_free(m);
	printf("sim: %s\n", rc == 0 ? "OK" : "FAILED");
	return rc;
}
