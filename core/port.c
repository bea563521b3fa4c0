/* SPDX-License-Identifier: MIT */
/*
 * The kind-independent half of the port: the public functions of port.h
 * dispatch through port->ops, argument checks that hold for every kind, the
 * guest mapping list, and the choice between the device and the mock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvisor/mock_wire.h"
#include "log.h"
#include "port_impl.h"

size_t port_page_size(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	return pg > 0 ? (size_t)pg : 4096u;
}

struct port *port_alloc(const struct port_ops *ops, enum port_kind kind, int fd)
{
	struct port *port = calloc(1, sizeof(*port));
	if (!port)
		return NULL;
	int rc = pthread_mutex_init(&port->lock, NULL);
	if (rc) {
		free(port);
		errno = rc;
		return NULL;
	}
	port->ops = ops;
	port->kind = kind;
	port->fd = fd;
	port->finish_efd = -1;
	return port;
}

int port_map_record(struct port *port, void *hva, void *base, size_t len,
		    int fd, uint64_t fd_off)
{
	int rc = 0;
	pthread_mutex_lock(&port->lock);
	if (port->map_count == port->map_cap) {
		size_t cap = port->map_cap ? port->map_cap * 2 : 8;
		struct port_mapping *n =
			realloc(port->maps, cap * sizeof(*port->maps));
		if (!n) {
			rc = -ENOMEM;
			goto out;
		}
		port->maps = n;
		port->map_cap = cap;
	}
	port->maps[port->map_count++] = (struct port_mapping){.hva = hva,
							      .base = base,
							      .len = len,
							      .fd = fd,
							      .fd_off = fd_off};
out:
	pthread_mutex_unlock(&port->lock);
	return rc;
}

void port_close(struct port *port)
{
	if (!port)
		return;
	if (port->ops->close)
		port->ops->close(port);
	for (size_t i = 0; i < port->map_count; i++) {
		munmap(port->maps[i].base, port->maps[i].len);
		if (port->maps[i].fd >= 0)
			close(port->maps[i].fd);
	}
	free(port->maps);
	if (port->bridge)
		munmap(port->bridge, port->bridge_len);
	if (port->finish_efd >= 0)
		close(port->finish_efd);
	if (port->fd >= 0)
		close(port->fd);
	pthread_mutex_destroy(&port->lock);
	free(port);
}

const char *port_describe(const struct port *port)
{
	return port ? port->desc : "(no port)";
}

struct port *port_open_auto(const char *mock_socket)
{
	const char *from = "--mock";
	if (!mock_socket) {
		mock_socket = getenv(HVISOR_MOCK_ENV);
		from = HVISOR_MOCK_ENV;
	}
	struct port *port;
	if (mock_socket) {
		/* Chosen explicitly: a failure is an error, never a reason to
		 * try the real device instead. */
		if (!*mock_socket) {
			log_error("port: %s is set but empty", from);
			errno = EINVAL;
			return NULL;
		}
		port = port_open_mock(mock_socket);
		if (!port) {
			int e = errno;
			log_error("port: cannot connect to the mock hypervisor "
				  "at %s (from %s): %s",
				  mock_socket, from, strerror(e));
			errno = e;
			return NULL;
		}
	} else {
		port = port_open_dev(NULL);
		if (!port) {
			int e = errno;
			log_error("port: cannot open /dev/hvisor: %s",
				  strerror(e));
			errno = e;
			return NULL;
		}
	}
	log_info("port: using %s", port->desc);
	return port;
}

int port_init_virtio(struct port *port, struct hvisor_bridge **bridge)
{
	if (!port || !bridge)
		return -EINVAL;
	if (port->bridge)
		return -EALREADY;
	return port->ops->init_virtio(port, bridge);
}

int port_set_eventfd(struct port *port, int efd)
{
	if (!port || efd < 0)
		return -EINVAL;
	return port->ops->set_eventfd(port, efd);
}

int port_declare_ram(struct port *port, uint64_t zone_id, uint64_t zone0_ipa,
		     uint64_t size)
{
	if (!port || size == 0 || zone0_ipa + size < zone0_ipa)
		return -EINVAL;
	if (!port->ops->declare_ram)
		return 0;
	return port->ops->declare_ram(port, zone_id, zone0_ipa, size);
}

void *port_map_guest(struct port *port, uint64_t zone0_ipa, uint64_t size)
{
	if (!port || size == 0 || zone0_ipa + size < zone0_ipa ||
	    size > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	return port->ops->map_guest(port, zone0_ipa, size);
}

void port_unmap_guest(struct port *port, void *hva, uint64_t size)
{
	(void)size; /* the recorded length is authoritative */
	if (!port || !hva)
		return;
	struct port_mapping found = {.fd = -1};
	pthread_mutex_lock(&port->lock);
	for (size_t i = 0; i < port->map_count; i++) {
		if (port->maps[i].hva == hva) {
			found = port->maps[i];
			port->maps[i] = port->maps[--port->map_count];
			break;
		}
	}
	pthread_mutex_unlock(&port->lock);
	if (found.base)
		munmap(found.base, found.len);
	if (found.fd >= 0)
		close(found.fd);
}

int port_guest_fd(struct port *port, const void *hva, int *fd, uint64_t *offset)
{
	if (!port || !hva)
		return -ENOENT;
	int rc = -ENOENT;
	const uint8_t *p = hva;
	pthread_mutex_lock(&port->lock);
	for (size_t i = 0; i < port->map_count; i++) {
		const struct port_mapping *m = &port->maps[i];
		const uint8_t *start = m->hva;
		const uint8_t *end = (const uint8_t *)m->base + m->len;
		if (p < start || p >= end)
			continue;
		*fd = m->fd >= 0 ? m->fd : port->fd;
		*offset = m->fd_off + (uint64_t)(p - start);
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&port->lock);
	return rc;
}

int port_hangup_fd(const struct port *port)
{
	return port && port->kind == PORT_KIND_MOCK ? port->fd : -1;
}

int port_finish_req(struct port *port)
{
	if (!port)
		return -EINVAL;
	return port->ops->finish_req(port);
}

int port_config_check(struct port *port, uint64_t *version)
{
	if (!port || !version)
		return -EINVAL;
	return port->ops->config_check(port, version);
}

int port_zone_start(struct port *port, const void *zone_config, size_t len)
{
	if (!port || !zone_config || len == 0)
		return -EINVAL;
	return port->ops->zone_start(port, zone_config, len);
}

int port_zone_shutdown(struct port *port, uint64_t zone_id)
{
	if (!port)
		return -EINVAL;
	return port->ops->zone_shutdown(port, zone_id);
}

int port_zone_list(struct port *port, void *zones, uint64_t cnt,
		   size_t entry_size)
{
	if (!port || (cnt && (!zones || entry_size == 0)))
		return -EINVAL;
	if (cnt > 4096)
		cnt = 4096; /* far beyond any real zone count */
	struct port_zone_info *tmp = NULL;
	if (cnt) {
		tmp = calloc(cnt, sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
	}
	int n = port->ops->zone_list(port, tmp, cnt);
	if (n > 0) {
		/* Entries keep the caller's stride; a shorter entry gets a
		 * prefix of zone_info_t, a longer one zero padding. */
		size_t copy =
			entry_size < sizeof(*tmp) ? entry_size : sizeof(*tmp);
		for (int i = 0; i < n; i++) {
			unsigned char *dst =
				(unsigned char *)zones + (size_t)i * entry_size;
			memset(dst, 0, entry_size);
			memcpy(dst, &tmp[i], copy);
		}
	}
	free(tmp);
	return n;
}

int port_load_image(struct port *port, const void *image, uint64_t size,
		    uint64_t load_paddr)
{
	if (!port || (size && !image))
		return -EINVAL;
	return port->ops->load_image(port, image, size, load_paddr);
}

int port_get_ecam_base(struct port *port, uint64_t *base)
{
	if (!port || !base)
		return -EINVAL;
	return port->ops->get_ecam_base(port, base);
}

int port_set_boot_mode(struct port *port, uint32_t zone_id,
		       uint64_t multiboot_info_paddr)
{
	/* Only ever sent to enable multiboot2 (docs/hvisor-runtime.md). */
	struct hvisor_boot_mode mode = {
		.zone_id = zone_id,
		.multiboot_enabled = 1,
		.multiboot_info_paddr = multiboot_info_paddr,
	};
	if (!port)
		return -EINVAL;
	return port->ops->set_boot_mode(port, &mode);
}

const char *port_irq_model_name(enum port_irq_model model)
{
	switch (model) {
	case PORT_IRQ_EDGE:
		return "edge";
	case PORT_IRQ_LOONGARCH_V04:
		return "loongarch-v0.4";
	case PORT_IRQ_LOONGARCH_LINE:
		return "loongarch-line";
	}
	return "?";
}

int port_irq_model(struct port *port, enum port_irq_model *model)
{
	if (!port || !model)
		return -EINVAL;
	return port->ops->irq_model(port, model);
}

int port_clear_inject_irq(struct port *port)
{
	if (!port)
		return -EINVAL;
	return port->ops->clear_inject_irq(port);
}

int port_deassert_irq(struct port *port, uint32_t zone, uint32_t irq)
{
	if (!port)
		return -EINVAL;
	return port->ops->deassert_irq(port, zone, irq);
}
