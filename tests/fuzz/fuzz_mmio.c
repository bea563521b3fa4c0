/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-mmio register file (core/mmio.c) with testdev
 * behind it. The input is a sequence of 8-byte operations, in any order:
 *
 *   u8 kind  0 read, 1 write, 2 write an address inside guest RAM
 *            (FUZZ_RAM_GPA + value % RAM size: ring addresses that map),
 *            3 store `value` into guest RAM at (offset * 4) % RAM size
 *            (descriptors and rings), 4 read back the whole register file
 *   u8 size  access width code: 1 << (size & 3) bytes
 *   u16 offset  register offset (0x100 and up: config space)
 *   u32 value
 *
 * Status, feature and queue writes can come in any order, before or after
 * DRIVER_OK, so negotiation, queue setup, notifies, resets and testdev's
 * config-space commands all interleave.
 */
#include <string.h>

#include "fuzz_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct device *dev = fuzz_device("");
	if (!dev)
		return 0;
	uint8_t *ram = fuzz_ram();
	for (; size >= 8; data += 8, size -= 8) {
		unsigned width = 1u << (data[1] & 3);
		uint32_t offset = (uint32_t)data[2] | (uint32_t)data[3] << 8;
		uint32_t value = le32(data + 4);
		switch (data[0] % 5) {
		case 0:
			fuzz_read(dev, offset, width);
			break;
		case 1:
			fuzz_write(dev, offset, width, value);
			break;
		case 2:
			fuzz_write(dev, offset, width,
				   (uint32_t)(FUZZ_RAM_GPA +
					      value % FUZZ_RAM_SIZE));
			break;
		case 3:
			memcpy(ram + (offset * 4u) % FUZZ_RAM_SIZE, &value,
			       sizeof value);
			break;
		default:
			for (uint32_t off = 0; off < 0x100; off += 4)
				fuzz_read(dev, off, 4);
			break;
		}
	}
	fuzz_write(dev, 0x70 /* Status */, 4, 0);
	return 0;
}
