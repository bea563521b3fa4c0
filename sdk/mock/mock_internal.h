/* SPDX-License-Identifier: MIT */
/*
 * Private to the mock harness library (mock_hv.c, mock_server.c,
 * mock_guest.c): the state of one mock hypervisor.
 *
 * Locks: `ring_lock` is the vCPUs' lock on the request ring (as in the
 * hypervisor) and guards `bridge` and `wake_efd`; `lock` guards everything
 * else and goes with `cond`, which is broadcast on every state change
 * (bridge created, eventfd registered, interrupts counted). Order:
 * ring_lock before lock.
 */
#ifndef HVD_MOCK_INTERNAL_H
#define HVD_MOCK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

#include "hvd/mock.h"
#include "hvisor/bridge.h"
#include "hvisor/mock_wire.h"
#include "hvisor/scmi.h"

#define HVD_API __attribute__((visibility("default")))

#define HVISOR_MOCK_ENV_PREFIX HVISOR_MOCK_ENV "="
#define MOCK_MAX_CONNS         16
#define MOCK_MAX_ZONES         64
#define MOCK_MAX_IRQS          4096 /* distinct (zone, irq) pairs counted */
#define MOCK_BRIDGE_SIZE       4096u
#define RING_MASK              (HVISOR_MAX_REQ - 1u) /* req/res_list */

struct mock_ram {
	uint32_t zone;
	uint64_t zone0_ipa, zonex_ipa, size;
	int memfd;
	uint64_t fd_offset; /* file offset of zone0_ipa within memfd */
	uint8_t *hva;
};

/* A mapping replaced by hvd_mock_add_ram_fd: a host pointer handed out
 * earlier may still point into it, so it stays mapped until free. */
struct mock_retired {
	void *hva;
	uint64_t size;
	struct mock_retired *next;
};

/* Bump allocator of one zone's guest RAM (hvd_guest_alloc). */
struct mock_alloc {
	uint32_t zone;
	uint64_t next, end; /* guest-physical */
};

/* zone_info_t of the hypervisor. */
struct mock_zone_info {
	uint32_t zone_id;
	uint64_t cpus;
	char name[32];
	uint8_t is_err;
};
_Static_assert(sizeof(struct mock_zone_info) == 56, "zone_info_t");

/* A running zone: what ZONE_LIST reports, and the exact zone_config_t
 * bytes it was started with (none for the root zone). */
struct mock_zone {
	struct mock_zone_info info;
	uint8_t *cfg;
	size_t cfg_len;
};

struct mock_irq {
	uint32_t zone, irq;
	uint64_t count;
	bool line; /* LoongArch models: the guest line is up */
};

struct mock_bridge {
	struct hvisor_bridge *page;
	struct mock_bridge *next; /* older ones, kept mapped until free */
};

/* One connection's SCMI allowed set: what the module keeps per open file
 * (hvisor/scmi.h). One bit per id: the mock has at most 32 of a kind. */
struct mock_scmi_file {
	bool used;
	int conn; /* the connection's fd */
	bool sealed;
	unsigned nzones;
	struct {
		uint32_t zone;
		uint32_t bits[3]; /* clock, reset, power */
	} zones[HVISOR_SCMI_MAX_ZONES];
};

/* The fake SCMI providers (mock_scmi.c). */
struct mock_scmi {
	struct mock_scmi_file files[MOCK_MAX_CONNS];
	uint64_t clock_rate[HVD_MOCK_SCMI_CLOCKS];
	bool clock_on[HVD_MOCK_SCMI_CLOCKS];
	bool reset_asserted[HVD_MOCK_SCMI_RESETS];
	uint32_t reset_pulses[HVD_MOCK_SCMI_RESETS];
	bool power_on[HVD_MOCK_SCMI_DOMAINS];
	uint32_t phandle[3]; /* the last SET_PHANDLE of clock, reset, power */
	uint64_t calls;      /* requests served */
	unsigned fail;       /* refuse that many requests with -EIO */
	bool no_sets;        /* hvisor-tool's module: ALLOW etc. ENOTTY */
};

struct hvd_mock {
	pthread_mutex_t ring_lock;
	struct hvisor_bridge *bridge; /* current bridge, or NULL */
	int wake_efd;                 /* the daemon's eventfd, or -1 */

	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	struct mock_bridge *bridges;
	bool eventfd_set;

	struct mock_ram *ram;
	unsigned ram_count, ram_cap;
	struct mock_retired *retired;
	struct mock_alloc *allocs;
	unsigned alloc_count, alloc_cap;

	struct mock_zone zones[MOCK_MAX_ZONES];
	unsigned zone_count;
	uint64_t config_version;

	struct mock_irq *irqs;
	unsigned irq_count, irq_cap;
	uint64_t irqs_dropped;

	uint64_t wakeups; /* atomic */

	/* mock_lines.c, under lock */
	int irq_model;          /* HVISOR_IRQ_MODEL_* */
	uint64_t line_drops;    /* CLEAR_INJECT_IRQ + DEASSERT_IRQ served */
	unsigned fail_deassert; /* refuse that many DEASSERT_IRQ */
	uint64_t ecam_base;     /* GET_ECAM_BASE answer */
	bool boot_mode_set;
	struct hvisor_boot_mode boot_mode; /* the last SET_BOOT_MODE */
	struct mock_scmi scmi;             /* mock_scmi.c, under lock */

	hvd_mock_irq_fn irq_fn; /* under lock; called without it */
	void *irq_ctx;

	int finish_efd; /* ours; the daemon gets a copy at INIT_VIRTIO */
	/* mock_irq.c: who sleeps on finish_efd. vcpu_ep is a halted vCPU's
	 * (hvd_mock_wait_irq), irq_ep the interrupt thread's; poke_efd wakes
	 * the halted vCPU when the interrupt thread took its interrupt. */
	int vcpu_ep, irq_ep, poke_efd;
	int owner_efd;    /* tells the interrupt thread vcpu_owns changed */
	bool vcpu_halted; /* under lock: a thread sleeps on vcpu_ep */
	/* The Linux-like guest's mode (mock_irq.c): the vCPU takes every
	 * injection itself, at its looks and halts; the interrupt thread does
	 * not watch finish_efd. vcpu_injects is asked for (under lock),
	 * vcpu_owns is in force (atomic: read by every look). */
	bool vcpu_injects, vcpu_owns;
	int64_t halt_poll_ns;  /* the owning vCPU's halt-poll window */
	int64_t trap_yield_ns; /* 0 or a register wait's yield cadence */
	int stop_efd;          /* readable once the threads must exit */
	int kick_efd;          /* the connection list changed */
	int listen_fd;
	int conns[MOCK_MAX_CONNS];
	unsigned conn_count;
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t server_thread, irq_thread;
	bool server_started, irq_started;

	pid_t child;
	struct hvd_mock *live_next; /* mock_child.c's list of live mocks */
};

/* A zeroed memfd of `size` bytes, sealed against resizing so that a peer
 * holding it cannot make our mappings fault. -errno on failure. */
int mock_memfd(const char *name, uint64_t size);

/* mock_child.c: the mocks alive in this process. At exit (a test that
 * failed before hvd_mock_free), their children are killed and their
 * sockets and directories removed. */
void mock_live_add(struct hvd_mock *m);
void mock_live_remove(struct hvd_mock *m);

/* mock_server.c */
int mock_server_start(struct hvd_mock *m);
void mock_server_close(struct hvd_mock *m); /* after the threads stopped */
void *mock_server_main(void *arg);

/* mock_zone.c: the zone ops of the port protocol (0 / -errno; list:
 * the count written to out). */
int mock_zone_start(struct hvd_mock *m, const uint8_t *cfg, size_t len);
int mock_zone_shutdown(struct hvd_mock *m, uint64_t id);
int mock_zone_list(struct hvd_mock *m, uint64_t max,
		   struct mock_zone_info *out);

int64_t mock_now_ns(void); /* CLOCK_MONOTONIC */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#elif defined(__riscv)
	__asm__ __volatile__(".insn i 0x0F, 0, x0, x0, 0x010" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* mock_irq.c: interrupt delivery (res_list, finish_efd). init before the
 * interrupt thread starts; the fds are closed by hvd_mock_free. */
int mock_irq_init(struct hvd_mock *m);
void *mock_irq_main(void *arg);
/* Under lock: re-decide who takes injections after vcpu_injects, irq_fn or
 * irq_model changed. */
void mock_irq_choose_owner(struct hvd_mock *m);
/* The vCPU looks at its pending interrupt: when it owns injection, take
 * what res_list holds (only if it is full with `full_only`). */
void mock_irq_look(struct hvd_mock *m, bool full_only);

/* mock_hv.c: waits on m->cond (m->lock held) until `deadline`, but at most
 * `slice_ms` when slice_ms >= 0; false once the deadline has passed. */
bool mock_cond_wait_until(struct hvd_mock *m, const struct timespec *deadline,
			  int timeout_ms, int slice_ms);

/* mock_hv.c: RAM lookup by zone-0 address, under m->lock. */
const struct mock_ram *mock_ram_by_zone0(struct hvd_mock *m, uint64_t ipa,
					 uint64_t size);
/* Monotonic deadline helpers; timeout_ms < 0 means no deadline. */
void mock_deadline(struct timespec *ts, int timeout_ms);
bool mock_expired(const struct timespec *deadline, int timeout_ms);
int mock_remaining_ms(const struct timespec *deadline, int timeout_ms);

/* mock_lines.c: interrupt lines and the x86/LoongArch requests, under
 * m->lock. mock_line_raise is called for every res_list entry. */
void mock_line_raise(struct hvd_mock *m, struct mock_irq *irq);
int mock_clear_inject_irq(struct hvd_mock *m);
int mock_deassert_irq(struct hvd_mock *m, uint64_t zone, uint64_t irq);
int mock_set_boot_mode(struct hvd_mock *m, const uint8_t *payload,
		       uint32_t len);
/* mock_scmi.c: SCMI ioctl `which` (32..34, ALLOW, SEAL, ZONE) from
 * connection `conn` on its argument struct, in place; 0 / -errno.
 * mock_scmi_init sets the providers' defaults; mock_scmi_forget_locked
 * drops a closed connection's set (m->lock held). */
void mock_scmi_init(struct hvd_mock *m);
int mock_scmi_request(struct hvd_mock *m, int conn, uint64_t which, void *arg,
		      uint32_t len);
void mock_scmi_forget_locked(struct hvd_mock *m, int conn);
/* Whether a vCPU access should signal the wake-up eventfd at all. */
bool mock_has_wakeup(struct hvd_mock *m);

/* Bump allocation for the guest driver (guest-physical, 0 when full). */
uint64_t mock_guest_alloc(struct hvd_mock *m, uint32_t zone, uint64_t size,
			  uint64_t align, void **ptr);

#endif
