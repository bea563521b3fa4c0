/* SPDX-License-Identifier: MIT */
/*
 * Feature negotiation against every device type (virtio 1.2 2.2.1/2.2.2):
 * a driver that accepts a bit the device never offered gets FEATURES_OK
 * refused (it reads back clear), whatever the plugin; the offer itself is
 * accepted. One daemon serves blk, net, console, rng, testdev, input,
 * scmi and gpu side by side; each test drives one of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_main.h"
#include "daemon_fixture.h"

#define IRQ_BASE 70u

/* Device i sits at BASE + i * 0x200 with irq IRQ_BASE + i. */
#define BASE 0xa000000ull
enum {
	DEV_BLK,
	DEV_NET,
	DEV_CONSOLE,
	DEV_RNG,
	DEV_TESTDEV,
	DEV_INPUT,
	DEV_SCMI,
	DEV_GPU
};

static struct fixture fx;
static char dir[64];

static int start(void)
{
	char img[96], devices[2048];
	snprintf(dir, sizeof dir, "/tmp/hvd-features-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(img, sizeof img, "%s/disk.img", dir);
	int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 1 << 20)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	char extra[DEV_GPU + 1][256] = {{0}};
	snprintf(extra[DEV_BLK], sizeof extra[0], ", \"img\": \"%s\"", img);
	snprintf(extra[DEV_NET], sizeof extra[0],
		 ", \"backend\": \"socket\", \"path\": \"%s/net\", "
		 "\"peer\": \"%s/peer\"",
		 dir, dir);
	snprintf(extra[DEV_CONSOLE], sizeof extra[0],
		 ", \"backend\": \"socket\", \"path\": \"%s/console\"", dir);
	snprintf(extra[DEV_GPU], sizeof extra[0],
		 ", \"width\": 640, \"height\": 480");
	static const char *const types[] = {"blk",  "net",     "console",
					    "rng",  "testdev", "input",
					    "scmi", "gpu"};
	size_t len = 0;
	for (unsigned i = 0; i <= DEV_GPU; i++)
		len += (size_t)snprintf(
			devices + len, sizeof devices - len,
			"%s{\"type\": \"%s\", \"addr\": \"0x%llx\", \"len\": "
			"\"0x200\", \"irq\": %u%s}",
			i ? ", " : "", types[i], BASE + i * 0x200ull,
			IRQ_BASE + i, extra[i]);
	return fixture_start(&fx, devices);
}

static void stop(void)
{
	fixture_stop(&fx);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CU_ASSERT(system(cmd) == 0);
}

static uint64_t offered(struct hvd_guest_dev *d)
{
	hvd_guest_reg_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = hvd_guest_reg_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
	hvd_guest_reg_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = hvd_guest_reg_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
	return hi << 32 | lo;
}

/* Reset, ACKNOWLEDGE | DRIVER, accept `f`, FEATURES_OK; the Status read
 * back afterwards. */
static uint32_t try_features(struct hvd_guest_dev *d, uint64_t f)
{
	const uint32_t drv =
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	hvd_guest_reg_write(d, VIRTIO_MMIO_STATUS, 0);
	hvd_guest_reg_write(d, VIRTIO_MMIO_STATUS, drv);
	hvd_guest_reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	hvd_guest_reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	hvd_guest_reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	hvd_guest_reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES,
			    (uint32_t)(f >> 32));
	hvd_guest_reg_write(d, VIRTIO_MMIO_STATUS,
			    drv | VIRTIO_CONFIG_S_FEATURES_OK);
	return hvd_guest_reg_read(d, VIRTIO_MMIO_STATUS);
}

static void check_device(unsigned i, uint32_t device_id)
{
	CU_ASSERT_FATAL(start() == 0);
	struct hvd_guest_dev *d =
		hvd_guest_open(fx.mock, 1, BASE + i * 0x200ull, IRQ_BASE + i);
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_EQUAL(hvd_guest_probe(d), (int)device_id);
	uint64_t offer = offered(d);
	CU_ASSERT((offer & (1ull << VIRTIO_F_VERSION_1)) != 0);

	/* Every bit: RING_PACKED (never offered) among them. */
	CU_ASSERT_EQUAL(offer & (1ull << VIRTIO_F_RING_PACKED), 0);
	CU_ASSERT_FALSE(try_features(d, ~0ull) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* Each single bit outside the offer, on top of the offer. */
	unsigned refused = 0, tried = 0;
	for (unsigned bit = 0; bit < 64; bit++) {
		if (offer & (1ull << bit))
			continue;
		tried++;
		uint32_t st = try_features(d, offer | (1ull << bit));
		if (!(st & VIRTIO_CONFIG_S_FEATURES_OK))
			refused++;
		else
			fprintf(stderr, "\n  bit %u accepted\n", bit);
	}
	CU_ASSERT(tried > 0);
	CU_ASSERT_EQUAL(refused, tried);
	/* DRIVER_OK cannot follow a refused FEATURES_OK. */
	hvd_guest_reg_write(d, VIRTIO_MMIO_STATUS,
			    VIRTIO_CONFIG_S_ACKNOWLEDGE |
				    VIRTIO_CONFIG_S_DRIVER |
				    VIRTIO_CONFIG_S_DRIVER_OK);
	CU_ASSERT_FALSE(hvd_guest_status(d) & VIRTIO_CONFIG_S_DRIVER_OK);

	/* A driver taking what was offered (as a real one does) gets in. */
	uint64_t got = 0;
	CU_ASSERT_EQUAL(hvd_guest_negotiate(d, ~0ull, &got), 0);
	CU_ASSERT_EQUAL(got & ~offer, 0);
	CU_ASSERT(hvd_guest_status(d) & VIRTIO_CONFIG_S_FEATURES_OK);
	hvd_guest_close(d);
	stop();
}

static void test_blk(void)
{
	check_device(DEV_BLK, VIRTIO_ID_BLOCK);
}

static void test_net(void)
{
	check_device(DEV_NET, VIRTIO_ID_NET);
}

static void test_console(void)
{
	check_device(DEV_CONSOLE, VIRTIO_ID_CONSOLE);
}

static void test_rng(void)
{
	check_device(DEV_RNG, VIRTIO_ID_RNG);
}

static void test_testdev(void)
{
	check_device(DEV_TESTDEV, 0xfff);
}

static void test_input(void)
{
	check_device(DEV_INPUT, VIRTIO_ID_INPUT);
}

static void test_scmi(void)
{
	check_device(DEV_SCMI, 32 /* VIRTIO_ID_SCMI */);
}

static void test_gpu(void)
{
	check_device(DEV_GPU, VIRTIO_ID_GPU);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"2.2.2 blk refuses features never offered", test_blk},
		{"2.2.2 net refuses features never offered", test_net},
		{"2.2.2 console refuses features never offered", test_console},
		{"2.2.2 rng refuses features never offered", test_rng},
		{"2.2.2 testdev refuses features never offered", test_testdev},
		{"2.2.2 input refuses features never offered", test_input},
		{"2.2.2 scmi refuses features never offered", test_scmi},
		{"2.2.2 gpu refuses features never offered", test_gpu},
		{NULL, NULL},
	};
	return cunit_run("features", tests);
}
