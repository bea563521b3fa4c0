/* SPDX-License-Identifier: MIT */
/* The in-process host of the device fuzz targets (fuzz_host.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fuzz_host.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "eventloop.h"
#include "loader.h"
#include "log.h"
#include "port_impl.h"

#ifndef FUZZ_PLUGIN
#define FUZZ_PLUGIN "" /* a target without a device (the JSON parsers) */
#endif

/* FINISH_REQ of the hypervisor, minus the injection: res_list is emptied
 * so daemon_inject_irq never waits for room. */
static int drain_finish_req(struct port *port)
{
	struct hvisor_bridge *b = port->bridge;
	__atomic_store_n(&b->res_front,
			 __atomic_load_n(&b->res_rear, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	return 0;
}

static const struct port_ops drain_ops = {.finish_req = drain_finish_req};

static struct {
	struct daemon daemon;
	struct virtio_cfg cfg;
	struct zone zone;
	struct plugin_registry *plugins;
	struct device *dev;
	uint8_t *ram;
	char dir[64];
	bool tried;
} host;

enum hvd_log_level fuzz_log_level(void)
{
	return getenv("HVISOR_FUZZ_LOG") ? HVD_LOG_DEBUG : HVD_LOG_ERROR;
}

char *fuzz_text(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		log_init(true, fuzz_log_level());
		quiet = true;
	}
	char *text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
	}
	return text;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_tmpdir(void)
{
	nftw(host.dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
	if (!host.dir[0]) {
		/* tmpfs when there is one: the blk image's writes and
		 * flushes then cost no disk I/O (on the CI machine /tmp is
		 * ext4 and its writeback showed up in every other job). */
		const char *base =
			access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(host.dir, sizeof host.dir, "%s/hvd-fuzz-XXXXXX", base);
		if (!mkdtemp(host.dir))
			abort();
		atexit(remove_tmpdir);
	}
	return host.dir;
}

uint8_t *fuzz_ram(void)
{
	return host.ram;
}

/* At exit: the device and its plugin's threads first (a plugin thread
 * still running at exit is what LeakSanitizer cannot scan, see
 * docs/fuzzing.md), then what the host made. */
static void host_teardown(void)
{
	device_destroy(host.dev);
	host.dev = NULL;
	if (host.daemon.loop) {
		eventloop_stop(host.daemon.loop);
		eventloop_free(host.daemon.loop);
	}
	if (host.daemon.port) {
		host.daemon.port->bridge = NULL; /* ours, not a mapping */
		port_close(host.daemon.port);
	}
	free(host.daemon.bridge);
	guest_mem_clear(&host.zone.mem);
	free(host.ram);
	virtio_cfg_free(&host.cfg);
	loader_free(host.plugins);
}

static int host_init(const char *members)
{
	struct daemon *d = &host.daemon;
	/* Quiet: the fuzzer feeds mistakes on purpose. */
	log_init(true, fuzz_log_level());
	char *why = NULL;
	if (!FUZZ_PLUGIN[0])
		return -1;
	host.plugins = loader_new(NULL, 0);
	struct plugin *plugin =
		host.plugins ? loader_open_file(host.plugins, FUZZ_PLUGIN, &why)
			     : NULL;
	if (!plugin) {
		fprintf(stderr, "fuzz host: %s\n", why ? why : "no memory");
		free(why);
		return -1;
	}
	char json[1024];
	snprintf(
		json, sizeof json,
		"{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		"\"0x%llx\", \"zonex_ipa\": \"0x%llx\", \"size\": \"0x%llx\"}],"
		" \"devices\": [{\"type\": \"%s\", \"addr\": \"0x1000\", "
		"\"len\": \"0x200\", \"irq\": 5%s}]}]}",
		FUZZ_RAM_GPA, FUZZ_RAM_GPA, FUZZ_RAM_SIZE, plugin->desc->type,
		members);
	if (virtio_cfg_parse(json, "<fuzz>", &host.cfg))
		return -1;
	host.ram = calloc(1, FUZZ_RAM_SIZE);
	d->bridge = calloc(1, sizeof *d->bridge);
	d->port = port_alloc(&drain_ops, PORT_KIND_MOCK, -1);
	d->loop = eventloop_new();
	if (!host.ram || !d->bridge || !d->port || !d->loop ||
	    eventloop_start(d->loop))
		return -1;
	d->port->bridge = d->bridge;
	pthread_mutex_init(&d->irq_lock, NULL);
	host.zone.id = 1;
	if (guest_mem_add(&host.zone.mem, FUZZ_RAM_GPA, FUZZ_RAM_SIZE,
			  host.ram))
		return -1;
	host.dev = device_create(d, &host.zone, &host.cfg.zones[0].devices[0],
				 plugin);
	return host.dev ? 0 : -1;
}

struct device *fuzz_device(const char *members)
{
	if (!host.tried) {
		host.tried = true;
		atexit(host_teardown);
		if (host_init(members))
			fprintf(stderr, "fuzz host: device creation failed\n");
	}
	if (host.dev) {
		fuzz_write(host.dev, 0x70 /* Status */, 4, 0);
		memset(host.ram, 0, FUZZ_RAM_SIZE);
	}
	return host.dev;
}

uint64_t fuzz_read(struct device *dev, uint64_t offset, unsigned size)
{
	pthread_mutex_lock(&dev->cb_lock);
	uint64_t v = device_mmio_read(dev, offset, size);
	pthread_mutex_unlock(&dev->cb_lock);
	return v;
}

void fuzz_write(struct device *dev, uint64_t offset, unsigned size,
		uint64_t value)
{
	pthread_mutex_lock(&dev->cb_lock);
	device_mmio_write(dev, offset, size, value);
	pthread_mutex_unlock(&dev->cb_lock);
}
