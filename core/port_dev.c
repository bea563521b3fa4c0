/* SPDX-License-Identifier: MIT */
/*
 * The real port: the /dev/hvisor kernel module (docs/hvisor-interface.md).
 * mmap offset 0 is the bridge page; any other offset is the zone-0 physical
 * address of guest RAM, so it must be page aligned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvisor/scmi.h"
#include "port_impl.h"

#define HVISOR_DEV_PATH "/dev/hvisor"

static int dev_ioctl(struct port *port, unsigned long req, unsigned long arg)
{
	int rc;
	do {
		rc = ioctl(port->fd, req, arg);
	} while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : rc;
}

static int dev_init_virtio(struct port *port, struct hvisor_bridge **bridge)
{
	int rc = dev_ioctl(port, HVISOR_INIT_VIRTIO, 0);
	if (rc < 0)
		return rc;
	/* The module hands out one page; map exactly one (>= 4 KiB). */
	size_t len = port_page_size();
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, port->fd,
		       0);
	if (p == MAP_FAILED)
		return -errno;
	port->bridge = p;
	port->bridge_len = len;
	*bridge = p;
	return 0;
}

static int dev_set_eventfd(struct port *port, int efd)
{
	/* The module takes the fd number by value. */
	int rc = dev_ioctl(port, HVISOR_SET_EVENTFD, (unsigned long)efd);
	return rc < 0 ? rc : 0;
}

static int dev_declare_ram(struct port *port, uint64_t zone_id,
			   uint64_t zone0_ipa, uint64_t size)
{
	struct hvisor_ram_decl decl = {
		.zone_id = zone_id,
		.physical_start = zone0_ipa,
		.size = size,
	};
	int rc = dev_ioctl(port, HVISOR_DECLARE_RAM, (unsigned long)&decl);
	/* hvisor-tool's module lacks the request (and maps anything). */
	if (rc == -ENOTTY || rc == -EINVAL)
		return 0;
	return rc < 0 ? rc : 0;
}

static void *dev_map_guest(struct port *port, uint64_t zone0_ipa, uint64_t size)
{
	size_t pg = port_page_size();
	/* Offset 0 is the bridge page, and the offset is a page number. */
	if (zone0_ipa == 0 || (zone0_ipa & (pg - 1))) {
		errno = EINVAL;
		return NULL;
	}
	if (zone0_ipa > (uint64_t)INT64_MAX - size ||
	    (sizeof(off_t) < 8 && zone0_ipa + size > (uint64_t)INT32_MAX)) {
		errno = EOVERFLOW;
		return NULL;
	}
	size_t len = (size_t)((size + pg - 1) & ~(uint64_t)(pg - 1));
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, port->fd,
		       (off_t)zone0_ipa);
	if (p == MAP_FAILED)
		return NULL;
	int rc = port_map_record(port, p, p, len, -1, zone0_ipa);
	if (rc < 0) {
		munmap(p, len);
		errno = -rc;
		return NULL;
	}
	return p;
}

static int dev_finish_req(struct port *port)
{
	int rc = dev_ioctl(port, HVISOR_FINISH_REQ, 0);
	return rc < 0 ? rc : 0;
}

/* A request that answers one u64 (CONFIG_CHECK, GET_ECAM_BASE, ...). */
static int dev_get_u64(struct port *port, unsigned long req, uint64_t *out)
{
	uint64_t v = 0;
	int rc = dev_ioctl(port, req, (unsigned long)&v);
	if (rc < 0)
		return rc;
	*out = v;
	return 0;
}

static int dev_config_check(struct port *port, uint64_t *version)
{
	return dev_get_u64(port, HVISOR_CONFIG_CHECK, version);
}

static int dev_zone_start(struct port *port, const void *cfg, size_t len)
{
	/* The module copies sizeof(zone_config_t) from the pointer; `len`
	 * is the caller's promise that the buffer is that large. */
	(void)len;
	int rc = dev_ioctl(port, HVISOR_ZONE_START, (unsigned long)cfg);
	return rc < 0 ? rc : 0;
}

static int dev_zone_shutdown(struct port *port, uint64_t zone_id)
{
	int rc = dev_ioctl(port, HVISOR_ZONE_SHUTDOWN, (unsigned long)zone_id);
	return rc < 0 ? rc : 0;
}

static int dev_zone_list(struct port *port, struct port_zone_info *out,
			 uint64_t cnt)
{
	struct hvisor_zone_list_args args = {.cnt = cnt, .zones = out};
	int rc = dev_ioctl(port, HVISOR_ZONE_LIST, (unsigned long)&args);
	if (rc < 0)
		return rc;
	return (uint64_t)rc > cnt ? (int)cnt : rc;
}

static int dev_load_image(struct port *port, const void *image, uint64_t size,
			  uint64_t load_paddr)
{
	struct hvisor_image_desc desc = {
		.user_buffer = (uint64_t)(uintptr_t)image,
		.size = size,
		.load_paddr = load_paddr,
	};
	int rc = dev_ioctl(port, HVISOR_LOAD_IMAGE, (unsigned long)&desc);
	return rc < 0 ? rc : 0;
}

static int dev_get_ecam_base(struct port *port, uint64_t *base)
{
	return dev_get_u64(port, HVISOR_GET_ECAM_BASE, base);
}

static int dev_set_boot_mode(struct port *port,
			     const struct hvisor_boot_mode *mode)
{
	int rc = dev_ioctl(port, HVISOR_SET_BOOT_MODE, (unsigned long)mode);
	return rc < 0 ? rc : 0;
}

/* Our module says which protocol it found; hvisor-tool's has no such
 * request, and then the build's architecture and CONFIG_CHECK decide as
 * they do there (docs/hvisor-runtime.md). */
static int dev_irq_model(struct port *port, enum port_irq_model *model)
{
	uint64_t v = 0;
	int rc = dev_get_u64(port, HVISOR_GET_IRQ_MODEL, &v);
	if (rc == 0 && v <= PORT_IRQ_LOONGARCH_LINE) {
		*model = (enum port_irq_model)v;
		return 0;
	}
	if (rc < 0 && rc != -ENOTTY && rc != -EINVAL)
		return rc;
#if defined(__loongarch__)
	rc = dev_config_check(port, &v);
	if (rc < 0)
		return rc;
	*model = v == 0x05 ? PORT_IRQ_LOONGARCH_V04 : PORT_IRQ_LOONGARCH_LINE;
#else
	*model = PORT_IRQ_EDGE;
#endif
	return 0;
}

static int dev_clear_inject_irq(struct port *port)
{
	int rc = dev_ioctl(port, HVISOR_CLEAR_INJECT_IRQ, 0);
	return rc < 0 ? rc : 0;
}

static int dev_deassert_irq(struct port *port, uint32_t zone, uint32_t irq)
{
	struct hvisor_irq_line line = {.zone_id = zone, .irq_id = irq};
	int rc = dev_ioctl(port, HVISOR_DEASSERT_IRQ, (unsigned long)&line);
	return rc < 0 ? rc : 0;
}

static int dev_scmi(struct port *port, unsigned which, void *arg, uint32_t len)
{
	(void)len; /* port_scmi checked it is the request's struct size */
	int rc = dev_ioctl(port, hvisor_scmi_ioctl_of(which),
			   (unsigned long)arg);
	return rc < 0 ? rc : 0;
}

static const struct port_ops dev_ops = {
	.close = NULL,
	.init_virtio = dev_init_virtio,
	.set_eventfd = dev_set_eventfd,
	.declare_ram = dev_declare_ram,
	.map_guest = dev_map_guest,
	.finish_req = dev_finish_req,
	.config_check = dev_config_check,
	.zone_start = dev_zone_start,
	.zone_shutdown = dev_zone_shutdown,
	.zone_list = dev_zone_list,
	.load_image = dev_load_image,
	.get_ecam_base = dev_get_ecam_base,
	.set_boot_mode = dev_set_boot_mode,
	.irq_model = dev_irq_model,
	.clear_inject_irq = dev_clear_inject_irq,
	.deassert_irq = dev_deassert_irq,
	.scmi = dev_scmi,
};

struct port *port_open_dev(const char *path)
{
	if (!path)
		path = HVISOR_DEV_PATH;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct port *port = port_alloc(&dev_ops, PORT_KIND_DEV, fd);
	if (!port) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	snprintf(port->desc, sizeof(port->desc), "%s", path);
	return port;
}
