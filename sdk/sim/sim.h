/* SPDX-License-Identifier: MIT */
/* hvisor-sim: one guest scenario per device type (sim_guests.c). */
#ifndef SIM_H
#define SIM_H

#include <stdint.h>

#include "hvd/mock.h"

#define SIM_ZONE       1u
#define SIM_TIMEOUT_MS 5000

/* Where the embedded configuration puts things. */
struct sim_paths {
	char dir[64];     /* private temp folder */
	char image[96];   /* blk image */
	char console[96]; /* console socket backend */
	char net[96];     /* net socket backend: the daemon's end */
	char peer[96];    /* net socket backend: our end */
	char control[96]; /* the daemon's control socket */
};

/* Each plays the guest driver of one device at `base` with `irq` and
 * prints what the guest sees. Returns 0 or -1. */
int sim_rng(struct hvd_mock *m, uint64_t base, uint32_t irq);
int sim_blk(struct hvd_mock *m, uint64_t base, uint32_t irq,
	    const struct sim_paths *paths);
int sim_console(struct hvd_mock *m, uint64_t base, uint32_t irq,
		const struct sim_paths *paths);
int sim_net(struct hvd_mock *m, uint64_t base, uint32_t irq,
	    const struct sim_paths *paths);

#endif
