/* SPDX-License-Identifier: MIT */
/*
 * hvd/plugin.h - the device plugin ABI of the hvisor virtio daemon.
 *
 * A plugin is a shared object that models one kind of virtio device. It
 * exports exactly one symbol, made by HVD_PLUGIN_DEFINE() at the bottom of
 * this file, and reaches the daemon only through the services table it is
 * handed at creation. It links against no daemon symbol.
 *
 * Read this file top to bottom: versions, what the plugin gives the host
 * (info + ops), what the host gives the plugin (services), the entry macro.
 *
 * Threads (the host guarantees these; a plugin relies on them):
 *   - create() and destroy() run on the daemon's main thread, before serving
 *     starts and after it has stopped.
 *   - features_ok(), activate(), reset(), config_read(), config_write() and
 *     queue_notify() run on the dispatch thread, which answers guest register
 *     accesses while a guest vCPU spins. They must not block on I/O.
 *   - fd-watch and timer callbacks run on the event-loop thread.
 *   - The host never runs two callbacks of the same device at once: every
 *     callback above (and every watch/timer callback) holds the device's
 *     callback lock. Threads a plugin starts itself are its own business.
 *   - Virtqueue services (vq_*) may be called from any thread. Calls on one
 *     queue are serialised by the host; after reset() returns, the host
 *     refuses pops/pushes for chains popped before the reset.
 *   - reset() must return only when no thread of the plugin will touch the
 *     device's chains again (finish or drop in-flight work first).
 */
#ifndef HVD_PLUGIN_H
#define HVD_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ------------------------------------------------------------
 * Same major and plugin minor <= host minor loads. Appending a member to a
 * table bumps the minor; any other change bumps the major. */
#define HVD_ABI_MAJOR 1
#define HVD_ABI_MINOR 3

/* Name of the one exported symbol. */
#define HVD_PLUGIN_SYMBOL "hvd_plugin_descriptor"

#define HVD_EXPORT __attribute__((visibility("default")))

struct hvd_device; /* one device instance, owned by the host */
struct hvd_vq;     /* one virtqueue of a device, owned by the host */
struct hvd_watch;  /* an fd watched by the event loop */
struct hvd_timer;  /* a timer on the event loop */

/* ---- What the plugin describes at creation ------------------------------ */

/* Filled in by create(). The host zeroes it and sets .size first. */
struct hvd_device_info {
	uint32_t size;           /* sizeof as the host knows it */
	uint32_t num_queues;     /* 1..HVD_MAX_QUEUES */
	uint16_t queue_max_size; /* power of two, 1..32768; 0 means 256 */
	uint16_t reserved0;
	uint32_t config_size; /* bytes of device config space, <= 0xF00 */
	/* Device feature bits the plugin offers (bits 0..23 and device-specific
	 * high bits). The host adds VIRTIO_F_VERSION_1 always, and
	 * VIRTIO_RING_F_INDIRECT_DESC / VIRTIO_RING_F_EVENT_IDX unless listed
	 * in transport_features_off. */
	uint64_t features;
	uint64_t transport_features_off;
	/* ABI 1.1: the virtio device id of this instance, when the plugin
	 * serves several kinds (a vhost-user frontend); 0 means the
	 * descriptor's device_id. A 1.0 host ignores it. */
	uint32_t device_id;
	/* ABI 1.3: HVD_DEVICE_F_* below. A host before 1.3 ignores it. */
	uint32_t flags;
	uint64_t reserved[3];
};

/* ABI 1.3: the host also calls queue_notify() from its dispatch thread
 * while that thread polls for guest register accesses (after it served
 * one): for a queue whose kicks are on, when the driver has made buffers
 * available since the host last looked, or when the previous
 * queue_notify() (kicked or polled) consumed chains and more are
 * available. So a plugin may leave chains for the next call instead of
 * handing them to a thread, and sees new buffers a few microseconds
 * after the driver published them; meanwhile the host asks the driver not
 * to kick these queues, and asks for kicks again before its thread
 * sleeps. Same thread, lock and rules as a kicked queue_notify(). */
#define HVD_DEVICE_F_POLL_RINGS (1u << 0)

#define HVD_MAX_QUEUES 64

/* ---- Device operations (plugin -> host) ----------------------------------
 * Every callback but create may be NULL unless noted. */
struct hvd_device_ops {
	/* Ignored: the daemon takes the table's size from the descriptor's
	 * ops_size, which HVD_PLUGIN_DEFINE sets. Customarily
	 * sizeof(struct hvd_device_ops); 0 loads too. */
	uint32_t size;
	uint32_t reserved0;

	/* Parse this device's JSON keys through the services, open backends,
	 * fill *info, store private state in *state. Return 0, or a negative
	 * errno after logging why (the daemon then refuses to start). */
	int (*create)(struct hvd_device *dev, struct hvd_device_info *info,
		      void **state);
	/* Free everything create() made. Called once, after the last reset. */
	void (*destroy)(void *state);

	/* Driver wrote FEATURES_OK with these features (already a subset of
	 * what was offered). Return 0 to accept, non-zero to refuse. */
	int (*features_ok)(void *state, uint64_t features);
	/* Driver set DRIVER_OK: queues marked ready can be used now. A non-zero
	 * return puts the device in DEVICE_NEEDS_RESET. */
	int (*activate)(void *state, uint64_t features);
	/* Driver wrote 0 to Status, or the host resets the device (error,
	 * shutdown). Quiesce all work on the queues before returning. */
	void (*reset)(void *state);

	/* Device config space. offset+len <= info.config_size and len is 1, 2,
	 * 4 or 8 with natural alignment: the host has checked. Values are
	 * little-endian bytes as the guest sees them. */
	void (*config_read)(void *state, uint32_t offset, void *buf,
			    uint32_t len);
	void (*config_write)(void *state, uint32_t offset, const void *buf,
			     uint32_t len);

	/* The driver kicked queue `index` (only after activate()), or the
	 * host saw work there (HVD_DEVICE_F_POLL_RINGS). Do not block: pop
	 * what is quick, hand slow work to a thread. Required. */
	void (*queue_notify)(void *state, unsigned index);
};

/* ---- One popped descriptor chain ----------------------------------------
 * Readable buffers (driver -> device) come first in iov, then writable ones
 * (device -> driver). Every iov has been checked to lie inside the zone's
 * mapped RAM; pointers stay valid until the chain is pushed or the device is
 * reset. */
struct hvd_chain {
	struct hvd_vq *vq;
	uint16_t head; /* descriptor index, for logging */
	uint16_t reserved0;
	uint32_t num_out;   /* number of readable iovecs */
	uint32_t num_in;    /* number of writable iovecs */
	uint32_t out_bytes; /* total readable bytes */
	uint32_t in_bytes;  /* total writable bytes */
	uint32_t reserved1;
	struct iovec *iov; /* num_out + num_in entries */
};

enum hvd_log_level {
	HVD_LOG_ERROR = 0,
	HVD_LOG_WARN = 1,
	HVD_LOG_INFO = 2,
	HVD_LOG_DEBUG = 3,
};

/* Watch events (same values as EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP). */
#define HVD_EV_IN  0x001u
#define HVD_EV_OUT 0x004u
#define HVD_EV_ERR 0x008u
#define HVD_EV_HUP 0x010u

/* ABI 1.1: one RAM region of the device's zone, as a process other than
 * the daemon can map it (see mem_region). */
struct hvd_mem_region {
	uint64_t gpa;  /* guest-physical start */
	uint64_t size; /* bytes */
	void *hva;     /* where the daemon maps it */
	/* A file that maps the region at fd_offset ([fd_offset, +size) of the
	 * file is the region), borrowed: valid until destroy(), never closed by
	 * the plugin; -1 when the region has no such file. */
	int fd;
	uint32_t reserved0;
	uint64_t fd_offset;
	uint64_t reserved[2];
};

/* ABI 1.1: what the driver programmed for one queue (see vq_layout). */
struct hvd_vq_layout {
	uint16_t num; /* QueueNum */
	uint8_t ready;
	uint8_t reserved0[5];
	uint64_t desc_gpa;  /* QueueDesc */
	uint64_t avail_gpa; /* QueueDriver */
	uint64_t used_gpa;  /* QueueDevice */
	uint64_t reserved[2];
};

typedef void (*hvd_watch_cb)(void *opaque, int fd, uint32_t events);
typedef void (*hvd_timer_cb)(void *opaque);

/* Values returned by cfg_kind. */
#define HVD_CFG_NULL   0
#define HVD_CFG_BOOL   1
#define HVD_CFG_NUMBER 2
#define HVD_CFG_STRING 3
#define HVD_CFG_ARRAY  4
#define HVD_CFG_OBJECT 5

/* ---- Host services (host -> plugin) --------------------------------------
 * Reached with hvd_host(dev). A member appended in minor N exists when
 * HVD_HOST_HAS(host, member) is true; members of minor 0 always exist. */
struct hvd_host_services {
	uint32_t size; /* sizeof as the host knows it */
	uint32_t abi_minor;

	/* Logging, prefixed with the device's zone, type and address. */
	void (*log)(struct hvd_device *dev, enum hvd_log_level level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

	/* JSON keys of this device entry. `key` is a path relative to the
	 * device object: "img", "mac[2]", "ports[0].name".
	 * The one rule for absent keys: no getter logs or touches *out, so
	 * the caller's default stays. The getters below say "absent" with
	 * -ENOENT; cfg_u64_range alone is made for optional keys and says it
	 * with 0 (ask cfg_kind when presence itself matters). Each getter
	 * returns 0 and sets *out; -ENOENT when the key is absent;
	 * -EINVAL when present with the wrong type, after logging an error that
	 * names the full path, e.g. "zones[0].devices[1].img: expected a
	 * string". Numbers may be JSON numbers or "0x.." / decimal strings.
	 * Strings stay valid until destroy(). */
	int (*cfg_string)(struct hvd_device *dev, const char *key,
			  const char **out);
	int (*cfg_u64)(struct hvd_device *dev, const char *key, uint64_t *out);
	int (*cfg_bool)(struct hvd_device *dev, const char *key, bool *out);
	/* Number of elements of an array key; -ENOENT / -EINVAL as above. */
	int (*cfg_array_len)(struct hvd_device *dev, const char *key,
			     unsigned *out);
	/* Every key of the device object must be in `known` (NULL-terminated)
	 * or be one the host handles (type, addr, len, irq, status, plugin).
	 * Returns 0, or -EINVAL after logging the first unknown key's path. */
	int (*cfg_check_keys)(struct hvd_device *dev, const char *const *known);
	/* The same for a nested object, e.g. "ports[1]": every key of it must
	 * be in `known`. 0, -ENOENT when absent, or -EINVAL after logging the
	 * full path of the first unknown key (or "expected an object"). */
	int (*cfg_check_keys_at)(struct hvd_device *dev, const char *key,
				 const char *const *known);
	/* JSON type of a key (one of HVD_CFG_*), without logging anything, so
	 * a plugin can accept a key in two shapes (e.g. an array of bytes or
	 * a string). -ENOENT when absent; -EINVAL (logged) for a bad path. */
	int (*cfg_kind)(struct hvd_device *dev, const char *key);
	/* An optional number in [min, max]: 0 with *out set, or with *out
	 * untouched when the key is absent; -EINVAL after logging the full
	 * path ("...queue_size: 3 is outside 4..256") or a wrong type. */
	int (*cfg_u64_range)(struct hvd_device *dev, const char *key,
			     uint64_t min, uint64_t max, uint64_t *out);

	/* Guest memory: host pointer for [gpa, gpa+len) if it lies entirely
	 * inside one mapped RAM region of the device's zone, else NULL. */
	void *(*guest_ptr)(struct hvd_device *dev, uint64_t gpa, uint64_t len);

	/* Virtqueues. vq_get works once create() has returned (the queues
	 * exist only then) and returns NULL for an index >= num_queues. */
	struct hvd_vq *(*vq_get)(struct hvd_device *dev, unsigned index);
	/* Next available chain, or NULL when none is available, the queue is
	 * not ready, or the chain was malformed (the device is then marked
	 * DEVICE_NEEDS_RESET and the driver told). Free it by pushing it. */
	struct hvd_chain *(*vq_pop)(struct hvd_vq *vq);
	/* Give the most recently popped, not yet pushed chain back, as if never
	 * popped (flow control: no room in a backend). */
	void (*vq_unpop)(struct hvd_chain *chain);
	/* Mark the chain used with `written` bytes written into its writable
	 * buffers, and free it. Does not interrupt the guest: call vq_notify
	 * after a batch. A chain from before a reset is only freed. */
	void (*vq_push)(struct hvd_chain *chain, uint32_t written);
	/* Interrupt the guest if anything was pushed since the last notify and
	 * the driver has not suppressed it (NO_INTERRUPT / used_event). */
	void (*vq_notify)(struct hvd_vq *vq);
	/* Ask the driver to kick (1) or not (0) when it adds buffers: polling
	 * plugins turn kicks off while they are draining. */
	void (*vq_kick_enable)(struct hvd_vq *vq, int enable);
	/* 1 if at least one chain is available, 0 if not (or not ready). */
	int (*vq_has_work)(struct hvd_vq *vq);
	unsigned (*vq_index)(struct hvd_vq *vq);
	uint16_t (*vq_size)(struct hvd_vq *vq); /* QueueNum the driver chose */

	/* Device state. */
	uint64_t (*features)(struct hvd_device *dev); /* negotiated */
	/* Raise a configuration-change interrupt and bump ConfigGeneration. */
	void (*config_changed)(struct hvd_device *dev);
	/* The device cannot go on: set DEVICE_NEEDS_RESET, interrupt the
	 * driver, refuse further queue work until the driver resets. */
	void (*needs_reset)(struct hvd_device *dev, const char *why);

	/* Event loop. Callbacks run on the event-loop thread holding the
	 * device's callback lock. Removal is synchronous: once watch_remove or
	 * timer_cancel returns, the callback is not running and won't run. */
	struct hvd_watch *(*watch_add)(struct hvd_device *dev, int fd,
				       uint32_t events, hvd_watch_cb cb,
				       void *opaque);
	int (*watch_modify)(struct hvd_watch *watch, uint32_t events);
	void (*watch_remove)(struct hvd_watch *watch);
	/* First run after `first_ns`, then every `period_ns` (0: once). */
	struct hvd_timer *(*timer_add)(struct hvd_device *dev,
				       uint64_t first_ns, uint64_t period_ns,
				       hvd_timer_cb cb, void *opaque);
	void (*timer_cancel)(struct hvd_timer *timer);

	/* Human-readable name of the device, e.g. "zone1 blk@0xa003c00". */
	const char *(*name)(struct hvd_device *dev);

	/* ---- Appended in ABI 1.1: devices whose rings another process
	 * serves (vhost-user). Check with HVD_HOST_HAS first. ---- */
	/* RAM region `index` of the zone (0, 1, ... in gpa order): 0 and *out
	 * filled, -ENOENT past the last one. */
	int (*mem_region)(struct hvd_device *dev, unsigned index,
			  struct hvd_mem_region *out);
	/* The queue's size, ready bit and ring addresses as the driver wrote
	 * them. Stable from activate() until reset(). */
	void (*vq_layout)(struct hvd_vq *vq, struct hvd_vq_layout *out);
	/* Set the used-buffer bit of InterruptStatus and inject the device's
	 * interrupt, unconditionally (whoever owns the ring has already
	 * applied the driver's suppression). Any thread. */
	void (*vring_interrupt)(struct hvd_device *dev);

	/* ---- Appended in ABI 1.2: requests a device forwards to the zone-0
	 * kernel module. Check with HVD_HOST_HAS first. ---- */
	/* SCMI request `which` (32 clock, 33 reset, 34 power: the ioctl
	 * numbers of /dev/hvisor) with its argument struct `arg` of exactly
	 * `len` bytes, updated in place with the answer (layouts:
	 * docs/scmi.md). 0 or -errno from the kernel; -ENODEV when the daemon
	 * has no hypervisor port. Blocks until answered: call it from a
	 * timer or watch callback, not from the dispatch thread. */
	int (*hv_scmi)(struct hvd_device *dev, unsigned which, void *arg,
		       uint32_t len);

	/* ---- Appended in ABI 1.2 (SDK, issue 20) ---- */
	/* Report a bad value of this device's JSON the way the host reports
	 * its own: logged as an error prefixed with the full path of `key`
	 * (relative to the device object, as for cfg_*; NULL or "" for the
	 * device object itself), e.g. "zones[0].devices[1].source: cannot
	 * open /x: No such file or directory". Returns -EINVAL, so that
	 * create() can `return host->cfg_error(...)`. */
	int (*cfg_error)(struct hvd_device *dev, const char *key,
			 const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	void *reserved[8];
};

/* The services table of a device (valid from create() to destroy()). The
 * host guarantees that a struct hvd_device begins with this pointer. */
#define hvd_host(dev) (*(const struct hvd_host_services *const *)(dev))

#define HVD_HOST_HAS(host, member)                                    \
	((host)->size >= offsetof(struct hvd_host_services, member) + \
				 sizeof((host)->member) &&            \
	 (host)->member != NULL)

/* ---- The exported descriptor -------------------------------------------- */
struct hvd_plugin_descriptor {
	uint32_t abi_major;
	uint32_t abi_minor;
	uint32_t descriptor_size; /* sizeof(struct hvd_plugin_descriptor) */
	uint32_t ops_size;        /* sizeof(struct hvd_device_ops) */
	const char *type;         /* the JSON "type" this plugin serves */
	uint32_t device_id;       /* virtio device id (VIRTIO_ID_*) */
	uint32_t reserved0;
	const char *description;
	const char *version; /* the plugin's own version string */
	const struct hvd_device_ops *ops;
	void *reserved[4];
};

/*
 * Stamp the descriptor. Use once per plugin, at file scope:
 *   static const struct hvd_device_ops my_ops = { .size = sizeof my_ops, ...};
 *   HVD_PLUGIN_DEFINE("rng", VIRTIO_ID_RNG, "entropy source", "1.0", &my_ops);
 * The ABI version and sizes come from the headers the plugin was built
 * with; never write them by hand.
 */
#define HVD_PLUGIN_DEFINE(type_, device_id_, description_, version_, ops_)    \
	HVD_EXPORT const struct hvd_plugin_descriptor hvd_plugin_descriptor = \
		{                                                             \
			.abi_major = HVD_ABI_MAJOR,                           \
			.abi_minor = HVD_ABI_MINOR,                           \
			.descriptor_size =                                    \
				sizeof(struct hvd_plugin_descriptor),         \
			.ops_size = sizeof(struct hvd_device_ops),            \
			.type = (type_),                                      \
			.device_id = (device_id_),                            \
			.description = (description_),                        \
			.version = (version_),                                \
			.ops = (ops_),                                        \
	}

/* Layout guards: an accidental change to a public struct fails the build.
 * The numbers are those of ABI 1.3 on LP64 targets (what hvisor runs on).
 * A deliberate change follows sdk/abi/README.md: appending bumps the
 * minor, anything else the major, and the ABI baseline is regenerated
 * with `./dev abi-update`. */
#if defined(__x86_64__) || defined(__aarch64__) || \
	(defined(__riscv) && __riscv_xlen == 64) || defined(__loongarch64)
#define HVD_ASSERT_SIZE(type, bytes) \
	_Static_assert(sizeof(struct type) == (bytes), #type " size")
#define HVD_ASSERT_OFFSET(type, member, bytes)                   \
	_Static_assert(offsetof(struct type, member) == (bytes), \
		       #type "." #member " offset")
HVD_ASSERT_SIZE(hvd_device_info, 64);
HVD_ASSERT_OFFSET(hvd_device_info, size, 0);
HVD_ASSERT_OFFSET(hvd_device_info, num_queues, 4);
HVD_ASSERT_OFFSET(hvd_device_info, queue_max_size, 8);
HVD_ASSERT_OFFSET(hvd_device_info, reserved0, 10);
HVD_ASSERT_OFFSET(hvd_device_info, config_size, 12);
HVD_ASSERT_OFFSET(hvd_device_info, features, 16);
HVD_ASSERT_OFFSET(hvd_device_info, transport_features_off, 24);
HVD_ASSERT_OFFSET(hvd_device_info, device_id, 32);
HVD_ASSERT_OFFSET(hvd_device_info, flags, 36);
HVD_ASSERT_OFFSET(hvd_device_info, reserved, 40);
HVD_ASSERT_SIZE(hvd_device_ops, 72);
HVD_ASSERT_OFFSET(hvd_device_ops, size, 0);
HVD_ASSERT_OFFSET(hvd_device_ops, reserved0, 4);
HVD_ASSERT_OFFSET(hvd_device_ops, create, 8);
HVD_ASSERT_OFFSET(hvd_device_ops, destroy, 16);
HVD_ASSERT_OFFSET(hvd_device_ops, features_ok, 24);
HVD_ASSERT_OFFSET(hvd_device_ops, activate, 32);
HVD_ASSERT_OFFSET(hvd_device_ops, reset, 40);
HVD_ASSERT_OFFSET(hvd_device_ops, config_read, 48);
HVD_ASSERT_OFFSET(hvd_device_ops, config_write, 56);
HVD_ASSERT_OFFSET(hvd_device_ops, queue_notify, 64);
HVD_ASSERT_SIZE(hvd_chain, 40);
HVD_ASSERT_OFFSET(hvd_chain, vq, 0);
HVD_ASSERT_OFFSET(hvd_chain, head, 8);
HVD_ASSERT_OFFSET(hvd_chain, reserved0, 10);
HVD_ASSERT_OFFSET(hvd_chain, num_out, 12);
HVD_ASSERT_OFFSET(hvd_chain, num_in, 16);
HVD_ASSERT_OFFSET(hvd_chain, out_bytes, 20);
HVD_ASSERT_OFFSET(hvd_chain, in_bytes, 24);
HVD_ASSERT_OFFSET(hvd_chain, reserved1, 28);
HVD_ASSERT_OFFSET(hvd_chain, iov, 32);
/* Grows at its end (minor versions): at least the 1.0 table. */
_Static_assert(sizeof(struct hvd_host_services) >= 296,
	       "hvd_host_services shrank");
HVD_ASSERT_OFFSET(hvd_host_services, size, 0);
HVD_ASSERT_OFFSET(hvd_host_services, abi_minor, 4);
HVD_ASSERT_OFFSET(hvd_host_services, log, 8);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_string, 16);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_u64, 24);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_bool, 32);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_array_len, 40);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_check_keys, 48);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_check_keys_at, 56);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_kind, 64);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_u64_range, 72);
HVD_ASSERT_OFFSET(hvd_host_services, guest_ptr, 80);
HVD_ASSERT_OFFSET(hvd_host_services, vq_get, 88);
HVD_ASSERT_OFFSET(hvd_host_services, vq_pop, 96);
HVD_ASSERT_OFFSET(hvd_host_services, vq_unpop, 104);
HVD_ASSERT_OFFSET(hvd_host_services, vq_push, 112);
HVD_ASSERT_OFFSET(hvd_host_services, vq_notify, 120);
HVD_ASSERT_OFFSET(hvd_host_services, vq_kick_enable, 128);
HVD_ASSERT_OFFSET(hvd_host_services, vq_has_work, 136);
HVD_ASSERT_OFFSET(hvd_host_services, vq_index, 144);
HVD_ASSERT_OFFSET(hvd_host_services, vq_size, 152);
HVD_ASSERT_OFFSET(hvd_host_services, features, 160);
HVD_ASSERT_OFFSET(hvd_host_services, config_changed, 168);
HVD_ASSERT_OFFSET(hvd_host_services, needs_reset, 176);
HVD_ASSERT_OFFSET(hvd_host_services, watch_add, 184);
HVD_ASSERT_OFFSET(hvd_host_services, watch_modify, 192);
HVD_ASSERT_OFFSET(hvd_host_services, watch_remove, 200);
HVD_ASSERT_OFFSET(hvd_host_services, timer_add, 208);
HVD_ASSERT_OFFSET(hvd_host_services, timer_cancel, 216);
HVD_ASSERT_OFFSET(hvd_host_services, name, 224);
HVD_ASSERT_OFFSET(hvd_host_services, mem_region, 232);
HVD_ASSERT_OFFSET(hvd_host_services, vq_layout, 240);
HVD_ASSERT_OFFSET(hvd_host_services, vring_interrupt, 248);
HVD_ASSERT_OFFSET(hvd_host_services, hv_scmi, 256);
HVD_ASSERT_OFFSET(hvd_host_services, cfg_error, 264);
HVD_ASSERT_OFFSET(hvd_host_services, reserved, 272);
HVD_ASSERT_SIZE(hvd_mem_region, 56);
HVD_ASSERT_OFFSET(hvd_mem_region, fd, 24);
HVD_ASSERT_OFFSET(hvd_mem_region, fd_offset, 32);
HVD_ASSERT_SIZE(hvd_vq_layout, 48);
HVD_ASSERT_OFFSET(hvd_vq_layout, desc_gpa, 8);
HVD_ASSERT_SIZE(hvd_plugin_descriptor, 88);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, abi_major, 0);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, abi_minor, 4);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, descriptor_size, 8);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, ops_size, 12);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, type, 16);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, device_id, 24);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, reserved0, 28);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, description, 32);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, version, 40);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, ops, 48);
HVD_ASSERT_OFFSET(hvd_plugin_descriptor, reserved, 56);
#undef HVD_ASSERT_SIZE
#undef HVD_ASSERT_OFFSET
#endif

#ifdef __cplusplus
}
#endif
#endif /* HVD_PLUGIN_H */
