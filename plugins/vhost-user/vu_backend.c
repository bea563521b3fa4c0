/* SPDX-License-Identifier: MIT */
/*
 * What the frontend says to the backend, in the order of the vhost-user
 * spec's "starting and stopping rings": handshake after connecting, the
 * memory table and every ring of the guest on activation, GET_VRING_BASE
 * for each started ring on reset. Runs on the device's worker thread (and
 * in create(), before the worker exists).
 */
#include <errno.h>
#include <string.h>

#include "vu.h"

/* Protocol features the frontend knows how to use. */
#define VU_PF_WANTED                                      \
	((1ull << VU_PF_MQ) | (1ull << VU_PF_REPLY_ACK) | \
	 (1ull << VU_PF_CONFIG) | (1ull << VU_PF_RESET_DEVICE))

static int fetch_config(struct vu *vu)
{
	struct vu_config req = {.offset = 0, .size = vu->config_size};
	struct vu_config rep;
	uint32_t want = VU_CONFIG_HDR + vu->config_size;
	int rc = vu_call(&vu->conn, VU_GET_CONFIG, &req, want, &rep, want, want,
			 NULL);
	if (rc < 0)
		return rc;
	if (rep.size != vu->config_size) {
		vu->host->log(vu->dev, HVD_LOG_ERROR,
			      "vhost-user %s: GET_CONFIG reply names %u bytes, "
			      "asked for %u",
			      vu->conn.path, rep.size, vu->config_size);
		return -EPROTO;
	}
	pthread_mutex_lock(&vu->lock);
	memcpy(vu->config, rep.payload, vu->config_size);
	pthread_mutex_unlock(&vu->lock);
	return 0;
}

int vu_handshake(struct vu *vu)
{
	struct vu_conn *c = &vu->conn;
	int rc = vu_get_u64(c, VU_GET_FEATURES, &vu->backend_features);
	if (rc < 0)
		return rc;
	if (vu->backend_features & (1ull << VU_F_PROTOCOL_FEATURES)) {
		uint64_t pf;
		rc = vu_get_u64(c, VU_GET_PROTOCOL_FEATURES, &pf);
		if (rc < 0)
			return rc;
		pf &= VU_PF_WANTED;
		rc = vu_send_cmd(c, VU_SET_PROTOCOL_FEATURES, &pf, sizeof pf,
				 NULL, 0);
		if (rc < 0)
			return rc;
		c->protocol = pf; /* REPLY_ACK applies from here on */
	}
	rc = vu_send_cmd(c, VU_SET_OWNER, NULL, 0, NULL, 0);
	if (rc < 0)
		return rc;
	if (c->protocol & (1ull << VU_PF_MQ)) {
		uint64_t n;
		rc = vu_get_u64(c, VU_GET_QUEUE_NUM, &n);
		if (rc < 0)
			return rc;
		/* Without "num_queues", a blk-like device gets as many
		 * queues as the backend serves (its config space tells the
		 * driver that number); virtio-fs keeps its 2. */
		if (vu->num_queues == 0)
			vu->num_queues = n == 0               ? 1
					 : n > HVD_MAX_QUEUES ? HVD_MAX_QUEUES
							      : (unsigned)n;
		if (n < vu->num_queues) {
			vu->host->log(vu->dev, HVD_LOG_ERROR,
				      "vhost-user %s: backend serves %llu "
				      "queues, num_queues is %u",
				      c->path, (unsigned long long)n,
				      vu->num_queues);
			return -EINVAL;
		}
	}
	if (vu->num_queues == 0)
		vu->num_queues = 1;
	vu->config_from_backend =
		vu->config_size && (c->protocol & (1ull << VU_PF_CONFIG));
	return vu->config_from_backend ? fetch_config(vu) : 0;
}

static int send_mem_table(struct vu *vu)
{
	struct vu_mem_table mt = {0};
	int fds[VU_MAX_REGIONS];
	struct hvd_mem_region r;
	unsigned n = 0;
	for (unsigned i = 0; vu->host->mem_region(vu->dev, i, &r) == 0; i++) {
		if (n == VU_MAX_REGIONS || r.fd < 0) {
			vu->host->log(vu->dev, HVD_LOG_ERROR,
				      "RAM region at 0x%llx: %s",
				      (unsigned long long)r.gpa,
				      r.fd < 0 ? "no file to share with "
						 "the backend"
					       : "more than 8 regions");
			return -EINVAL;
		}
		mt.regions[n] =
			(struct vu_region){.gpa = r.gpa,
					   .size = r.size,
					   .uaddr = (uint64_t)(uintptr_t)r.hva,
					   .mmap_offset = r.fd_offset};
		fds[n++] = r.fd;
	}
	mt.nregions = n;
	uint32_t size = 8 + n * (uint32_t)sizeof(struct vu_region);
	return vu_send_cmd(&vu->conn, VU_SET_MEM_TABLE, &mt, size, fds, n);
}

static int vring_fd(struct vu *vu, uint32_t request, unsigned index, int fd)
{
	uint64_t v = index;
	return vu_send_cmd(&vu->conn, request, &v, sizeof v, &fd, 1);
}

static int ring_hva(struct vu *vu, uint64_t gpa, uint64_t len, uint64_t *out)
{
	void *p = vu->host->guest_ptr(vu->dev, gpa, len);
	if (!p)
		return -EFAULT; /* the core checked this at DRIVER_OK */
	*out = (uint64_t)(uintptr_t)p;
	return 0;
}

static int start_ring(struct vu *vu, unsigned i, bool enable)
{
	struct hvd_vq_layout l;
	vu->host->vq_layout(vu->host->vq_get(vu->dev, i), &l);
	if (!l.ready)
		return 0;
	struct vu_vring_state num = {.index = i, .num = l.num};
	struct vu_vring_state base = {.index = i, .num = 0};
	struct vu_vring_addr addr = {.index = i};
	int rc;
	if ((rc = ring_hva(vu, l.desc_gpa, 16ull * l.num, &addr.desc)) ||
	    (rc = ring_hva(vu, l.avail_gpa, 6 + 2ull * l.num, &addr.avail)) ||
	    (rc = ring_hva(vu, l.used_gpa, 6 + 8ull * l.num, &addr.used)))
		return rc;
	struct vu_conn *c = &vu->conn;
	if ((rc = vu_send_cmd(c, VU_SET_VRING_NUM, &num, sizeof num, NULL,
			      0)) ||
	    (rc = vu_send_cmd(c, VU_SET_VRING_ADDR, &addr, sizeof addr, NULL,
			      0)) ||
	    (rc = vu_send_cmd(c, VU_SET_VRING_BASE, &base, sizeof base, NULL,
			      0)) ||
	    (rc = vring_fd(vu, VU_SET_VRING_CALL, i, vu->call[i])) ||
	    (rc = vring_fd(vu, VU_SET_VRING_ERR, i, vu->err)) ||
	    (rc = vring_fd(vu, VU_SET_VRING_KICK, i, vu->kick[i])))
		return rc;
	vu->started |= 1ull << i;
	if (!enable)
		return 0;
	struct vu_vring_state on = {.index = i, .num = 1};
	return vu_send_cmd(c, VU_SET_VRING_ENABLE, &on, sizeof on, NULL, 0);
}

int vu_start_rings(struct vu *vu, uint64_t features)
{
	/* With protocol features negotiated, rings start disabled. */
	bool pf = vu->backend_features & (1ull << VU_F_PROTOCOL_FEATURES);
	uint64_t f = features | (pf ? 1ull << VU_F_PROTOCOL_FEATURES : 0);
	int rc = vu_send_cmd(&vu->conn, VU_SET_FEATURES, &f, sizeof f, NULL, 0);
	if (rc == 0)
		rc = send_mem_table(vu);
	for (unsigned i = 0; rc == 0 && i < vu->num_queues; i++)
		rc = start_ring(vu, i, pf);
	if (rc == 0)
		vu->running = true;
	return rc;
}

int vu_stop_rings(struct vu *vu)
{
	int rc = 0;
	for (unsigned i = 0; rc == 0 && i < vu->num_queues; i++) {
		if (!(vu->started & (1ull << i)))
			continue;
		/* The reply comes once the backend no longer touches the
		 * ring: after it, guest memory of the ring is the guest's. */
		struct vu_vring_state st = {.index = i}, rep;
		rc = vu_call(&vu->conn, VU_GET_VRING_BASE, &st, sizeof st, &rep,
			     sizeof rep, sizeof rep, NULL);
		if (rc == 0)
			vu->started &= ~(1ull << i);
	}
	if (rc == 0 && (vu->conn.protocol & (1ull << VU_PF_RESET_DEVICE)))
		rc = vu_send_cmd(&vu->conn, VU_RESET_DEVICE, NULL, 0, NULL, 0);
	vu->running = false;
	return rc;
}

int vu_push_config(struct vu *vu, uint32_t lo, uint32_t hi)
{
	if (!vu->config_from_backend)
		return 0; /* a config space we synthesise (virtio-fs tag) */
	struct vu_config req = {.offset = lo, .size = hi - lo};
	pthread_mutex_lock(&vu->lock);
	memcpy(req.payload, vu->config + lo, hi - lo);
	pthread_mutex_unlock(&vu->lock);
	return vu_send_cmd(&vu->conn, VU_SET_CONFIG, &req,
			   VU_CONFIG_HDR + (hi - lo), NULL, 0);
}
