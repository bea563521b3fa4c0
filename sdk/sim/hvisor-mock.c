/* SPDX-License-Identifier: MIT */
/*
 * hvisor-mock: the mock hypervisor on its own, for trying a plugin by
 * hand. It gives every zone of a virtio.json the RAM its memory_region
 * entries name, prints the socket a daemon connects to, and serves until
 * SIGINT or SIGTERM:
 *
 *   $ hvisor-mock virtio.json
 *   HVISOR_MOCK=/tmp/hvd-mock-Ab12Cd/hvisor.sock
 *   $ HVISOR_MOCK=/tmp/hvd-mock-Ab12Cd/hvisor.sock hvisor virtio start \
 *         --plugin-dir build virtio.json
 *
 * Nothing plays the guest: the daemon creates and serves the devices,
 * `hvisor virtio list|stats` show them. A daemon connected to it exits
 * when hvisor-mock does.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hvd/mock.h"
#include "log.h"

static int add_zones(struct hvd_mock *m, const struct virtio_cfg *cfg)
{
	for (unsigned z = 0; z < cfg->zone_count; z++) {
		const struct zone_cfg *zc = &cfg->zones[z];
		for (unsigned r = 0; r < zc->mem_count; r++) {
			const struct mem_region_cfg *mr = &zc->mem[r];
			int err = hvd_mock_add_ram(m, zc->id, mr->zone0_ipa,
						   mr->zonex_ipa, mr->size);
			if (err) {
				fprintf(stderr,
					"hvisor-mock: %s.memory_region[%u]: "
					"%s\n",
					zc->path, r, strerror(-err));
				return -1;
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: hvisor-mock <virtio.json>\n");
		return 2;
	}
	log_init(true, HVD_LOG_WARN);
	/* Taken synchronously below; blocked before the mock's threads. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	struct virtio_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	if (virtio_cfg_load(argv[1], &cfg))
		return 1; /* logged with the JSON path */
	int rc = 1;
	struct hvd_mock *m = hvd_mock_new();
	if (!m) {
		perror("hvisor-mock");
		goto out;
	}
	if (add_zones(m, &cfg))
		goto out;
	printf("HVISOR_MOCK=%s\n", hvd_mock_socket_path(m));
	fflush(stdout);
	int sig;
	sigwait(&sigs, &sig);
	rc = 0;
out:
	hvd_mock_free(m);
	virtio_cfg_free(&cfg);
	return rc;
}
