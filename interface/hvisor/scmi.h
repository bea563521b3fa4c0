/* SPDX-License-Identifier: MIT */
/*
 * SCMI requests of the kernel module: ioctls 32, 33 and 34 of /dev/hvisor,
 * with the numbers and argument layouts of hvisor-tool c724e91
 * (include/hvisor.h; restated in docs/scmi.md). Each argument starts with
 * a sub-command and a length (sizeof - 8, ignored by the module); the
 * sub-command's fields follow at offset 8. The module copies back the
 * whole argument; every field is little-endian (the module's own order).
 *
 * Identifiers are the module's: an index into the clocks / resets /
 * power-domains lists of the zone-0 DT node `compatible = "hvisor"`
 * (hvisor-tool HEAD), or a provider's own id after SET_PHANDLE (the Orin
 * branch, a630aef).
 */
#ifndef HVISOR_SCMI_H
#define HVISOR_SCMI_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

/* Which of the three requests (the ioctl's number). */
#define HVISOR_SCMI_CLOCK 32u
#define HVISOR_SCMI_RESET 33u
#define HVISOR_SCMI_POWER 34u

/* Common sub-commands. SET_PHANDLE exists only in the Orin module: a
 * module without it answers EINVAL. */
#define HVISOR_SCMI_GET_COUNT   1u
#define HVISOR_SCMI_SET_PHANDLE 0xffu

#define HVISOR_SCMI_NAME_LEN 64u

/* Clock sub-commands. */
#define HVISOR_SCMI_CLOCK_GET_ATTRIBUTES 2u
#define HVISOR_SCMI_CLOCK_DESCRIBE_RATES 3u
#define HVISOR_SCMI_CLOCK_RATE_GET       4u
#define HVISOR_SCMI_CLOCK_RATE_SET       5u
#define HVISOR_SCMI_CLOCK_CONFIG_GET     6u
#define HVISOR_SCMI_CLOCK_CONFIG_SET     7u
#define HVISOR_SCMI_CLOCK_NAME_GET       8u

struct hvisor_scmi_clock_args {
	uint32_t subcmd;
	uint32_t data_len;
	union {
		uint32_t count;   /* GET_COUNT */
		uint32_t phandle; /* SET_PHANDLE */
		struct {
			uint32_t id;
			uint32_t enabled;
			int32_t parent_id; /* -1: none */
			char name[HVISOR_SCMI_NAME_LEN];
			uint32_t is_valid;
		} attr;
		struct {
			uint32_t id;
			uint32_t flags;
			uint64_t rate; /* Hz, at offset 16 */
		} rate;
		struct {
			uint32_t id;
			uint32_t flags;
			uint32_t config; /* bit 0: enabled */
			uint32_t ext;
		} config;
		struct {
			uint32_t id;
			char name[HVISOR_SCMI_NAME_LEN];
		} name;
	} u;
};

/* Reset sub-command and its flags (the SCMI RESET flags' low bits). */
#define HVISOR_SCMI_RESET_RESET      2u
#define HVISOR_SCMI_RESET_DEASSERT   0u
#define HVISOR_SCMI_RESET_AUTONOMOUS 1u
#define HVISOR_SCMI_RESET_ASSERT     2u

struct hvisor_scmi_reset_args {
	uint32_t subcmd;
	uint32_t data_len;
	union {
		uint32_t count;
		uint32_t phandle;
		struct {
			uint32_t domain;
			uint32_t flags;
			uint32_t reset_state; /* ignored by the module */
		} reset;
	} u;
};

/* Power sub-commands and states. */
#define HVISOR_SCMI_POWER_GET_ATTRIBUTES 2u
#define HVISOR_SCMI_POWER_STATE_SET      3u
#define HVISOR_SCMI_POWER_STATE_GET      4u
#define HVISOR_SCMI_POWER_ON             0x00000000u
#define HVISOR_SCMI_POWER_OFF            0x40000000u

struct hvisor_scmi_power_args {
	uint32_t subcmd;
	uint32_t data_len;
	union {
		uint32_t count;
		uint32_t phandle;
		struct {
			uint32_t domain;
			uint32_t flags;
			char name[HVISOR_SCMI_NAME_LEN];
		} attr;
		struct {
			uint32_t domain;
			uint32_t state;
		} state;
	} u;
};

_Static_assert(sizeof(struct hvisor_scmi_clock_args) == 88, "clock args");
_Static_assert(sizeof(struct hvisor_scmi_reset_args) == 20, "reset args");
_Static_assert(sizeof(struct hvisor_scmi_power_args) == 80, "power args");

#define HVISOR_SCMI_CLOCK_IOCTL \
	_IOWR(1, HVISOR_SCMI_CLOCK, struct hvisor_scmi_clock_args)
#define HVISOR_SCMI_RESET_IOCTL \
	_IOWR(1, HVISOR_SCMI_RESET, struct hvisor_scmi_reset_args)
#define HVISOR_SCMI_POWER_IOCTL \
	_IOWR(1, HVISOR_SCMI_POWER, struct hvisor_scmi_power_args)

/* The argument size of request `which`, 0 for an unknown one. */
static inline uint32_t hvisor_scmi_arg_size(unsigned which)
{
	return which == HVISOR_SCMI_CLOCK
		       ? sizeof(struct hvisor_scmi_clock_args)
	       : which == HVISOR_SCMI_RESET
		       ? sizeof(struct hvisor_scmi_reset_args)
	       : which == HVISOR_SCMI_POWER
		       ? sizeof(struct hvisor_scmi_power_args)
		       : 0;
}

#endif
