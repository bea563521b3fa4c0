/* SPDX-License-Identifier: MIT */
/*
 * The in-process host every device fuzz target runs its plugin in: the real
 * register file (core/mmio.c), virtqueues and event loop around one device,
 * with guest RAM the target fills from the fuzzer's input. No bridge and no
 * mock socket: a register access is a direct call under the device's
 * callback lock, as core/dispatch.c makes it, and an injected interrupt is
 * drained at once by a port whose FINISH_REQ only empties res_list.
 *
 * The plugin is the .so of the same build, opened by the real loader: its
 * path is FUZZ_PLUGIN, compiled into each target (tests/fuzz/meson.build).
 */
#ifndef TESTS_FUZZ_FUZZ_HOST_H
#define TESTS_FUZZ_FUZZ_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "hvd/plugin.h"

/* Guest RAM: FUZZ_RAM_SIZE bytes at guest-physical FUZZ_RAM_GPA. */
#define FUZZ_RAM_GPA  0x40000000ull
#define FUZZ_RAM_SIZE 0x10000ull

/* The device of this process, created on first use from `members` (JSON
 * object members after "type"/"addr"/"len"/"irq", e.g. ", \"img\": \"x\""),
 * or NULL when creation failed (logged). The same device serves every
 * input; each input starts with a reset. */
struct device *fuzz_device(const char *members);
/* Host pointer to the guest RAM (FUZZ_RAM_SIZE bytes). */
uint8_t *fuzz_ram(void);

/* One register access as the dispatch thread makes it. */
uint64_t fuzz_read(struct device *dev, uint64_t offset, unsigned size);
void fuzz_write(struct device *dev, uint64_t offset, unsigned size,
		uint64_t value);

/* HVD_LOG_ERROR, or HVD_LOG_DEBUG with HVISOR_FUZZ_LOG set in the
 * environment (to see what one input does: replay_<target> FILE). */
enum hvd_log_level fuzz_log_level(void);

/* `data` as a NUL-terminated string (malloc'd; NULL when out of memory),
 * for the parser targets; the first call also quiets the log. */
char *fuzz_text(const uint8_t *data, size_t size);

/* A directory private to this process for backend files and sockets. */
const char *fuzz_tmpdir(void);

#endif
