/* SPDX-License-Identifier: MIT */
#include "control_cli.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "control.h"

#define EXIT_USAGE 2
/* A reply is a few kilobytes per device; wait this long for it. */
#define REPLY_TIMEOUT_MS 10000
#define REPLY_MAX        (16u << 20)

void control_cli_usage(FILE *out)
{
	fprintf(out,
		"       hvisor virtio list [--json] [--control PATH]\n"
		"       hvisor virtio stats [--json|--prometheus] [--zone N] "
		"[--addr A]\n"
		"                           [--control PATH]\n"
		"       hvisor virtio remove --zone N [--addr A] [--control "
		"PATH]\n"
		"       hvisor virtio add FILE.json [--control PATH]\n");
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "hvisor: --control: path too long\n");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		int err = errno;
		fprintf(stderr,
			"hvisor: cannot reach the daemon at %s: %s (is `hvisor "
			"virtio start` running? --control PATH)\n",
			path, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read up to the first newline. Returns a malloc'd line or NULL. */
static char *read_line(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0)
			break;
		if (len + 1 == cap) {
			char *nb =
				cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			break;
		char *nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

int control_request(const char *path, const cJSON *req, cJSON **reply)
{
	*reply = NULL;
	int fd = connect_to(path);
	if (fd < 0)
		return fd;
	char *text = cJSON_PrintUnformatted(req);
	int err = text ? 0 : -ENOMEM;
	if (text) {
		size_t n = strlen(text);
		text[n] = '\n'; /* replaces the terminator; length kept */
		err = send_all(fd, text, n + 1);
		free(text);
	}
	char *line = err ? NULL : read_line(fd);
	close(fd);
	if (!line) {
		fprintf(stderr, "hvisor: no reply from the daemon at %s\n",
			path);
		return err ? err : -EPROTO;
	}
	*reply = cJSON_Parse(line);
	free(line);
	if (!*reply) {
		fprintf(stderr, "hvisor: unreadable reply from %s\n", path);
		return -EPROTO;
	}
	return 0;
}

enum format { FMT_TEXT, FMT_JSON, FMT_PROM };

struct cli_args {
	const char *path;
	enum format fmt;
	const char *zone, *addr;
	const char *file; /* add */
};

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static void print_list(const cJSON *r)
{
	const cJSON *z;
	cJSON_ArrayForEach (z, cJSON_GetObjectItemCaseSensitive(r, "zones")) {
		const cJSON *devs =
			cJSON_GetObjectItemCaseSensitive(z, "devices");
		printf("zone %.0f: %d device(s)\n", num(z, "id"),
		       cJSON_GetArraySize(devs));
		const cJSON *m;
		cJSON_ArrayForEach (
			m, cJSON_GetObjectItemCaseSensitive(z, "memory"))
			printf("  ram %s+%s\n", str(m, "zonex_ipa"),
			       str(m, "size"));
		const cJSON *d;
		cJSON_ArrayForEach (d, devs) {
			printf("  %-8s %-12s irq %-4.0f status", str(d, "type"),
			       str(d, "addr"), num(d, "irq"));
			const cJSON *b;
			int bits = 0;
			cJSON_ArrayForEach (b, cJSON_GetObjectItemCaseSensitive(
						       d, "status_bits"))
				printf("%s%s", bits++ ? "|" : " ",
				       b->valuestring);
			if (!bits)
				printf(" 0");
			printf("  features %s  queues", str(d, "features"));
			const cJSON *q;
			cJSON_ArrayForEach (q, cJSON_GetObjectItemCaseSensitive(
						       d, "queues"))
				printf(" %.0f/%.0f", num(q, "size"),
				       num(q, "max_size"));
			printf("\n           plugin %s %s\n", str(d, "plugin"),
			       str(d, "plugin_version"));
		}
	}
}

/* With `daemon_line`, also the dispatch thread's line (no filter given:
 * the question is about the whole daemon). */
static void print_stats_text(const cJSON *r, bool daemon_line)
{
	printf("%-5s %-12s %-8s %5s %10s %12s %12s %6s %9s %10s %10s %9s "
	       "%9s\n",
	       "zone", "addr", "type", "queue", "requests", "bytes_in",
	       "bytes_out", "errors", "in_flight", "kicks", "interrupts",
	       "p50_us", "p99_us");
	const cJSON *d;
	cJSON_ArrayForEach (d, cJSON_GetObjectItemCaseSensitive(r, "devices")) {
		const cJSON *q;
		cJSON_ArrayForEach (
			q, cJSON_GetObjectItemCaseSensitive(d, "queues"))
			printf("%-5.0f %-12s %-8s %5.0f %10.0f %12.0f %12.0f "
			       "%6.0f %9.0f %10.0f %10.0f %9.1f %9.1f\n",
			       num(d, "zone"), str(d, "addr"), str(d, "type"),
			       num(q, "index"), num(q, "requests"),
			       num(q, "bytes_in"), num(q, "bytes_out"),
			       num(q, "errors"), num(q, "in_flight"),
			       num(q, "kicks"), num(q, "interrupts"),
			       num(q, "latency_p50_ns") / 1e3,
			       num(q, "latency_p99_ns") / 1e3);
		if (num(d, "needs_reset_events"))
			printf("%-5.0f %-12s %-8s needs_reset_events %.0f\n",
			       num(d, "zone"), str(d, "addr"), str(d, "type"),
			       num(d, "needs_reset_events"));
	}
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "counting");
	if (cJSON_IsFalse(c))
		printf("(counting is off)\n");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(r, "dispatch");
	if (x && daemon_line)
		printf("dispatch: %.0f accesses, %.0f sleeps (%.0f ended early "
		       "by an interrupt), %.0f interrupts raised (%.0f "
		       "merged, %.0f after an ACK, %.0f by the line watch); "
		       "poll window %g us (base %g, max %g; grown %.0f, "
		       "halved %.0f, reset %.0f)\n",
		       num(x, "accesses"), num(x, "sleeps"),
		       num(x, "early_wakeups"), num(x, "interrupts"),
		       num(x, "interrupts_merged"),
		       num(x, "interrupts_after_ack"),
		       num(x, "interrupts_rearmed"), num(x, "window_us"),
		       num(x, "window_base_us"), num(x, "window_max_us"),
		       num(x, "window_grown"), num(x, "window_halved"),
		       num(x, "window_reset"));
}

/* The Prometheus text exposition format, for node_exporter's textfile
 * collector: one family per counter, labels zone/addr/type/queue. */
static const struct metric {
	const char *key, *name, *type, *help;
	double scale; /* JSON value * scale */
} metrics[] = {
	{"requests", "requests_total", "counter", "Requests completed", 1},
	{"bytes_in", "bytes_in_total", "counter",
	 "Bytes the device wrote into driver buffers", 1},
	{"bytes_out", "bytes_out_total", "counter",
	 "Bytes the device read from driver buffers", 1},
	{"errors", "errors_total", "counter", "Ring violations found", 1},
	{"in_flight", "in_flight", "gauge", "Requests popped, not completed",
	 1},
	{"kicks", "kicks_total", "counter", "QueueNotify writes", 1},
	{"interrupts", "interrupts_total", "counter",
	 "Interrupts sent for used buffers", 1},
	{"latency_p50_ns", "latency_p50_seconds", "gauge",
	 "Median request latency, histogram bucket bound", 1e-9},
	{"latency_p99_ns", "latency_p99_seconds", "gauge",
	 "99th percentile request latency, histogram bucket bound", 1e-9},
};

/* The dispatch thread's figures: one sample each, no labels. */
static const struct metric dispatch_metrics[] = {
	{"accesses", "dispatch_accesses_total", "counter",
	 "Register accesses the dispatch thread answered", 1},
	{"sleeps", "dispatch_sleeps_total", "counter",
	 "Times the dispatch thread slept", 1},
	{"early_wakeups", "dispatch_early_wakeups_total", "counter",
	 "Sleeps ended by an interrupt ahead of the guest's handler", 1},
	{"interrupts", "dispatch_interrupts_raised_total", "counter",
	 "Interrupts raised, all devices", 1},
	{"interrupts_merged", "dispatch_interrupts_merged_total", "counter",
	 "Events that found their device's line up and only set a status bit",
	 1},
	{"interrupts_rearmed", "dispatch_interrupts_rearmed_total", "counter",
	 "Lines raised again after a period without the guest's ACK", 1},
	{"window_us", "dispatch_poll_window_seconds", "gauge",
	 "The dispatch thread's poll window now", 1e-6},
};

static void print_labels(const cJSON *d)
{
	printf("zone=\"%.0f\",addr=\"%s\",type=\"%s\"", num(d, "zone"),
	       str(d, "addr"), str(d, "type"));
}

static void print_stats_prom(const cJSON *r)
{
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(r, "devices");
	for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++) {
		const struct metric *m = &metrics[i];
		printf("# HELP hvisor_virtio_%s %s.\n# TYPE hvisor_virtio_%s "
		       "%s\n",
		       m->name, m->help, m->name, m->type);
		const cJSON *d, *q;
		cJSON_ArrayForEach (d, devs) {
			cJSON_ArrayForEach (q, cJSON_GetObjectItemCaseSensitive(
						       d, "queues")) {
				printf("hvisor_virtio_%s{", m->name);
				print_labels(d);
				printf(",queue=\"%.0f\"} %.9g\n",
				       num(q, "index"),
				       num(q, m->key) * m->scale);
			}
		}
	}
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(r, "dispatch");
	for (size_t i = 0;
	     x && i < sizeof dispatch_metrics / sizeof dispatch_metrics[0];
	     i++) {
		const struct metric *m = &dispatch_metrics[i];
		printf("# HELP hvisor_virtio_%s %s.\n# TYPE hvisor_virtio_%s "
		       "%s\nhvisor_virtio_%s %.9g\n",
		       m->name, m->help, m->name, m->type, m->name,
		       num(x, m->key) * m->scale);
	}
	printf("# HELP hvisor_virtio_needs_reset_events_total Times a device "
	       "entered NEEDS_RESET.\n"
	       "# TYPE hvisor_virtio_needs_reset_events_total counter\n");
	const cJSON *d;
	cJSON_ArrayForEach (d, devs) {
		printf("hvisor_virtio_needs_reset_events_total{");
		print_labels(d);
		printf("} %.0f\n", num(d, "needs_reset_events"));
	}
}

/* stats: filters and formats allowed; remove: filters, no format. */
static int parse_args(int argc, char **argv, bool stats, bool removing,
		      struct cli_args *a)
{
	bool adding = strcmp(argv[0], "add") == 0;
	enum { OPT_JSON = 256, OPT_PROM, OPT_ZONE, OPT_ADDR, OPT_CONTROL };
	static const struct option opts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"prometheus", no_argument, NULL, OPT_PROM},
		{"zone", required_argument, NULL, OPT_ZONE},
		{"addr", required_argument, NULL, OPT_ADDR},
		{"control", required_argument, NULL, OPT_CONTROL},
		{NULL, 0, NULL, 0},
	};
	a->path = CONTROL_DEFAULT_PATH;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
		case OPT_PROM:
			if (a->fmt != FMT_TEXT || removing || adding ||
			    (c == OPT_PROM && !stats))
				goto usage;
			a->fmt = c == OPT_JSON ? FMT_JSON : FMT_PROM;
			break;
		case OPT_ZONE:
		case OPT_ADDR: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 0);
			if (!(stats || removing) || errno || *end ||
			    end == optarg || optarg[0] == '-' ||
			    (c == OPT_ZONE && v > UINT32_MAX)) {
				fprintf(stderr,
					"hvisor: --%s: expected a number, got "
					"'%s'\n",
					c == OPT_ZONE ? "zone" : "addr",
					optarg);
				return EXIT_USAGE;
			}
			if (c == OPT_ZONE)
				a->zone = optarg;
			else
				a->addr = optarg;
			break;
		}
		case OPT_CONTROL:
			a->path = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (adding && optind == argc - 1)
		a->file = argv[optind++];
	if (optind != argc || (removing && !a->zone) || (adding && !a->file))
		goto usage;
	return -1;
usage:
	fprintf(stderr, "usage:\n");
	control_cli_usage(stderr);
	return EXIT_USAGE;
}

/* The file's text goes as it is (comments and all): the daemon parses and
 * validates it, so its messages name the JSON paths of this file. */
static int add_file(cJSON *req, const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "hvisor: %s: %s\n", file, strerror(errno));
		return -1;
	}
	/* The request line must stay under the daemon's limit even with
	 * every character escaped (at most 6 bytes each). */
	static char text[CONTROL_MAX_LINE / 6];
	size_t n = fread(text, 1, sizeof text, f);
	bool too_big = n == sizeof text;
	fclose(f);
	if (too_big) {
		fprintf(stderr, "hvisor: %s: larger than %zu bytes\n", file,
			sizeof text - 1);
		return -1;
	}
	text[n] = '\0';
	cJSON_AddStringToObject(req, "source", file);
	cJSON_AddStringToObject(req, "config", text);
	return 0;
}

int control_cli_main(int argc, char **argv)
{
	bool stats = strcmp(argv[0], "stats") == 0;
	bool removing = strcmp(argv[0], "remove") == 0;
	struct cli_args a = {0};
	int rc = parse_args(argc, argv, stats, removing, &a);
	if (rc >= 0)
		return rc;
	cJSON *req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "api", CONTROL_API);
	cJSON_AddStringToObject(req, "cmd", argv[0]);
	if (a.zone)
		cJSON_AddNumberToObject(req, "zone",
					(double)strtoull(a.zone, NULL, 0));
	if (a.addr)
		cJSON_AddStringToObject(req, "addr", a.addr);
	if (a.file && add_file(req, a.file)) {
		cJSON_Delete(req);
		return EXIT_FAILURE;
	}
	cJSON *reply;
	int err = control_request(a.path, req, &reply);
	cJSON_Delete(req);
	if (err)
		return EXIT_FAILURE;
	rc = EXIT_SUCCESS;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		fprintf(stderr, "hvisor: the daemon refused: %s\n",
			str(reply, "error"));
		rc = EXIT_FAILURE;
	} else if (a.file) {
		printf("added %.0f device(s) in %.0f zone(s) from %s\n",
		       num(reply, "added"), num(reply, "zones"), a.file);
	} else if (removing) {
		printf("removed %.0f device(s) of zone %s\n",
		       num(reply, "removed"), a.zone);
	} else if (a.fmt == FMT_JSON) {
		char *text = cJSON_Print(reply);
		if (text)
			puts(text);
		free(text);
	} else if (a.fmt == FMT_PROM) {
		print_stats_prom(reply);
	} else if (stats) {
		print_stats_text(reply, !a.zone && !a.addr);
	} else {
		print_list(reply);
	}
	cJSON_Delete(reply);
	return rc;
}
