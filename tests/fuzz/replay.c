/* SPDX-License-Identifier: MIT */
/*
 * Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without
 * libFuzzer: `replay_<target> PATH...`, each PATH a file or a directory of
 * files (the seed corpus and the committed regression cases). Built with
 * the project's compiler as a meson test, so `./dev test` and `./dev asan`
 * keep every committed crash input fixed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *n = realloc(buf, cap);
			if (!n)
				goto fail;
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (!got)
			break;
		len += got;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
fail:
	perror(path);
	fclose(f);
	free(buf);
	return -1;
}

static int compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of `dir`, in name order (a failure names its file). */
static int run_dir(const char *dir, unsigned *count)
{
	DIR *dp = opendir(dir);
	if (!dp) {
		perror(dir);
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		char **grown = realloc(names, (n + 1) * sizeof *names);
		if (!grown || !(grown[n] = strdup(e->d_name))) {
			names = grown ? grown : names;
			rc = -1;
			break;
		}
		names = grown;
		n++;
	}
	closedir(dp);
	qsort(names, n, sizeof *names, compare);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		fprintf(stderr, "replay %s\n", path);
		if (rc == 0 && run_file(path))
			rc = -1;
		(*count)++;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st)) {
			/* No regression cases yet is fine; a typo is not. */
			if (strstr(argv[i], "regression"))
				continue;
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count)
					: run_file(argv[i]))
			return 1;
		count += !S_ISDIR(st.st_mode);
	}
	printf("%u inputs replayed\n", count);
	return count ? 0 : 1;
}
