/* SPDX-License-Identifier: MIT */
/*
 * Device life cycle (core/device.c) with a probe plugin defined here:
 * what the host holds while it calls the plugin.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "config.h"
#include "cunit_main.h"
#include "daemon.h"
#include "device.h"
#include "loader.h"
#include "log.h"

static int destroy_saw_lock = -1;

static int probe_create(struct hvd_device *hd, struct hvd_device_info *info,
			void **state)
{
	info->num_queues = 1;
	*state = hd; /* the host's struct device: the probe looks inside */
	return 0;
}

/* Whether the device's callback lock is held (by the caller: a
 * non-recursive mutex is busy for its owner too). */
static void probe_destroy(void *state)
{
	struct device *dev = state;
	int r = pthread_mutex_trylock(&dev->cb_lock);
	if (r == 0)
		pthread_mutex_unlock(&dev->cb_lock);
	destroy_saw_lock = r == EBUSY;
}

static void probe_notify(void *state, unsigned index)
{
	(void)state;
	(void)index;
}

static const struct hvd_device_ops probe_ops = {
	.size = sizeof probe_ops,
	.create = probe_create,
	.destroy = probe_destroy,
	.queue_notify = probe_notify,
};

static const struct hvd_plugin_descriptor probe_desc = {
	.abi_major = HVD_ABI_MAJOR,
	.abi_minor = HVD_ABI_MINOR,
	.descriptor_size = sizeof probe_desc,
	.ops_size = sizeof probe_ops,
	.type = "probe",
	.device_id = 0xffe,
	.ops = &probe_ops,
};

/* The event loop still runs while daemon_destroy destroys the devices; a
 * watch or timer callback of the device must not run beside destroy(). */
static void test_destroy_under_callback_lock(void)
{
	struct virtio_cfg cfg = {0};
	CU_ASSERT_FATAL(
		virtio_cfg_parse("{\"zones\": [{\"id\": 1, \"memory_region\": "
				 "[{\"zone0_ipa\": \"0x50000000\", "
				 "\"zonex_ipa\": \"0x50000000\", \"size\": "
				 "\"0x1000\"}], \"devices\": [{\"type\": "
				 "\"probe\", \"addr\": \"0x1000\", \"len\": "
				 "\"0x200\", \"irq\": 5}]}]}",
				 "<test>", &cfg) == 0);
	struct daemon d = {0};
	struct zone z = {.id = 1};
	struct plugin p = {.path = (char *)"probe", .desc = &probe_desc};
	memcpy(&p.ops, &probe_ops, sizeof probe_ops);
	struct device *dev =
		device_create(&d, &z, &cfg.zones[0].devices[0], &p);
	CU_ASSERT_FATAL(dev != NULL);
	device_destroy(dev);
	CU_ASSERT_EQUAL(destroy_saw_lock, 1);
	virtio_cfg_free(&cfg);
}

int main(void)
{
	log_init(true, HVD_LOG_WARN);
	static const struct cunit_test tests[] = {
		{"plugin destroy runs under the device callback lock",
		 test_destroy_under_callback_lock},
		{NULL, NULL},
	};
	return cunit_run("device", tests);
}
