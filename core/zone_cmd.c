/* SPDX-License-Identifier: MIT */
/*
 * `hvisor zone start|shutdown|list` (zone_cmd.h). Order of `zone start`:
 * decode and validate the file (exit 2 on any error, nothing touched),
 * optionally dump/print it, then CONFIG_CHECK, load the images, and start
 * the zone (exit 1 when the hypervisor refuses any of them).
 */
#include "zone_cmd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "port.h"
#include "zone_boot.h"
#include "zone_json.h"
#include "zone_layout.h"

/* More zones than any hypervisor build runs (hvisor-tool: 32). */
#define LIST_MAX_ZONES 256

void zone_usage(FILE *out)
{
	fprintf(out,
		"       hvisor zone start [--dry-run] [--dump-config FILE] "
		"[--layout 0x05|0x06]\n"
		"                         [--arch ARCH] [--strict] "
		"<zone.json>\n"
		"       hvisor zone shutdown -id N   (also --id N)\n"
		"       hvisor zone list [--json]\n"
		"zone options: --mock SOCKET (also HVISOR_MOCK), "
		"--log-level LEVEL (default warn)\n"
		"zone exit codes: 0 ok, 1 the hypervisor refused, 2 usage or "
		"zone file error\n");
}

struct zone_opts {
	const char *mock;
	int log_level;
	bool dry_run;
	bool json;
	bool strict;
	const char *dump_file;
	const char *layout; /* --layout as given */
	const char *arch;   /* --arch as given */
	const char *id;
	const char *file;
};

/* "--opt VALUE" or "--opt=VALUE" at argv[*i]: 1 and *out set when it is
 * `opt`, 0 when it is another argument, -1 when the value is missing. */
static int option_value(int argc, char **argv, int *i, const char *opt,
			const char **out)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "hvisor: %s needs a value\n", opt);
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

/* Options only some commands take. */
enum {
	OPT_DRY_RUN = 1 << 0,
	OPT_DUMP = 1 << 1,
	OPT_FILE = 1 << 2, /* one positional zone file */
	OPT_ID = 1 << 3,
	OPT_JSON = 1 << 4,
	OPT_START = 1 << 5, /* --layout, --arch, --strict */
};

/* Options of `hvisor zone <cmd>` from argv[2]; `allowed` (OPT_*) says
 * which command-specific ones it takes. Returns 0 or ZONE_EXIT_USAGE. */
static int parse_opts(int argc, char **argv, unsigned allowed,
		      struct zone_opts *o)
{
	const char *level = NULL;

	o->log_level = HVD_LOG_WARN;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		int r;

		if ((r = option_value(argc, argv, &i, "--mock", &o->mock)) ||
		    (r = option_value(argc, argv, &i, "--log-level", &level))) {
			if (r < 0)
				return ZONE_EXIT_USAGE;
			continue;
		}
		if ((allowed & OPT_DUMP) &&
		    (r = option_value(argc, argv, &i, "--dump-config",
				      &o->dump_file))) {
			if (r < 0)
				return ZONE_EXIT_USAGE;
			continue;
		}
		if ((allowed & OPT_START) &&
		    ((r = option_value(argc, argv, &i, "--layout",
				       &o->layout)) ||
		     (r = option_value(argc, argv, &i, "--arch", &o->arch)))) {
			if (r < 0)
				return ZONE_EXIT_USAGE;
			continue;
		}
		if ((allowed & OPT_ID) &&
		    ((r = option_value(argc, argv, &i, "--id", &o->id)) ||
		     (r = option_value(argc, argv, &i, "-id", &o->id)))) {
			if (r < 0)
				return ZONE_EXIT_USAGE;
			continue;
		}
		if ((allowed & OPT_DRY_RUN) && strcmp(a, "--dry-run") == 0) {
			o->dry_run = true;
		} else if ((allowed & OPT_START) &&
			   strcmp(a, "--strict") == 0) {
			o->strict = true;
		} else if ((allowed & OPT_JSON) && strcmp(a, "--json") == 0) {
			o->json = true;
		} else if ((allowed & OPT_FILE) && a[0] != '-' && !o->file) {
			o->file = a;
		} else {
			fprintf(stderr, "hvisor: zone %s: unexpected '%s'\n",
				argv[1], a);
			return ZONE_EXIT_USAGE;
		}
	}
	if (level) {
		o->log_level = log_level_parse(level);
		if (o->log_level < 0) {
			fprintf(stderr,
				"hvisor: --log-level: '%s' is not one of "
				"error, warn, info, debug\n",
				level);
			return ZONE_EXIT_USAGE;
		}
	}
	log_init(true, (enum hvd_log_level)o->log_level);
	return 0;
}

/* "0-3,8,10-11" for the set bits of a bitmap of `nbits` bits. */
static void format_ranges(const uint32_t *words, unsigned nbits, char *buf,
			  size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < nbits; i++) {
		if (!(words[i / 32] & (1u << (i % 32))))
			continue;
		unsigned j = i;
		while (j + 1 < nbits &&
		       (words[(j + 1) / 32] & (1u << ((j + 1) % 32))))
			j++;
		int n = j == i ? snprintf(buf + used, size - used, "%s%u",
					  used ? "," : "", i)
			       : snprintf(buf + used, size - used, "%s%u-%u",
					  used ? "," : "", i, j);
		if (n < 0 || (size_t)n >= size - used)
			return; /* cut: the buffer is sized for the worst */
		used += (size_t)n;
		i = j;
	}
	if (!used)
		snprintf(buf, size, "none");
}

static void format_cpus(uint64_t cpus, char *buf, size_t size)
{
	uint32_t words[2] = {(uint32_t)cpus, (uint32_t)(cpus >> 32)};

	format_ranges(words, ZONE_MAX_CPUS, buf, size);
}

/* ---- zone start ---- */

static const char *const mem_type_names[] = {"ram", "io", "virtio"};

static void print_images(const struct zone_desc *d)
{
	printf("kernel: %s at 0x%" PRIx64 " (kernel_size 0x%" PRIx64
	       "), entry_point 0x%" PRIx64 "\n",
	       d->kernel_file, d->kernel_load_paddr, d->kernel_size,
	       d->entry_point);
	printf("dtb: %s at 0x%" PRIx64 " (dtb_size 0x%" PRIx64 ")\n",
	       d->dtb_file, d->dtb_load_paddr, d->dtb_size);
	for (unsigned i = 0; i < d->module_count; i++)
		printf("module %s: %s at 0x%" PRIx64 "\n", d->modules[i].name,
		       d->modules[i].file, d->modules[i].load_paddr);
	if (d->arch != ZONE_ARCH_X86_64)
		return;
	const struct zone_x86_boot *b = &d->x86;
	if (b->protocol == ZONE_BOOT_MULTIBOOT2)
		printf("multiboot2: boot information at 0x%" PRIx64 "\n",
		       b->multiboot_info_paddr);
	if (b->boot_file[0])
		printf("boot: %s at 0x%" PRIx64 "\n", b->boot_file,
		       b->boot_load_paddr);
	if (b->setup_file[0])
		printf("setup: %s at 0x%" PRIx64 "\n", b->setup_file,
		       b->setup_load_hpa);
	if (b->has_cmdline)
		printf("cmdline at 0x%" PRIx64 ": %s\n", b->cmdline_load_hpa,
		       b->cmdline);
	if (b->initrd_file[0])
		printf("initrd: %s at 0x%" PRIx64 "\n", b->initrd_file,
		       b->initrd_load_hpa);
}

static void print_pci(const struct zone_desc *d)
{
	printf("pci buses: %u%s\n", d->pci_bus_count,
	       d->older_pci_config ? " (older single-object pci_config)" : "");
	for (unsigned i = 0; i < d->pci_bus_count; i++) {
		const struct hvisor_pci_config *b = &d->pci_bus[i];
		printf("  [%u] domain %u buses %u-%u ecam 0x%" PRIx64
		       "+0x%" PRIx64 " io 0x%" PRIx64 "+0x%" PRIx64
		       " (pci 0x%" PRIx64 ") mem32 0x%" PRIx64 "+0x%" PRIx64
		       " (pci 0x%" PRIx64 ") mem64 0x%" PRIx64 "+0x%" PRIx64
		       " (pci 0x%" PRIx64 ")\n",
		       i, b->domain, b->bus_range_begin, b->bus_range_end,
		       b->ecam_base, b->ecam_size, b->io_base, b->io_size,
		       b->pci_io_base, b->mem32_base, b->mem32_size,
		       b->pci_mem32_base, b->mem64_base, b->mem64_size,
		       b->pci_mem64_base);
	}
	printf("pci devices: %u%s\n", d->pci_dev_count,
	       d->older_pci_devs ? " (older packed numbers)" : "");
	for (unsigned i = 0; i < d->pci_dev_count; i++) {
		const struct hvisor_pci_dev *p = &d->pci_dev[i];
		printf("  [%u] %04x:%02x:%02x.%u as %02x:%02x.%u dev_type %u\n",
		       i, p->domain, p->bus, p->device, p->function, p->v_bus,
		       p->v_device, p->v_function, p->dev_type);
	}
}

static void print_desc(const struct zone_desc *d, unsigned version, size_t size,
		       const struct zone_field_list *fields)
{
	char set[4096];

	printf("zone %" PRIu32 " \"%s\": %s%s, zone_config_t layout version "
	       "0x%02x, %zu bytes\n",
	       d->zone_id, d->name, zone_arch_name(d->arch),
	       d->arch_from_host ? " (no \"arch\": this build's)" : "", version,
	       size);
	format_cpus(d->cpus, set, sizeof set);
	printf("cpus: %s (bitmap 0x%" PRIx64 ")\n", set, d->cpus);
	printf("memory regions: %u\n", d->mem_count);
	for (unsigned i = 0; i < d->mem_count; i++) {
		const struct hvisor_memory_region *r = &d->mem[i];
		printf("  [%u] %-6s physical 0x%" PRIx64 " virtual 0x%" PRIx64
		       " size 0x%" PRIx64 "\n",
		       i, mem_type_names[r->type], r->physical_start,
		       r->virtual_start, r->size);
	}
	format_ranges(d->irq_bitmap, ZONE_MAX_IRQS, set, sizeof set);
	printf("interrupts: %s\n", set);
	printf("ivc configs: %u\n", d->ivc_count);
	for (unsigned i = 0; i < d->ivc_count; i++) {
		const struct hvisor_ivc_config *c = &d->ivc[i];
		printf("  [%u] ivc_id %u peer_id %u control_table 0x%" PRIx64
		       " shared_mem 0x%" PRIx64 " rw_sec 0x%x out_sec 0x%x "
		       "irq %u max_peers %u\n",
		       i, c->ivc_id, c->peer_id, c->control_table_ipa,
		       c->shared_mem_ipa, c->rw_sec_size, c->out_sec_size,
		       c->interrupt_num, c->max_peers);
	}
	print_images(d);
	printf("arch_config:%s\n",
	       d->gic_version_implied ? " (GIC version implied by its keys)"
				      : "");
	for (size_t i = 0; i < fields->count; i++) {
		const struct zone_field *f = &fields->v[i];
		if (strncmp(f->name, "arch_config.", 12) == 0)
			printf("  @%-4" PRIu32 " %s = 0x%" PRIx64 "\n",
			       f->offset, f->name + 12, f->value);
	}
	print_pci(d);
}

static int write_bytes(const char *file, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(file, "wb");

	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "hvisor: --dump-config %s: %s\n", file,
			strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return 0;
}

/* HVISOR_LOAD_IMAGE of one file, which must still have the size that was
 * checked against the RAM regions. "null" loads nothing (as hvisor-tool). */
static int load_image(struct port *port, const char *what, const char *file,
		      uint64_t size, uint64_t paddr)
{
	uint8_t *buf = NULL;
	FILE *f;
	int rc;

	if (strcmp(file, "null") == 0)
		return ZONE_EXIT_OK;
	errno = 0;
	f = fopen(file, "rb");
	if (!f || !(buf = malloc(size + 1)) ||
	    fread(buf, 1, size + 1, f) != size) {
		fprintf(stderr, "hvisor: %s %s: %s\n", what, file,
			errno ? strerror(errno)
			      : "changed size since it was checked");
		free(buf);
		if (f)
			fclose(f);
		return ZONE_EXIT_USAGE;
	}
	fclose(f);
	rc = port_load_image(port, buf, size, paddr);
	free(buf);
	if (rc < 0) {
		fprintf(stderr,
			"hvisor: the hypervisor refused to load the %s %s at "
			"0x%" PRIx64 ": %s\n",
			what, file, paddr, strerror(-rc));
		return ZONE_EXIT_REFUSED;
	}
	return ZONE_EXIT_OK;
}

/* CONFIG_CHECK: the layout version the hypervisor reads, which must be
 * one this tool writes and match --layout if given. */
static int pick_layout(struct port *port, const struct zone_desc *d,
		       unsigned wanted, unsigned *version)
{
	uint64_t v = 0;
	int rc = port_config_check(port, &v);

	if (rc < 0) {
		fprintf(stderr, "hvisor: CONFIG_CHECK failed: %s\n",
			strerror(-rc));
		return ZONE_EXIT_REFUSED;
	}
	if (!zone_layout_known(v) || (wanted && v != wanted)) {
		fprintf(stderr,
			"hvisor: zone_config_t layout mismatch: the hypervisor "
			"speaks version 0x%02" PRIx64 ", this tool writes "
			"%s; refusing to start zone %" PRIu32
			" (the hypervisor would misread it)\n",
			v,
			wanted == ZONE_LAYOUT_V05 ? "0x05 (--layout)"
			: wanted == ZONE_LAYOUT_V06
				? "0x06 (--layout)"
				: "0x05 (hvisor v0.4) or "
				  "0x06 (hvisor-tool 2026-08)",
			d->zone_id);
		return ZONE_EXIT_REFUSED;
	}
	*version = (unsigned)v;
	return ZONE_EXIT_OK;
}

/* Encode d in `version`, refusing what that layout cannot hold, and write
 * --dump-config. Returns the size, or 0 (reported). */
static size_t encode(const struct zone_opts *o, const struct zone_desc *d,
		     unsigned version, uint8_t *cfg,
		     struct zone_field_list *fields)
{
	char why[160];
	size_t len;

	if (zone_layout_unfit(d, version, why, sizeof why)) {
		fprintf(stderr, "hvisor: %s\n", why);
		return 0;
	}
	len = zone_layout_encode(d, version, cfg, fields);
	if (fields && fields->oom) {
		fprintf(stderr, "hvisor: out of memory\n");
		return 0;
	}
	if (o->dump_file && write_bytes(o->dump_file, cfg, len))
		return 0;
	return len;
}

/* What the hypervisor gets is encoded after everything is loaded:
 * zone_boot_prepare fills sizes, the x86 entry and the ECAM base. */
static int start_on_port(const struct zone_opts *o, struct zone_desc *d,
			 unsigned wanted)
{
	uint8_t cfg[ZONE_CONFIG_MAX_SIZE];
	unsigned version = 0;
	size_t len;
	int rc;
	struct port *port = port_open_auto(o->mock);

	if (!port)
		return ZONE_EXIT_REFUSED;
	if ((rc = pick_layout(port, d, wanted, &version)) == ZONE_EXIT_OK &&
	    (rc = zone_boot_whole_kernel(d)
			  ? load_image(port, "kernel", d->kernel_file,
				       d->kernel_bytes, d->kernel_load_paddr)
			  : ZONE_EXIT_OK) == ZONE_EXIT_OK &&
	    (rc = load_image(port, "dtb", d->dtb_file, d->dtb_bytes,
			     d->dtb_load_paddr)) == ZONE_EXIT_OK &&
	    (rc = zone_boot_prepare(port, d)) == ZONE_EXIT_OK) {
		len = encode(o, d, version, cfg, NULL);
		int err = len ? port_zone_start(port, cfg, len) : 0;
		if (!len) {
			rc = ZONE_EXIT_USAGE;
		} else if (err < 0) {
			fprintf(stderr,
				"hvisor: the hypervisor refused to start zone "
				"%" PRIu32 " (%s): %s\n",
				d->zone_id, d->name, strerror(-err));
			rc = ZONE_EXIT_REFUSED;
		} else {
			printf("zone %" PRIu32 " (%s) started\n", d->zone_id,
			       d->name);
		}
	}
	port_close(port);
	return rc;
}

/* --layout: 0 when not given, else ZONE_LAYOUT_V05 or V06; -1 refused. */
static int parse_layout(const char *s)
{
	char *end;
	unsigned long v;

	if (!s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || !zone_layout_known(v)) {
		fprintf(stderr,
			"hvisor: --layout: '%s' is not 0x05 (hvisor v0.4) or "
			"0x06 (hvisor-tool since 2026-08)\n",
			s);
		return -1;
	}
	return (int)v;
}

/* --arch: 0 when not given, else enum zone_arch + 1; -1 refused. */
static int parse_arch_opt(const char *s)
{
	int a;

	if (!s)
		return 0;
	a = zone_arch_parse(s);
	if (a < 0) {
		fprintf(stderr,
			"hvisor: --arch: '%s' is not one of " ZONE_ARCH_CHOICES
			"\n",
			s);
		return -1;
	}
	return a + 1;
}

static int zone_start(int argc, char **argv)
{
	struct zone_opts o = {0};
	struct zone_json_opts jo = {0};
	struct zone_field_list fields = {0};
	uint8_t cfg[ZONE_CONFIG_MAX_SIZE];
	int rc = parse_opts(argc, argv,
			    OPT_DRY_RUN | OPT_DUMP | OPT_FILE | OPT_START, &o);
	int layout = rc ? 0 : parse_layout(o.layout);

	if (rc)
		return rc;
	jo.arch_plus1 = parse_arch_opt(o.arch);
	if (layout < 0 || jo.arch_plus1 < 0)
		return ZONE_EXIT_USAGE;
	if (!o.file) {
		fprintf(stderr, "hvisor: zone start: which zone file?\n");
		return ZONE_EXIT_USAGE;
	}
	jo.strict = o.strict;
	jo.missing_images_ok = o.dry_run;
	struct zone_desc *d = malloc(sizeof(*d));
	if (!d) {
		fprintf(stderr, "hvisor: out of memory\n");
		return ZONE_EXIT_REFUSED;
	}
	long page = sysconf(_SC_PAGESIZE);
	if (zone_json_load_opts(o.file, page > 0 ? (uint64_t)page : 4096u, &jo,
				d)) {
		free(d);
		return ZONE_EXIT_USAGE;
	}
	if (o.dry_run) {
		unsigned version =
			layout ? (unsigned)layout : ZONE_LAYOUT_VERSION;
		size_t len = encode(&o, d, version, cfg, &fields);

		if (len)
			print_desc(d, version, len, &fields);
		rc = len ? ZONE_EXIT_OK : ZONE_EXIT_USAGE;
	} else {
		rc = start_on_port(&o, d, (unsigned)layout);
	}
	zone_field_list_free(&fields);
	free(d);
	return rc;
}

/* ---- zone shutdown / list ---- */

static int zone_shutdown(int argc, char **argv)
{
	struct zone_opts o = {0};
	int rc = parse_opts(argc, argv, OPT_ID, &o);
	char *end;

	if (rc)
		return rc;
	if (!o.id) {
		fprintf(stderr, "hvisor: zone shutdown: which zone? (-id N)\n");
		return ZONE_EXIT_USAGE;
	}
	errno = 0;
	unsigned long long id = strtoull(o.id, &end, 10);
	if (errno || end == o.id || *end || o.id[0] == '-' || id > UINT32_MAX) {
		fprintf(stderr, "hvisor: -id: '%s' is not a zone id\n", o.id);
		return ZONE_EXIT_USAGE;
	}
	struct port *port = port_open_auto(o.mock);
	if (!port)
		return ZONE_EXIT_REFUSED;
	rc = port_zone_shutdown(port, id);
	port_close(port);
	if (rc < 0) {
		fprintf(stderr,
			"hvisor: the hypervisor refused to shut down zone "
			"%llu: "
			"%s\n",
			id, strerror(-rc));
		return ZONE_EXIT_REFUSED;
	}
	printf("zone %llu shut down\n", id);
	return ZONE_EXIT_OK;
}

static void print_list_json(const struct zone_info *z, int n)
{
	cJSON *arr = cJSON_CreateArray();
	char name[ZONE_NAME_LEN + 8];

	for (int i = 0; arr && i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON *cpus = cJSON_CreateArray();
		for (unsigned c = 0; cpus && c < ZONE_MAX_CPUS; c++)
			if (z[i].cpus & (1ull << c))
				cJSON_AddItemToArray(cpus,
						     cJSON_CreateNumber(c));
		if (!o || !cpus) {
			cJSON_Delete(o);
			cJSON_Delete(cpus);
			continue;
		}
		cJSON_AddNumberToObject(o, "id", z[i].zone_id);
		cJSON_AddStringToObject(
			o, "name", cfg_printable(z[i].name, name, sizeof name));
		cJSON_AddItemToObject(o, "cpus", cpus);
		cJSON_AddStringToObject(o, "state",
					z[i].is_err ? "error" : "running");
		cJSON_AddItemToArray(arr, o);
	}
	char *text = arr ? cJSON_PrintUnformatted(arr) : NULL;
	puts(text ? text : "[]");
	free(text);
	cJSON_Delete(arr);
}

static int zone_list(int argc, char **argv)
{
	struct zone_opts o = {0};
	int rc = parse_opts(argc, argv, OPT_JSON, &o);

	if (rc)
		return rc;
	uint8_t *raw = calloc(LIST_MAX_ZONES, ZONE_INFO_SIZE);
	struct zone_info *z = calloc(LIST_MAX_ZONES, sizeof(*z));
	struct port *port = raw && z ? port_open_auto(o.mock) : NULL;
	if (!port) {
		free(raw);
		free(z);
		return ZONE_EXIT_REFUSED;
	}
	int n = port_zone_list(port, raw, LIST_MAX_ZONES, ZONE_INFO_SIZE);
	port_close(port);
	if (n < 0) {
		fprintf(stderr,
			"hvisor: the hypervisor refused to list zones: %s\n",
			strerror(-n));
		free(raw);
		free(z);
		return ZONE_EXIT_REFUSED;
	}
	for (int i = 0; i < n; i++)
		zone_info_decode(raw + (size_t)i * ZONE_INFO_SIZE, &z[i]);
	if (o.json) {
		print_list_json(z, n);
	} else {
		printf("%-5s %-31s %-16s %s\n", "ID", "NAME", "CPUS", "STATE");
		for (int i = 0; i < n; i++) {
			char name[ZONE_NAME_LEN + 8], cpus[256];
			format_cpus(z[i].cpus, cpus, sizeof cpus);
			printf("%-5" PRIu32 " %-31s %-16s %s\n", z[i].zone_id,
			       cfg_printable(z[i].name, name, sizeof name),
			       cpus, z[i].is_err ? "error" : "running");
		}
	}
	free(raw);
	free(z);
	return ZONE_EXIT_OK;
}

int zone_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return zone_start(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "shutdown") == 0)
		return zone_shutdown(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return zone_list(argc, argv);
	fprintf(stderr, "usage:\n");
	zone_usage(stderr);
	return ZONE_EXIT_USAGE;
}
