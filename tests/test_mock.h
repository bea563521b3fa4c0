/* SPDX-License-Identifier: MIT */
/* Shared by the two halves of the 'mock' suite (test_mock.c, the harness
 * and the ports; test_mock_guest.c, the guest driver). */
#ifndef TESTS_TEST_MOCK_H
#define TESTS_TEST_MOCK_H

#include <stdint.h>

#include "hvd/mock.h"
#include "port.h"

#define GUARD_MS 5000
#define ZONE     1u
#define RAM0     UINT64_C(0x50000000) /* zone 0's view */
#define RAMX     UINT64_C(0x40000000) /* the guest's view */
#define RAM_SIZE UINT64_C(0x100000)

struct fx {
	struct hvd_mock *m;
	struct port *port;
	struct hvisor_bridge *b;
	int efd;
};

void fx_open(struct fx *f);
void fx_close(struct fx *f);
/* Daemon side of the bridge, played by the test. */
struct hvisor_device_req pop_request(struct hvisor_bridge *b);
void complete(struct hvisor_bridge *b, uint64_t cpu, uint64_t value);
void raise_irq(struct fx *f, uint32_t zone, uint32_t irq);

void test_guest_driver(void);
void test_guest_alloc(void);
void test_guest_linux_model(void);
void test_external_ram(void);
void test_irq_callback(void);

#endif
