/* SPDX-License-Identifier: MIT */
/*
 * zone_config_t / zone_info_t serialisation. A cursor walks the layout in
 * declaration order, recording every scalar it writes (for --dry-run),
 * and takes the start of every array element and part from the shared
 * declarations in interface/hvisor/zone_config.h (offsetof), so the two
 * cannot drift apart. Bytes are written little-endian one by one, so any
 * host produces any architecture's layout.
 */
#include "zone_layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const arch_names[ZONE_ARCH_COUNT] = {
	[ZONE_ARCH_ARM64] = "arm64",
	[ZONE_ARCH_RISCV64] = "riscv64",
	[ZONE_ARCH_LOONGARCH64] = "loongarch64",
	[ZONE_ARCH_X86_64] = "x86_64",
};

const char *zone_arch_name(enum zone_arch arch)
{
	return (unsigned)arch < ZONE_ARCH_COUNT ? arch_names[arch] : "?";
}

int zone_arch_parse(const char *name)
{
	if (strcmp(name, "aarch64") == 0)
		return ZONE_ARCH_ARM64;
	if (strcmp(name, "riscv") == 0)
		return ZONE_ARCH_RISCV64;
	for (int i = 0; i < ZONE_ARCH_COUNT; i++)
		if (strcmp(name, arch_names[i]) == 0)
			return i;
	return -1;
}

int zone_arch_host(void)
{
#if defined(__aarch64__)
	return ZONE_ARCH_ARM64;
#elif defined(__riscv) && __riscv_xlen == 64
	return ZONE_ARCH_RISCV64;
#elif defined(__loongarch64)
	return ZONE_ARCH_LOONGARCH64;
#elif defined(__x86_64__)
	return ZONE_ARCH_X86_64;
#else
	return -1;
#endif
}

/* ---- Where the parts of each layout start ---- */

struct shape {
	size_t arch_config, num_pci_bus, pci_config, num_pci_devs;
	size_t alloc_pci_devs, dev_size, size;
};

#define SHAPE(t)                                                    \
	{                                                           \
		offsetof(struct t, arch_config),                    \
			offsetof(struct t, num_pci_bus),            \
			offsetof(struct t, pci_config),             \
			offsetof(struct t, num_pci_devs),           \
			offsetof(struct t, alloc_pci_devs),         \
			sizeof(((struct t *)0)->alloc_pci_devs[0]), \
			sizeof(struct t)                            \
	}

/* [arch][0]: layout 0x05, [arch][1]: 0x06. */
static const struct shape shapes[ZONE_ARCH_COUNT][2] = {
	[ZONE_ARCH_ARM64] = {SHAPE(hvisor_zone_config_arm64_v05),
			     SHAPE(hvisor_zone_config_arm64_v06)},
	[ZONE_ARCH_RISCV64] = {SHAPE(hvisor_zone_config_riscv64_v05),
			       SHAPE(hvisor_zone_config_riscv64_v06)},
	[ZONE_ARCH_LOONGARCH64] = {SHAPE(hvisor_zone_config_loongarch64_v05),
				   SHAPE(hvisor_zone_config_loongarch64_v06)},
	[ZONE_ARCH_X86_64] = {SHAPE(hvisor_zone_config_x86_64_v05),
			      SHAPE(hvisor_zone_config_x86_64_v06)},
};

/* The part before arch_config is the same in every layout. */
#define HEAD(member) offsetof(struct hvisor_zone_config_arm64_v06, member)

/* ---- The cursor ---- */

struct writer {
	uint8_t *buf; /* ZONE_CONFIG_MAX_SIZE bytes */
	size_t off;
	unsigned version; /* ZONE_LAYOUT_V05 or ZONE_LAYOUT_V06 */
	struct zone_field_list *fields;
};

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static void record(struct writer *w, size_t off, size_t size, uint64_t value,
		   const char *fmt, va_list ap)
{
	struct zone_field_list *l = w->fields;

	if (!l)
		return;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct zone_field *n = realloc(l->v, cap * sizeof(*n));

		if (!n) {
			l->oom = true;
			return;
		}
		l->v = n;
		l->cap = cap;
	}
	struct zone_field *f = &l->v[l->count++];
	vsnprintf(f->name, sizeof(f->name), fmt, ap);
	f->offset = (uint32_t)off;
	f->size = (uint32_t)size;
	f->value = value;
}

static void note(struct writer *w, size_t off, size_t size, uint64_t value,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void note(struct writer *w, size_t off, size_t size, uint64_t value,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(w, off, size, value, fmt, ap);
	va_end(ap);
}

/* A little-endian scalar of `size` bytes at its natural alignment. */
static void put(struct writer *w, unsigned size, uint64_t value,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void put(struct writer *w, unsigned size, uint64_t value,
		const char *fmt, ...)
{
	va_list ap;

	w->off = align_up(w->off, size);
	for (unsigned i = 0; i < size; i++)
		w->buf[w->off + i] = (uint8_t)(value >> (8 * i));
	va_start(ap, fmt);
	record(w, w->off, size, value, fmt, ap);
	va_end(ap);
	w->off += size;
}

#define put_u8(w, v, ...)  put(w, 1, v, __VA_ARGS__)
#define put_u32(w, v, ...) put(w, 4, v, __VA_ARGS__)
#define put_u64(w, v, ...) put(w, 8, v, __VA_ARGS__)

/* A struct or union starts and ends at its alignment (its largest member). */
static void align_to(struct writer *w, size_t a)
{
	w->off = align_up(w->off, a);
}

/* ---- zone_config_t ---- */

static void put_mem_region(struct writer *w, unsigned i,
			   const struct hvisor_memory_region *r)
{
	align_to(w, 8);
	put_u32(w, r->type, "memory_regions[%u].type", i);
	put_u64(w, r->physical_start, "memory_regions[%u].physical_start", i);
	put_u64(w, r->virtual_start, "memory_regions[%u].virtual_start", i);
	put_u64(w, r->size, "memory_regions[%u].size", i);
	align_to(w, 8);
}

static void put_ivc(struct writer *w, unsigned i,
		    const struct hvisor_ivc_config *c)
{
	align_to(w, 8);
	put_u32(w, c->ivc_id, "ivc_configs[%u].ivc_id", i);
	put_u32(w, c->peer_id, "ivc_configs[%u].peer_id", i);
	put_u64(w, c->control_table_ipa, "ivc_configs[%u].control_table_ipa",
		i);
	put_u64(w, c->shared_mem_ipa, "ivc_configs[%u].shared_mem_ipa", i);
	put_u32(w, c->rw_sec_size, "ivc_configs[%u].rw_sec_size", i);
	put_u32(w, c->out_sec_size, "ivc_configs[%u].out_sec_size", i);
	put_u32(w, c->interrupt_num, "ivc_configs[%u].interrupt_num", i);
	put_u32(w, c->max_peers, "ivc_configs[%u].max_peers", i);
	align_to(w, 8);
}

static void put_arm64(struct writer *w, const struct zone_arm64 *a)
{
	size_t start = w->off;

	put_u8(w, a->is_aarch32, "arch_config.is_aarch32");

	/* union gic: u64 tag, then the variant, padded to the largest. */
	w->off = start + offsetof(struct hvisor_arch_arm64, gic);
	size_t gic_end = w->off + sizeof(struct hvisor_gic);
	if (a->gic_version == 2) {
		put_u64(w, HVISOR_GIC_TAG_V2, "arch_config.gic_tag");
		put_u64(w, a->gicd_base, "arch_config.gicv2.gicd_base");
		put_u64(w, a->gicd_size, "arch_config.gicv2.gicd_size");
		put_u64(w, a->gicc_base, "arch_config.gicv2.gicc_base");
		put_u64(w, a->gicc_size, "arch_config.gicv2.gicc_size");
		put_u64(w, a->gicc_offset, "arch_config.gicv2.gicc_offset");
		put_u64(w, a->gich_base, "arch_config.gicv2.gich_base");
		put_u64(w, a->gich_size, "arch_config.gicv2.gich_size");
		put_u64(w, a->gicv_base, "arch_config.gicv2.gicv_base");
		put_u64(w, a->gicv_size, "arch_config.gicv2.gicv_size");
	} else {
		put_u64(w, HVISOR_GIC_TAG_V3, "arch_config.gic_tag");
		put_u64(w, a->gicd_base, "arch_config.gicv3.gicd_base");
		put_u64(w, a->gicd_size, "arch_config.gicv3.gicd_size");
		put_u64(w, a->gicr_base, "arch_config.gicv3.gicr_base");
		put_u64(w, a->gicr_size, "arch_config.gicv3.gicr_size");
		put_u64(w, a->gits_base, "arch_config.gicv3.gits_base");
		put_u64(w, a->gits_size, "arch_config.gicv3.gits_size");
	}
	w->off = gic_end;
	if (w->version == ZONE_LAYOUT_V05)
		return; /* 0x05: arch_config ends after the gic union */

	/* union uefi: u64 tag, then the payload (zero without UEFI). */
	w->off = start + offsetof(struct hvisor_arch_arm64, uefi);
	put_u64(w, a->uefi ? HVISOR_UEFI_TAG : HVISOR_NO_UEFI_TAG,
		"arch_config.uefi_tag");
	if (!a->uefi)
		return;
	put_u64(w, a->memory_map_addr, "arch_config.uefi.memory_map_addr");
	put_u64(w, a->memory_map_size, "arch_config.uefi.memory_map_size");
	put_u64(w, a->sys_map_addr, "arch_config.uefi.sys_map_addr");
}

static void put_riscv64(struct writer *w, const struct hvisor_arch_riscv64 *a)
{
	put_u64(w, a->plic_base, "arch_config.plic_base");
	put_u64(w, a->plic_size, "arch_config.plic_size");
	put_u64(w, a->aplic_base, "arch_config.aplic_base");
	put_u64(w, a->aplic_size, "arch_config.aplic_size");
}

static void put_x86_64(struct writer *w, const struct hvisor_arch_x86_64 *a)
{
	put_u64(w, a->ioapic_base, "arch_config.ioapic_base");
	put_u64(w, a->ioapic_size, "arch_config.ioapic_size");
	put_u64(w, a->kernel_entry_gpa, "arch_config.kernel_entry_gpa");
	put_u64(w, a->cmdline_load_gpa, "arch_config.cmdline_load_gpa");
	put_u64(w, a->setup_load_gpa, "arch_config.setup_load_gpa");
	put_u64(w, a->initrd_load_gpa, "arch_config.initrd_load_gpa");
	put_u64(w, a->initrd_size, "arch_config.initrd_size");
	put_u64(w, a->rsdp_memory_region_id,
		"arch_config.rsdp_memory_region_id");
	put_u64(w, a->acpi_memory_region_id,
		"arch_config.acpi_memory_region_id");
	put_u64(w, a->uefi_memory_region_id,
		"arch_config.uefi_memory_region_id");
	put_u64(w, a->screen_base, "arch_config.screen_base");
}

static void put_arch(struct writer *w, const struct zone_desc *d)
{
	switch (d->arch) {
	case ZONE_ARCH_ARM64:
		put_arm64(w, &d->arch_config.arm64);
		break;
	case ZONE_ARCH_RISCV64:
		put_riscv64(w, &d->arch_config.riscv64);
		break;
	case ZONE_ARCH_LOONGARCH64:
		put_u64(w, d->arch_config.loongarch64.dummy,
			"arch_config.dummy");
		break;
	case ZONE_ARCH_X86_64:
	case ZONE_ARCH_COUNT:
		put_x86_64(w, &d->arch_config.x86_64);
		break;
	}
}

static void put_pci_bus(struct writer *w, unsigned i,
			const struct hvisor_pci_config *b)
{
	align_to(w, 8);
	put_u64(w, b->ecam_base, "pci_config[%u].ecam_base", i);
	put_u64(w, b->ecam_size, "pci_config[%u].ecam_size", i);
	put_u64(w, b->io_base, "pci_config[%u].io_base", i);
	put_u64(w, b->io_size, "pci_config[%u].io_size", i);
	put_u64(w, b->pci_io_base, "pci_config[%u].pci_io_base", i);
	put_u64(w, b->mem32_base, "pci_config[%u].mem32_base", i);
	put_u64(w, b->mem32_size, "pci_config[%u].mem32_size", i);
	put_u64(w, b->pci_mem32_base, "pci_config[%u].pci_mem32_base", i);
	put_u64(w, b->mem64_base, "pci_config[%u].mem64_base", i);
	put_u64(w, b->mem64_size, "pci_config[%u].mem64_size", i);
	put_u64(w, b->pci_mem64_base, "pci_config[%u].pci_mem64_base", i);
	put_u32(w, b->bus_range_begin, "pci_config[%u].bus_range_begin", i);
	put_u32(w, b->bus_range_end, "pci_config[%u].bus_range_end", i);
	put_u8(w, b->domain, "pci_config[%u].domain", i);
	align_to(w, 8);
}

static void put_pci_dev(struct writer *w, unsigned i,
			const struct hvisor_pci_dev *p)
{
	align_to(w, 4);
	put_u8(w, p->domain, "alloc_pci_devs[%u].domain", i);
	put_u8(w, p->bus, "alloc_pci_devs[%u].bus", i);
	put_u8(w, p->device, "alloc_pci_devs[%u].device", i);
	put_u8(w, p->function, "alloc_pci_devs[%u].function", i);
	if (w->version == ZONE_LAYOUT_V05) {
		/* 0x05 has no guest-side address: dev_type follows. */
		put_u32(w, p->dev_type, "alloc_pci_devs[%u].dev_type", i);
		return;
	}
	put_u8(w, p->v_bus, "alloc_pci_devs[%u].v_bus", i);
	put_u8(w, p->v_device, "alloc_pci_devs[%u].v_device", i);
	put_u8(w, p->v_function, "alloc_pci_devs[%u].v_function", i);
	put_u32(w, p->dev_type, "alloc_pci_devs[%u].dev_type", i);
	align_to(w, 4);
}

static void put_name(struct writer *w, const char *name)
{
	/* char name[32]: alignment 1; the bytes after the text stay zero. A
	 * 32-byte name fills it with no NUL, as hvisor-tool writes it (the
	 * hypervisor reads at most 32 bytes). */
	memcpy(w->buf + w->off, name, strnlen(name, ZONE_NAME_LEN));
	note(w, w->off, ZONE_NAME_LEN, 0, "name");
	w->off += ZONE_NAME_LEN;
}

bool zone_layout_known(uint64_t version)
{
	return version == ZONE_LAYOUT_V05 || version == ZONE_LAYOUT_V06;
}

const char *zone_layout_unfit(const struct zone_desc *d, unsigned version,
			      char *why, size_t size)
{
	if (version != ZONE_LAYOUT_V05)
		return NULL;
	if (d->arch == ZONE_ARCH_ARM64 && d->arch_config.arm64.uefi) {
		snprintf(why, size,
			 "arch_config.memory_map_addr: layout 0x05 "
			 "has no UEFI parameters");
		return why;
	}
	for (unsigned i = 0; i < d->pci_dev_count; i++) {
		const struct hvisor_pci_dev *p = &d->pci_dev[i];

		if (p->v_bus != p->bus || p->v_device != p->device ||
		    p->v_function != p->function) {
			snprintf(why, size,
				 "alloc_pci_devs[%u].v_bus: layout 0x05 "
				 "cannot move a device (no v_bus, v_device, "
				 "v_function)",
				 i);
			return why;
		}
		if (p->dev_type > 1) {
			snprintf(why, size,
				 "alloc_pci_devs[%u].dev_type: layout 0x05 "
				 "knows only 0 (physical) and 1 (virtual)",
				 i);
			return why;
		}
	}
	return NULL;
}

size_t zone_layout_encode(const struct zone_desc *d, unsigned version,
			  uint8_t *buf, struct zone_field_list *fields)
{
	static const struct hvisor_memory_region no_region;
	static const struct hvisor_ivc_config no_ivc;
	static const struct hvisor_pci_config no_bus;
	static const struct hvisor_pci_dev no_dev;
	const struct shape *s =
		&shapes[d->arch][version == ZONE_LAYOUT_V05 ? 0 : 1];
	struct writer w = {
		.buf = buf, .off = 0, .version = version, .fields = fields};

	memset(buf, 0, ZONE_CONFIG_MAX_SIZE);
	put_u32(&w, d->zone_id, "zone_id");
	put_u64(&w, d->cpus, "cpus");
	put_u32(&w, d->mem_count, "num_memory_regions");
	for (unsigned i = 0; i < ZONE_MAX_MEM_REGIONS; i++) {
		w.off = HEAD(memory_regions[i]);
		put_mem_region(&w, i,
			       i < d->mem_count ? &d->mem[i] : &no_region);
	}
	w.off = HEAD(interrupts_bitmap);
	for (unsigned i = 0; i < ZONE_IRQ_WORDS; i++)
		put_u32(&w, d->irq_bitmap[i], "interrupts_bitmap[%u]", i);
	put_u32(&w, d->ivc_count, "num_ivc_configs");
	for (unsigned i = 0; i < ZONE_MAX_IVC; i++) {
		w.off = HEAD(ivc_configs[i]);
		put_ivc(&w, i, i < d->ivc_count ? &d->ivc[i] : &no_ivc);
	}
	w.off = HEAD(entry_point);
	put_u64(&w, d->entry_point, "entry_point");
	put_u64(&w, d->kernel_load_paddr, "kernel_load_paddr");
	put_u64(&w, d->kernel_size, "kernel_size");
	put_u64(&w, d->dtb_load_paddr, "dtb_load_paddr");
	put_u64(&w, d->dtb_size, "dtb_size");
	w.off = HEAD(name);
	put_name(&w, d->name);
	w.off = s->arch_config;
	put_arch(&w, d);
	w.off = s->num_pci_bus;
	put_u64(&w, d->pci_bus_count, "num_pci_bus");
	for (unsigned i = 0; i < ZONE_MAX_PCI_BUS; i++) {
		w.off = s->pci_config + i * sizeof(struct hvisor_pci_config);
		put_pci_bus(&w, i,
			    i < d->pci_bus_count ? &d->pci_bus[i] : &no_bus);
	}
	w.off = s->num_pci_devs;
	put_u64(&w, d->pci_dev_count, "num_pci_devs");
	for (unsigned i = 0; i < ZONE_MAX_PCI_DEVS; i++) {
		w.off = s->alloc_pci_devs + i * s->dev_size;
		put_pci_dev(&w, i,
			    i < d->pci_dev_count ? &d->pci_dev[i] : &no_dev);
	}
	return s->size;
}

size_t zone_layout_size(enum zone_arch arch, unsigned version)
{
	if (!zone_layout_known(version) || (unsigned)arch >= ZONE_ARCH_COUNT)
		return 0;
	return shapes[arch][version == ZONE_LAYOUT_V05 ? 0 : 1].size;
}

void zone_field_list_free(struct zone_field_list *l)
{
	if (!l)
		return;
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const struct zone_field *zone_field_find(const struct zone_field_list *l,
					 const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* ---- zone_info_t ---- */

static uint64_t get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void zone_info_decode(const uint8_t *bytes, struct zone_info *out)
{
	memset(out, 0, sizeof(*out));
	out->zone_id = (uint32_t)get_le(bytes + ZONE_INFO_OFF_ID, 4);
	out->cpus = get_le(bytes + ZONE_INFO_OFF_CPUS, 8);
	/* The hypervisor's name need not be NUL-terminated. */
	memcpy(out->name, bytes + ZONE_INFO_OFF_NAME, ZONE_NAME_LEN);
	out->name[ZONE_NAME_LEN] = '\0';
	out->is_err = bytes[ZONE_INFO_OFF_IS_ERR] != 0;
}
