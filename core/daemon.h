/* SPDX-License-Identifier: MIT */
/*
 * The daemon: zones with their guest memory and devices, the bridge
 * dispatch thread, the event loop, interrupt injection. `hvisor virtio
 * start` is daemon_create + daemon_serve; tests run the same in-process.
 */
#ifndef CORE_DAEMON_H
#define CORE_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "guestmem.h"
#include "hvisor/bridge.h"

struct device;
struct port;
struct plugin;
struct plugin_registry;
struct eventloop;
struct control;

/* One device window of a zone. dev NULL: the device was removed and the
 * window answers as "no device" (MagicValue, DeviceID 0). */
struct dev_slot {
	uint64_t addr, len;
	struct device *dev;
};

/* A zone's windows sorted by addr. Published whole and never changed: the
 * dispatch thread reads it without a lock; a new table replaces it and
 * the old one is freed once dispatch passed a quiescent point. */
struct dev_table {
	unsigned count;
	struct dev_slot slot[];
};

struct zone {
	uint32_t id;
	struct guest_mem mem;
	struct dev_table *table; /* atomic pointer, see above */
};

/* The zones sorted by id, published like a dev_table. A zone, once in,
 * stays until the daemon ends (its RAM may go with its last device). */
struct zone_index {
	unsigned count;
	struct zone *zone[];
};

struct daemon_options {
	const char *config_file;        /* or */
	const char *config_text;        /* embedded/in-memory JSON */
	const char *const *plugin_dirs; /* --plugin-dir, in order */
	unsigned plugin_dir_count;
	const char *mock_socket; /* NULL: HVISOR_MOCK or /dev/hvisor */
	int mock_fd;             /* >= 0: connected mock socket (tests) */
	unsigned poll_us;        /* fixed busy-poll window; 0: adaptive */
	/* The adaptive window's ceiling in us (dispatch.c); 0: the default,
	 * -1: no growth. */
	int poll_max_us;
	/* Interrupt model: 0 asks the port (the normal case); 1 + a
	 * PORT_IRQ_* value forces that one (--irq-model). */
	int irq_model;
	bool irq_every_event;     /* --no-irq-merge: no merging (irqline.c) */
	const char *control_path; /* control socket (control.h); NULL: none */
	bool control_optional;    /* cannot bind: warn and serve without */
	bool check;               /* no hypervisor (port_open_check): --check */
};

struct daemon {
	struct daemon_options opts;
	struct virtio_cfg **cfgs; /* start's, then each add's: devices point
				     into them */
	unsigned cfg_count;
	struct port *port;
	struct plugin_registry *plugins;
	struct eventloop *loop;
	struct control *control; /* served by the loop thread, or NULL */
	struct hvisor_bridge *bridge;
	int wake_fd; /* signalled by the hypervisor (need_wakeup) */
	int stop_fd; /* signalled by daemon_request_stop */
	bool stop;   /* atomic */
	bool hangup; /* the hypervisor connection closed (mock): atomic */
	struct zone_index *zones; /* atomic pointer */
	pthread_mutex_t irq_lock; /* one producer of res_list at a time */
	/* The poll window (dispatch.c): base, ceiling, current (written by
	 * the dispatch thread only; all equal when it does not adapt). */
	uint64_t poll_ns, poll_max_ns, window_ns;
	bool rings_quiet; /* dispatch thread: kicks off while it polls */
	/* Devices with HVD_DEVICE_F_POLL_RINGS (atomic, device.c): with
	 * none, the poll window walks no device table. */
	unsigned ring_pollers;
	int irq_model;  /* enum port_irq_model */
	bool irq_merge; /* merged interrupts (irqline.c); fixed at start */
	/* Quiescent points of the dispatch thread (daemon_synchronize). */
	uint64_t qs_epoch; /* bumped after every request */
	bool qs_idle;      /* asleep, holds no device */
	bool dispatching;  /* daemon_serve is running (it may hold tables) */
	/* Counters, read by tests, benchmarks and the control socket's stats
	 * (those with "atomic": written by the dispatch thread only). */
	uint64_t requests; /* atomic */
	uint64_t unserved;
	uint64_t sleeps; /* atomic */
	/* The poll window's changes (dispatch.c). */
	uint64_t window_grown, window_halved, window_reset;
	uint64_t irqs_elsewhere; /* atomic: raised by other threads */
	uint64_t prewakes;       /* dispatch woken by an injection (atomic) */
	bool prewoken;           /* atomic: an injection woke the dispatch */
	uint64_t naps;           /* loongarch-v0.4: timed waits instead */
	uint64_t irqs_raised;    /* res_list entries pushed */
	uint64_t irqs_merged;    /* events that only ORed a status bit */
	uint64_t irqs_after_ack; /* raised by an ACK leaving bits set */
	uint64_t irqs_rearmed;   /* raised by the line watch */
	/* The line watch (irqline.c): a timerfd on the event loop, armed
	 * while some merged line is asserted; -1 when not merging. */
	int line_watch_fd;
	struct hvd_watch *line_watch;
	bool line_watch_armed; /* atomic */
};

/* Everything up to serving: config, port, RAM, plugins, devices. Returns
 * NULL after logging why (the caller exits non-zero). */
struct daemon *daemon_create(const struct daemon_options *opts);
/* Serve the bridge on the calling thread until daemon_request_stop, or
 * until the mock hypervisor's connection closes: then -ECONNRESET, after
 * daemon_request_stop (whoever waits for the stop sees it). */
int daemon_serve(struct daemon *d);
/* Async-signal-safe and thread-safe. */
void daemon_request_stop(struct daemon *d);
/* Reset every device, stop threads, unmap, free. */
void daemon_destroy(struct daemon *d);

/* The zone with that id, or NULL. */
struct zone *daemon_zone(struct daemon *d, uint32_t id);
/* Lookup used by dispatch: the window holding (zone, addr), or NULL. */
const struct dev_slot *daemon_find_slot(const struct daemon *d, uint32_t zone,
					uint64_t addr);
/* fn(dev, arg) for every device of every zone; whether any call returned
 * true. The dispatch thread (between quiescent points) or the event loop
 * thread (which alone replaces tables) may call it. */
bool daemon_for_each_device(struct daemon *d, bool (*fn)(struct device *, bool),
			    bool arg);
/* The device serving (zone, addr), or NULL. */
struct device *daemon_find_device(const struct daemon *d, uint32_t zone,
				  uint64_t addr);
/* Remove the device at addr (or every device when addr is NULL) of a
 * zone: taken out of the dispatch table, reset (the plugin completes or
 * drops what it holds), destroyed; the zone's RAM is unmapped when its
 * last device goes. Returns the number removed or -ENOENT. Event loop
 * thread (control socket) or before serving. */
int daemon_remove(struct daemon *d, uint32_t zone, const uint64_t *addr);
/* The plugin of every device of cfg, in config order; NULL after logging
 * the first device without one (with its JSON path). */
struct plugin **daemon_resolve(struct daemon *d, const struct virtio_cfg *cfg);
/* Add cfg's zones and devices (daemon_zones.c); on success the daemon
 * keeps cfg. Returns 0, or -1 after logging why, with nothing changed. */
int daemon_add(struct daemon *d, struct virtio_cfg *cfg,
	       struct plugin **plugins);
/* Unmap a zone's RAM. */
void daemon_unmap_ram(struct daemon *d, struct zone *z);
/* Wait until the dispatch thread holds no pointer it read before. */
void daemon_synchronize(struct daemon *d);
/* Queue {zone, irq} on res_list and ask the hypervisor to inject it.
 * 0 or -errno (logged). */
int daemon_inject_irq(struct daemon *d, uint32_t zone, uint32_t irq);

/* The dispatch loop (dispatch.c): its settings from the options, before
 * any thread runs; the loop, run by daemon_serve. */
void dispatch_init(struct daemon *d);
int dispatch_run(struct daemon *d);
/* The poll window's policy (dispatch thread; exported for tests): after
 * a sleep that ended `waited` ns after the window opened, and after the
 * window caught an access an interrupt had announced. */
void dispatch_window_slept(struct daemon *d, uint64_t waited);
void dispatch_window_announced(struct daemon *d);
/* The line watch of merged interrupt lines (irqline.c): started once the
 * model is known, before any device raises; stopped before any device is
 * destroyed (daemon_destroy closes its timerfd after them). start: 0 or
 * -1 after logging why. */
int irqline_watch_start(struct daemon *d);
void irqline_watch_stop(struct daemon *d);
/* An interrupt went to the guest (any thread): the guest's handler will
 * access the device soon; wakes a sleeping dispatch thread ahead of it. */
void dispatch_irq_raised(struct daemon *d);

#endif
