/* SPDX-License-Identifier: MIT */
/*
 * zone_config_t / zone_info_t layouts: the offset and size of every field
 * the serialiser writes, for each architecture and both layout versions,
 * against the shared declarations (interface/hvisor/zone_config.h), the
 * sizes of the facts' table, and offsets worked out by hand from the facts
 * (the anchors below).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "hvisor/zone_config.h"
#include "zone_layout.h"

struct exp_field {
	char name[48];
	size_t offset, size;
};

struct exp_list {
	struct exp_field v[1024];
	size_t count;
};

static void add(struct exp_list *e, size_t offset, size_t size, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

static void add(struct exp_list *e, size_t offset, size_t size, const char *fmt,
		...)
{
	va_list ap;

	CU_ASSERT_FATAL(e->count < sizeof e->v / sizeof e->v[0]);
	struct exp_field *f = &e->v[e->count++];
	va_start(ap, fmt);
	vsnprintf(f->name, sizeof f->name, fmt, ap);
	va_end(ap);
	f->offset = offset;
	f->size = size;
}

/* offset, size of member f of type T (two arguments). */
#define M(T, f) offsetof(T, f), sizeof(((T *)0)->f)

#define EXPECT_HEAD(T, e)                                                      \
	do {                                                                   \
		add(e, M(T, zone_id), "zone_id");                              \
		add(e, M(T, cpus), "cpus");                                    \
		add(e, M(T, num_memory_regions), "num_memory_regions");        \
		for (unsigned i = 0; i < 64; i++) {                            \
			size_t b = offsetof(T, memory_regions) +               \
				   i * sizeof(struct hvisor_memory_region);    \
			add(e, b + M(struct hvisor_memory_region, type),       \
			    "memory_regions[%u].type", i);                     \
			add(e,                                                 \
			    b + M(struct hvisor_memory_region,                 \
				  physical_start),                             \
			    "memory_regions[%u].physical_start", i);           \
			add(e,                                                 \
			    b + M(struct hvisor_memory_region, virtual_start), \
			    "memory_regions[%u].virtual_start", i);            \
			add(e, b + M(struct hvisor_memory_region, size),       \
			    "memory_regions[%u].size", i);                     \
		}                                                              \
		for (unsigned i = 0; i < 32; i++)                              \
			add(e, offsetof(T, interrupts_bitmap) + 4 * i, 4,      \
			    "interrupts_bitmap[%u]", i);                       \
		add(e, M(T, num_ivc_configs), "num_ivc_configs");              \
		for (unsigned i = 0; i < 2; i++) {                             \
			size_t b = offsetof(T, ivc_configs) +                  \
				   i * sizeof(struct hvisor_ivc_config);       \
			add(e, b + M(struct hvisor_ivc_config, ivc_id),        \
			    "ivc_configs[%u].ivc_id", i);                      \
			add(e, b + M(struct hvisor_ivc_config, peer_id),       \
			    "ivc_configs[%u].peer_id", i);                     \
			add(e,                                                 \
			    b + M(struct hvisor_ivc_config,                    \
				  control_table_ipa),                          \
			    "ivc_configs[%u].control_table_ipa", i);           \
			add(e,                                                 \
			    b + M(struct hvisor_ivc_config, shared_mem_ipa),   \
			    "ivc_configs[%u].shared_mem_ipa", i);              \
			add(e, b + M(struct hvisor_ivc_config, rw_sec_size),   \
			    "ivc_configs[%u].rw_sec_size", i);                 \
			add(e, b + M(struct hvisor_ivc_config, out_sec_size),  \
			    "ivc_configs[%u].out_sec_size", i);                \
			add(e, b + M(struct hvisor_ivc_config, interrupt_num), \
			    "ivc_configs[%u].interrupt_num", i);               \
			add(e, b + M(struct hvisor_ivc_config, max_peers),     \
			    "ivc_configs[%u].max_peers", i);                   \
		}                                                              \
		add(e, M(T, entry_point), "entry_point");                      \
		add(e, M(T, kernel_load_paddr), "kernel_load_paddr");          \
		add(e, M(T, kernel_size), "kernel_size");                      \
		add(e, M(T, dtb_load_paddr), "dtb_load_paddr");                \
		add(e, M(T, dtb_size), "dtb_size");                            \
		add(e, M(T, name), "name");                                    \
	} while (0)

#define PCI_BUS_FIELD(e, b, i, f) \
	add(e, (b) + M(struct hvisor_pci_config, f), "pci_config[%u]." #f, i)
#define PCI_DEV_FIELD(e, D, b, i, f) \
	add(e, (b) + M(D, f), "alloc_pci_devs[%u]." #f, i)

/* 0x06 entries carry the guest-side address; 0x05 ones do not. */
#define V_FIELDS_V06(e, b, i)                                              \
	do {                                                               \
		PCI_DEV_FIELD(e, struct hvisor_pci_dev, b, i, v_bus);      \
		PCI_DEV_FIELD(e, struct hvisor_pci_dev, b, i, v_device);   \
		PCI_DEV_FIELD(e, struct hvisor_pci_dev, b, i, v_function); \
	} while (0)
#define V_FIELDS_V05(e, b, i) \
	do {                  \
	} while (0)

/* The PCI tail of T, whose alloc_pci_devs entries are D; V_FIELDS is
 * V_FIELDS_V05 or V_FIELDS_V06. */
#define EXPECT_TAIL(T, D, e, V_FIELDS)                                       \
	do {                                                                 \
		add(e, M(T, num_pci_bus), "num_pci_bus");                    \
		for (unsigned i = 0; i < 4; i++) {                           \
			size_t b = offsetof(T, pci_config) +                 \
				   i * sizeof(struct hvisor_pci_config);     \
			PCI_BUS_FIELD(e, b, i, ecam_base);                   \
			PCI_BUS_FIELD(e, b, i, ecam_size);                   \
			PCI_BUS_FIELD(e, b, i, io_base);                     \
			PCI_BUS_FIELD(e, b, i, io_size);                     \
			PCI_BUS_FIELD(e, b, i, pci_io_base);                 \
			PCI_BUS_FIELD(e, b, i, mem32_base);                  \
			PCI_BUS_FIELD(e, b, i, mem32_size);                  \
			PCI_BUS_FIELD(e, b, i, pci_mem32_base);              \
			PCI_BUS_FIELD(e, b, i, mem64_base);                  \
			PCI_BUS_FIELD(e, b, i, mem64_size);                  \
			PCI_BUS_FIELD(e, b, i, pci_mem64_base);              \
			PCI_BUS_FIELD(e, b, i, bus_range_begin);             \
			PCI_BUS_FIELD(e, b, i, bus_range_end);               \
			PCI_BUS_FIELD(e, b, i, domain);                      \
		}                                                            \
		add(e, M(T, num_pci_devs), "num_pci_devs");                  \
		for (unsigned i = 0; i < 32; i++) {                          \
			size_t b =                                           \
				offsetof(T, alloc_pci_devs) + i * sizeof(D); \
			PCI_DEV_FIELD(e, D, b, i, domain);                   \
			PCI_DEV_FIELD(e, D, b, i, bus);                      \
			PCI_DEV_FIELD(e, D, b, i, device);                   \
			PCI_DEV_FIELD(e, D, b, i, function);                 \
			V_FIELDS(e, b, i);                                   \
			PCI_DEV_FIELD(e, D, b, i, dev_type);                 \
		}                                                            \
	} while (0)

#define ARCH_FIELD(e, T, f, name) add(e, arch_at + M(T, f), "arch_config." name)

static void expect_arm64(struct exp_list *e, unsigned gic, unsigned version)
{
	typedef struct hvisor_zone_config_arm64_v06 Z;
	size_t arch_at = offsetof(Z, arch_config);

	EXPECT_HEAD(Z, e);
	ARCH_FIELD(e, struct hvisor_arch_arm64, is_aarch32, "is_aarch32");
	ARCH_FIELD(e, struct hvisor_arch_arm64, gic.tag, "gic_tag");
	if (gic == 2) {
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gicd_base,
			   "gicv2.gicd_base");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gicd_size,
			   "gicv2.gicd_size");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gicc_base,
			   "gicv2.gicc_base");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gicc_size,
			   "gicv2.gicc_size");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gicc_offset,
			   "gicv2.gicc_offset");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gich_base,
			   "gicv2.gich_base");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gich_size,
			   "gicv2.gich_size");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gicv_base,
			   "gicv2.gicv_base");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v2.gicv_size,
			   "gicv2.gicv_size");
	} else {
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v3.gicd_base,
			   "gicv3.gicd_base");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v3.gicd_size,
			   "gicv3.gicd_size");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v3.gicr_base,
			   "gicv3.gicr_base");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v3.gicr_size,
			   "gicv3.gicr_size");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v3.gits_base,
			   "gicv3.gits_base");
		ARCH_FIELD(e, struct hvisor_arch_arm64, gic.v3.gits_size,
			   "gicv3.gits_size");
	}
	if (version == ZONE_LAYOUT_V06)
		ARCH_FIELD(e, struct hvisor_arch_arm64, uefi.uefi.tag,
			   "uefi_tag");
}

static void expect_riscv64(struct exp_list *e, unsigned gic, unsigned version)
{
	typedef struct hvisor_zone_config_riscv64_v06 Z;
	size_t arch_at = offsetof(Z, arch_config);

	EXPECT_HEAD(Z, e);
	ARCH_FIELD(e, struct hvisor_arch_riscv64, plic_base, "plic_base");
	ARCH_FIELD(e, struct hvisor_arch_riscv64, plic_size, "plic_size");
	ARCH_FIELD(e, struct hvisor_arch_riscv64, aplic_base, "aplic_base");
	ARCH_FIELD(e, struct hvisor_arch_riscv64, aplic_size, "aplic_size");
}

static void expect_loongarch64(struct exp_list *e, unsigned gic,
			       unsigned version)
{
	typedef struct hvisor_zone_config_loongarch64_v06 Z;
	size_t arch_at = offsetof(Z, arch_config);

	EXPECT_HEAD(Z, e);
	ARCH_FIELD(e, struct hvisor_arch_loongarch64, dummy, "dummy");
}

static void expect_x86_64(struct exp_list *e, unsigned gic, unsigned version)
{
	typedef struct hvisor_zone_config_x86_64_v06 Z;
	size_t arch_at = offsetof(Z, arch_config);

	EXPECT_HEAD(Z, e);
	ARCH_FIELD(e, struct hvisor_arch_x86_64, ioapic_base, "ioapic_base");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, ioapic_size, "ioapic_size");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, kernel_entry_gpa,
		   "kernel_entry_gpa");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, cmdline_load_gpa,
		   "cmdline_load_gpa");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, setup_load_gpa,
		   "setup_load_gpa");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, initrd_load_gpa,
		   "initrd_load_gpa");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, initrd_size, "initrd_size");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, rsdp_memory_region_id,
		   "rsdp_memory_region_id");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, acpi_memory_region_id,
		   "acpi_memory_region_id");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, uefi_memory_region_id,
		   "uefi_memory_region_id");
	ARCH_FIELD(e, struct hvisor_arch_x86_64, screen_base, "screen_base");
}

/* The PCI tail of hvisor_zone_config_<a>_v05 or _v06. */
#define TAIL_OF(a, v05)                                                      \
	do {                                                                 \
		if (v05)                                                     \
			EXPECT_TAIL(struct hvisor_zone_config_##a##_v05,     \
				    struct hvisor_pci_dev_v05, e,            \
				    V_FIELDS_V05);                           \
		else                                                         \
			EXPECT_TAIL(struct hvisor_zone_config_##a##_v06,     \
				    struct hvisor_pci_dev, e, V_FIELDS_V06); \
	} while (0)

/* The PCI tail of `arch` in layout `version`. */
static void expect_tail(struct exp_list *e, enum zone_arch arch,
			unsigned version)
{
	bool v05 = version == ZONE_LAYOUT_V05;

	switch (arch) {
	case ZONE_ARCH_ARM64:
		TAIL_OF(arm64, v05);
		break;
	case ZONE_ARCH_RISCV64:
		TAIL_OF(riscv64, v05);
		break;
	case ZONE_ARCH_LOONGARCH64:
		TAIL_OF(loongarch64, v05);
		break;
	case ZONE_ARCH_X86_64:
	case ZONE_ARCH_COUNT:
		TAIL_OF(x86_64, v05);
		break;
	}
}

/* Encode an empty zone of `arch` (GIC version `gic` on arm64) in layout
 * `version` and compare the recorded fields with `e` (head and
 * arch_config; the tail is added here) one by one. */
static void compare(enum zone_arch arch, unsigned gic, unsigned version,
		    struct exp_list *e, size_t expected_size)
{
	static struct zone_desc d;
	static uint8_t buf[ZONE_CONFIG_MAX_SIZE];
	struct zone_field_list got = {0};

	expect_tail(e, arch, version);
	memset(&d, 0, sizeof d);
	d.arch = arch;
	d.arch_config.arm64.gic_version = gic;
	size_t size = zone_layout_encode(&d, version, buf, &got);
	CU_ASSERT_FALSE(got.oom);
	CU_ASSERT_EQUAL(size, expected_size);
	CU_ASSERT_EQUAL(zone_layout_size(arch, version), expected_size);
	CU_ASSERT_EQUAL(got.count, e->count);
	for (size_t i = 0; i < got.count && i < e->count; i++) {
		const struct zone_field *f = &got.v[i];
		const struct exp_field *x = &e->v[i];
		if (strcmp(f->name, x->name) != 0 || f->offset != x->offset ||
		    f->size != x->size) {
			fprintf(stderr,
				"\n%s 0x%02x field %zu: got %s @%u+%u, "
				"expected %s @%zu+%zu\n",
				zone_arch_name(arch), version, i, f->name,
				f->offset, f->size, x->name, x->offset,
				x->size);
			CU_FAIL("field differs");
			break;
		}
	}
	zone_field_list_free(&got);
}

/* Sizes from the facts' table, per arch: 0x05, 0x06. */
static const size_t sizes[ZONE_ARCH_COUNT][2] = {
	[ZONE_ARCH_ARM64] = {3136, 3296},
	[ZONE_ARCH_RISCV64] = {3080, 3208},
	[ZONE_ARCH_LOONGARCH64] = {3056, 3184},
	[ZONE_ARCH_X86_64] = {3136, 3264},
};

static const unsigned versions[2] = {ZONE_LAYOUT_V05, ZONE_LAYOUT_V06};

/* Every field of `arch` (GIC version `gic` on arm64) in both layouts. */
static void check_both(enum zone_arch arch, unsigned gic,
		       void (*expect)(struct exp_list *, unsigned, unsigned))
{
	static struct exp_list e;

	for (unsigned v = 0; v < 2; v++) {
		e.count = 0;
		expect(&e, gic, versions[v]);
		compare(arch, gic, versions[v], &e, sizes[arch][v]);
	}
}

static void test_arm64_gicv3_fields(void)
{
	check_both(ZONE_ARCH_ARM64, 3, expect_arm64);
}

static void test_arm64_gicv2_fields(void)
{
	check_both(ZONE_ARCH_ARM64, 2, expect_arm64);
}

static void test_riscv64_fields(void)
{
	check_both(ZONE_ARCH_RISCV64, 0, expect_riscv64);
}

static void test_loongarch64_fields(void)
{
	check_both(ZONE_ARCH_LOONGARCH64, 0, expect_loongarch64);
}

static void test_x86_64_fields(void)
{
	check_both(ZONE_ARCH_X86_64, 0, expect_x86_64);
}

/* Offsets worked out by hand from the facts, so that a mistake shared by
 * the shared declarations and the serialiser still shows. */
static void test_anchors_by_hand(void)
{
	static struct zone_desc d;
	static uint8_t buf[ZONE_CONFIG_MAX_SIZE];
	struct zone_field_list f = {0};
	static const struct {
		const char *name;
		uint32_t offset;
	} common[] = {
		{"zone_id", 0},
		{"cpus", 8},
		{"num_memory_regions", 16},
		{"memory_regions[0].type", 24},
		{"memory_regions[0].physical_start", 32},
		{"memory_regions[1].type", 56},
		{"memory_regions[63].size", 2064},
		{"interrupts_bitmap[0]", 2072},
		{"interrupts_bitmap[31]", 2196},
		{"num_ivc_configs", 2200},
		{"ivc_configs[0].ivc_id", 2208},
		{"ivc_configs[0].control_table_ipa", 2216},
		{"ivc_configs[0].max_peers", 2244},
		{"ivc_configs[1].ivc_id", 2248},
		{"entry_point", 2288},
		{"dtb_size", 2320},
		{"name", 2328},
	};
	/* arch_config at 2360; its size sets everything after it. */
	static const struct {
		enum zone_arch arch;
		uint32_t arch_size, total;
	} arches[] = {
		{ZONE_ARCH_ARM64, 120, 3296},
		{ZONE_ARCH_RISCV64, 32, 3208},
		{ZONE_ARCH_LOONGARCH64, 8, 3184},
		{ZONE_ARCH_X86_64, 88, 3264},
	};

	for (size_t a = 0; a < sizeof arches / sizeof arches[0]; a++) {
		memset(&d, 0, sizeof d);
		d.arch = arches[a].arch;
		d.arch_config.arm64.gic_version = 3;
		CU_ASSERT_EQUAL(
			zone_layout_encode(&d, ZONE_LAYOUT_V06, buf, &f),
			arches[a].total);
		for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
			const struct zone_field *z =
				zone_field_find(&f, common[i].name);
			CU_ASSERT_PTR_NOT_NULL_FATAL(z);
			CU_ASSERT_EQUAL(z->offset, common[i].offset);
		}
		uint32_t tail = 2360 + arches[a].arch_size;
		const struct zone_field *z = zone_field_find(&f, "num_pci_bus");
		CU_ASSERT_PTR_NOT_NULL_FATAL(z);
		CU_ASSERT_EQUAL(z->offset, tail);
		/* pci_config: 11 u64 + 2 u32 + u8, padded: 104 bytes. */
		z = zone_field_find(&f, "pci_config[1].ecam_base");
		CU_ASSERT_EQUAL(z->offset, tail + 8 + 104);
		z = zone_field_find(&f, "pci_config[0].domain");
		CU_ASSERT_EQUAL(z->offset, tail + 8 + 96);
		z = zone_field_find(&f, "num_pci_devs");
		CU_ASSERT_EQUAL(z->offset, tail + 8 + 4 * 104);
		/* pci_dev: 7 u8, u32 at 8: 12 bytes. */
		z = zone_field_find(&f, "alloc_pci_devs[1].dev_type");
		CU_ASSERT_EQUAL(z->offset, tail + 16 + 4 * 104 + 12 + 8);
		zone_field_list_free(&f);
	}

	/* aarch64: is_aarch32 at 0, gic tag at 8, 72-byte union, uefi tag at
	 * 88 of arch_config. */
	memset(&d, 0, sizeof d);
	d.arch = ZONE_ARCH_ARM64;
	d.arch_config.arm64.gic_version = 2;
	zone_layout_encode(&d, ZONE_LAYOUT_V06, buf, &f);
	CU_ASSERT_EQUAL(zone_field_find(&f, "arch_config.gic_tag")->offset,
			2368);
	CU_ASSERT_EQUAL(
		zone_field_find(&f, "arch_config.gicv2.gicv_size")->offset,
		2368 + 8 + 64);
	CU_ASSERT_EQUAL(zone_field_find(&f, "arch_config.uefi_tag")->offset,
			2448);
	zone_field_list_free(&f);
}

/* Fields are in offset order and never overlap: the layout is a layout. */
static void test_fields_do_not_overlap(void)
{
	static struct zone_desc d;
	static uint8_t buf[ZONE_CONFIG_MAX_SIZE];

	for (int a = 0; a < ZONE_ARCH_COUNT; a++) {
		struct zone_field_list f = {0};
		memset(&d, 0, sizeof d);
		d.arch = (enum zone_arch)a;
		d.arch_config.arm64.gic_version = 3;
		size_t size = zone_layout_encode(&d, ZONE_LAYOUT_V06, buf, &f);
		for (size_t i = 1; i < f.count; i++)
			CU_ASSERT(f.v[i].offset >=
				  f.v[i - 1].offset + f.v[i - 1].size);
		CU_ASSERT(f.v[f.count - 1].offset + f.v[f.count - 1].size <=
			  size);
		zone_field_list_free(&f);
	}
}

static void test_values_little_endian(void)
{
	static struct zone_desc d;
	static uint8_t buf[ZONE_CONFIG_MAX_SIZE];

	memset(&d, 0, sizeof d);
	d.arch = ZONE_ARCH_RISCV64;
	d.zone_id = 0x11223344;
	d.cpus = 0x0102030405060708ull;
	strcpy(d.name, "abc");
	d.arch_config.riscv64.plic_base = 0xc000000;
	d.pci_dev_count = 1;
	d.pci_dev[0].dev_type = 0xa1b2c3d4;
	zone_layout_encode(&d, ZONE_LAYOUT_V06, buf, NULL);
	static const uint8_t id[] = {0x44, 0x33, 0x22, 0x11};
	static const uint8_t cpus[] = {8, 7, 6, 5, 4, 3, 2, 1};
	CU_ASSERT_EQUAL(memcmp(buf, id, 4), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 8, cpus, 8), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 2328, "abc\0\0", 5), 0);
	CU_ASSERT_EQUAL(buf[2360 + 3], 0x0c);
	/* num_pci_devs at 2360+32+8+416 = 2816, then dev_type at +8+8. */
	CU_ASSERT_EQUAL(buf[2816], 1);
	static const uint8_t type[] = {0xd4, 0xc3, 0xb2, 0xa1};
	CU_ASSERT_EQUAL(memcmp(buf + 2816 + 16, type, 4), 0);
}

static void test_zone_info_decode(void)
{
	uint8_t raw[ZONE_INFO_SIZE];
	struct zone_info z;

	memset(raw, 0, sizeof raw);
	raw[0] = 7;
	raw[8] = 0x0c;
	raw[15] = 0x80;            /* cpu 63 */
	memset(raw + 16, 'x', 32); /* a name filling all 32 bytes */
	raw[48] = 1;
	zone_info_decode(raw, &z);
	CU_ASSERT_EQUAL(z.zone_id, 7);
	CU_ASSERT_EQUAL(z.cpus, 0x800000000000000cull);
	CU_ASSERT_EQUAL(strlen(z.name), 32);
	CU_ASSERT_TRUE(z.is_err);
	/* Against the declaration of the facts. */
	struct t_info {
		uint32_t zone_id;
		uint64_t cpus;
		char name[32];
		uint8_t is_err;
	};
	CU_ASSERT_EQUAL(sizeof(struct t_info), ZONE_INFO_SIZE);
	CU_ASSERT_EQUAL(offsetof(struct t_info, cpus), ZONE_INFO_OFF_CPUS);
	CU_ASSERT_EQUAL(offsetof(struct t_info, name), ZONE_INFO_OFF_NAME);
	CU_ASSERT_EQUAL(offsetof(struct t_info, is_err), ZONE_INFO_OFF_IS_ERR);
}

static void test_arch_names(void)
{
	for (int a = 0; a < ZONE_ARCH_COUNT; a++)
		CU_ASSERT_EQUAL(zone_arch_parse(zone_arch_name(a)), a);
	/* uname -m's name on arm64, and the short riscv. */
	CU_ASSERT_EQUAL(zone_arch_parse("aarch64"), ZONE_ARCH_ARM64);
	CU_ASSERT_EQUAL(zone_arch_parse("riscv"), ZONE_ARCH_RISCV64);
	CU_ASSERT_EQUAL(zone_arch_parse("arm"), -1);
	CU_ASSERT_EQUAL(zone_arch_parse("x86"), -1);
	CU_ASSERT_EQUAL(zone_arch_parse(""), -1);
	CU_ASSERT_EQUAL(ZONE_LAYOUT_VERSION, 0x06);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"arm64 GICv3: every field", test_arm64_gicv3_fields},
		{"arm64 GICv2: every field", test_arm64_gicv2_fields},
		{"riscv64: every field", test_riscv64_fields},
		{"loongarch64: every field", test_loongarch64_fields},
		{"x86_64: every field", test_x86_64_fields},
		{"offsets worked out by hand", test_anchors_by_hand},
		{"fields in order, no overlap", test_fields_do_not_overlap},
		{"little-endian values", test_values_little_endian},
		{"zone_info_t decode", test_zone_info_decode},
		{"architecture names", test_arch_names},
		{NULL, NULL},
	};
	return cunit_run("zone_layout", tests);
}
