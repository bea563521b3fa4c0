/* SPDX-License-Identifier: MIT */
/*
 * Tests of the virtio-input example, using only the installed SDK: the
 * mock harness (libhvd-mock) runs the installed `hvisor` daemon, which loads
 * the plugin from this build's folder, and plays the guest driver.
 *
 * Environment (set by meson.build): HVISOR_BIN, the daemon;
 * INPUT_PLUGIN_DIR, the folder holding libhvd-input.so.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <linux/input.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_input.h>

#include <hvd/mock.h>

#define ZONE       1u
#define RAM_BASE   0x50000000ull
#define RAM_SIZE   0x1000000ull
#define KBD_BASE   0xa003c00ull
#define KBD_IRQ    79u
#define TIMEOUT_MS 5000

/* Config space offsets (struct virtio_input_config). */
#define CFG_SELECT offsetof(struct virtio_input_config, select)
#define CFG_SUBSEL offsetof(struct virtio_input_config, subsel)
#define CFG_SIZE   offsetof(struct virtio_input_config, size)
#define CFG_U      offsetof(struct virtio_input_config, u)

static char tmpdir[64];
static char fifo_path[128], status_path[128], config_path[128];

/* One running daemon with the keyboard and a guest driver bound to it. */
struct rig {
	struct hvd_mock *mock;
	struct hvd_guest_dev *dev;
	struct hvd_guest_vq *eventq, *statusq;
};

static const char *env_or_fail(const char *name)
{
	const char *v = getenv(name);
	if (!v)
		fprintf(stderr, "\n  %s is not set (run through meson test)\n",
			name);
	return v;
}

static void write_config(const char *device_extra)
{
	FILE *f = fopen(config_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f,
		"{\"zones\": [{\"id\": %u, \"memory_region\": [{\"zone0_ipa\": "
		"\"0x%llx\", \"zonex_ipa\": \"0x%llx\", \"size\": \"0x%llx\"}],"
		" \"devices\": [{\"type\": \"input\", \"addr\": \"0x%llx\", "
		"\"len\": \"0x200\", \"irq\": %u%s}]}]}\n",
		ZONE, RAM_BASE, RAM_BASE, RAM_SIZE, KBD_BASE, KBD_IRQ,
		device_extra);
	fclose(f);
}

/* Start the daemon serving the default keyboard and bring the driver up to
 * DRIVER_OK with both queues. */
static void rig_start(struct rig *r)
{
	char extra[512];
	uint64_t features = 0;

	memset(r, 0, sizeof *r);
	unlink(status_path); /* each test sees only its own records */
	snprintf(extra, sizeof extra,
		 ", \"name\": \"test keyboard\", \"serial\": \"SN-42\", "
		 "\"source\": \"%s\", \"status_out\": \"%s\"",
		 fifo_path, status_path);
	write_config(extra);
	r->mock = hvd_mock_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->mock);
	CU_ASSERT_EQUAL_FATAL(
		hvd_mock_add_ram(r->mock, ZONE, RAM_BASE, RAM_BASE, RAM_SIZE),
		0);
	char *const argv[] = {(char *)getenv("HVISOR_BIN"),
			      "virtio",
			      "start",
			      "--foreground",
			      "--plugin-dir",
			      (char *)getenv("INPUT_PLUGIN_DIR"),
			      config_path,
			      NULL};
	CU_ASSERT_EQUAL_FATAL(hvd_mock_spawn(r->mock, argv, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(hvd_mock_wait_ready(r->mock, TIMEOUT_MS), 0);
	r->dev = hvd_guest_open(r->mock, ZONE, KBD_BASE, KBD_IRQ);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->dev);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_probe(r->dev), VIRTIO_ID_INPUT);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_negotiate(r->dev,
						  1ull << VIRTIO_F_VERSION_1,
						  &features),
			      0);
	CU_ASSERT_EQUAL(features, 1ull << VIRTIO_F_VERSION_1);
	r->eventq = hvd_guest_vq_setup(r->dev, 0, 64);
	r->statusq = hvd_guest_vq_setup(r->dev, 1, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->eventq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->statusq);
	CU_ASSERT_EQUAL_FATAL(hvd_guest_driver_ok(r->dev), 0);
}

static void rig_stop(struct rig *r)
{
	int status = -1;
	hvd_guest_close(r->dev);
	CU_ASSERT_EQUAL(
		hvd_mock_stop_child(r->mock, SIGTERM, TIMEOUT_MS, &status), 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	hvd_mock_free(r->mock);
}

/* Post `n` device-writable buffers of `len` bytes on the eventq; the token
 * of each is its host pointer. */
static void post_event_buffers(struct rig *r, unsigned n, uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		void *ptr;
		uint64_t gpa = hvd_guest_alloc(r->dev, len, 8, &ptr);
		struct hvd_guest_buf b = {
			.gpa = gpa, .len = len, .device_writes = true};
		CU_ASSERT_NOT_EQUAL_FATAL(gpa, 0);
		memset(ptr, 0xee, len);
		CU_ASSERT_FATAL(
			hvd_guest_vq_add(r->eventq, &b, 1, false, ptr) >= 0);
	}
	CU_ASSERT(hvd_guest_vq_kick(r->eventq) >= 0);
}

static void feed(const char *text)
{
	/* The daemon holds the FIFO open, so this never blocks or fails for
	 * want of a reader. */
	int fd = open(fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Wait for the next used eventq buffer and check the event in it. */
static void expect_event(struct rig *r, uint16_t type, uint16_t code,
			 uint32_t value)
{
	struct virtio_input_event *ev = NULL;
	uint32_t len = 0;

	CU_ASSERT_EQUAL_FATAL(hvd_guest_vq_wait_used(r->eventq, (void **)&ev,
						     &len, TIMEOUT_MS),
			      0);
	CU_ASSERT_EQUAL(len, sizeof *ev);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	if (le16toh(ev->type) != type || le16toh(ev->code) != code ||
	    le32toh(ev->value) != value)
		fprintf(stderr, "\n  expected event %u %u %u, got %u %u %u\n",
			type, code, value, le16toh(ev->type), le16toh(ev->code),
			le32toh(ev->value));
	CU_ASSERT_EQUAL(le16toh(ev->type), type);
	CU_ASSERT_EQUAL(le16toh(ev->code), code);
	CU_ASSERT_EQUAL(le32toh(ev->value), value);
}

static unsigned config_select(struct rig *r, uint8_t select, uint8_t subsel)
{
	CU_ASSERT_EQUAL(hvd_guest_config_write(r->dev, CFG_SELECT, 1, select),
			0);
	CU_ASSERT_EQUAL(hvd_guest_config_write(r->dev, CFG_SUBSEL, 1, subsel),
			0);
	return (unsigned)hvd_guest_config_read(r->dev, CFG_SIZE, 1);
}

static uint8_t config_u8(struct rig *r, unsigned index)
{
	return (uint8_t)hvd_guest_config_read(r->dev, CFG_U + index, 1);
}

static void expect_string(struct rig *r, uint8_t select, const char *want)
{
	unsigned size = config_select(r, select, 0);
	char got[129] = {0};

	CU_ASSERT_EQUAL(size, strlen(want));
	for (unsigned i = 0; i < size && i < 128; i++)
		got[i] = (char)config_u8(r, i);
	CU_ASSERT_STRING_EQUAL(got, want);
}

static bool config_bit(struct rig *r, unsigned bit)
{
	return config_u8(r, bit / 8) & (1u << (bit % 8));
}

/* ---- Tests -------------------------------------------------------------- */

static void test_config_space(void)
{
	struct rig r;
	rig_start(&r);

	expect_string(&r, VIRTIO_INPUT_CFG_ID_NAME, "test keyboard");
	expect_string(&r, VIRTIO_INPUT_CFG_ID_SERIAL, "SN-42");
	/* A non-zero subsel selects nothing for the id strings. */
	CU_ASSERT_EQUAL(config_select(&r, VIRTIO_INPUT_CFG_ID_NAME, 1), 0);

	CU_ASSERT_EQUAL(config_select(&r, VIRTIO_INPUT_CFG_ID_DEVIDS, 0), 8);
	CU_ASSERT_EQUAL(hvd_guest_config_read(r.dev, CFG_U, 2), BUS_VIRTUAL);

	/* Keys: KEY_ESC..KEY_MICMUTE, so the bitmap ends in byte 31. */
	CU_ASSERT_EQUAL(config_select(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY),
			KEY_MICMUTE / 8 + 1);
	CU_ASSERT_FALSE(config_bit(&r, KEY_RESERVED));
	CU_ASSERT_TRUE(config_bit(&r, KEY_ESC));
	CU_ASSERT_TRUE(config_bit(&r, KEY_A));
	CU_ASSERT_TRUE(config_bit(&r, KEY_MICMUTE));

	CU_ASSERT_EQUAL(config_select(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_LED), 1);
	CU_ASSERT_EQUAL(config_u8(&r, 0), (1u << LED_NUML) | (1u << LED_CAPSL) |
						  (1u << LED_SCROLLL));

	/* Unsupported combinations report size 0 and a zeroed union. */
	CU_ASSERT_EQUAL(config_select(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_REL), 0);
	CU_ASSERT_EQUAL(config_u8(&r, 0), 0);
	CU_ASSERT_EQUAL(config_select(&r, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X), 0);
	CU_ASSERT_EQUAL(config_select(&r, VIRTIO_INPUT_CFG_PROP_BITS, 0), 0);
	CU_ASSERT_EQUAL(config_select(&r, VIRTIO_INPUT_CFG_UNSET, 0), 0);
	CU_ASSERT_EQUAL(config_select(&r, 0x7f, 0), 0);

	/* `size` is read-only: writing it changes nothing. */
	config_select(&r, VIRTIO_INPUT_CFG_ID_DEVIDS, 0);
	CU_ASSERT_EQUAL(hvd_guest_config_write(r.dev, CFG_SIZE, 1, 99), 0);
	CU_ASSERT_EQUAL(hvd_guest_config_read(r.dev, CFG_SIZE, 1), 8);
	rig_stop(&r);
}

static void test_keys_reach_the_guest(void)
{
	struct rig r;
	rig_start(&r);
	post_event_buffers(&r, 4, sizeof(struct virtio_input_event));
	feed("1 30 1\n0 0 0\n"
	     "# comments and blank lines are skipped\n\n"
	     "0x1 0x1e 0\n0 0 0\n");
	expect_event(&r, EV_KEY, KEY_A, 1);
	expect_event(&r, EV_SYN, SYN_REPORT, 0);
	expect_event(&r, EV_KEY, KEY_A, 0);
	expect_event(&r, EV_SYN, SYN_REPORT, 0);
	rig_stop(&r);
}

/* A report longer than the posted buffers waits for more; order holds. */
static void test_report_waits_for_buffers(void)
{
	struct rig r;
	rig_start(&r);
	post_event_buffers(&r, 1, sizeof(struct virtio_input_event));
	feed("1 42 1\n1 30 1\n0 0 0\n");
	expect_event(&r, EV_KEY, KEY_LEFTSHIFT, 1);
	void *token;
	uint32_t len;
	CU_ASSERT_EQUAL(hvd_guest_vq_get_used(r.eventq, &token, &len), 0);
	post_event_buffers(&r, 2, sizeof(struct virtio_input_event));
	expect_event(&r, EV_KEY, KEY_A, 1);
	expect_event(&r, EV_SYN, SYN_REPORT, 0);
	rig_stop(&r);
}

/* Lines that are not a supported event are skipped, the rest delivered. */
static void test_bad_lines_skipped(void)
{
	struct rig r;
	rig_start(&r);
	post_event_buffers(&r, 2, sizeof(struct virtio_input_event));
	feed("2 0 1\n"      /* EV_REL: not a keyboard event */
	     "1 0 1\n"      /* KEY_RESERVED */
	     "1 30 7\n"     /* not a key value */
	     "1 30 1 9\n"   /* trailing junk */
	     "key a down\n" /* not numbers */
	     "1 0x 1\n"     /* a bare 0x */
	     "1 048 1\n"    /* decimal, not octal: KEY_B */
	     "0 0 0\n");
	expect_event(&r, EV_KEY, KEY_B, 1);
	expect_event(&r, EV_SYN, SYN_REPORT, 0);
	rig_stop(&r);
}

static void test_led_status(void)
{
	struct rig r;
	rig_start(&r);
	struct virtio_input_event *ev;
	uint64_t gpa = hvd_guest_alloc(r.dev, sizeof *ev, 8, (void **)&ev);
	CU_ASSERT_NOT_EQUAL_FATAL(gpa, 0);
	ev->type = htole16(EV_LED);
	ev->code = htole16(LED_CAPSL);
	ev->value = htole32(1);
	struct hvd_guest_buf b = {.gpa = gpa, .len = sizeof *ev};
	CU_ASSERT_FATAL(hvd_guest_vq_add(r.statusq, &b, 1, false, ev) >= 0);
	CU_ASSERT(hvd_guest_vq_kick(r.statusq) >= 0);
	void *token = NULL;
	uint32_t len = 99;
	CU_ASSERT_EQUAL_FATAL(
		hvd_guest_vq_wait_used(r.statusq, &token, &len, TIMEOUT_MS), 0);
	CU_ASSERT_PTR_EQUAL(token, ev);
	CU_ASSERT_EQUAL(len, 0);

	char text[64] = {0};
	FILE *f = fopen(status_path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT(fread(text, 1, sizeof text - 1, f) > 0);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(text, "17 1 1\n");
	rig_stop(&r);
}

/* Post one eventq chain: a readable buffer, then a writable one. */
static void post_readable_then_writable(struct rig *r)
{
	struct hvd_guest_buf b[2];
	void *ptr;

	for (unsigned i = 0; i < 2; i++) {
		b[i].gpa = hvd_guest_alloc(r->dev, 8, 8, &ptr);
		b[i].len = 8;
		b[i].device_writes = i == 1;
		CU_ASSERT_NOT_EQUAL_FATAL(b[i].gpa, 0);
	}
	CU_ASSERT_FATAL(hvd_guest_vq_add(r->eventq, b, 2, false, ptr) >= 0);
	CU_ASSERT(hvd_guest_vq_kick(r->eventq) >= 0);
}

/* An eventq buffer that cannot hold an event, or that the device may not
 * write, is a driver bug: the device asks for a reset instead of writing
 * half an event. */
static void expect_needs_reset_for(void (*post)(struct rig *))
{
	struct rig r;
	rig_start(&r);
	uint64_t seen = hvd_guest_irq_count(r.dev);
	post(&r);
	feed("1 30 1\n0 0 0\n");
	CU_ASSERT_EQUAL_FATAL(hvd_guest_wait_irq(r.dev, seen, TIMEOUT_MS), 0);
	CU_ASSERT(hvd_guest_status(r.dev) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* After a reset the device works again. */
	CU_ASSERT_EQUAL(hvd_guest_reset(r.dev), 0);
	CU_ASSERT_EQUAL(hvd_guest_status(r.dev), 0);
	rig_stop(&r);
}

static void post_short_buffer(struct rig *r)
{
	post_event_buffers(r, 1, 4);
}

static void test_short_buffer_needs_reset(void)
{
	expect_needs_reset_for(post_short_buffer);
}

static void test_readable_buffer_needs_reset(void)
{
	expect_needs_reset_for(post_readable_then_writable);
}

/* Run the daemon on `config_path` expecting a refusal naming `needle`. */
static void expect_start_refused(const char *needle)
{
	struct hvd_mock *m = hvd_mock_new();
	char cmd[1024], out[8192] = {0};
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(
		hvd_mock_add_ram(m, ZONE, RAM_BASE, RAM_BASE, RAM_SIZE), 0);
	snprintf(cmd, sizeof cmd,
		 "HVISOR_MOCK=%s %s virtio start --foreground --plugin-dir %s "
		 "%s 2>&1",
		 hvd_mock_socket_path(m), getenv("HVISOR_BIN"),
		 getenv("INPUT_PLUGIN_DIR"), config_path);
	FILE *p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	if (!strstr(out, needle))
		fprintf(stderr, "\n  expected '%s' in:\n%s\n", needle, out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
	hvd_mock_free(m);
}

static void test_bad_configs_refused(void)
{
	char extra[256];

	write_config(", \"colour\": \"red\"");
	expect_start_refused("zones[0].devices[0].colour");
	write_config(", \"name\": 7");
	expect_start_refused("zones[0].devices[0].name");
	snprintf(extra, sizeof extra, ", \"source\": \"%s\"", config_path);
	write_config(extra);
	expect_start_refused("must be a FIFO or a character device");
	write_config(", \"source\": \"/nonexistent/fifo\"");
	expect_start_refused("/nonexistent/fifo");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"config space", test_config_space},
		{"keys reach the guest", test_keys_reach_the_guest},
		{"a report waits for buffers", test_report_waits_for_buffers},
		{"bad source lines are skipped", test_bad_lines_skipped},
		{"LED status is returned and recorded", test_led_status},
		{"short eventq buffer: needs reset",
		 test_short_buffer_needs_reset},
		{"readable eventq buffer: needs reset",
		 test_readable_buffer_needs_reset},
		{"bad configurations refused", test_bad_configs_refused},
	};
	unsigned failed;

	if (!env_or_fail("HVISOR_BIN") || !env_or_fail("INPUT_PLUGIN_DIR"))
		return 1;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/hvd-input-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(fifo_path, sizeof fifo_path, "%s/keys", tmpdir);
	snprintf(status_path, sizeof status_path, "%s/status", tmpdir);
	snprintf(config_path, sizeof config_path, "%s/virtio.json", tmpdir);
	if (mkfifo(fifo_path, 0600) != 0)
		return 1;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite suite = CU_add_suite("input", NULL, NULL);
	for (unsigned i = 0; suite && i < sizeof tests / sizeof *tests; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return 2;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();

	unlink(fifo_path);
	unlink(status_path);
	unlink(config_path);
	rmdir(tmpdir);
	return failed ? 1 : 0;
}
