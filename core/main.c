/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pthread_setname_np */
/*
 * The `hvisor` command: `hvisor virtio start|plugins`. Zone control
 * (`hvisor zone ...`) is dispatched from here as well.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "control_cli.h"
#include "daemon.h"
#include "loader.h"
#include "log.h"
#include "port.h"
#include "zone_cmd.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
	fprintf(out, "usage: hvisor virtio start [options] <virtio.json>\n"
		     "       hvisor virtio plugins [--plugin-dir DIR]...\n");
	control_cli_usage(out);
	fprintf(out, "       hvisor --version\n");
	zone_usage(out);
	fprintf(out,
		"\n"
		"virtio start options:\n"
		"  --plugin-dir DIR   search DIR for device plugins first "
		"(repeatable)\n"
		"  --foreground       log to stderr even without a terminal\n"
		"  --log-level LEVEL  error, warn, info (default) or debug\n"
		"  --mock SOCKET      talk to a mock hypervisor instead of "
		"/dev/hvisor\n"
		"                     (also: HVISOR_MOCK=SOCKET)\n"
		"  --poll-us N        busy-poll the bridge N us after work, "
		"always (default:\n"
		"                     50 us, longer while the guest's accesses "
		"come just after)\n"
		"  --poll-max-us N    the longest the window grows to "
		"(default 1000, 0 = 50 us\n"
		"                     always; docs/design.md)\n"
		"  --control PATH     control socket (default %s)\n"
		"  --no-control       no control socket\n"
		"  --irq-model M      edge, loongarch-v0.4 or loongarch-line "
		"(default: what\n"
		"                     the hypervisor reports)\n"
		"  --no-irq-merge     raise an irq for every event (default: "
		"only when the\n"
		"                     guest has ACKed the last; --irq-merge "
		"is accepted)\n"
		"  --check            no hypervisor: parse the file, create "
		"and "
		"destroy every\n"
		"                     device, exit 0 if all of that worked\n"
		"\n"
		"Plugins are searched in --plugin-dir, then HVISOR_PLUGIN_PATH "
		"(colon-separated),\nthen %s.\n",
		CONTROL_DEFAULT_PATH, HVISOR_PLUGIN_DIR);
}

struct cli {
	const char *plugin_dirs[64];
	unsigned plugin_dir_count;
	bool foreground;
	int log_level;
	const char *mock;
	unsigned poll_us;
	int poll_max_us;      /* as daemon_options.poll_max_us */
	int irq_model;        /* as daemon_options.irq_model */
	bool irq_every_event; /* --no-irq-merge */
	const char *file;
	const char *control; /* --control PATH */
	bool no_control;
	bool check;
};

/* --irq-model NAME: 1 + PORT_IRQ_*, or -1 for an unknown name. */
static int irq_model_option(const char *name)
{
	for (int m = PORT_IRQ_EDGE; m <= PORT_IRQ_LOONGARCH_LINE; m++)
		if (strcmp(name, port_irq_model_name(m)) == 0)
			return m + 1;
	return -1;
}

/* A microsecond option, 0..1000000; -1 after saying what is wrong. */
static int parse_us(const char *name, const char *arg, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || v > 1000000) {
		fprintf(stderr, "hvisor: %s: expected 0..1000000, got '%s'\n",
			name, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Parses options shared by the virtio subcommands. Returns 0, or the exit
 * code to leave with. */
static int parse_cli(int argc, char **argv, struct cli *cli, bool want_file)
{
	enum {
		OPT_PLUGIN_DIR = 256,
		OPT_LOG_LEVEL,
		OPT_MOCK,
		OPT_POLL,
		OPT_POLL_MAX,
		OPT_IRQ_MODEL,
		OPT_IRQ_MERGE,
		OPT_NO_IRQ_MERGE,
		OPT_CONTROL,
		OPT_NO_CONTROL,
		OPT_CHECK,
	};
	static const struct option opts[] = {
		{"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
		{"foreground", no_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"mock", required_argument, NULL, OPT_MOCK},
		{"poll-us", required_argument, NULL, OPT_POLL},
		{"poll-max-us", required_argument, NULL, OPT_POLL_MAX},
		{"control", required_argument, NULL, OPT_CONTROL},
		{"no-control", no_argument, NULL, OPT_NO_CONTROL},
		{"irq-model", required_argument, NULL, OPT_IRQ_MODEL},
		{"irq-merge", no_argument, NULL, OPT_IRQ_MERGE},
		{"no-irq-merge", no_argument, NULL, OPT_NO_IRQ_MERGE},
		{"check", no_argument, NULL, OPT_CHECK},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	cli->log_level = HVD_LOG_INFO;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PLUGIN_DIR:
			if (cli->plugin_dir_count ==
			    sizeof cli->plugin_dirs /
				    sizeof cli->plugin_dirs[0]) {
				fprintf(stderr,
					"hvisor: too many --plugin-dir\n");
				return EXIT_USAGE;
			}
			cli->plugin_dirs[cli->plugin_dir_count++] = optarg;
			break;
		case 'f':
			cli->foreground = true;
			break;
		case OPT_LOG_LEVEL:
			cli->log_level = log_level_parse(optarg);
			if (cli->log_level < 0) {
				fprintf(stderr,
					"hvisor: --log-level: '%s' is not one "
					"of "
					"error, warn, info, debug\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MOCK:
			cli->mock = optarg;
			break;
		case OPT_CONTROL:
			cli->control = optarg;
			break;
		case OPT_NO_CONTROL:
			cli->no_control = true;
			break;
		case OPT_POLL:
			if (parse_us("--poll-us", optarg, &cli->poll_us))
				return EXIT_USAGE;
			break;
		case OPT_POLL_MAX: {
			unsigned us;
			if (parse_us("--poll-max-us", optarg, &us))
				return EXIT_USAGE;
			cli->poll_max_us = us ? (int)us : -1;
			break;
		}
		case OPT_IRQ_MODEL:
			cli->irq_model = irq_model_option(optarg);
			if (cli->irq_model < 0) {
				fprintf(stderr,
					"hvisor: --irq-model: '%s' is not one "
					"of edge, loongarch-v0.4, "
					"loongarch-line\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_IRQ_MERGE: /* the default since merging was made so */
			cli->irq_every_event = false;
			break;
		case OPT_NO_IRQ_MERGE:
			cli->irq_every_event = true;
			break;
		case OPT_CHECK:
			cli->check = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (want_file) {
		if (optind != argc - 1) {
			usage(stderr);
			return EXIT_USAGE;
		}
		cli->file = argv[optind];
	} else if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

static void *serve_thread(void *arg)
{
	/* The hypervisor went away (a mock's test ended): wake the main
	 * thread's sigwait so that the process exits, non-zero. */
	if (daemon_serve(arg) == -ECONNRESET)
		kill(getpid(), SIGTERM);
	return NULL;
}

/* --check: everything start does up to serving, with no hypervisor (the
 * check port), then every device destroyed again. */
static int virtio_check(const struct cli *cli)
{
	struct daemon_options opts = {
		.config_file = cli->file,
		.plugin_dirs = cli->plugin_dirs,
		.plugin_dir_count = cli->plugin_dir_count,
		.mock_fd = -1,
		.check = true,
	};
	struct daemon *d = daemon_create(&opts);
	if (!d)
		return EXIT_FAILURE;
	unsigned devices = 0, zones = d->zones->count;
	for (unsigned i = 0; i < zones; i++)
		devices += d->zones->zone[i]->table->count;
	daemon_destroy(d);
	printf("%s: ok, %u device(s) in %u zone(s) created and destroyed\n",
	       cli->file, devices, zones);
	return EXIT_SUCCESS;
}

static int virtio_start(int argc, char **argv)
{
	struct cli cli = {0};
	int rc = parse_cli(argc, argv, &cli, true);
	if (rc >= 0)
		return rc;
	log_init(cli.foreground || cli.check || isatty(STDERR_FILENO),
		 (enum hvd_log_level)cli.log_level);
	if (cli.check)
		return virtio_check(&cli);

	/* Signals are taken synchronously by this thread only: block them
	 * before any thread (event loop, plugin workers) exists. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct daemon_options opts = {
		.config_file = cli.file,
		.plugin_dirs = cli.plugin_dirs,
		.plugin_dir_count = cli.plugin_dir_count,
		.mock_socket = cli.mock,
		.mock_fd = -1,
		.poll_us = cli.poll_us,
		.poll_max_us = cli.poll_max_us,
		/* The default socket is a convenience: a second daemon (or a
		 * user without /run/hvisor) still serves its zones. */
		.control_path = cli.no_control ? NULL
				: cli.control  ? cli.control
					       : CONTROL_DEFAULT_PATH,
		.control_optional = !cli.control,
		.irq_model = cli.irq_model,
		.irq_every_event = cli.irq_every_event,
	};
	struct daemon *d = daemon_create(&opts);
	if (!d)
		return EXIT_FAILURE;
	pthread_t t;
	if (pthread_create(&t, NULL, serve_thread, d)) {
		log_error("cannot start the dispatch thread");
		daemon_destroy(d);
		return EXIT_FAILURE;
	}
	pthread_setname_np(t, "hvd-dispatch");
	int sig = 0;
	do {
		sigwait(&sigs, &sig);
	} while (sig == SIGHUP); /* no reload: keep serving */
	bool hangup = __atomic_load_n(&d->hangup, __ATOMIC_ACQUIRE);
	if (!hangup)
		log_info("%s: resetting devices and exiting", strsignal(sig));
	daemon_request_stop(d);
	pthread_join(t, NULL);
	daemon_destroy(d);
	return hangup ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int virtio_plugins(int argc, char **argv)
{
	struct cli cli = {0};
	int rc = parse_cli(argc, argv, &cli, false);
	if (rc >= 0)
		return rc;
	log_init(true, (enum hvd_log_level)cli.log_level);
	unsigned ndirs = 0;
	char **dirs = loader_default_dirs(cli.plugin_dirs, cli.plugin_dir_count,
					  &ndirs);
	if (!dirs)
		return EXIT_FAILURE;
	struct plugin_registry *reg =
		loader_new((const char *const *)dirs, ndirs);
	for (unsigned i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	if (!reg)
		return EXIT_FAILURE;
	loader_print_table(reg);
	loader_free(reg);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("hvisor (virtio daemon) %s, plugin ABI %d.%d\n",
		       HVISOR_VERSION, HVD_ABI_MAJOR, HVD_ABI_MINOR);
		return EXIT_SUCCESS;
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	if (argc >= 2 && strcmp(argv[1], "zone") == 0)
		return zone_main(argc - 1, argv + 1);
	if (argc >= 3 && strcmp(argv[1], "virtio") == 0) {
		if (strcmp(argv[2], "start") == 0)
			return virtio_start(argc - 2, argv + 2);
		if (strcmp(argv[2], "plugins") == 0)
			return virtio_plugins(argc - 2, argv + 2);
		if (strcmp(argv[2], "list") == 0 ||
		    strcmp(argv[2], "stats") == 0 ||
		    strcmp(argv[2], "remove") == 0 ||
		    strcmp(argv[2], "add") == 0)
			return control_cli_main(argc - 2, argv + 2);
	}
	usage(stderr);
	return EXIT_USAGE;
}
