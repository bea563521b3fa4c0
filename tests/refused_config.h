/* SPDX-License-Identifier: MIT */
/*
 * Bad device configurations through the real binary, as a user meets
 * them: `hvisor virtio start` on one zone (16 MiB of RAM at 0x50000000)
 * with the given device list must exit 1 and say `want`.
 */
#ifndef TESTS_REFUSED_CONFIG_H
#define TESTS_REFUSED_CONFIG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "hvd/mock.h"
#include "run_cmd.h"

/* devices_json: the members of "devices"; the config is written to
 * dir/bad.json. The daemon's output is returned (run_cmd's buffer). */
static inline const char *expect_config_refused(const char *dir,
						const char *devices_json,
						const char *want)
{
	char path[256], json[2048], cmd[2048];
	snprintf(path, sizeof path, "%s/bad.json", dir);
	snprintf(json, sizeof json,
		 "{\"zones\": [{\"id\": 1, \"memory_region\": [{\"zone0_ipa\":"
		 " \"0x50000000\", \"zonex_ipa\": \"0x50000000\", \"size\": "
		 "\"0x1000000\"}], \"devices\": [%s]}]}",
		 devices_json);
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(json, f);
	fclose(f);
	struct hvd_mock *m = hvd_mock_new();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(
		hvd_mock_add_ram(m, 1, 0x50000000, 0x50000000, 0x1000000) == 0);
	snprintf(cmd, sizeof cmd,
		 "HVISOR_MOCK='%s' timeout 60 %s virtio start --foreground "
		 "%s 2>&1",
		 hvd_mock_socket_path(m), getenv("HVISOR_BIN"), path);
	char *out;
	CU_ASSERT_EQUAL(run_cmd(cmd, &out), 1);
	if (!strstr(out, want))
		fprintf(stderr, "\n  want: %s\n  got: %s\n", want, out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	hvd_mock_free(m);
	return out;
}

#endif
