/* SPDX-License-Identifier: MIT */
/*
 * `remove` through the mock: two zones, zone 1's disk kept busy by a
 * second guest thread while zone 2's devices go with requests in flight.
 * Every write zone 2's guest saw acknowledged is in its image; the removed
 * window answers as "no device"; zone 1 sees no error and no reset.
 */
#include <pthread.h>

#include "ctl_guest.h"
#include "run_cmd.h"

#define ZONE2_RAM   0x60000000ull /* where zone 0 maps zone 2's RAM */
#define CON_BASE    0xa003800ull
#define CON_IRQ     76u
#define INFLIGHT    64u
#define BUSY_SECTOR 64u

struct world {
	struct blkt z1, z2; /* z2.fx unused: one daemon serves both */
	struct fixture fx;
	char sock[100];
	char schema[512];
};

/* Zone 2's part of the config: its RAM, a blk and a console. */
static void zone2_json(const struct world *w, char *out, size_t size)
{
	snprintf(out, size,
		 "{\"id\": 2, \"memory_region\": [{\"zone0_ipa\": \"0x%llx\", "
		 "\"zonex_ipa\": \"0x50000000\", \"size\": \"0x1000000\"}], "
		 "\"devices\": [{\"type\": \"blk\", \"addr\": \"0xa003c00\", "
		 "\"len\": \"0x200\", \"irq\": 77, \"img\": \"%s\"}, {\"type\":"
		 " \"console\", \"addr\": \"0xa003800\", \"len\": \"0x200\", "
		 "\"irq\": 76, \"backend\": \"pty\"}]}",
		 ZONE2_RAM, w->z2.img);
}

/* Zone 1 with a blk; zone 2 (blk + console) too when with_zone2. */
static void world_start(struct world *w, bool with_zone2)
{
	memset(w, 0, sizeof *w);
	blkt_make_image(&w->z1, 1 << 20, 0);
	blkt_make_image(&w->z2, 1 << 20, 0);
	snprintf(w->sock, sizeof w->sock, "%s/control.sock", w->z1.dir);
	snprintf(w->schema, sizeof w->schema, "%s/docs/control-schema.json",
		 getenv("HVISOR_TEST_SOURCE_DIR"));
	w->fx.mock = hvd_mock_new();
	CU_ASSERT_FATAL(w->fx.mock != NULL);
	CU_ASSERT_FATAL(hvd_mock_add_ram(w->fx.mock, 1, 0x50000000, 0x50000000,
					 0x1000000) == 0);
	CU_ASSERT_FATAL(hvd_mock_add_ram(w->fx.mock, 2, ZONE2_RAM, 0x50000000,
					 0x1000000) == 0);
	char z2[1024], json[2048];
	zone2_json(w, z2, sizeof z2);
	snprintf(json, sizeof json,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\":"
		 " \"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x1000000\"}], \"devices\": [{\"type\": \"blk\", \"addr\": "
		 "\"0xa003c00\", \"len\": \"0x200\", \"irq\": 77, \"img\": "
		 "\"%s\"}]}%s%s]}",
		 w->z1.img, with_zone2 ? ", " : "", with_zone2 ? z2 : "");
	w->fx.control_path = w->sock;
	CU_ASSERT_FATAL(fixture_start_with_mock(&w->fx, json) == 0);
	w->z1.gd = hvd_guest_open(w->fx.mock, 1, BLK_BASE, BLK_IRQ);
	w->z2.gd = hvd_guest_open(w->fx.mock, 2, BLK_BASE, BLK_IRQ);
	CU_ASSERT_FATAL(w->z1.gd && w->z2.gd);
	blkt_bring_up(&w->z1, F_V1, 1, 256);
	if (with_zone2)
		blkt_bring_up(&w->z2, F_V1, 1, 256);
}

static void world_stop(struct world *w)
{
	hvd_guest_close(w->z1.gd);
	hvd_guest_close(w->z2.gd);
	w->z1.gd = w->z2.gd = NULL;
	fixture_stop(&w->fx);
	w->z1.fx.mock = w->z2.fx.mock = NULL; /* blkt_teardown: files only */
	blkt_teardown(&w->z1);
	blkt_teardown(&w->z2);
}

static cJSON *call(struct world *w, const char *line)
{
	return ct_call_at(w->sock, line);
}

/* Zone 1's guest: writes and reads back until told to stop. */
struct busy {
	struct blkt *t;
	bool stop; /* atomic */
	unsigned ops, failures;
};

static void *busy_guest(void *arg)
{
	struct busy *b = arg;
	uint8_t out[SECTOR], in[SECTOR];
	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		memset(out, (int)(b->ops & 0xff), sizeof out);
		if (blk_io(b->t, VIRTIO_BLK_T_OUT, BUSY_SECTOR, out, SECTOR) !=
			    VIRTIO_BLK_S_OK ||
		    blk_io(b->t, VIRTIO_BLK_T_IN, BUSY_SECTOR, in, SECTOR) !=
			    VIRTIO_BLK_S_OK ||
		    memcmp(in, out, SECTOR) != 0)
			b->failures++;
		__atomic_add_fetch(&b->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* A few more of zone 1's requests after everything else, then stop it:
 * none failed, its device never needed a reset. */
static void busy_stop(struct world *w, struct busy *b, pthread_t th)
{
	unsigned before = __atomic_load_n(&b->ops, __ATOMIC_RELAXED);
	while (__atomic_load_n(&b->ops, __ATOMIC_RELAXED) < before + 4)
		sched_yield();
	__atomic_store_n(&b->stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(b->failures, 0);
	CU_ASSERT_FALSE(hvd_guest_status(w->z1.gd) &
			VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_remove_in_flight(void)
{
	struct world w;
	world_start(&w, true);
	struct busy b = {.t = &w.z1};
	pthread_t th;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, busy_guest, &b) == 0);

	/* Zone 2: INFLIGHT writes queued at once, then the removal. */
	static struct treq reqs[INFLIGHT];
	for (unsigned i = 0; i < INFLIGHT; i++) {
		treq_init(&w.z2, &reqs[i], VIRTIO_BLK_T_OUT, i * 8ull, 4096);
		memset(reqs[i].data, (int)(i + 1), 4096);
		CU_ASSERT_FATAL(treq_add(&w.z2, 0, &reqs[i], false) >= 0);
	}
	hvd_guest_vq_kick(w.z2.vq[0]);
	/* The device has started on them: one is complete. */
	void *token;
	uint32_t len;
	CU_ASSERT_FATAL(hvd_guest_vq_wait_used(w.z2.vq[0], &token, &len,
					       FIX_TIMEOUT_MS) == 0);
	struct treq *first = token;
	cJSON *r = call(&w, "{\"api\": 1, \"cmd\": \"remove\", \"zone\": 2, "
			    "\"addr\": \"0xa003c00\"}\n");
	CU_ASSERT(schema_valid(w.schema, "remove_reply", r));
	CU_ASSERT_EQUAL(ct_num(r, "removed"), 1);
	cJSON_Delete(r);

	/* Every write the guest saw acknowledged is in the image. */
	unsigned acked = 0;
	for (struct treq *q = first; q;
	     q = hvd_guest_vq_get_used(w.z2.vq[0], &token, &len) == 1 ? token
								      : NULL) {
		CU_ASSERT_EQUAL(*q->status, VIRTIO_BLK_S_OK);
		uint8_t got[4096];
		file_read(&w.z2, le64toh(q->hdr->sector) * SECTOR, got,
			  sizeof got);
		CU_ASSERT(all_bytes(got, sizeof got, q->data[0]));
		acked++;
	}
	printf("(%u of %u acknowledged) ", acked, INFLIGHT);

	/* The window now says "no device". */
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_MAGIC_VALUE),
			0x74726976u);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_VERSION), 2);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_DEVICE_ID), 0);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_STATUS), 0);
	/* Writes are ignored: the driver cannot bring anything up there. */
	hvd_guest_reg_write(w.z2.gd, VIRTIO_MMIO_STATUS,
			    VIRTIO_CONFIG_S_ACKNOWLEDGE);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_STATUS), 0);

	/* The zone keeps its RAM while its console stays. */
	r = call(&w, "{\"api\": 1, \"cmd\": \"list\", \"zone\": 2}\n");
	CU_ASSERT(schema_valid(w.schema, "list_reply", r));
	const cJSON *z = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "zones"), 0);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(z, "devices")),
			1);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(z, "memory")),
			1);
	cJSON_Delete(r);
	/* The rest of zone 2: RAM unmapped with its last device. */
	r = call(&w, "{\"api\": 1, \"cmd\": \"remove\", \"zone\": 2}\n");
	CU_ASSERT_EQUAL(ct_num(r, "removed"), 1);
	cJSON_Delete(r);
	r = call(&w, "{\"api\": 1, \"cmd\": \"list\", \"zone\": 2}\n");
	z = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "zones"), 0);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(z, "devices")),
			0);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(z, "memory")),
			0);
	cJSON_Delete(r);

	/* Zone 1 went on throughout. */
	busy_stop(&w, &b, th);
	r = call(&w, "{\"api\": 1, \"cmd\": \"stats\", \"zone\": 1}\n");
	CU_ASSERT_EQUAL(ct_num(ct_queue0(r), "requests"), 2.0 * b.ops);
	CU_ASSERT_EQUAL(
		ct_num(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "devices"), 0),
		       "needs_reset_events"),
		0);
	cJSON_Delete(r);
	world_stop(&w);
}

static void test_remove_errors(void)
{
	static const struct {
		const char *line, *error;
	} bad[] = {
		{"{\"api\": 1, \"cmd\": \"remove\"}\n", "zone: required"},
		{"{\"api\": 1, \"cmd\": \"remove\", \"zone\": 7}\n",
		 "zone 7 has no devices"},
		{"{\"api\": 1, \"cmd\": \"remove\", \"zone\": 1, \"addr\": "
		 "\"0xa003e00\"}\n",
		 "zone 1 has no device at 0xa003e00"},
	};
	struct world w;
	world_start(&w, true);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cJSON *r = call(&w, bad[i].line);
		CU_ASSERT(ct_error_has(r, bad[i].error));
		cJSON_Delete(r);
	}
	/* Nothing changed: both zones still serve. */
	CU_ASSERT_EQUAL(blk_io(&w.z1, VIRTIO_BLK_T_IN, 0, NULL, SECTOR),
			VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(blk_io(&w.z2, VIRTIO_BLK_T_IN, 0, NULL, SECTOR),
			VIRTIO_BLK_S_OK);
	/* Removing twice: the second finds nothing. */
	cJSON_Delete(
		call(&w, "{\"api\": 1, \"cmd\": \"remove\", \"zone\": 2}\n"));
	cJSON *r = call(&w, "{\"api\": 1, \"cmd\": \"remove\", \"zone\": 2}\n");
	CU_ASSERT(ct_error_has(r, "zone 2 has no devices"));
	cJSON_Delete(r);
	world_stop(&w);
}

/* The add request for `zones` (a JSON array body) as one line. */
static cJSON *add(struct world *w, const char *zones)
{
	char text[4096];
	snprintf(text, sizeof text, "// added by the test\n{\"zones\": [%s]}",
		 zones);
	cJSON *req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "api", 1);
	cJSON_AddStringToObject(req, "cmd", "add");
	cJSON_AddStringToObject(req, "source", "new.json");
	cJSON_AddStringToObject(req, "config", text);
	char *line = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	char buf[8192];
	snprintf(buf, sizeof buf, "%s\n", line);
	free(line);
	return call(w, buf);
}

static int zone_devices(struct world *w, unsigned zone)
{
	char line[128];
	snprintf(line, sizeof line,
		 "{\"api\": 1, \"cmd\": \"list\", \"zone\": %u}\n", zone);
	cJSON *r = call(w, line);
	const cJSON *z = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "zones"), 0);
	int n = z ? cJSON_GetArraySize(cJSON_GetObjectItem(z, "devices")) : -1;
	cJSON_Delete(r);
	return n;
}

/* Zone 2 arrives (RAM, blk, console) through `hvisor virtio add` while
 * zone 1's guest keeps its disk busy; its guest then probes and uses the
 * new disk. */
static void test_add_zone_while_busy(void)
{
	struct world w;
	world_start(&w, false);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_MAGIC_VALUE),
			0);
	struct busy b = {.t = &w.z1};
	pthread_t th;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, busy_guest, &b) == 0);

	char z2[1024], file[128], cmd[512];
	zone2_json(&w, z2, sizeof z2);
	snprintf(file, sizeof file, "%s/zone2.json", w.z1.dir);
	FILE *f = fopen(file, "w");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "// zone 2 joins\n{\"zones\": [%s]}\n", z2);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s virtio add %s --control %s",
		 getenv("HVISOR_BIN"), file, w.sock);
	char *out;
	CU_ASSERT_EQUAL(run_cmd(cmd, &out), 0);
	CU_ASSERT(strstr(out, "added 2 device(s) in 1 zone(s)") != NULL);

	/* Zone 2's guest probes: a disk that works, and a console. */
	blkt_bring_up(&w.z2, F_V1, 1, 256);
	uint8_t data[SECTOR], back[SECTOR];
	memset(data, 0x5c, sizeof data);
	CU_ASSERT_EQUAL(blk_io(&w.z2, VIRTIO_BLK_T_OUT, 3, data, SECTOR),
			VIRTIO_BLK_S_OK);
	file_read(&w.z2, 3 * SECTOR, back, SECTOR);
	CU_ASSERT(all_bytes(back, SECTOR, 0x5c));
	struct hvd_guest_dev *con =
		hvd_guest_open(w.fx.mock, 2, CON_BASE, CON_IRQ);
	CU_ASSERT_EQUAL(hvd_guest_probe(con), VIRTIO_ID_CONSOLE);
	hvd_guest_close(con);

	busy_stop(&w, &b, th);
	CU_ASSERT(hvd_guest_status(w.z1.gd) & VIRTIO_CONFIG_S_DRIVER_OK);
	unlink(file);
	world_stop(&w);
}

/* Each invalid add is refused with its JSON path; nothing changes. */
static void test_add_errors(void)
{
	struct world w;
	world_start(&w, false);
	char ok2[1024], zones[2048];
	zone2_json(&w, ok2, sizeof ok2);
	static const struct {
		const char *zones, *error;
	} bad[] = {
		{"{\"id\": 2, \"memory_region\": [{\"zone0_ipa\": "
		 "\"0x60000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x1000000\"}], \"devices\": [{\"type\": \"rng\", "
		 "\"addr\": \"0xa003e00\", \"len\": \"0x200\", \"irq\": "
		 "\"x\"}]}",
		 "zones[0].devices[0].irq"},
		{"{\"id\": 2, \"memory_region\": [{\"zone0_ipa\": "
		 "\"0x60000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x1000000\"}], \"devices\": [{\"type\": \"nosuch\", "
		 "\"addr\": \"0xa003e00\", \"len\": \"0x200\", \"irq\": 3}]}",
		 "zones[0].devices[0]: no plugin provides device type "
		 "'nosuch'"},
		{"{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		 "\"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x1000000\"}], \"devices\": [{\"type\": \"rng\", "
		 "\"addr\": \"0xa003d00\", \"len\": \"0x200\", \"irq\": 3}]}",
		 "zones[0].devices[0].addr: 0xa003d00+0x200 overlaps the blk "
		 "device at 0xa003c00 of running zone 1"},
		{"{\"id\": 1, \"memory_region\": [{\"zone0_ipa\": "
		 "\"0x50000000\", \"zonex_ipa\": \"0x40000000\", \"size\": "
		 "\"0x1000\"}], \"devices\": [{\"type\": \"rng\", "
		 "\"addr\": \"0xa003e00\", \"len\": \"0x200\", \"irq\": 3}]}",
		 "zones[0].memory_region[0]: zone 1 is running with other RAM"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cJSON *r = add(&w, bad[i].zones);
		CU_ASSERT(ct_error_has(r, bad[i].error));
		cJSON_Delete(r);
	}
	/* A valid zone 2 with a zone 3 whose disk cannot open: neither. */
	snprintf(zones, sizeof zones,
		 "%s, {\"id\": 3, \"memory_region\": [{\"zone0_ipa\": "
		 "\"0x60000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x1000000\"}], \"devices\": [{\"type\": \"blk\", "
		 "\"addr\": \"0xa003c00\", \"len\": \"0x200\", \"irq\": 77,"
		 " \"img\": \"/nonexistent/disk.img\"}]}",
		 ok2);
	cJSON *r = add(&w, zones);
	CU_ASSERT(ct_error_has(r, "/nonexistent/disk.img"));
	CU_ASSERT(ct_error_has(r, "zones[1].devices[0]: zone3 blk@0xa003c00: "
				  "device creation failed"));
	cJSON_Delete(r);
	CU_ASSERT_EQUAL(zone_devices(&w, 2), -1);
	CU_ASSERT_EQUAL(zone_devices(&w, 1), 1);
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_MAGIC_VALUE),
			0);
	/* Zone 1 untouched. */
	CU_ASSERT_EQUAL(blk_io(&w.z1, VIRTIO_BLK_T_IN, 0, NULL, SECTOR),
			VIRTIO_BLK_S_OK);
	/* The same zone 2 alone is fine; adding it twice is not. */
	r = add(&w, ok2);
	CU_ASSERT(ct_ok(r));
	CU_ASSERT(schema_valid(w.schema, "add_reply", r));
	cJSON_Delete(r);
	r = add(&w, ok2);
	CU_ASSERT(ct_error_has(r, "overlaps the blk device at 0xa003c00 of "
				  "running zone 2"));
	cJSON_Delete(r);
	world_stop(&w);
}

/* A removed device comes back at the same address; its zone's RAM, gone
 * with its last device, is mapped again. */
static void test_remove_then_add(void)
{
	struct world w;
	world_start(&w, true);
	cJSON_Delete(call(&w, "{\"api\": 1, \"cmd\": \"remove\", \"zone\": "
			      "2}\n"));
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_DEVICE_ID), 0);
	char z2[1024];
	zone2_json(&w, z2, sizeof z2);
	cJSON *r = add(&w, z2);
	CU_ASSERT(ct_ok(r));
	cJSON_Delete(r);
	CU_ASSERT_EQUAL(zone_devices(&w, 2), 2);
	/* The guest driver starts over on the new device. */
	hvd_guest_close(w.z2.gd);
	w.z2.gd = hvd_guest_open(w.fx.mock, 2, BLK_BASE, BLK_IRQ);
	blkt_bring_up(&w.z2, F_V1, 1, 256);
	uint8_t data[SECTOR];
	memset(data, 0x77, sizeof data);
	CU_ASSERT_EQUAL(blk_io(&w.z2, VIRTIO_BLK_T_OUT, 9, data, SECTOR),
			VIRTIO_BLK_S_OK);
	uint8_t back[SECTOR];
	file_read(&w.z2, 9 * SECTOR, back, SECTOR);
	CU_ASSERT(all_bytes(back, SECTOR, 0x77));
	world_stop(&w);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"remove with requests in flight, other zone busy",
		 test_remove_in_flight},
		{"remove error replies change nothing", test_remove_errors},
		{"add a zone while another is busy", test_add_zone_while_busy},
		{"add errors change nothing", test_add_errors},
		{"remove then add again", test_remove_then_add},
		{NULL, NULL},
	};
	return cunit_run("control_hotplug", tests);
}
