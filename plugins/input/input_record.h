/* SPDX-License-Identifier: MIT */
/*
 * What reaches the input plugin through its `source` socket (a UNIX
 * datagram socket the plugin creates), written by other plugins of the
 * daemon (the gpu plugin's vnc backend) or any local program:
 *
 *   one datagram = 1..INPUT_RECORDS_MAX records of 8 bytes, each laid out
 *   as struct virtio_input_event (little-endian u16 type, u16 code,
 *   u32 value, the codes of linux/input-event-codes.h), holding whole
 *   reports: the last record is EV_SYN / SYN_REPORT.
 *
 * A datagram of another size, or whose last record is not a SYN_REPORT, is
 * dropped whole. Absolute axes (tablet mode) run 0..INPUT_ABS_MAX whatever
 * the screen size; the sender scales.
 */
#ifndef PLUGINS_INPUT_RECORD_H
#define PLUGINS_INPUT_RECORD_H

#include <linux/virtio_input.h>

#define INPUT_RECORD_SIZE sizeof(struct virtio_input_event)
#define INPUT_RECORDS_MAX 64u
#define INPUT_ABS_MAX     32767u

_Static_assert(sizeof(struct virtio_input_event) == 8, "record size");

#endif
