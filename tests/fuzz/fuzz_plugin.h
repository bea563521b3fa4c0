/* SPDX-License-Identifier: MIT */
/*
 * One fuzz input against a device plugin, through the register file as a
 * guest driver would drive it. Input layout (little-endian):
 *
 *   0  u64 features    accepted by the driver (masked to the offer unless
 *                      bit 0 of `flags` is set: then written raw)
 *   8  u8  queues      bit i: set up queue i (i < 8)
 *   9  u8  qsize_log2  QueueNum = 1 << (qsize_log2 % 5): 1..16 entries
 *  10  u8  kicks[8]    QueueNotify of these queue indices, 0xff ends
 *  18  u8  cfg[4][3]   config space writes: offset, size code (1 << (c & 3)
 *                      bytes), value byte (repeated over the width)
 *  30  u8  flags
 *  31  u8  target-specific (fuzz_net.c: length of a received frame)
 *  32  ...             guest RAM from FUZZ_RAM_GPA on (the rest is zero)
 *
 * Queue i's rings sit at FUZZ_RAM_GPA + i * 0x400: descriptors at +0,
 * avail at +0x100, used at +0x200; buffers anywhere after 0x2000.
 */
#ifndef TESTS_FUZZ_FUZZ_PLUGIN_H
#define TESTS_FUZZ_FUZZ_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_PLUGIN_HEADER   32u
#define FUZZ_QUEUE_STRIDE    0x400u
#define FUZZ_QUEUE_AVAIL_OFF 0x100u
#define FUZZ_QUEUE_USED_OFF  0x200u

/* `members` as for fuzz_device(). With `wait`, for a plugin completing on
 * its own threads (blk), waits until the queues set up have used what
 * they were offered before the closing reset. Returns 0 (libFuzzer's
 * convention). */
int fuzz_plugin_run(const char *members, const uint8_t *data, size_t size,
		    bool wait);

#endif
