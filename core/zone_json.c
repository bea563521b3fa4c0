/* SPDX-License-Identifier: MIT */
/*
 * Zone file decoding and validation (see zone_json.h): the top level,
 * memory, interrupts, ivc and the images; arch_config and PCI are in
 * zone_json_hw.c. The number, member and JSON-text helpers are the virtio
 * file's (config.h), so both files report errors the same way.
 */
#include "zone_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "zone_json_impl.h"

static const char *const top_keys[] = {
	"arch",
	"name",
	"zone_id",
	"cpus",
	"memory_regions",
	"interrupts",
	"ivc_configs",
	"kernel_filepath",
	"dtb_filepath",
	"kernel_load_paddr",
	"dtb_load_paddr",
	"entry_point",
	"arch_config",
	"pci_config",
	"num_pci_devs",
	"alloc_pci_devs",
	NULL,
};

/* ---- Small typed readers (zone_json_impl.h) ---- */

int zj_member_array(const cJSON *obj, const char *name, bool required,
		    unsigned max, const char *what, const cJSON **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (!item) {
		if (!required)
			return 0;
		cfg_fail("%s: missing", name);
		return -1;
	}
	if (!cJSON_IsArray(item)) {
		cfg_fail("%s: expected an array", name);
		return -1;
	}
	int n = cJSON_GetArraySize(item);
	if ((unsigned)n > max) {
		cfg_fail("%s: %d %s, at most %u fit in zone_config_t", name, n,
			 what, max);
		return -1;
	}
	*out = item;
	return 0;
}

int zj_member_string(const cJSON *obj, const char *at, const char *name,
		     bool required, const char **out)
{
	int rc = cfg_get_string(obj, at, name, out);

	if (rc == -ENOENT) {
		*out = NULL;
		if (!required)
			return 0;
		if (*at)
			cfg_fail("%s.%s: missing", at, name);
		else
			cfg_fail("%s: missing", name);
		return -1;
	}
	return rc ? -1 : 0;
}

/* A number member that must fit in `max` (a u8, a PCI device number...). */
int zj_member_small(const cJSON *obj, const char *at, const char *name,
		    bool required, uint64_t max, uint64_t *out)
{
	if (cfg_member_u64(obj, at, name, required, NULL, out))
		return -1;
	if (*out > max) {
		cfg_fail("%s.%s: %" PRIu64 " is out of range (0..%" PRIu64 ")",
			 at, name, *out, max);
		return -1;
	}
	return 0;
}

/* [a, a+alen) and [b, b+blen) intersect; neither wraps. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- Top-level scalars ---- */

static int parse_identity(const cJSON *root, struct zone_desc *d)
{
	const char *s;

	if (zj_member_string(root, "", "arch", false, &s))
		return -1;
	if (s) {
		int a = zone_arch_parse(s);
		if (a < 0) {
			char buf[40];
			cfg_fail("arch: \"%s\" is not one of arm64, riscv64, "
				 "loongarch64, x86_64",
				 cfg_printable(s, buf, sizeof buf));
			return -1;
		}
		d->arch = (enum zone_arch)a;
	} else {
		/* hvisor-tool is built for one architecture and its files
		 * need not say which: default to ours. */
		int a = zone_arch_host();
		if (a < 0) {
			cfg_fail("arch: missing (one of arm64, riscv64, "
				 "loongarch64, x86_64)");
			return -1;
		}
		d->arch = (enum zone_arch)a;
		d->arch_from_host = true;
	}

	if (zj_member_string(root, "", "name", true, &s))
		return -1;
	size_t len = strlen(s);
	if (len == 0) {
		cfg_fail("name: must not be empty");
		return -1;
	}
	if (len > ZONE_NAME_LEN - 1) {
		char buf[48];
		cfg_fail("name: \"%s\" is %zu bytes, at most %d fit in "
			 "zone_config_t",
			 cfg_printable(s, buf, sizeof buf), len,
			 ZONE_NAME_LEN - 1);
		return -1;
	}
	memcpy(d->name, s, len + 1);

	if (cfg_member_u32(root, "", "zone_id", &d->zone_id))
		return -1;
	if (d->zone_id == 0) {
		cfg_fail("zone_id: 0 is the root zone, which is never started");
		return -1;
	}
	return 0;
}

static int parse_cpus(const cJSON *root, struct zone_desc *d)
{
	const cJSON *arr, *item;
	unsigned i = 0;

	if (zj_member_array(root, "cpus", true, UINT32_MAX, "cpus", &arr))
		return -1;
	if (cJSON_GetArraySize(arr) == 0) {
		cfg_fail("cpus: expected at least one cpu");
		return -1;
	}
	cJSON_ArrayForEach (item, arr) {
		char path[32];
		uint64_t cpu;

		snprintf(path, sizeof path, "cpus[%u]", i++);
		if (cfg_item_u64(item, path, &cpu))
			return -1;
		if (cpu >= ZONE_MAX_CPUS) {
			cfg_fail("%s: cpu %" PRIu64 " is out of range (0..%d)",
				 path, cpu, ZONE_MAX_CPUS - 1);
			return -1;
		}
		d->cpus |= 1ull << cpu;
	}
	return 0;
}

static int parse_memory_type(const cJSON *region, const char *at,
			     uint32_t *type)
{
	static const char *const names[] = {[ZONE_MEM_RAM] = "ram",
					    [ZONE_MEM_IO] = "io",
					    [ZONE_MEM_VIRTIO] = "virtio"};
	const char *s;

	if (zj_member_string(region, at, "type", true, &s))
		return -1;
	for (uint32_t t = 0; t < sizeof names / sizeof names[0]; t++) {
		if (strcmp(s, names[t]) == 0) {
			*type = t;
			return 0;
		}
	}
	char buf[40];
	cfg_fail("%s.type: \"%s\" is not one of \"ram\", \"io\", \"virtio\"",
		 at, cfg_printable(s, buf, sizeof buf));
	return -1;
}

static int parse_memory(const cJSON *root, struct zone_desc *d)
{
	static const char *const keys[] = {"type", "physical_start",
					   "virtual_start", "size", NULL};
	const cJSON *arr, *item;
	unsigned i = 0;

	if (zj_member_array(root, "memory_regions", true, ZONE_MAX_MEM_REGIONS,
			    "regions", &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		struct zone_mem_region *r = &d->mem[i];
		char at[32];

		snprintf(at, sizeof at, "memory_regions[%u]", i);
		if (cfg_check_keys(item, at, keys, NULL) ||
		    parse_memory_type(item, at, &r->type) ||
		    cfg_member_u64(item, at, "physical_start", true, NULL,
				   &r->physical_start) ||
		    cfg_member_u64(item, at, "virtual_start", true, NULL,
				   &r->virtual_start) ||
		    cfg_member_u64(item, at, "size", true, NULL, &r->size))
			return -1;
		if (r->size == 0) {
			cfg_fail("%s.size: must be greater than 0", at);
			return -1;
		}
		if (r->physical_start + r->size < r->physical_start ||
		    r->virtual_start + r->size < r->virtual_start) {
			cfg_fail("%s: region wraps around the address space",
				 at);
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			const struct zone_mem_region *o = &d->mem[j];

			/* The guest sees one address space; two RAM regions
			 * must not share host memory either. */
			if (ranges_overlap(r->virtual_start, r->size,
					   o->virtual_start, o->size) ||
			    (r->type == ZONE_MEM_RAM &&
			     o->type == ZONE_MEM_RAM &&
			     ranges_overlap(r->physical_start, r->size,
					    o->physical_start, o->size))) {
				cfg_fail("%s: 0x%" PRIx64 "+0x%" PRIx64
					 " overlaps memory_regions[%u]",
					 at, r->virtual_start, r->size, j);
				return -1;
			}
		}
		d->mem_count = ++i;
	}
	return 0;
}

static int parse_interrupts(const cJSON *root, struct zone_desc *d)
{
	const cJSON *arr, *item;
	unsigned i = 0;

	if (zj_member_array(root, "interrupts", true, UINT32_MAX, "interrupts",
			    &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		char path[32];
		uint64_t irq;

		snprintf(path, sizeof path, "interrupts[%u]", i++);
		if (cfg_item_u64(item, path, &irq))
			return -1;
		if (irq >= ZONE_MAX_IRQS) {
			cfg_fail("%s: irq %" PRIu64 " is out of range (0..%d)",
				 path, irq, ZONE_MAX_IRQS - 1);
			return -1;
		}
		d->irq_bitmap[irq / 32] |= 1u << (irq % 32);
	}
	return 0;
}

static int parse_ivc(const cJSON *root, struct zone_desc *d)
{
	static const char *const keys[] = {
		"ivc_id",         "peer_id",     "control_table_ipa",
		"shared_mem_ipa", "rw_sec_size", "out_sec_size",
		"interrupt_num",  "max_peers",   NULL};
	const cJSON *arr, *item;
	unsigned i = 0;

	if (zj_member_array(root, "ivc_configs", false, ZONE_MAX_IVC,
			    "ivc configs", &arr))
		return -1;
	cJSON_ArrayForEach (item, arr) {
		struct zone_ivc *c = &d->ivc[i];
		char at[32];

		snprintf(at, sizeof at, "ivc_configs[%u]", i);
		if (cfg_check_keys(item, at, keys, NULL) ||
		    cfg_member_u32(item, at, "ivc_id", &c->ivc_id) ||
		    cfg_member_u32(item, at, "peer_id", &c->peer_id) ||
		    cfg_member_u64(item, at, "control_table_ipa", true, NULL,
				   &c->control_table_ipa) ||
		    cfg_member_u64(item, at, "shared_mem_ipa", true, NULL,
				   &c->shared_mem_ipa) ||
		    cfg_member_u32(item, at, "rw_sec_size", &c->rw_sec_size) ||
		    cfg_member_u32(item, at, "out_sec_size",
				   &c->out_sec_size) ||
		    cfg_member_u32(item, at, "interrupt_num",
				   &c->interrupt_num) ||
		    cfg_member_u32(item, at, "max_peers", &c->max_peers))
			return -1;
		d->ivc_count = ++i;
	}
	return 0;
}

static int parse_images(const cJSON *root, struct zone_desc *d)
{
	const char *kernel, *dtb;

	if (zj_member_string(root, "", "kernel_filepath", true, &kernel) ||
	    zj_member_string(root, "", "dtb_filepath", true, &dtb))
		return -1;
	if (!*kernel || !*dtb) {
		cfg_fail("%s: must not be empty",
			 *kernel ? "dtb_filepath" : "kernel_filepath");
		return -1;
	}
	if (strlen(kernel) >= sizeof d->kernel_file ||
	    strlen(dtb) >= sizeof d->dtb_file) {
		cfg_fail("%s: path too long", strlen(kernel) >= PATH_MAX
						      ? "kernel_filepath"
						      : "dtb_filepath");
		return -1;
	}
	strcpy(d->kernel_file, kernel);
	strcpy(d->dtb_file, dtb);
	return cfg_member_u64(root, "", "kernel_load_paddr", true, NULL,
			      &d->kernel_load_paddr) ||
			       cfg_member_u64(root, "", "dtb_load_paddr", true,
					      NULL, &d->dtb_load_paddr) ||
			       cfg_member_u64(root, "", "entry_point", true,
					      NULL, &d->entry_point)
		       ? -1
		       : 0;
}

/* ---- Entry points ---- */

int zone_json_parse(const char *text, const char *source, struct zone_desc *out)
{
	cJSON *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = cfg_parse_json(text, source);
	if (!root)
		return -1;
	if (cfg_check_keys(root, "", top_keys, NULL) == 0 &&
	    parse_identity(root, out) == 0 && parse_cpus(root, out) == 0 &&
	    parse_memory(root, out) == 0 && parse_interrupts(root, out) == 0 &&
	    parse_ivc(root, out) == 0 && parse_images(root, out) == 0 &&
	    zj_parse_arch_config(root, out) == 0 &&
	    zj_parse_pci_config(root, out) == 0 &&
	    zj_parse_pci_devs(root, out) == 0)
		rc = 0;
	cJSON_Delete(root);
	return rc;
}

/* Size of an image file, or -1 (reported at `key`). "null" is no image. */
static int image_size(const char *key, const char *file, uint64_t *size)
{
	struct stat st;

	*size = 0;
	if (strcmp(file, "null") == 0)
		return 0;
	if (stat(file, &st) != 0) {
		cfg_fail("%s: %s: %s", key, file, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_fail("%s: %s: not a regular file", key, file);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The image [paddr, paddr+size) lies in one RAM region (physical). */
static int check_fits(const struct zone_desc *d, const char *what,
		      const char *key, uint64_t paddr, uint64_t size)
{
	for (unsigned i = 0; i < d->mem_count; i++) {
		const struct zone_mem_region *r = &d->mem[i];

		if (r->type == ZONE_MEM_RAM && paddr >= r->physical_start &&
		    paddr - r->physical_start <= r->size &&
		    size <= r->size - (paddr - r->physical_start))
			return 0;
	}
	cfg_fail("%s: the %s (0x%" PRIx64 " bytes at 0x%" PRIx64
		 ") does not fit in any ram region",
		 key, what, size, paddr);
	return -1;
}

static uint64_t round_up(uint64_t v, uint64_t page)
{
	return page ? (v + page - 1) / page * page : v;
}

int zone_json_check_images(struct zone_desc *d, uint64_t page_size)
{
	uint64_t ksize, dsize;

	if (image_size("kernel_filepath", d->kernel_file, &ksize) ||
	    image_size("dtb_filepath", d->dtb_file, &dsize))
		return -1;
	if (ksize && check_fits(d, "kernel", "kernel_load_paddr",
				d->kernel_load_paddr, ksize))
		return -1;
	if (dsize &&
	    check_fits(d, "dtb", "dtb_load_paddr", d->dtb_load_paddr, dsize))
		return -1;
	if (ksize && dsize &&
	    ranges_overlap(d->kernel_load_paddr, ksize, d->dtb_load_paddr,
			   dsize)) {
		cfg_fail("dtb_load_paddr: the dtb (0x%" PRIx64
			 " bytes at 0x%" PRIx64 ") overlaps the kernel "
			 "(0x%" PRIx64 " bytes at 0x%" PRIx64 ")",
			 dsize, d->dtb_load_paddr, ksize, d->kernel_load_paddr);
		return -1;
	}
	d->kernel_bytes = ksize;
	d->dtb_bytes = dsize;
	d->kernel_size = round_up(ksize, page_size);
	d->dtb_size = round_up(dsize, page_size);
	return 0;
}

int zone_json_load(const char *file, uint64_t page_size, struct zone_desc *out)
{
	char *text = cfg_read_file(file);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -1;
	rc = zone_json_parse(text, file, out);
	free(text);
	if (rc == 0)
		rc = zone_json_check_images(out, page_size);
	return rc;
}
