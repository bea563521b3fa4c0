/* SPDX-License-Identifier: MIT */
/*
 * The check port (`hvisor virtio start --check`): no hypervisor at all.
 * The bridge is a private page nobody else writes, guest RAM is a sparse
 * memfd per region (so that plugins which hand RAM to another process,
 * vhost-user, see a file as with the real ports), interrupts go nowhere.
 * Enough for every device's create() and destroy() to run; zone control
 * is refused.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "port_impl.h"

static int check_init_virtio(struct port *port, struct hvisor_bridge **bridge)
{
	size_t len = port_page_size();
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	port->bridge = p;
	port->bridge_len = len;
	*bridge = p;
	return 0;
}

static int check_set_eventfd(struct port *port, int efd)
{
	(void)port;
	(void)efd;
	return 0;
}

static void *check_map_guest(struct port *port, uint64_t zone0_ipa,
			     uint64_t size)
{
	int fd = memfd_create("hvisor-check-ram", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *p = MAP_FAILED;
	if (ftruncate(fd, (off_t)size) == 0)
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, fd, 0);
	int err = errno;
	if (p != MAP_FAILED &&
	    (err = -port_map_record(port, p, p, size, fd, 0)) == 0)
		return p;
	if (p != MAP_FAILED)
		munmap(p, size);
	close(fd);
	(void)zone0_ipa;
	errno = err;
	return NULL;
}

static int check_finish_req(struct port *port)
{
	(void)port;
	return 0;
}

static int check_config_check(struct port *port, uint64_t *version)
{
	(void)port;
	(void)version;
	return -ENOSYS;
}

static int check_zone_start(struct port *port, const void *cfg, size_t len)
{
	(void)port;
	(void)cfg;
	(void)len;
	return -ENOSYS;
}

static int check_zone_shutdown(struct port *port, uint64_t zone_id)
{
	(void)port;
	(void)zone_id;
	return -ENOSYS;
}

static int check_zone_list(struct port *port, struct port_zone_info *out,
			   uint64_t cnt)
{
	(void)port;
	(void)out;
	(void)cnt;
	return -ENOSYS;
}

static int check_load_image(struct port *port, const void *image, uint64_t size,
			    uint64_t load_paddr)
{
	(void)port;
	(void)image;
	(void)size;
	(void)load_paddr;
	return -ENOSYS;
}

static int check_get_ecam_base(struct port *port, uint64_t *base)
{
	(void)port;
	*base = 0;
	return 0;
}

static int check_set_boot_mode(struct port *port,
			       const struct hvisor_boot_mode *mode)
{
	(void)port;
	(void)mode;
	return -ENOSYS;
}

static int check_irq_model(struct port *port, enum port_irq_model *model)
{
	(void)port;
	*model = PORT_IRQ_EDGE;
	return 0;
}

static int check_clear_inject_irq(struct port *port)
{
	(void)port;
	return 0;
}

static int check_deassert_irq(struct port *port, uint32_t zone, uint32_t irq)
{
	(void)port;
	(void)zone;
	(void)irq;
	return 0;
}

static int check_scmi(struct port *port, unsigned which, void *arg,
		      uint32_t len)
{
	(void)port;
	(void)which;
	(void)arg;
	(void)len;
	return -ENODEV; /* no kernel module to ask */
}

static const struct port_ops check_ops = {
	.init_virtio = check_init_virtio,
	.set_eventfd = check_set_eventfd,
	.map_guest = check_map_guest,
	.finish_req = check_finish_req,
	.config_check = check_config_check,
	.zone_start = check_zone_start,
	.zone_shutdown = check_zone_shutdown,
	.zone_list = check_zone_list,
	.load_image = check_load_image,
	.get_ecam_base = check_get_ecam_base,
	.set_boot_mode = check_set_boot_mode,
	.irq_model = check_irq_model,
	.clear_inject_irq = check_clear_inject_irq,
	.deassert_irq = check_deassert_irq,
	.scmi = check_scmi,
};

struct port *port_open_check(void)
{
	struct port *port = port_alloc(&check_ops, PORT_KIND_CHECK, -1);
	if (port)
		snprintf(port->desc, sizeof port->desc,
			 "the check port (no hypervisor)");
	return port;
}
