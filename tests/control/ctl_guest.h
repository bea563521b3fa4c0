/* SPDX-License-Identifier: MIT */
/*
 * The control suites' world: the blk test world (tests/blk/blk_guest.h)
 * with the daemon serving a control socket in the test's temp folder, and
 * raw clients of that socket.
 */
#ifndef TESTS_CONTROL_CTL_GUEST_H
#define TESTS_CONTROL_CTL_GUEST_H

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "blk/blk_guest.h"
#include "control.h"
#include "control_cli.h"
#include "schema_check.h"

/* Failure guard for replies; the daemon answers in microseconds. */
#define CTL_TIMEOUT_MS 5000

struct ct {
	struct blkt b;
	char sock[100]; /* fits sun_path */
	char schema[512];
};

static inline void ct_setup(struct ct *t)
{
	memset(t, 0, sizeof *t);
	blkt_make_image(&t->b, 1 << 20, 0);
	snprintf(t->sock, sizeof t->sock, "%s/control.sock", t->b.dir);
	snprintf(t->schema, sizeof t->schema, "%s/docs/control-schema.json",
		 getenv("HVISOR_TEST_SOURCE_DIR"));
	char dev[512];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"blk\", \"addr\": \"0xa003c00\", \"len\": "
		 "\"0x200\", \"irq\": 77, \"img\": \"%s\"}",
		 t->b.img);
	t->b.fx.control_path = t->sock;
	CU_ASSERT_FATAL(fixture_start(&t->b.fx, dev) == 0);
	t->b.gd = hvd_guest_open(t->b.fx.mock, 1, BLK_BASE, BLK_IRQ);
	CU_ASSERT_FATAL(t->b.gd != NULL);
	blkt_bring_up(&t->b, F_V1, 1, 256);
}

static inline void ct_teardown(struct ct *t)
{
	blkt_teardown(&t->b);
}

static inline int ct_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static inline int ct_send(int fd, const char *text)
{
	size_t n = strlen(text);
	return send(fd, text, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* The next reply line on fd, parsed; NULL on timeout or EOF. Reads one
 * byte at a time so that later replies stay in the socket. */
static inline cJSON *ct_read_reply(int fd)
{
	static char line[1 << 20];
	size_t len = 0;
	while (len < sizeof line - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, CTL_TIMEOUT_MS) <= 0 ||
		    recv(fd, line + len, 1, 0) != 1)
			return NULL;
		if (line[len] == '\n') {
			line[len] = '\0';
			return cJSON_Parse(line);
		}
		len++;
	}
	return NULL;
}

/* One request on a fresh connection to the socket at `sock`. */
static inline cJSON *ct_call_at(const char *sock, const char *line)
{
	int fd = ct_connect(sock);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ct_send(fd, line) == 0);
	cJSON *r = ct_read_reply(fd);
	close(fd);
	CU_ASSERT_FATAL(r != NULL);
	return r;
}

static inline cJSON *ct_call(struct ct *t, const char *line)
{
	return ct_call_at(t->sock, line);
}

static inline double ct_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	CU_ASSERT(cJSON_IsNumber(v));
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static inline bool ct_ok(const cJSON *r)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
}

/* An error reply whose message contains `part`. */
static inline bool ct_error_has(const cJSON *r, const char *part)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
	bool ok = r && !ct_ok(r) && cJSON_IsString(e) &&
		  strstr(e->valuestring, part);
	if (!ok) {
		char *s = r ? cJSON_PrintUnformatted(r) : NULL;
		fprintf(stderr, "\n  expected an error with '%s', got %s\n",
			part, s ? s : "nothing");
		free(s);
	}
	return ok;
}

/* Queue 0 of the blk device in a stats reply. */
static inline const cJSON *ct_queue0(const cJSON *stats)
{
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(stats, "devices");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(devs, 0), "queues");
	return cJSON_GetArrayItem(q, 0);
}

#endif
