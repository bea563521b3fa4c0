/* SPDX-License-Identifier: MIT */
/*
 * The port: how the daemon talks to the hypervisor. Either the real
 * /dev/hvisor kernel module or the mock hypervisor (sdk/mock) over a UNIX
 * socket. Everything above the port is identical in both cases.
 */
#ifndef CORE_PORT_H
#define CORE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvisor/bridge.h"

struct port;

/* Opens /dev/hvisor (or `path`). NULL with errno set on failure. */
struct port *port_open_dev(const char *path);
/* Connects to a mock hypervisor listening at a UNIX socket path. */
struct port *port_open_mock(const char *socket_path);
/* Uses an already connected SOCK_SEQPACKET socket (takes ownership). */
struct port *port_open_mock_fd(int fd);
/* No hypervisor at all: private bridge page, sparse RAM, interrupts and
 * kicks go nowhere, zone control refused. For `virtio start --check`. */
struct port *port_open_check(void);
/* Picks from the environment/flag: mock if mock_socket != NULL or
 * HVISOR_MOCK is set, else /dev/hvisor. Logs what it chose. */
struct port *port_open_auto(const char *mock_socket);
void port_close(struct port *port);
const char *port_describe(const struct port *port); /* "/dev/hvisor", ... */
/* An fd that reports POLLHUP/POLLRDHUP once the hypervisor side has gone
 * away (the mock's socket), or -1 when there is none (/dev/hvisor). Only
 * to be polled for those events: the port owns its data. */
int port_hangup_fd(const struct port *port);

/* HVISOR_INIT_VIRTIO + map the bridge page. */
int port_init_virtio(struct port *port, struct hvisor_bridge **bridge);
int port_set_eventfd(struct port *port, int efd);
/* Declare [zone0_ipa, +size) as RAM of zone_id before mapping it: a module
 * that only maps RAM of known zones needs this for zones it did not start.
 * 0 when done or when the kernel has no such request (older modules map
 * anything), else -errno. */
int port_declare_ram(struct port *port, uint64_t zone_id, uint64_t zone0_ipa,
		     uint64_t size);
/* Map guest RAM that zone 0 sees at zone0_ipa. NULL with errno on failure. */
void *port_map_guest(struct port *port, uint64_t zone0_ipa, uint64_t size);
void port_unmap_guest(struct port *port, void *hva, uint64_t size);
/* The file that maps guest RAM at `hva` (a value port_map_guest returned,
 * or inside such a mapping) and the file offset of hva, for a process that
 * maps the same RAM (vhost-user). The fd is borrowed until port_close.
 * 0, or -ENOENT when hva is not in a guest mapping. */
int port_guest_fd(struct port *port, const void *hva, int *fd,
		  uint64_t *offset);
/* HVISOR_FINISH_REQ: the hypervisor drains res_list and injects irqs.
 * Async-signal-unsafe, thread-safe. */
int port_finish_req(struct port *port);

/* Zone control (issue: zone start/shutdown/list). Return 0 / -errno. */
int port_config_check(struct port *port, uint64_t *version);
int port_zone_start(struct port *port, const void *zone_config, size_t len);
int port_zone_shutdown(struct port *port, uint64_t zone_id);
/* Returns the number of zones (>= 0) written to `zones` (at most cnt
 * entries of `entry_size` bytes) or -errno. */
int port_zone_list(struct port *port, void *zones, uint64_t cnt,
		   size_t entry_size);
int port_load_image(struct port *port, const void *image, uint64_t size,
		    uint64_t load_paddr);
/* GET_ECAM_BASE: 0 in *base when the hypervisor has none to report. */
int port_get_ecam_base(struct port *port, uint64_t *base);
/* SET_BOOT_MODE for a multiboot2 zone (x86_64). */
int port_set_boot_mode(struct port *port, uint32_t zone_id,
		       uint64_t multiboot_info_paddr);

/* How guest interrupt lines behave (docs/hvisor-runtime.md); the values
 * are HVISOR_IRQ_MODEL_* of interface/hvisor/bridge.h. */
enum port_irq_model {
	PORT_IRQ_EDGE = 0,           /* every injection is one interrupt */
	PORT_IRQ_LOONGARCH_V04 = 1,  /* no wake-up irq; clear on ISR reads */
	PORT_IRQ_LOONGARCH_LINE = 2, /* lines stay up until deasserted */
};
const char *port_irq_model_name(enum port_irq_model model);
/* The model the hypervisor behind the port speaks. */
int port_irq_model(struct port *port, enum port_irq_model *model);
/* hvisor v0.4 LoongArch: drop every injected guest line (hypercall 20). */
int port_clear_inject_irq(struct port *port);
/* Current LoongArch: drop the line (zone, irq) (hypercall 11). */
int port_deassert_irq(struct port *port, uint32_t zone, uint32_t irq);

/* One SCMI request of the kernel module (hvisor/scmi.h): `which` is
 * HVISOR_SCMI_CLOCK, _RESET, _POWER or one of our extensions, `arg` its
 * argument struct of `len` bytes (exactly that struct's size), updated in
 * place. 0 or -errno. */
int port_scmi(struct port *port, unsigned which, void *arg, uint32_t len);
/* The same on behalf of zone `zone` (port_scmi.c; docs/scmi.md, "Allowed
 * sets"): ALLOW gets the zone filled in and is refused (-EPERM) once
 * port_scmi_seal ran; 32-34 go as the zone-aware request once this port
 * declared a set, as themselves before. */
int port_scmi_zone(struct port *port, uint32_t zone, unsigned which, void *arg,
		   uint32_t len);
/* End of startup: seal what was declared. Afterwards ALLOW is refused
 * here, declared or not. 0, or -errno from the kernel. */
int port_scmi_seal(struct port *port);
/* True once the kernel holds an allowed set for this port. */
bool port_scmi_declared(struct port *port);

#endif
