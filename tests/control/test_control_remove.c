/* SPDX-License-Identifier: MIT */
/*
 * `remove` through the mock: two zones, zone 1's disk kept busy by a
 * second guest thread while zone 2's devices go with requests in flight.
 * Every write zone 2's guest saw acknowledged is in its image; the removed
 * window answers as "no device"; zone 1 sees no error and no reset.
 */
#include <pthread.h>

#include "ctl_guest.h"

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

static void world_start(struct world *w)
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
	static const char mem[] =
		"\"memory_region\": [{\"zone0_ipa\": \"0x%x\", \"zonex_ipa\": "
		"\"0x50000000\", \"size\": \"0x1000000\"}]";
	char mem1[160], mem2[160], json[2048];
	snprintf(mem1, sizeof mem1, mem, 0x50000000u);
	snprintf(mem2, sizeof mem2, mem, (unsigned)ZONE2_RAM);
	snprintf(
		json, sizeof json,
		"{\"zones\": [{\"id\": 1, %s, \"devices\": [{\"type\": "
		"\"blk\", \"addr\": \"0xa003c00\", \"len\": \"0x200\", \"irq\":"
		" 77, \"img\": \"%s\"}]}, {\"id\": 2, %s, \"devices\": [{"
		"\"type\": \"blk\", \"addr\": \"0xa003c00\", \"len\": "
		"\"0x200\", \"irq\": 77, \"img\": \"%s\"}, {\"type\": "
		"\"console\", \"addr\": \"0xa003800\", \"len\": \"0x200\", "
		"\"irq\": 76, \"backend\": \"pty\"}]}]}",
		mem1, w->z1.img, mem2, w->z2.img);
	w->fx.control_path = w->sock;
	CU_ASSERT_FATAL(fixture_start_with_mock(&w->fx, json) == 0);
	w->z1.gd = hvd_guest_open(w->fx.mock, 1, BLK_BASE, BLK_IRQ);
	w->z2.gd = hvd_guest_open(w->fx.mock, 2, BLK_BASE, BLK_IRQ);
	CU_ASSERT_FATAL(w->z1.gd && w->z2.gd);
	blkt_bring_up(&w->z1, F_V1, 1, 256);
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
	int fd = ct_connect(w->sock);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ct_send(fd, line) == 0);
	cJSON *r = ct_read_reply(fd);
	close(fd);
	CU_ASSERT_FATAL(r != NULL);
	return r;
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
		b->ops++;
	}
	return NULL;
}

static void test_remove_in_flight(void)
{
	struct world w;
	world_start(&w);
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
	CU_ASSERT_EQUAL(hvd_guest_reg_read(w.z2.gd, VIRTIO_MMIO_DEVICE_ID), 0);
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

	/* Zone 1 went on throughout: some I/O after all that, no failure,
	 * no reset. */
	unsigned before = __atomic_load_n(&b.ops, __ATOMIC_RELAXED);
	while (__atomic_load_n(&b.ops, __ATOMIC_RELAXED) < before + 4)
		sched_yield();
	__atomic_store_n(&b.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(b.failures, 0);
	CU_ASSERT_FALSE(hvd_guest_status(w.z1.gd) &
			VIRTIO_CONFIG_S_NEEDS_RESET);
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
	world_start(&w);
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

int main(void)
{
	static const struct cunit_test tests[] = {
		{"remove with requests in flight, other zone busy",
		 test_remove_in_flight},
		{"remove error replies change nothing", test_remove_errors},
		{NULL, NULL},
	};
	return cunit_run("control_remove", tests);
}
