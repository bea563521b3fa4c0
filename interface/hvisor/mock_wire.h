/* SPDX-License-Identifier: MIT */
/*
 * Wire protocol between the daemon's mock port (core/port_mock.c) and the
 * mock hypervisor (sdk/mock). It stands in for /dev/hvisor: every ioctl and
 * mmap the daemon makes on the real device has one message here.
 *
 * Transport: a UNIX SOCK_SEQPACKET connection (one message per packet).
 * The daemon sends a request; the mock answers with exactly one reply of the
 * same op. File descriptors travel as SCM_RIGHTS on the same packet.
 * Payload bytes (zone configs, zone lists) follow the header in the packet.
 *
 * The mock is selected explicitly: `hvisor ... --mock SOCKET` or the
 * environment variable HVISOR_MOCK=SOCKET. Never a fallback.
 */
#ifndef HVISOR_MOCK_WIRE_H
#define HVISOR_MOCK_WIRE_H

#include <stdint.h>

#define HVISOR_MOCK_ENV         "HVISOR_MOCK"
#define HVISOR_MOCK_MAX_PAYLOAD 65536u

enum hvisor_mock_op {
	/* reply fds: [0] memfd of the bridge page (4096 bytes, offset 0),
	 *            [1] eventfd the daemon writes for FINISH_REQ */
	HVISOR_MOCK_INIT_VIRTIO = 1,
	/* request fds: [0] the daemon's wake-up eventfd */
	HVISOR_MOCK_SET_EVENTFD = 2,
	/* arg0 = zone0 IPA, arg1 = size. reply fds: [0] a memfd; reply arg0 =
	 * file offset of arg0 within it. result -EPERM when the range is not
	 * entirely inside one RAM region the mock owns. */
	HVISOR_MOCK_MAP = 3,
	/* reply arg0 = the layout version (CONFIG_MAGIC_VERSION) */
	HVISOR_MOCK_CONFIG_CHECK = 4,
	/* payload = zone_config_t bytes */
	HVISOR_MOCK_ZONE_START = 5,
	/* arg0 = zone id */
	HVISOR_MOCK_ZONE_SHUTDOWN = 6,
	/* arg0 = max count; reply result = count, payload = zone_info_t[] */
	HVISOR_MOCK_ZONE_LIST = 7,
	/* arg0 = load paddr; payload = image bytes (<= MAX_PAYLOAD a message;
	 * larger images are sent in consecutive messages) */
	HVISOR_MOCK_LOAD_IMAGE = 8,
	/* reply arg0 = HVISOR_IRQ_MODEL_* the mock plays */
	HVISOR_MOCK_IRQ_MODEL = 9,
	/* hypercall 20 (hvisor v0.4 LoongArch): drop every injected line */
	HVISOR_MOCK_CLEAR_INJECT_IRQ = 10,
	/* arg0 = zone, arg1 = irq: drop that line (hypercall 11) */
	HVISOR_MOCK_DEASSERT_IRQ = 11,
	/* reply arg0 = the ECAM base the hypervisor reports (0: none) */
	HVISOR_MOCK_GET_ECAM_BASE = 12,
	/* payload = struct hvisor_boot_mode (16 bytes) */
	HVISOR_MOCK_SET_BOOT_MODE = 13,
	/* SCMI ioctls 32-34 and our 0x50-0x52 (hvisor/scmi.h): arg0 = the
	 * number; payload = the ioctl's argument struct; the reply carries
	 * it back updated. A connection is one open file of the module. */
	HVISOR_MOCK_SCMI = 14,
};

struct hvisor_mock_msg {
	uint32_t op;
	int32_t result; /* reply: 0 or -errno (ZONE_LIST: count) */
	uint64_t arg0;
	uint64_t arg1;
	uint32_t payload_len;
	uint32_t reserved;
	/* payload_len bytes follow */
};

#endif
