/* SPDX-License-Identifier: MIT */
/*
 * Private to the port implementation (port.c, port_dev.c, port_mock.c).
 * One struct port for both kinds: the public functions of port.h dispatch
 * through `ops`; each kind fills the ops table and uses the common fields.
 */
#ifndef CORE_PORT_IMPL_H
#define CORE_PORT_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"

enum port_kind {
	PORT_KIND_DEV = 1,   /* the /dev/hvisor kernel module */
	PORT_KIND_MOCK = 2,  /* the mock hypervisor over a UNIX socket */
	PORT_KIND_CHECK = 3, /* no hypervisor: --check (port_check.c) */
};

/* zone_info_t of the hypervisor: u32 zone_id; u64 cpus; char name[32];
 * u8 is_err; natural alignment. */
struct port_zone_info {
	uint32_t zone_id;
	uint64_t cpus;
	char name[32];
	uint8_t is_err;
};
_Static_assert(sizeof(struct port_zone_info) == 56, "zone_info_t");

struct port_ops {
	/* Frees kind-specific resources; the common fields (fd, bridge, guest
	 * mappings, lock) are released by port_close() afterwards. */
	void (*close)(struct port *port);
	/* Only called while port->bridge is NULL. */
	int (*init_virtio)(struct port *port, struct hvisor_bridge **bridge);
	int (*set_eventfd)(struct port *port, int efd);
	/* Tells the kernel that [zone0_ipa, +size) is RAM of zone_id, so that
	 * map_guest may map it (zones the module did not start). Optional. */
	int (*declare_ram)(struct port *port, uint64_t zone_id,
			   uint64_t zone0_ipa, uint64_t size);
	/* Maps and records the mapping (port_map_record). */
	void *(*map_guest)(struct port *port, uint64_t zone0_ipa,
			   uint64_t size);
	int (*finish_req)(struct port *port);
	int (*config_check)(struct port *port, uint64_t *version);
	int (*zone_start)(struct port *port, const void *cfg, size_t len);
	int (*zone_shutdown)(struct port *port, uint64_t zone_id);
	/* Writes up to `cnt` zone_info_t (56 bytes each) into `out`. */
	int (*zone_list)(struct port *port, struct port_zone_info *out,
			 uint64_t cnt);
	int (*load_image)(struct port *port, const void *image, uint64_t size,
			  uint64_t load_paddr);
	int (*get_ecam_base)(struct port *port, uint64_t *base);
	int (*set_boot_mode)(struct port *port,
			     const struct hvisor_boot_mode *mode);
	int (*irq_model)(struct port *port, enum port_irq_model *model);
	int (*clear_inject_irq)(struct port *port);
	int (*deassert_irq)(struct port *port, uint32_t zone, uint32_t irq);
	/* `which` and len already checked by port_scmi. */
	int (*scmi)(struct port *port, unsigned which, void *arg, uint32_t len);
};

/* One guest RAM mapping: `hva` is what the caller got; `base`/`len` is
 * what munmap needs (the mock maps from a page-aligned file offset). */
struct port_mapping {
	void *hva;
	void *base;
	size_t len;
	/* The file behind it, for another process (vhost-user backends): an
	 * fd the mapping owns, or -1 for the port's own fd (/dev/hvisor);
	 * hva is at file offset fd_off. */
	int fd;
	uint64_t fd_off;
};

struct port {
	const struct port_ops *ops;
	enum port_kind kind;
	int fd;                       /* device fd or the mock socket */
	struct hvisor_bridge *bridge; /* mapped bridge page, or NULL */
	size_t bridge_len;
	int finish_efd;       /* mock: eventfd from INIT_VIRTIO, else -1 */
	pthread_mutex_t lock; /* mock: one request/reply at a time;
				 both: the guest mapping list */
	struct port_mapping *maps;
	size_t map_count, map_cap;
	char desc[128]; /* port_describe() */
	/* SCMI allowed set (port_scmi.c), atomics: the kernel knows one
	 * for this file; startup is over (no more ALLOW). */
	bool scmi_declared;
	bool scmi_closed;
};

/* Common helpers (port.c). */
struct port *port_alloc(const struct port_ops *ops, enum port_kind kind,
			int fd);
/* Remember a mapping and the file behind it (`fd` is then owned by the
 * record, -1: the port's fd); on failure (-ENOMEM) the caller unmaps it and
 * closes fd. */
int port_map_record(struct port *port, void *hva, void *base, size_t len,
		    int fd, uint64_t fd_off);
size_t port_page_size(void);

/* Kind-specific openers (port_dev.c, port_mock.c) are the public
 * port_open_dev / port_open_mock / port_open_mock_fd. */

#endif
