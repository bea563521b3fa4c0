/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user wire format as the frontend uses it. Facts from QEMU's
 * docs/interop/vhost-user.rst (see docs/vhost-user.md for the commit and
 * what we rely on): a 12-byte header {request, flags, size} in host byte
 * order, then `size` bytes of payload; file descriptors travel as
 * SCM_RIGHTS with the header.
 */
#ifndef VU_PROTO_H
#define VU_PROTO_H

#include <stdint.h>

/* Front-end requests we send (numbering of the spec). */
enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_GET_CONFIG = 24,
	VU_SET_CONFIG = 25,
	VU_RESET_DEVICE = 34,
};

#define VU_VERSION         0x1u
#define VU_FLAG_VERSION    0x3u
#define VU_FLAG_REPLY      (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

/* GET_FEATURES bit saying GET/SET_PROTOCOL_FEATURES exist; rings then
 * start disabled until SET_VRING_ENABLE. */
#define VU_F_PROTOCOL_FEATURES 30

/* Protocol feature bits. */
#define VU_PF_MQ           0
#define VU_PF_REPLY_ACK    3
#define VU_PF_CONFIG       9
#define VU_PF_RESET_DEVICE 13

/* Regions in one SET_MEM_TABLE without CONFIGURE_MEM_SLOTS. */
#define VU_MAX_REGIONS 8
/* Largest config space GET/SET_CONFIG carries. */
#define VU_MAX_CONFIG 256u
/* SET_VRING_KICK/CALL/ERR payload: bit 8 = no fd attached. */
#define VU_VRING_NOFD (1ull << 8)

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc; /* frontend (our) virtual addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;       /* our mapping */
	uint64_t mmap_offset; /* in the fd sent along */
};

struct vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vu_region regions[VU_MAX_REGIONS];
};

struct vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[VU_MAX_CONFIG];
};
#define VU_CONFIG_HDR 12u

_Static_assert(sizeof(struct vu_hdr) == 12, "vhost-user header");
_Static_assert(sizeof(struct vu_vring_addr) == 40, "vring address");
_Static_assert(sizeof(struct vu_region) == 32, "memory region");

#endif
