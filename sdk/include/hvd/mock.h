/* SPDX-License-Identifier: MIT */
/*
 * hvd/mock.h - the mock-kernel harness: plays hvisor and a guest driver so
 * a device plugin (or the whole daemon) can be tested with no hypervisor.
 *
 * The mock owns guest RAM (memfds) and the bridge page, listens on a UNIX
 * socket speaking the daemon's port protocol (what /dev/hvisor does for the
 * real daemon), pushes register accesses onto the bridge exactly as hvisor
 * does (a blocking access spins on cfg_flags, a QUEUE_NOTIFY write does
 * not; the wake-up eventfd is signalled when need_wakeup is set), and
 * collects interrupts from res_list on every FINISH_REQ.
 *
 * On top sits a guest-side virtio-mmio driver (hvd_guest_*) and raw access
 * to rings for writing malformed ones.
 *
 * Every wait has a timeout in milliseconds and returns -ETIMEDOUT instead of
 * hanging. Functions return 0 or a negative errno unless stated otherwise.
 * Thread-safety: one guest driver thread per device at a time; mmio accesses
 * from several threads are fine (each thread gets its own vCPU number).
 */
#ifndef HVD_MOCK_H
#define HVD_MOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hvd_mock;
struct hvd_guest_dev;
struct hvd_guest_vq;

/* ---- The hypervisor side ------------------------------------------------ */

/* A new mock listening on a fresh socket in a private temp directory
 * (see hvd_mock_socket_path). */
struct hvd_mock *hvd_mock_new(void);
/* Stops the daemon child if any (SIGKILL after SIGTERM grace), unmaps,
 * removes the socket. */
void hvd_mock_free(struct hvd_mock *m);
const char *hvd_mock_socket_path(const struct hvd_mock *m);

/* Give zone `zone` RAM of `size` bytes visible to zone 0 at zone0_ipa and to
 * the guest at zonex_ipa (the virtio JSON's memory_region). Zeroed. */
int hvd_mock_add_ram(struct hvd_mock *m, uint32_t zone, uint64_t zone0_ipa,
		     uint64_t zonex_ipa, uint64_t size);
/* Host pointer to guest memory [gpa, gpa+len) of `zone`, or NULL. */
void *hvd_mock_guest_ptr(struct hvd_mock *m, uint32_t zone, uint64_t gpa,
			 uint64_t len);

/* Run the real daemon as a child: argv[0] is the hvisor binary; the mock
 * sets HVISOR_MOCK for it. stderr of the child goes to `log_path` if not
 * NULL (else inherited). The child's life is tied to the test's: it gets
 * SIGKILL when the calling thread ends (PR_SET_PDEATHSIG: spawn from a
 * thread that outlives the child), the daemon exits by itself once the
 * mock's connection closes, and at process exit every mock not freed
 * (a failed assertion skipped hvd_mock_free) has its child killed and its
 * socket directory removed. */
int hvd_mock_spawn(struct hvd_mock *m, char *const argv[],
		   const char *log_path);
pid_t hvd_mock_child(const struct hvd_mock *m);
/* Send `sig` to the child and wait for it; *status as from waitpid. */
int hvd_mock_stop_child(struct hvd_mock *m, int sig, int timeout_ms,
			int *status);
/* For an in-process daemon: a connected socket to hand to the daemon's
 * port (port_open_mock_fd). The mock serves it like a child's. */
int hvd_mock_connect_fd(struct hvd_mock *m);

/* Wait until the daemon has initialised the bridge, registered its eventfd
 * and set mmio_avail (devices created). */
int hvd_mock_wait_ready(struct hvd_mock *m, int timeout_ms);

/* Raw register access as a trapping vCPU of `zone` would make it. A read or
 * non-notify write blocks until the daemon completes it (or timeout: then
 * -ETIMEDOUT and *value untouched). `notify` = 1 pushes without waiting
 * (need_interrupt, as hvisor does for QUEUE_NOTIFY). */
int hvd_mock_mmio(struct hvd_mock *m, uint32_t zone, uint64_t addr,
		  unsigned size, bool is_write, uint64_t *value, bool notify,
		  int timeout_ms);

/* Interrupts received for (zone, irq) so far. */
uint64_t hvd_mock_irq_count(struct hvd_mock *m, uint32_t zone, uint32_t irq);
/* Wait until irq_count(zone, irq) > seen. The waiting thread is woken
 * directly by the daemon's injection, as hvisor wakes a halted vCPU (one
 * thread wake-up; sdk/mock/mock_irq.c). */
int hvd_mock_wait_irq(struct hvd_mock *m, uint32_t zone, uint32_t irq,
		      uint64_t seen, int timeout_ms);

/* Statistics: how many times the mock signalled the daemon's eventfd. */
uint64_t hvd_mock_wakeups(struct hvd_mock *m);

/* Zone control as seen by the hypervisor (for zone tests). */
void hvd_mock_set_config_version(struct hvd_mock *m, uint64_t version);

/* ---- The guest driver -------------------------------------------------- */

/* A virtio-mmio device at `base` of `zone` with interrupt `irq`. */
struct hvd_guest_dev *hvd_guest_open(struct hvd_mock *m, uint32_t zone,
				     uint64_t base, uint32_t irq);
void hvd_guest_close(struct hvd_guest_dev *d);

/* Default timeout of the guest driver's waits (ms; default 5000). */
void hvd_guest_set_timeout(struct hvd_guest_dev *d, int timeout_ms);

/* 32-bit register access at offset (< 0x100), and config space access
 * (offset relative to 0x100; size 1, 2, 4 or 8 as two 32-bit reads).
 * Reads return the value, or UINT64_MAX on timeout. */
uint32_t hvd_guest_reg_read(struct hvd_guest_dev *d, uint32_t offset);
int hvd_guest_reg_write(struct hvd_guest_dev *d, uint32_t offset,
			uint32_t value);
uint64_t hvd_guest_config_read(struct hvd_guest_dev *d, uint32_t offset,
			       unsigned size);
int hvd_guest_config_write(struct hvd_guest_dev *d, uint32_t offset,
			   unsigned size, uint64_t value);

/* Magic, version 2, non-zero device id. Returns the device id or -errno. */
int hvd_guest_probe(struct hvd_guest_dev *d);
/* Reset, ACKNOWLEDGE, DRIVER, write `wanted & offered`, FEATURES_OK, read
 * it back. *negotiated gets the accepted set. -EIO if the device refused. */
int hvd_guest_negotiate(struct hvd_guest_dev *d, uint64_t wanted,
			uint64_t *negotiated);
/* Allocate a split ring of `size` entries in guest RAM, program the queue
 * registers and set QueueReady. */
struct hvd_guest_vq *hvd_guest_vq_setup(struct hvd_guest_dev *d, unsigned index,
					uint16_t size);
int hvd_guest_driver_ok(struct hvd_guest_dev *d);
/* Write 0 to Status and wait until it reads back 0. Queues set up before
 * are forgotten (their memory is not reused). */
int hvd_guest_reset(struct hvd_guest_dev *d);
uint32_t hvd_guest_status(struct hvd_guest_dev *d);
/* Read and acknowledge InterruptStatus. */
uint32_t hvd_guest_ack_interrupt(struct hvd_guest_dev *d);

/* Guest RAM allocation (bump allocator over the zone's RAM). Returns the
 * guest-physical address and sets *ptr to the host view, or 0 when full. */
uint64_t hvd_guest_alloc(struct hvd_guest_dev *d, uint64_t size, uint64_t align,
			 void **ptr);

struct hvd_guest_buf {
	uint64_t gpa;
	uint32_t len;
	bool device_writes; /* VIRTQ_DESC_F_WRITE */
};

/* Add one chain: readable buffers must come before writable ones.
 * indirect: put the descriptors in an indirect table (one ring slot).
 * Returns the head index, or -ENOSPC when the ring has too few free
 * descriptors. `token` comes back from get_used. Does not kick. */
int hvd_guest_vq_add(struct hvd_guest_vq *vq, const struct hvd_guest_buf *bufs,
		     unsigned count, bool indirect, void *token);
/* QueueNotify (unless the device suppressed kicks: returns 1 if it kicked,
 * 0 if suppressed, <0 on error). */
int hvd_guest_vq_kick(struct hvd_guest_vq *vq);
/* Next used element, if any: 1 and *token / *len set; 0 if none. */
int hvd_guest_vq_get_used(struct hvd_guest_vq *vq, void **token, uint32_t *len);
/* Wait for the next used element (by interrupt, re-checking the ring; the
 * timeout is only a failure guard). -ENOTRECOVERABLE as soon as the device
 * has set NEEDS_RESET (it raises an interrupt when it does; completions it
 * made before are still returned first): a failing plugin test fails at
 * once instead of timing out. */
int hvd_guest_vq_wait_used(struct hvd_guest_vq *vq, void **token, uint32_t *len,
			   int timeout_ms);
/* EVENT_IDX (if negotiated): ask for an interrupt only after `used_event`;
 * otherwise toggles VIRTQ_AVAIL_F_NO_INTERRUPT (enable = 0 suppresses). */
void hvd_guest_vq_set_used_event(struct hvd_guest_vq *vq, uint16_t used_event);
void hvd_guest_vq_interrupts(struct hvd_guest_vq *vq, bool enable);
/* Number of interrupts seen for this device's irq so far. */
uint64_t hvd_guest_irq_count(struct hvd_guest_dev *d);
int hvd_guest_wait_irq(struct hvd_guest_dev *d, uint64_t seen, int timeout_ms);

/* Raw ring access for malformed-ring tests (guest layout, little-endian).
 * desc: struct vring_desc[size]; avail/used as in linux/virtio_ring.h. */
struct vring_desc *hvd_guest_vq_desc(struct hvd_guest_vq *vq);
struct vring_avail *hvd_guest_vq_avail(struct hvd_guest_vq *vq);
struct vring_used *hvd_guest_vq_used(struct hvd_guest_vq *vq);
uint16_t hvd_guest_vq_size(struct hvd_guest_vq *vq);
/* Publish `head` in the avail ring (with the barrier) without any checks. */
void hvd_guest_vq_publish_raw(struct hvd_guest_vq *vq, uint16_t head);
/* Set the driver's avail index directly (e.g. to test wrap past 65535). */
void hvd_guest_vq_set_avail_idx_raw(struct hvd_guest_vq *vq, uint16_t idx);

/* ---- Zones (appended; zone control tests) ------------------------------- */

/* The exact zone_config_t bytes ZONE_START gave the running zone
 * `zone_id`: a malloc'd copy (free it) with *len set. NULL with errno
 * ENOENT when no such zone was started (the root zone has no bytes). */
void *hvd_mock_zone_bytes(struct hvd_mock *m, uint32_t zone_id, size_t *len);
/* Whether ZONE_LIST would report zone `zone_id` (the root zone: always). */
bool hvd_mock_zone_running(struct hvd_mock *m, uint32_t zone_id);
/* Make ZONE_LIST report zone `zone_id` as failed (is_err) or not.
 * -ENOENT when it is not running. */
int hvd_mock_set_zone_error(struct hvd_mock *m, uint32_t zone_id, bool is_err);

/* ---- External guests (added for the real-guest rig, sdk/rig) ----------- */

/* Like hvd_mock_add_ram, but the RAM is `size` bytes of the caller's file
 * `fd` (e.g. a QEMU guest's memfd) from page-aligned `offset`; the mock
 * keeps its own duplicate of fd. Adding a region with exactly the same
 * zone, zone0_ipa, zonex_ipa and size again re-syncs it: later MAP
 * requests and hvd_mock_guest_ptr use the new file (mappings a daemon
 * made earlier keep the old one). -EINVAL when the file is too short. */
int hvd_mock_add_ram_fd(struct hvd_mock *m, uint32_t zone, uint64_t zone0_ipa,
			uint64_t zonex_ipa, uint64_t size, int fd,
			uint64_t offset);

/* Called once for every interrupt the daemon injects (res_list entry),
 * after it has been counted, from the mock's interrupt thread and without
 * any mock lock held. While it is set, waits for an interrupt leave the
 * injections to that thread; one already halted when it is set may still
 * take (and report) the next one itself. NULL removes it. */
typedef void (*hvd_mock_irq_fn)(void *ctx, uint32_t zone, uint32_t irq);
void hvd_mock_set_irq_callback(struct hvd_mock *m, hvd_mock_irq_fn fn,
			       void *ctx);

/* ---- Hypervisor generations (appended: LoongArch lines, x86 zones) ----- */

/* Interrupt models the mock can play (what the daemon asks it for):
 *   EDGE            every res_list entry is one interrupt (default)
 *   LOONGARCH_V04   hvisor v0.4: never signals the wake-up eventfd; an
 *                   injection sets the zone's line (replacing the one set
 *                   before), CLEAR_INJECT_IRQ drops every guest line
 *   LOONGARCH_LINE  current LoongArch: an injection raises (zone, irq),
 *                   DEASSERT_IRQ (zone, irq) drops it */
#define HVD_MOCK_IRQ_EDGE           0
#define HVD_MOCK_IRQ_LOONGARCH_V04  1
#define HVD_MOCK_IRQ_LOONGARCH_LINE 2
int hvd_mock_set_irq_model(struct hvd_mock *m, int model);
/* Whether the guest line (zone, irq) is up (LoongArch models). */
bool hvd_mock_irq_line(struct hvd_mock *m, uint32_t zone, uint32_t irq);
/* How many CLEAR_INJECT_IRQ and DEASSERT_IRQ requests were served. */
uint64_t hvd_mock_line_drops(struct hvd_mock *m);
/* Refuse the next `n` DEASSERT_IRQ requests with -EIO. */
void hvd_mock_fail_deassert(struct hvd_mock *m, unsigned n);
/* The ECAM base GET_ECAM_BASE reports (default 0: none). */
void hvd_mock_set_ecam_base(struct hvd_mock *m, uint64_t base);
/* The last SET_BOOT_MODE: 0 and the fields, or -ENOENT when none came. */
int hvd_mock_boot_mode(struct hvd_mock *m, uint32_t *zone_id,
		       uint32_t *multiboot_enabled, uint64_t *mbi_paddr);

/* ---- The Linux-like guest (appended; benchmarks, issue 16) ------------- */

/* How the guest driver learns of completions. */
enum hvd_guest_model {
	/* The harness default: hvd_guest_vq_wait_used watches the used ring
	 * for ~50 us before sleeping on the interrupt, and never touches
	 * InterruptStatus on its own. Helps the device; not what Linux does. */
	HVD_GUEST_POLLING = 0,
	/* What a Linux 6.1 guest does (docs/harness-guest.md): a completion
	 * is only seen after an interrupt. Each interrupt taken costs a read
	 * of InterruptStatus and a write of InterruptACK, both through the
	 * bridge (virtio_mmio's vm_interrupt), then the queues' handlers
	 * drain their used rings. An interrupt that arrives while the guest
	 * thread is busy is taken at its next hvd_guest_vq_get_used or
	 * hvd_guest_vq_wait_used; several in between merge into one, as a
	 * pending interrupt line does. Its vCPU takes the daemon's
	 * injections itself and, halted, polls for one ~50 us before it
	 * sleeps (docs/harness-guest.md, "Interrupt delivery"). */
	HVD_GUEST_LINUX = 1,
};
/* Choose the model of `d` (any time; -EINVAL for an unknown model). */
int hvd_guest_set_model(struct hvd_guest_dev *d, enum hvd_guest_model model);
/* Interrupts `d` took through the vm_interrupt path (Linux model). */
uint64_t hvd_guest_interrupts_taken(struct hvd_guest_dev *d);
/* The feature bits Linux 6.1's driver for virtio device type `device_id`
 * accepts when offered: its own table plus the transport bits virtio_ring
 * keeps, without RING_PACKED (this driver has split rings only). Device
 * types without a table here get the transport bits alone. Pass it to
 * hvd_guest_negotiate to negotiate what Linux would. */
uint64_t hvd_guest_linux_features(uint32_t device_id);

/* ---- Fake SCMI providers (appended; virtio-scmi, issue 15) ------------- */

/* What the kernel module's SCMI ioctls (32 clock, 33 reset, 34 power)
 * drive in the mock: module ids 0..N-1 of each kind. Clock i starts
 * disabled at (i + 1) MHz, resets deasserted, power domains off. */
#define HVD_MOCK_SCMI_CLOCKS  32u
#define HVD_MOCK_SCMI_RESETS  32u
#define HVD_MOCK_SCMI_DOMAINS 16u
/* The state "the kernel" holds; -ENOENT for an id out of range. NULL
 * pointers are skipped. */
int hvd_mock_scmi_clock(struct hvd_mock *m, uint32_t id, uint64_t *rate,
			bool *enabled);
/* `pulses`: autonomous resets done. */
int hvd_mock_scmi_reset(struct hvd_mock *m, uint32_t id, bool *asserted,
			uint32_t *pulses);
int hvd_mock_scmi_power(struct hvd_mock *m, uint32_t id, bool *on);
/* SCMI requests that reached the providers so far (not ALLOW or SEAL,
 * nor requests the allowed set refused). */
uint64_t hvd_mock_scmi_calls(struct hvd_mock *m);
/* Refuse the next `n` SCMI ioctls with -EIO. */
void hvd_mock_scmi_fail(struct hvd_mock *m, unsigned n);
/* The phandle the last SET_PHANDLE of request `which` (32..34) gave, or 0. */
uint32_t hvd_mock_scmi_phandle(struct hvd_mock *m, unsigned which);
/* Allowed sets (appended; issue 15): whether some connection's set lets
 * zone `zone` use id `id` of `which` (32..34); and how many connections
 * hold a set, *sealed (if not NULL) of them sealed. */
bool hvd_mock_scmi_allowed(struct hvd_mock *m, uint32_t zone, unsigned which,
			   uint32_t id);
unsigned hvd_mock_scmi_sets(struct hvd_mock *m, unsigned *sealed);
/* Play hvisor-tool's module, which has no allowed sets: ALLOW, SEAL and
 * ZONE answer -ENOTTY while `on`. */
void hvd_mock_scmi_no_sets(struct hvd_mock *m, bool on);

#ifdef __cplusplus
}
#endif
#endif /* HVD_MOCK_H */
