/* SPDX-License-Identifier: MIT */
/*
 * hvisor-sim: the daemon serving a simulated zone through the mock
 * hypervisor. It starts the real `hvisor virtio start` on the embedded
 * configuration (one zone with rng, blk, console and net devices), plays
 * the guest driver of every device, checks where the data lands on the
 * host, and stops the daemon with SIGTERM. With --hold it keeps the zone
 * and the daemon running until SIGINT, so that `hvisor virtio list|stats`
 * can be tried against the control socket it prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim.h"

#define RAM_BASE 0x50000000ull
#define RAM_SIZE 0x1000000ull
#define NOWHERE  0xa00f000ull /* no device there */

/* The embedded default, in the format of /etc/hvisor virtio.json; %s are
 * the blk image, the console socket, and the net socket's two ends. */
static const char config_template[] =
	"// hvisor-sim's embedded default: one guest zone, four devices.\n"
	"{\n"
	"  \"zones\": [{\n"
	"    \"id\": 1,\n"
	"    \"memory_region\": [{\"zone0_ipa\": \"0x50000000\",\n"
	"                       \"zonex_ipa\": \"0x50000000\",\n"
	"                       \"size\": \"0x1000000\"}],\n"
	"    \"devices\": [\n"
	"      {\"type\": \"rng\", \"addr\": \"0xa003e00\", \"len\": \"0x200\","
	" \"irq\": 78},\n"
	"      {\"type\": \"blk\", \"addr\": \"0xa003c00\", \"len\": \"0x200\","
	" \"irq\": 77,\n"
	"       \"img\": \"%s\"},\n"
	"      {\"type\": \"console\", \"addr\": \"0xa003800\", \"len\": "
	"\"0x200\", \"irq\": 76,\n"
	"       \"backend\": \"socket\", \"path\": \"%s\"},\n"
	"      {\"type\": \"net\", \"addr\": \"0xa003600\", \"len\": \"0x200\","
	" \"irq\": 75,\n"
	"       \"backend\": \"socket\", \"path\": \"%s\", \"peer\": \"%s\"},\n"
	"      {\"type\": \"blk\", \"addr\": \"0xa003400\", \"len\": \"0x200\","
	" \"irq\": 74,\n"
	"       \"img\": \"/nonexistent\", \"status\": \"disable\"}\n"
	"    ]\n"
	"  }]\n"
	"}\n";

static int fail(const char *what, int err)
{
	fprintf(stderr, "hvisor-sim: %s: %s\n", what,
		strerror(err < 0 ? -err : err));
	return EXIT_FAILURE;
}

/* The temp folder with the blk image and the config file. */
static int prepare(struct sim_paths *p, char *cfg, size_t cfg_size)
{
	snprintf(p->dir, sizeof p->dir, "/tmp/hvisor-sim-XXXXXX");
	if (!mkdtemp(p->dir))
		return -errno;
	snprintf(p->image, sizeof p->image, "%s/disk.img", p->dir);
	snprintf(p->console, sizeof p->console, "%s/console.sock", p->dir);
	snprintf(p->net, sizeof p->net, "%s/net.sock", p->dir);
	snprintf(p->peer, sizeof p->peer, "%s/peer.sock", p->dir);
	snprintf(p->control, sizeof p->control, "%s/control.sock", p->dir);
	snprintf(cfg, cfg_size, "%s/virtio.json", p->dir);
	int fd = open(p->image, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return -errno;
	close(fd);
	FILE *f = fopen(cfg, "w");
	if (!f)
		return -errno;
	fprintf(f, config_template, p->image, p->console, p->net, p->peer);
	fclose(f);
	return 0;
}

static void cleanup(const struct sim_paths *p, const char *cfg)
{
	unlink(cfg);
	unlink(p->image);
	unlink(p->console);
	unlink(p->net);
	unlink(p->peer);
	unlink(p->control);
	rmdir(p->dir);
}

/* --hold: keep everything up until SIGINT (or SIGTERM). */
static void hold(const struct sim_paths *p)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	printf("control socket: %s\n"
	       "sim: holding; try `hvisor virtio list --control %s` or "
	       "`hvisor virtio stats --control %s`; Ctrl-C ends\n",
	       p->control, p->control, p->control);
	int sig;
	sigwait(&sigs, &sig);
}

static int report(const char *what, int rc)
{
	printf("sim: %-8s %s\n", what, rc ? "FAILED" : "ok");
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *hvisor = HVISOR_BUILD_BIN;
	const char *plugin_dir = NULL; /* default: the build's plugins */
	bool hold_on = false;
	static const struct option opts[] = {
		{"hvisor", required_argument, NULL, 'b'},
		{"plugin-dir", required_argument, NULL, 'p'},
		{"hold", no_argument, NULL, 'H'},
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
		case 'H':
			hold_on = true;
			break;
		default:
			printf("usage: hvisor-sim [--hvisor BIN] [--plugin-dir "
			       "DIR] [--hold]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	/* Our lines and the daemon's stderr interleave in time order. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct sim_paths paths;
	char cfg[128];
	int err = prepare(&paths, cfg, sizeof cfg);
	if (err)
		return fail("temp files", err);
	struct hvd_mock *m = hvd_mock_new();
	if (!m)
		return fail("mock", errno);
	err = hvd_mock_add_ram(m, SIM_ZONE, RAM_BASE, RAM_BASE, RAM_SIZE);
	if (err)
		return fail("guest RAM", err);
	printf("sim: zone %u, RAM 0x%llx+0x%llx, %s:\n", SIM_ZONE,
	       (unsigned long long)RAM_BASE, (unsigned long long)RAM_SIZE, cfg);
	fprintf(stdout, config_template, paths.image, paths.console, paths.net,
		paths.peer);

	/* Without --plugin-dir the child finds the build's plugins through
	 * the search path, as an installed daemon would find its own. */
	char *child_argv[] = {
		(char *)hvisor, "virtio", "start", "--foreground", "--control",
		paths.control,  cfg,      NULL,    NULL,           NULL};
	if (plugin_dir) {
		child_argv[7] = "--plugin-dir";
		child_argv[8] = (char *)plugin_dir;
	} else {
		setenv("HVISOR_PLUGIN_PATH", HVISOR_BUILD_PLUGIN_PATH, 1);
	}
	printf("sim: starting %s virtio start --foreground --control %s "
	       "%s%s%s\n",
	       hvisor, paths.control, cfg, plugin_dir ? " --plugin-dir " : "",
	       plugin_dir ? plugin_dir : "");
	err = hvd_mock_spawn(m, child_argv, NULL);
	if (!err)
		err = hvd_mock_wait_ready(m, SIM_TIMEOUT_MS);
	if (err) {
		hvd_mock_free(m);
		cleanup(&paths, cfg);
		return fail("daemon did not come up", err);
	}
	printf("sim: daemon ready (pid %d)\n", (int)hvd_mock_child(m));

	int failed = 0;
	failed += report("rng", sim_rng(m, 0xa003e00, 78));
	failed += report("blk", sim_blk(m, 0xa003c00, 77, &paths));
	failed += report("console", sim_console(m, 0xa003800, 76, &paths));
	failed += report("net", sim_net(m, 0xa003600, 75, &paths));

	uint64_t v = 1;
	err = hvd_mock_mmio(m, SIM_ZONE, NOWHERE, 4, false, &v, false,
			    SIM_TIMEOUT_MS);
	printf("guest: read of 0x%llx where no device is: %s, value %llu\n",
	       (unsigned long long)NOWHERE, err ? strerror(-err) : "completed",
	       (unsigned long long)v);
	failed += report("unserved", err || v != 0);
	if (hold_on)
		hold(&paths);

	int status = 0;
	err = hvd_mock_stop_child(m, SIGTERM, SIM_TIMEOUT_MS, &status);
	failed += report("SIGTERM",
			 err || !WIFEXITED(status) || WEXITSTATUS(status) != 0);
	hvd_mock_free(m);
	cleanup(&paths, cfg);
	printf("sim: %s\n", failed ? "FAILED" : "OK");
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
