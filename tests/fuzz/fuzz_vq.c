/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the split virtqueue walker (core/virtqueue.c) on its own,
 * in guest RAM of a size the input picks (allocated to the byte, so the
 * sanitizer sees any access past it). Input layout (little-endian):
 *
 *   0  u32 ram_size   1 + value % 64 KiB
 *   4  u32 desc, 8 u32 avail, 12 u32 used: ring offsets from the RAM base
 *  16  u8  num_log2   QueueNum = 1 << (num_log2 % 16)
 *  17  u8  flags      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC
 *  18  u8  nops, then nops operation bytes:
 *        0..3 pop, 4 push the oldest popped chain (written = next byte *
 *        17), 5 unpop the last popped, 6 notify, 7 kicks on, 8 kicks off,
 *        9 has_work, 10 reset and restart
 *  ...     guest RAM contents (the rest of the input, cut to ram_size)
 *
 * Every chain handed out must lie inside the RAM, and the descriptor table
 * must be unchanged at the end when it does not overlap the used ring
 * (virtio 1.2 2.7.5.1: the device never writes a descriptor): checked
 * here, so a walker bug aborts even where the sanitizer would not see it.
 */
#include <stdlib.h>
#include <string.h>

#include "virtqueue.h"

#define RAM_GPA    0x80000000ull
#define MAX_POPPED 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_fail(void *owner, const char *why)
{
	(void)owner;
	(void)why;
}

static void on_interrupt(void *owner)
{
	(void)owner;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void check_chain(const struct hvd_chain *c, const uint8_t *ram,
			size_t ram_size)
{
	uint64_t in = 0, out = 0;
	for (uint32_t i = 0; i < c->num_out + c->num_in; i++) {
		const uint8_t *b = c->iov[i].iov_base;
		size_t len = c->iov[i].iov_len;
		if (b < ram || len > ram_size || b + len > ram + ram_size)
			abort();
		if (i < c->num_out)
			out += len;
		else
			in += len;
	}
	if (out != c->out_bytes || in != c->in_bytes)
		abort();
}

struct run {
	struct virtqueue vq;
	struct guest_mem mem;
	uint8_t *ram;
	size_t ram_size;
	struct hvd_chain *popped[MAX_POPPED];
	unsigned count;
	uint64_t desc, avail, used;
	uint16_t num;
	bool event_idx, indirect;
};

/* The descriptor table's offset in RAM when the device has no business
 * writing any of it (inside RAM, apart from the used ring), else -1. */
static long table_to_watch(const struct run *r)
{
	uint64_t desc = r->desc - RAM_GPA, used = r->used - RAM_GPA;
	uint64_t dlen = 16ull * r->num, ulen = 6 + 8ull * r->num;
	if (desc + dlen > r->ram_size)
		return -1;
	if (desc < used + ulen && used < desc + dlen)
		return -1;
	return (long)desc;
}

static void start(struct run *r)
{
	r->vq.num = r->num;
	r->vq.desc_gpa = r->desc;
	r->vq.avail_gpa = r->avail;
	r->vq.used_gpa = r->used;
	r->vq.ready = true;
	const char *why = NULL;
	vq_start(&r->vq, &r->mem, r->event_idx, r->indirect, &why);
}

static void push_oldest(struct run *r, uint32_t written)
{
	if (!r->count)
		return;
	vq_push(r->popped[0], written);
	memmove(r->popped, r->popped + 1, --r->count * sizeof r->popped[0]);
}

static void op(struct run *r, uint8_t code, uint8_t arg)
{
	switch (code % 11) {
	case 4:
		push_oldest(r, arg * 17u);
		break;
	case 5:
		if (r->count)
			vq_unpop(r->popped[--r->count]);
		break;
	case 6:
		vq_notify(&r->vq);
		break;
	case 7:
	case 8:
		vq_kick_enable(&r->vq, code % 11 == 7);
		break;
	case 9:
		vq_has_work(&r->vq);
		break;
	case 10:
		/* Chains popped before a reset must be dropped on push. */
		vq_reset(&r->vq);
		start(r);
		break;
	default:
		if (r->count < MAX_POPPED) {
			struct hvd_chain *c = vq_pop(&r->vq);
			if (c) {
				check_chain(c, r->ram, r->ram_size);
				r->popped[r->count++] = c;
			}
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 19)
		return 0;
	struct run r = {0};
	r.ram_size = 1 + le32(data) % 0x10000;
	r.desc = RAM_GPA + le32(data + 4);
	r.avail = RAM_GPA + le32(data + 8);
	r.used = RAM_GPA + le32(data + 12);
	r.num = (uint16_t)(1u << (data[16] % 16));
	r.event_idx = data[17] & 1;
	r.indirect = data[17] & 2;
	size_t nops = data[18];
	const uint8_t *ops = data + 19;
	size -= 19;
	if (nops > size)
		nops = size;
	const uint8_t *image = ops + nops;
	size_t image_len = size - nops;

	r.ram = calloc(1, r.ram_size);
	if (!r.ram || guest_mem_add(&r.mem, RAM_GPA, r.ram_size, r.ram))
		goto out;
	memcpy(r.ram, image, image_len < r.ram_size ? image_len : r.ram_size);
	long watch = table_to_watch(&r);
	uint8_t *table = watch < 0 ? NULL : malloc(16ull * r.num);
	if (table)
		memcpy(table, r.ram + watch, 16ull * r.num);
	vq_init(&r.vq, 0, 32768, &r, on_fail, on_interrupt);
	start(&r);
	for (size_t i = 0; i < nops; i++)
		op(&r, ops[i], i + 1 < nops ? ops[i + 1] : 0);
	while (r.count)
		push_oldest(&r, 0);
	if (table && memcmp(table, r.ram + watch, 16ull * r.num))
		abort();
	free(table);
	vq_reset(&r.vq);
	vq_destroy(&r.vq);
out:
	guest_mem_clear(&r.mem);
	free(r.ram);
	return 0;
}
