/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu commands through the mock guest and an in-process daemon:
 * bring-up (device id, exactly the features implemented, config space),
 * GET_DISPLAY_INFO, GET_EDID (a valid block with checksum, the configured
 * mode), every 2D command's error responses, the memory bound, the cursor
 * queue's checks, fences, chains too short (NEEDS_RESET, then a reset and
 * reuse), and the configuration refused with the JSON path.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "daemon_fixture.h"
#include "gpu_guest.h"
#include "refused_config.h"

#define BASE 0xa003400u
#define IRQ  74u
/* Guest RAM the tests use for backing. */
#define FB_GPA (g.fb_gpa)

static struct fixture fx;

#define ERR_ID   VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define ERR_PARM VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
#define ERR_OOM  VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define ERR_SID  VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define ERR_UNSP VIRTIO_GPU_RESP_ERR_UNSPEC
#define OK       VIRTIO_GPU_RESP_OK_NODATA
#define XRGB     VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM

/* One gpu device with `extra` JSON members after the keys of hvisor-tool's
 * published example (qemu-aarch64/with_virtio_gpu: width 1280, height 800,
 * "status": "enable"), which name no backend: on a machine with a free
 * display card that is drm, else headless. */
static void start_as_published(struct gg *g, const char *extra)
{
	char dev[1024];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"gpu\", \"addr\": \"0xa003400\", \"len\": "
		 "\"0x200\", \"irq\": 74, \"width\": 1280, \"height\": 800, "
		 "\"status\": \"enable\"%s}",
		 extra);
	memset(&fx, 0, sizeof fx);
	CU_ASSERT_FATAL(fixture_start(&fx, dev) == 0);
	CU_ASSERT_FATAL(gg_open(g, fx.mock, BASE, IRQ) == 0);
}

/* The same on the headless backend, so the modes are the configured ones
 * wherever the suite runs. */
static void start(struct gg *g, const char *extra)
{
	char more[512];
	snprintf(more, sizeof more, ", \"backend\": \"headless\"%s", extra);
	start_as_published(g, more);
}

static void stop(struct gg *g)
{
	gg_close(g);
	fixture_stop(&fx);
}

static bool needs_reset(struct gg *g)
{
	return hvd_guest_status(g->d) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

static void test_bring_up(void)
{
	struct gg g;
	start_as_published(&g, ", \"scanouts\": 3");
	/* VERSION_1 + EDID and the transport's ring features, nothing else:
	 * no VIRGL, UUID, BLOB or CONTEXT_INIT. */
	CU_ASSERT_EQUAL(g.offered,
			(1ull << VIRTIO_F_VERSION_1) |
				(1ull << VIRTIO_GPU_F_EDID) |
				(1ull << VIRTIO_RING_F_INDIRECT_DESC) |
				(1ull << VIRTIO_RING_F_EVENT_IDX));
	/* Config: events_read, events_clear, num_scanouts, num_capsets. */
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 0, 4), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 4, 4), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 8, 4), 3);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 12, 4), 0);
	/* Writes other than events_clear change nothing. */
	CU_ASSERT_EQUAL(hvd_guest_config_write(g.d, 8, 4, 9), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 8, 4), 3);
	CU_ASSERT_EQUAL(hvd_guest_config_write(g.d, 4, 4, 1), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(g.d, 0, 4), 0);
	CU_ASSERT_FALSE(needs_reset(&g));
	stop(&g);
}

static void test_display_info(void)
{
	struct gg g;
	start(&g, ", \"scanouts\": 2");
	struct virtio_gpu_ctrl_hdr h = {
		.type = htole32(VIRTIO_GPU_CMD_GET_DISPLAY_INFO)};
	struct virtio_gpu_resp_display_info d;
	CU_ASSERT_EQUAL_FATAL(gg_cmd(&g, &h, sizeof h, sizeof d),
			      VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CU_ASSERT_EQUAL(g.used_len, sizeof d);
	memcpy(&d, g.resp, sizeof d);
	for (unsigned i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
		bool on = i < 2;
		CU_ASSERT_EQUAL(le32toh(d.pmodes[i].enabled), on);
		CU_ASSERT_EQUAL(le32toh(d.pmodes[i].r.x), 0);
		CU_ASSERT_EQUAL(le32toh(d.pmodes[i].r.y), 0);
		CU_ASSERT_EQUAL(le32toh(d.pmodes[i].r.width), on ? 1280 : 0);
		CU_ASSERT_EQUAL(le32toh(d.pmodes[i].r.height), on ? 800 : 0);
	}
	stop(&g);
}

static int get_edid(struct gg *g, uint32_t scanout)
{
	struct virtio_gpu_cmd_get_edid e = {
		.hdr = {.type = htole32(VIRTIO_GPU_CMD_GET_EDID)},
		.scanout = htole32(scanout),
	};
	return gg_cmd(g, &e, sizeof e, sizeof(struct virtio_gpu_resp_edid));
}

static void test_edid(void)
{
	struct gg g;
	start(&g, ", \"scanouts\": 2");
	CU_ASSERT_EQUAL_FATAL(get_edid(&g, 1), VIRTIO_GPU_RESP_OK_EDID);
	struct virtio_gpu_resp_edid r;
	memcpy(&r, g.resp, sizeof r);
	CU_ASSERT_EQUAL(g.used_len, sizeof r);
	CU_ASSERT_EQUAL_FATAL(le32toh(r.size), 128);
	const uint8_t *e = r.edid;
	static const uint8_t header[8] = {0,    0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0};
	CU_ASSERT(memcmp(e, header, 8) == 0);
	unsigned sum = 0;
	for (int i = 0; i < 128; i++)
		sum += e[i];
	CU_ASSERT_EQUAL(sum % 256, 0);
	CU_ASSERT_EQUAL(e[18], 1); /* EDID 1.4 */
	CU_ASSERT_EQUAL(e[19], 4);
	CU_ASSERT_EQUAL(e[126], 0); /* no extension blocks */
	/* Vendor "HVD": three 5-bit letters. */
	unsigned v = (unsigned)e[8] << 8 | e[9];
	CU_ASSERT_EQUAL(v >> 10 & 31, 'H' - 'A' + 1);
	CU_ASSERT_EQUAL(v >> 5 & 31, 'V' - 'A' + 1);
	CU_ASSERT_EQUAL(v & 31, 'D' - 'A' + 1);
	/* The first descriptor is the preferred detailed timing: the mode. */
	const uint8_t *d = e + 54;
	unsigned clock = d[0] | d[1] << 8;
	unsigned hact = d[2] | (d[4] >> 4) << 8;
	unsigned hblank = d[3] | (d[4] & 15) << 8;
	unsigned vact = d[5] | (d[7] >> 4) << 8;
	unsigned vblank = d[6] | (d[7] & 15) << 8;
	CU_ASSERT_EQUAL(hact, 1280);
	CU_ASSERT_EQUAL(vact, 800);
	/* About 60 Hz: clock (10 kHz units) over total pixels. */
	unsigned hz = clock * 10000u / ((hact + hblank) * (vact + vblank));
	CU_ASSERT(hz >= 59 && hz <= 60);
	/* The monitor name descriptor. */
	CU_ASSERT_EQUAL(e[72 + 3], 0xfc);
	CU_ASSERT(memcmp(e + 72 + 5, "hvisor gpu\n", 11) == 0);
	/* Past the block: zero. */
	for (int i = 128; i < 1024; i++)
		if (r.edid[i]) {
			CU_FAIL("EDID bytes past the block");
			break;
		}
	/* A scanout that does not exist. */
	CU_ASSERT_EQUAL(get_edid(&g, 2), ERR_SID);
	CU_ASSERT_EQUAL(get_edid(&g, 0xffffffffu), ERR_SID);
	stop(&g);
}

static void test_create_unref(void)
{
	struct gg g;
	start(&g, "");
	static const uint32_t formats[] = {
		VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
		VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM,
		VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
		VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
		VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
		VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM,
		VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
	};
	for (uint32_t i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(gg_create(&g, 10 + i, formats[i], 32, 16), OK);
	CU_ASSERT_EQUAL(gg_create(&g, 0, XRGB, 32, 16), ERR_ID);
	CU_ASSERT_EQUAL(gg_create(&g, 10, XRGB, 32, 16), ERR_ID);
	/* 16-bit and unknown formats. */
	CU_ASSERT_EQUAL(gg_create(&g, 1, 5, 32, 16), ERR_PARM);
	CU_ASSERT_EQUAL(gg_create(&g, 1, 0, 32, 16), ERR_PARM);
	CU_ASSERT_EQUAL(gg_create(&g, 1, XRGB, 0, 16), ERR_PARM);
	CU_ASSERT_EQUAL(gg_create(&g, 1, XRGB, 16, 0), ERR_PARM);
	/* Sizes whose byte count wraps 32 or 64 bits. */
	CU_ASSERT_EQUAL(gg_create(&g, 1, XRGB, 0xffffffffu, 0xffffffffu),
			ERR_OOM);
	CU_ASSERT_EQUAL(gg_create(&g, 1, XRGB, 0x40000000u, 4), ERR_OOM);
	CU_ASSERT_EQUAL(gg_unref(&g, 10), OK);
	CU_ASSERT_EQUAL(gg_unref(&g, 10), ERR_ID);
	CU_ASSERT_EQUAL(gg_unref(&g, 0), ERR_ID);
	CU_ASSERT_EQUAL(gg_create(&g, 10, XRGB, 32, 16), OK);
	CU_ASSERT_FALSE(needs_reset(&g));
	stop(&g);
}

/* max_memory bounds the host copies: 1 MiB holds three 256x256 resources
 * (256 KiB each) but not a fourth; an unref gives the memory back. */
static void test_memory_bound(void)
{
	struct gg g;
	start(&g, ", \"max_memory\": 1048576");
	for (uint32_t id = 1; id <= 3; id++)
		CU_ASSERT_EQUAL(gg_create(&g, id, XRGB, 256, 256), OK);
	CU_ASSERT_EQUAL(gg_create(&g, 4, XRGB, 256, 256), ERR_OOM);
	CU_ASSERT_EQUAL(gg_create(&g, 4, XRGB, 1280, 800), ERR_OOM);
	CU_ASSERT_EQUAL(gg_unref(&g, 2), OK);
	CU_ASSERT_EQUAL(gg_create(&g, 4, XRGB, 256, 256), OK);
	/* Backing entries count too: a resource that fills the rest leaves
	 * no room for a long entry list. */
	CU_ASSERT_EQUAL(gg_unref(&g, 4), OK);
	CU_ASSERT_EQUAL(gg_create(&g, 5, XRGB, 255, 256), OK);
	uint64_t gpa[16384];
	uint32_t len[16384];
	for (unsigned i = 0; i < 16384; i++) {
		gpa[i] = FB_GPA;
		len[i] = 4;
	}
	CU_ASSERT_EQUAL(gg_attach(&g, 5, 16384, gpa, len), ERR_OOM);
	CU_ASSERT_EQUAL(gg_attach(&g, 5, 16, gpa, len), OK);
	CU_ASSERT_FALSE(needs_reset(&g));
	stop(&g);
}

static void test_backing_and_transfer_checks(void)
{
	struct gg g;
	start(&g, "");
	uint64_t gpa[2] = {FB_GPA, FB_GPA + 0x10000};
	uint32_t len[2] = {32 * 16 * 4 / 2, 32 * 16 * 4 / 2};
	CU_ASSERT_EQUAL(gg_create(&g, 1, XRGB, 32, 16), OK);
	/* Transfer and detach need backing. */
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, 32, 16, 0), ERR_UNSP);
	CU_ASSERT_EQUAL(gg_detach(&g, 1), ERR_UNSP);
	/* Bad attaches. */
	CU_ASSERT_EQUAL(gg_attach(&g, 7, 2, gpa, len), ERR_ID);
	CU_ASSERT_EQUAL(gg_attach(&g, 1, 0, gpa, len), ERR_PARM);
	uint64_t outside[1] = {0x10000000};
	CU_ASSERT_EQUAL(gg_attach(&g, 1, 1, outside, len), ERR_PARM);
	uint64_t straddle[1] = {0x50000000ull + 0x1000000 - 8};
	CU_ASSERT_EQUAL(gg_attach(&g, 1, 1, straddle, len), ERR_PARM);
	uint32_t zero[1] = {0};
	CU_ASSERT_EQUAL(gg_attach(&g, 1, 1, gpa, zero), ERR_PARM);
	/* More entries announced than the request carries. */
	struct virtio_gpu_resource_attach_backing a = {
		.hdr = {.type = htole32(
				VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING)},
		.resource_id = htole32(1),
		.nr_entries = htole32(3),
	};
	CU_ASSERT_EQUAL(gg_cmd(&g, &a, sizeof a, 24), ERR_PARM);
	a.nr_entries = htole32(16385);
	CU_ASSERT_EQUAL(gg_cmd(&g, &a, sizeof a, 24), ERR_PARM);
	CU_ASSERT_EQUAL(gg_attach(&g, 1, 2, gpa, len), OK);
	CU_ASSERT_EQUAL(gg_attach(&g, 1, 2, gpa, len), ERR_UNSP);
	/* Transfers: whole, partial, outside the resource, past the
	 * backing, offsets that wrap. */
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, 32, 16, 0), OK);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 4, 2, 8, 8, 2 * 128 + 16), OK);
	CU_ASSERT_EQUAL(gg_transfer(&g, 2, 0, 0, 32, 16, 0), ERR_ID);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, 33, 16, 0), ERR_PARM);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 1, 32, 16, 0), ERR_PARM);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, 0, 16, 0), ERR_PARM);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0xffffffffu, 0, 2, 1, 0), ERR_PARM);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, 32, 16, 4), ERR_PARM);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 15, 32, 1, 15 * 128 + 4),
			ERR_PARM);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, 1, 1, ~0ull), ERR_PARM);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, 1, 1, ~0ull - 2), ERR_PARM);
	CU_ASSERT_EQUAL(gg_detach(&g, 1), OK);
	CU_ASSERT_EQUAL(gg_transfer(&g, 1, 0, 0, 32, 16, 0), ERR_UNSP);
	CU_ASSERT_EQUAL(gg_detach(&g, 1), ERR_UNSP);
	CU_ASSERT_EQUAL(gg_detach(&g, 9), ERR_ID);
	/* Backing again after a detach. */
	CU_ASSERT_EQUAL(gg_attach(&g, 1, 2, gpa, len), OK);
	CU_ASSERT_FALSE(needs_reset(&g));
	stop(&g);
}

static void test_scanout_and_flush_checks(void)
{
	struct gg g;
	start(&g, ", \"scanouts\": 2");
	CU_ASSERT_EQUAL(gg_create(&g, 1, XRGB, 64, 32), OK);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 2, 1, 0, 0, 64, 32), ERR_SID);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, ~0u, 1, 0, 0, 64, 32), ERR_SID);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 0, 5, 0, 0, 64, 32), ERR_ID);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 0, 1, 1, 0, 64, 32), ERR_PARM);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 0, 1, 0, 0, 64, 0), ERR_PARM);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 0, 1, 0, 0xfffffff0u, 8, 0x20),
			ERR_PARM);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 1, 1, 16, 8, 32, 16), OK);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 1, 0, 0, 0, 0, 0), OK);
	CU_ASSERT_EQUAL(gg_set_scanout(&g, 0, 1, 0, 0, 64, 32), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 0, 0, 64, 32), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 3, 0, 0, 64, 32), ERR_ID);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 60, 0, 8, 32), ERR_PARM);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 0, 0xffffffffu, 64, 2), ERR_PARM);
	/* A resource on a scanout may go; the scanout lets go of it. */
	CU_ASSERT_EQUAL(gg_unref(&g, 1), OK);
	CU_ASSERT_EQUAL(gg_flush(&g, 1, 0, 0, 64, 32), ERR_ID);
	CU_ASSERT_FALSE(needs_reset(&g));
	stop(&g);
}

static void test_unknown_and_fence(void)
{
	struct gg g;
	start(&g, "");
	/* 3D, capsets, UUID, blob: not offered, ERR_UNSPEC. */
	static const uint32_t types[] = {VIRTIO_GPU_CMD_GET_CAPSET_INFO,
					 VIRTIO_GPU_CMD_CTX_CREATE,
					 VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
					 VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
					 0,
					 0x12345678};
	for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++) {
		uint8_t req[96] = {0};
		struct virtio_gpu_ctrl_hdr h = {.type = htole32(types[i])};
		memcpy(req, &h, sizeof h);
		CU_ASSERT_EQUAL(gg_cmd(&g, req, sizeof req, 24), ERR_UNSP);
	}
	/* A fenced command: the reply carries the fence. */
	struct virtio_gpu_resource_create_2d c = {
		.hdr = {.type = htole32(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D),
			.flags = htole32(VIRTIO_GPU_FLAG_FENCE),
			.fence_id = htole64(0x1122334455667788ull),
			.ctx_id = htole32(3)},
		.resource_id = htole32(1),
		.format = htole32(XRGB),
		.width = htole32(16),
		.height = htole32(16),
	};
	CU_ASSERT_EQUAL(gg_cmd(&g, &c, sizeof c, 24), OK);
	struct virtio_gpu_ctrl_hdr r;
	memcpy(&r, g.resp, sizeof r);
	CU_ASSERT_EQUAL(g.used_len, 24);
	CU_ASSERT_EQUAL(le32toh(r.flags), VIRTIO_GPU_FLAG_FENCE);
	CU_ASSERT_EQUAL(le64toh(r.fence_id), 0x1122334455667788ull);
	CU_ASSERT_EQUAL(le32toh(r.ctx_id), 3);
	CU_ASSERT_FALSE(needs_reset(&g));
	stop(&g);
}

static void test_cursor_checks(void)
{
	struct gg g;
	start(&g, "");
	CU_ASSERT_EQUAL(
		gg_create(&g, 1, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64), OK);
	CU_ASSERT_EQUAL(
		gg_create(&g, 2, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 65, 64), OK);
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 10, 10, 1, 0, 0), OK);
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 10, 10, 9, 0, 0), ERR_ID);
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 10, 10, 2, 0, 0), ERR_PARM);
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 10, 10, 1, 64, 0), ERR_PARM);
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 1, 10, 10, 1, 0, 0), ERR_SID);
	CU_ASSERT_EQUAL(gg_cursor(&g, false, 1, 10, 10, 0, 0, 0), ERR_SID);
	CU_ASSERT_EQUAL(gg_cursor(&g, false, 0, 0xffffffffu, 3, 0, 0, 0), OK);
	CU_ASSERT_EQUAL(gg_cursor(&g, true, 0, 0, 0, 0, 0, 0), OK); /* hide */
	/* A control command on the cursor queue. */
	struct virtio_gpu_update_cursor c = {
		.hdr = {.type = htole32(VIRTIO_GPU_CMD_RESOURCE_FLUSH)}};
	CU_ASSERT_EQUAL(gg_cursor_cmd(&g, &c, sizeof c, 24), ERR_UNSP);
	/* As the spec has it: no response buffer, nothing written. */
	c.hdr.type = htole32(VIRTIO_GPU_CMD_MOVE_CURSOR);
	CU_ASSERT_EQUAL(gg_cursor_cmd(&g, &c, sizeof c, 0), 0);
	CU_ASSERT_EQUAL(g.used_len, 0);
	CU_ASSERT_FALSE(needs_reset(&g));
	/* Too short for a cursor command: the driver is broken. */
	CU_ASSERT_EQUAL(gg_cursor_cmd(&g, &c, 40, 0), 0);
	CU_ASSERT(needs_reset(&g));
	stop(&g);
}

/* Chains too short for their request or response: NEEDS_RESET; after a
 * driver reset the device works again, with no resource left. */
static void test_short_chains(void)
{
	struct gg g;
	start(&g, "");
	CU_ASSERT_EQUAL(gg_create(&g, 1, XRGB, 16, 16), OK);
	struct virtio_gpu_ctrl_hdr h = {
		.type = htole32(VIRTIO_GPU_CMD_GET_DISPLAY_INFO)};
	/* Room for a header but not for the display info. */
	CU_ASSERT_EQUAL(gg_cmd(&g, &h, sizeof h, 24), 0);
	CU_ASSERT_EQUAL(g.used_len, 0);
	CU_ASSERT(needs_reset(&g));

	CU_ASSERT_EQUAL_FATAL(hvd_guest_reset(g.d), 0);
	CU_ASSERT_EQUAL_FATAL(gg_up(&g), 0);
	CU_ASSERT_FALSE(needs_reset(&g));
	CU_ASSERT_EQUAL(gg_create(&g, 1, XRGB, 16, 16), OK); /* id free */
	/* A request shorter than its command's layout. */
	struct virtio_gpu_resource_create_2d c = {
		.hdr = {.type = htole32(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D)}};
	CU_ASSERT_EQUAL(gg_cmd(&g, &c, sizeof c - 4, 24), 0);
	CU_ASSERT(needs_reset(&g));

	CU_ASSERT_EQUAL_FATAL(hvd_guest_reset(g.d), 0);
	CU_ASSERT_EQUAL_FATAL(gg_up(&g), 0);
	/* Shorter than a header; then no response buffer at all. */
	CU_ASSERT_EQUAL(gg_cmd(&g, &h, 8, 24), 0);
	CU_ASSERT(needs_reset(&g));
	CU_ASSERT_EQUAL_FATAL(hvd_guest_reset(g.d), 0);
	CU_ASSERT_EQUAL_FATAL(gg_up(&g), 0);
	CU_ASSERT_EQUAL(gg_unref(&g, 1), ERR_ID);
	CU_ASSERT_EQUAL(gg_cmd(&g, &c, sizeof c, 0), 0);
	CU_ASSERT(needs_reset(&g));
	stop(&g);
}

/* `hvisor virtio start` on a gpu device with `extra` members: exit code 1,
 * `want` in the output and the device's JSON path. A plugin's own checks
 * name the key after the device ("zone1 gpu@0xa003400: backend: ..."),
 * the daemon the device's path; the getters' messages have the full
 * path. */
static void expect_refused(const char *extra, const char *want)
{
	char dev[1024];
	snprintf(dev, sizeof dev,
		 "{\"type\": \"gpu\", \"addr\": \"0xa003400\", \"len\": "
		 "\"0x200\", \"irq\": 74%s}",
		 extra);
	const char *out = expect_config_refused(gg_tmpdir(), dev, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "zones[0].devices[0]"));
}

static void test_bad_config(void)
{
	expect_refused(", \"width\": 1280, \"height\": 800, \"backend\": "
		       "\"sdl\"",
		       "gpu@0xa003400: backend: \"sdl\" is not one of "
		       "\"headless\"");
	expect_refused(", \"height\": 800", "gpu@0xa003400: width: required");
	expect_refused(", \"width\": 800", "gpu@0xa003400: height: required");
	expect_refused(", \"width\": 8, \"height\": 800",
		       "zones[0].devices[0].width:");
	expect_refused(", \"width\": 1280, \"height\": 800, \"scanouts\": 17",
		       "zones[0].devices[0].scanouts:");
	expect_refused(", \"width\": 1280, \"height\": 800, \"scanouts\": 0",
		       "zones[0].devices[0].scanouts:");
	expect_refused(", \"width\": 1280, \"height\": 800, \"max_memory\": "
		       "\"lots\"",
		       "zones[0].devices[0].max_memory:");
	expect_refused(", \"width\": 1280, \"height\": 800, \"colour\": 1",
		       "zones[0].devices[0].colour");
	/* Keys of one backend are refused with another. */
	expect_refused(", \"width\": 1280, \"height\": 800, \"backend\": "
		       "\"headless\", \"card\": \"/dev/dri/card0\"",
		       "zones[0].devices[0].card: only for backend \"drm\", "
		       "not \"headless\"");
#ifdef HVD_GPU_DRM
	expect_refused(", \"width\": 1280, \"height\": 800, \"backend\": "
		       "\"drm\", \"card\": \"/dev/null\", \"snapshot\": "
		       "\"/tmp/x.ppm\"",
		       "zones[0].devices[0].snapshot: only for backend "
		       "\"headless\", not \"drm\"");
	expect_refused(", \"width\": 1280, \"height\": 800, \"backend\": "
		       "\"drm\", \"card\": \"/nonexistent/card0\"",
		       "zones[0].devices[0].card: /nonexistent/card0: No such "
		       "file or directory");
	/* A card without "backend" means drm; /dev/null is no KMS device. */
	expect_refused(", \"width\": 1280, \"height\": 800, \"card\": "
		       "\"/dev/null\"",
		       "zones[0].devices[0].card: /dev/null: not a KMS device");
#endif
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"bring-up: features and config space", test_bring_up},
		{"GET_DISPLAY_INFO", test_display_info},
		{"GET_EDID", test_edid},
		{"RESOURCE_CREATE_2D and UNREF", test_create_unref},
		{"max_memory bound", test_memory_bound},
		{"backing and transfer checks",
		 test_backing_and_transfer_checks},
		{"scanout and flush checks", test_scanout_and_flush_checks},
		{"unknown commands and fences", test_unknown_and_fence},
		{"cursor queue checks", test_cursor_checks},
		{"short chains need a reset", test_short_chains},
		{"bad configuration refused", test_bad_config},
		{NULL, NULL},
	};
	return cunit_run("gpu commands", tests);
}
