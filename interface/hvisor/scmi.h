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

/*
 * Extension of this project's module, not in hvisor-tool's (which answers
 * ENOTTY): a per-open-file allowed set, so that a file can only drive the
 * resources its holder declared for each zone (docs/scmi.md, "Allowed
 * sets in the module").
 *
 *   ALLOW  adds ids [first, first+count) of `kind` (32 clock, 33 reset,
 *          34 power) for zone `zone_id` to this file's set. Needs
 *          CAP_SYS_RAWIO and a file opened for writing; EPERM once the
 *          file is sealed, EINVAL for an id the DT node does not list,
 *          ENOSPC beyond HVISOR_SCMI_MAX_ZONES zones, ENODEV without the
 *          node.
 *   SEAL   no ALLOW on this file any more (`flags` must be 0). Sealing a
 *          file that declared nothing gives it an empty set.
 *   ZONE   the request `kind` with its argument struct, on behalf of zone
 *          `zone_id`: refused (EPERM) unless the id it names is in that
 *          zone's set of this file. GET_COUNT needs no id and is answered.
 *
 * Once a file has declared a set (ALLOW, or SEAL alone), the upstream
 * requests 32-34 on it are refused with EPERM: they name no zone. A file
 * that never declared one keeps hvisor-tool's behaviour (every resource
 * of the DT node, with CAP_SYS_RAWIO per request).
 */
#define HVISOR_SCMI_ALLOW 0x50u
#define HVISOR_SCMI_SEAL  0x51u
#define HVISOR_SCMI_ZONE  0x52u

#define HVISOR_SCMI_MAX_ZONES 64u /* zones in one file's set */

struct hvisor_scmi_allow {
	uint32_t zone_id;
	uint32_t kind; /* HVISOR_SCMI_CLOCK, _RESET or _POWER */
	uint32_t first;
	uint32_t count; /* 0 adds nothing but still declares the file */
};

struct hvisor_scmi_seal {
	uint32_t flags; /* 0 */
};

struct hvisor_scmi_zone_args {
	uint32_t zone_id;
	uint32_t kind; /* HVISOR_SCMI_CLOCK, _RESET or _POWER */
	union {
		struct hvisor_scmi_clock_args clock;
		struct hvisor_scmi_reset_args reset;
		struct hvisor_scmi_power_args power;
	} a; /* at offset 8, updated in place */
};

_Static_assert(sizeof(struct hvisor_scmi_allow) == 16, "allow args");
_Static_assert(sizeof(struct hvisor_scmi_seal) == 4, "seal args");
_Static_assert(sizeof(struct hvisor_scmi_zone_args) == 96, "zone args");

#define HVISOR_SCMI_ALLOW_IOCTL \
	_IOW(1, HVISOR_SCMI_ALLOW, struct hvisor_scmi_allow)
#define HVISOR_SCMI_SEAL_IOCTL \
	_IOW(1, HVISOR_SCMI_SEAL, struct hvisor_scmi_seal)
#define HVISOR_SCMI_ZONE_IOCTL \
	_IOWR(1, HVISOR_SCMI_ZONE, struct hvisor_scmi_zone_args)

/* The argument size of request `which` (32-34 or the extensions), 0 for an
 * unknown one. */
static inline uint32_t hvisor_scmi_arg_size(unsigned which)
{
	switch (which) {
	case HVISOR_SCMI_CLOCK:
		return sizeof(struct hvisor_scmi_clock_args);
	case HVISOR_SCMI_RESET:
		return sizeof(struct hvisor_scmi_reset_args);
	case HVISOR_SCMI_POWER:
		return sizeof(struct hvisor_scmi_power_args);
	case HVISOR_SCMI_ALLOW:
		return sizeof(struct hvisor_scmi_allow);
	case HVISOR_SCMI_SEAL:
		return sizeof(struct hvisor_scmi_seal);
	case HVISOR_SCMI_ZONE:
		return sizeof(struct hvisor_scmi_zone_args);
	}
	return 0;
}

/* The ioctl request number of `which`, 0 for an unknown one. */
static inline unsigned long hvisor_scmi_ioctl_of(unsigned which)
{
	switch (which) {
	case HVISOR_SCMI_CLOCK:
		return HVISOR_SCMI_CLOCK_IOCTL;
	case HVISOR_SCMI_RESET:
		return HVISOR_SCMI_RESET_IOCTL;
	case HVISOR_SCMI_POWER:
		return HVISOR_SCMI_POWER_IOCTL;
	case HVISOR_SCMI_ALLOW:
		return HVISOR_SCMI_ALLOW_IOCTL;
	case HVISOR_SCMI_SEAL:
		return HVISOR_SCMI_SEAL_IOCTL;
	case HVISOR_SCMI_ZONE:
		return HVISOR_SCMI_ZONE_IOCTL;
	}
	return 0;
}

/* The resource id a request names (the first field after the sub-command
 * header, in every member that has one), or -1 for GET_COUNT, which names
 * none. SET_PHANDLE names a phandle there: callers refuse it first. */
static inline int64_t hvisor_scmi_arg_id(const void *arg)
{
	const uint32_t *w = (const uint32_t *)arg;

	return w[0] == HVISOR_SCMI_GET_COUNT ? -1 : (int64_t)w[2];
}

#endif
