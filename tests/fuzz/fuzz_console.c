/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-console output, input buffers and MULTIPORT control
 * messages, through the real plugin (fuzz_plugin.h has the input layout).
 * Both ports are sockets with a client connected here, so output flows
 * (the client drains it each input) and a few bytes of host input wait in
 * the socket for whatever receive buffers the input offers.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_host.h"
#include "fuzz_plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int clients[2] = {-1, -1};

static int connect_to(const char *dir, int port)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%.90s/con%d", dir, port);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char members[512];
	const char *dir = fuzz_tmpdir();
	if (!members[0]) {
		/* Port 0 and one extra port: queues 0..5 (port 0, control,
		 * port 1). */
		snprintf(members, sizeof members,
			 ", \"backend\": \"socket\", \"path\": \"%s/con0\", "
			 "\"ports\": [{\"name\": \"fuzz\", \"backend\": "
			 "\"socket\", \"path\": \"%s/con1\"}]",
			 dir, dir);
		if (fuzz_device(members))
			for (int i = 0; i < 2; i++)
				clients[i] = connect_to(dir, i);
	}
	for (int i = 0; i < 2; i++) {
		char buf[4096];
		if (clients[i] < 0)
			continue;
		while (recv(clients[i], buf, sizeof buf, 0) > 0)
			;
		if (send(clients[i], "in\n", 3, MSG_NOSIGNAL) < 0)
			continue; /* full until the guest reads: fine */
	}
	return fuzz_plugin_run(members, data, size, false);
}
