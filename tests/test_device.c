/* SPDX-License-Identifier: MIT */
/*
 * Device life cycle (core/device.c) with a probe plugin defined here:
 * what the host holds while it calls the plugin.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config.h"
#include "cunit_main.h"
#include "daemon.h"
#include "device.h"
#include "eventloop.h"
#include "loader.h"
#include "log.h"

static int destroy_saw_lock = -1;

/* The leaky probe: create() registers a periodic timer and a watch on an
 * eventfd that stays readable, and destroy() removes neither. */
static bool leaky;
static int leaky_fd = -1;
static unsigned fired; /* callbacks of the leaky probe (atomic) */

static void leaky_timer(void *opaque)
{
	(void)opaque;
	__atomic_add_fetch(&fired, 1, __ATOMIC_SEQ_CST);
}

static void leaky_watch(void *opaque, int fd, uint32_t events)
{
	(void)opaque;
	(void)fd;
	(void)events;
	__atomic_add_fetch(&fired, 1, __ATOMIC_SEQ_CST);
}

static int probe_create(struct hvd_device *hd, struct hvd_device_info *info,
			void **state)
{
	info->num_queues = 1;
	*state = hd; /* the host's struct device: the probe looks inside */
	if (leaky) {
		const struct hvd_host_services *host = hvd_host(hd);
		uint64_t one = 1;
		if (!host->timer_add(hd, 1000, 100000, leaky_timer, NULL) ||
		    write(leaky_fd, &one, sizeof one) != sizeof one ||
		    !host->watch_add(hd, leaky_fd, HVD_EV_IN, leaky_watch,
				     NULL))
			return -1;
	}
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

/* What a probe device needs to outlive it: its config, zone and plugin. */
struct probe_world {
	struct virtio_cfg cfg;
	struct zone zone;
	struct plugin plugin;
};

/* One probe device of daemon `d` (whose loop, if any, the test made). */
static struct device *probe_device(struct daemon *d, struct probe_world *w)
{
	*w = (struct probe_world){
		.zone = {.id = 1},
		.plugin = {.path = (char *)"probe", .desc = &probe_desc}};
	memcpy(&w->plugin.ops, &probe_ops, sizeof probe_ops);
	CU_ASSERT_FATAL(
		virtio_cfg_parse("{\"zones\": [{\"id\": 1, \"memory_region\": "
				 "[{\"zone0_ipa\": \"0x50000000\", "
				 "\"zonex_ipa\": \"0x50000000\", \"size\": "
				 "\"0x1000\"}], \"devices\": [{\"type\": "
				 "\"probe\", \"addr\": \"0x1000\", \"len\": "
				 "\"0x200\", \"irq\": 5}]}]}",
				 "<test>", &w->cfg) == 0);
	struct device *dev = device_create(
		d, &w->zone, &w->cfg.zones[0].devices[0], &w->plugin);
	CU_ASSERT_FATAL(dev != NULL);
	return dev;
}

/* The event loop still runs while daemon_destroy destroys the devices; a
 * watch or timer callback of the device must not run beside destroy(). */
static void test_destroy_under_callback_lock(void)
{
	struct daemon d = {0};
	struct probe_world w;
	device_destroy(probe_device(&d, &w));
	CU_ASSERT_EQUAL(destroy_saw_lock, 1);
	virtio_cfg_free(&w.cfg);
}

/* Callbacks the loop thread made so far, once a marker watch added now
 * has run: everything fetched before it has run or been skipped. */
static bool marker_ran; /* atomic */

static void marker(void *opaque, int fd, uint32_t events)
{
	(void)opaque;
	(void)events;
	uint64_t n;
	(void)!read(fd, &n, sizeof n);
	__atomic_store_n(&marker_ran, true, __ATOMIC_SEQ_CST);
}

static void loop_round(struct eventloop *loop)
{
	int fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	CU_ASSERT_FATAL(fd >= 0);
	__atomic_store_n(&marker_ran, false, __ATOMIC_SEQ_CST);
	struct hvd_watch *w =
		eventloop_watch_add(loop, fd, EPOLLIN, marker, NULL, NULL);
	CU_ASSERT_FATAL(w != NULL);
	for (unsigned i = 0;
	     i < 5000000 && !__atomic_load_n(&marker_ran, __ATOMIC_SEQ_CST);
	     i++)
		sched_yield(); /* failure guard only */
	CU_ASSERT(__atomic_load_n(&marker_ran, __ATOMIC_SEQ_CST));
	eventloop_watch_remove(w);
	close(fd);
}

/* A plugin that leaves a timer and a watch registered after destroy()
 * would have the loop call into freed state under a freed lock: the host
 * removes them (and logs). Both fire before the destroy; none after it,
 * checked over two rounds of the loop; and ASan (./dev asan) sees no
 * leak of the timer. */
static void test_leftover_watches_removed(void)
{
	struct daemon d = {0};
	d.loop = eventloop_new();
	CU_ASSERT_FATAL(d.loop != NULL);
	CU_ASSERT_FATAL(eventloop_start(d.loop) == 0);
	leaky_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CU_ASSERT_FATAL(leaky_fd >= 0);
	leaky = true;
	struct probe_world w;
	struct device *dev = probe_device(&d, &w);
	for (unsigned i = 0;
	     i < 5000000 && __atomic_load_n(&fired, __ATOMIC_SEQ_CST) < 2; i++)
		sched_yield(); /* failure guard only */
	CU_ASSERT(__atomic_load_n(&fired, __ATOMIC_SEQ_CST) >= 2);

	pthread_mutex_t *lock = &dev->cb_lock;
	device_destroy(dev);
	unsigned after = __atomic_load_n(&fired, __ATOMIC_SEQ_CST);
	loop_round(d.loop);
	loop_round(d.loop);
	CU_ASSERT_EQUAL(__atomic_load_n(&fired, __ATOMIC_SEQ_CST), after);
	/* Nothing of the device's is left on the loop. */
	CU_ASSERT_EQUAL(eventloop_remove_owned(d.loop, lock), 0);

	leaky = false;
	eventloop_free(d.loop);
	close(leaky_fd);
	virtio_cfg_free(&w.cfg);
}

int main(void)
{
	log_init(true, HVD_LOG_WARN);
	static const struct cunit_test tests[] = {
		{"plugin destroy runs under the device callback lock",
		 test_destroy_under_callback_lock},
		{"watches and timers a plugin leaves are removed at destroy",
		 test_leftover_watches_removed},
		{NULL, NULL},
	};
	return cunit_run("device", tests);
}
