/* SPDX-License-Identifier: MIT */
/*
 * Plugin loader. Loading a file never calls into it: the only things read
 * are the exported descriptor (no more bytes than it declares), the ops
 * table (no more bytes than the descriptor declares) and the type string.
 * Refused files are closed at once; accepted ones are never dlclose'd (a
 * plugin may leave threads or thread-local destructors behind).
 */
#define _GNU_SOURCE
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

#ifndef HVISOR_PLUGIN_DIR
#error "HVISOR_PLUGIN_DIR must be defined by the build"
#endif

#define TYPE_NAME_MAX 31

/* Smallest tables any 1.x plugin may declare: everything up to and
 * including the descriptor's ops pointer, and the ops table up to and
 * including queue_notify (the last required callback of 1.0). */
#define DESC_MIN_SIZE                                  \
	(offsetof(struct hvd_plugin_descriptor, ops) + \
	 sizeof(((struct hvd_plugin_descriptor *)0)->ops))
#define OPS_MIN_SIZE                                     \
	(offsetof(struct hvd_device_ops, queue_notify) + \
	 sizeof(((struct hvd_device_ops *)0)->queue_notify))

/* A struct plugin with the host-sized copy of its descriptor. */
struct plugin_impl {
	struct plugin pub;
	struct hvd_plugin_descriptor desc;
};

/* What the listing shows of a scanned file, known or not. */
struct entry_info {
	char type[TYPE_NAME_MAX + 1]; /* "" when unknown */
	char abi[24];                 /* "" when unknown */
	unsigned device_id;
	bool have_device_id;
	char *dup_why; /* ambiguity inside one directory, or NULL */
	unsigned dir;  /* index into reg->dirs */
};

struct plugin_registry {
	char **dirs;
	unsigned ndirs;

	struct plugin_impl **plugins; /* every accepted plugin */
	unsigned nplugins;

	bool scanned;
	struct plugin_entry *entries;
	struct entry_info *info;
	unsigned nentries;
};

static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s) {
		/* The caller treats the message as informational only. */
		s = strdup("out of memory");
	}
	return s;
}

/* ---- Descriptor checks -------------------------------------------------- */

/* Copy what the plugin declares of its descriptor into a zeroed host-sized
 * one. The first four words exist in every version. */
static void copy_descriptor(const struct hvd_plugin_descriptor *desc,
			    struct hvd_plugin_descriptor *copy)
{
	size_t n = desc->descriptor_size;

	if (n > sizeof *copy)
		n = sizeof *copy;
	memset(copy, 0, sizeof *copy);
	memcpy(copy, desc, n);
}

#define TYPE_NAME_RULE "1 to 31 characters from a-z, 0-9, '_' and '-'"

/* The name as it can be shown: printable ASCII, other bytes as \xNN,
 * cut after TYPE_NAME_MAX + 1 bytes. */
static void type_name_show(const char *type, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; type[i] && i <= TYPE_NAME_MAX && o + 5 < size; i++) {
		unsigned char c = (unsigned char)type[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (strnlen(type, TYPE_NAME_MAX + 2) > TYPE_NAME_MAX + 1 &&
	    o + 4 < size)
		o += (size_t)snprintf(out + o, size - o, "...");
	out[o] = '\0';
}

static char *type_name_refusal(const char *type)
{
	if (!type)
		return xasprintf("no type name (" TYPE_NAME_RULE ")");
	char shown[4 * (TYPE_NAME_MAX + 1) + 8];
	type_name_show(type, shown, sizeof shown);
	return xasprintf("invalid type name \"%s\" (" TYPE_NAME_RULE ")",
			 shown);
}

static bool type_name_valid(const char *type)
{
	size_t n;

	if (!type)
		return false;
	n = strnlen(type, TYPE_NAME_MAX + 1);
	if (n == 0 || n > TYPE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = type[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Checks the version words only (never reads past them). */
static char *check_version(const struct hvd_plugin_descriptor *desc)
{
	if (desc->abi_major != HVD_ABI_MAJOR)
		return xasprintf("built for plugin ABI %u.%u, this daemon "
				 "speaks %u.%u (different major version)",
				 desc->abi_major, desc->abi_minor,
				 HVD_ABI_MAJOR, HVD_ABI_MINOR);
	if (desc->abi_minor > HVD_ABI_MINOR)
		return xasprintf("built for plugin ABI %u.%u, this daemon "
				 "speaks %u.%u (plugin is newer)",
				 desc->abi_major, desc->abi_minor,
				 HVD_ABI_MAJOR, HVD_ABI_MINOR);
	return NULL;
}

/* Full check; on success *copy and *ops hold the host-sized tables. */
static char *check_and_copy(const struct hvd_plugin_descriptor *desc,
			    struct hvd_plugin_descriptor *copy,
			    struct hvd_device_ops *ops)
{
	char *why = check_version(desc);
	size_t n;

	if (why)
		return why;
	if (desc->descriptor_size < DESC_MIN_SIZE)
		return xasprintf("descriptor size %u is smaller than the ABI "
				 "%u.%u minimum %zu",
				 desc->descriptor_size, desc->abi_major,
				 desc->abi_minor, (size_t)DESC_MIN_SIZE);
	if (desc->ops_size < OPS_MIN_SIZE)
		return xasprintf("ops table size %u is smaller than the ABI "
				 "%u.%u minimum %zu",
				 desc->ops_size, desc->abi_major,
				 desc->abi_minor, (size_t)OPS_MIN_SIZE);
	copy_descriptor(desc, copy);

	memset(ops, 0, sizeof *ops);
	if (copy->ops) {
		n = desc->ops_size;
		if (n > sizeof *ops)
			n = sizeof *ops;
		memcpy(ops, copy->ops, n);
		ops->size = (uint32_t)n;
	}
	if (!ops->create || !ops->queue_notify)
		return xasprintf("missing create or queue_notify callback");
	if (!type_name_valid(copy->type))
		return type_name_refusal(copy->type);
	/* A 1.0 plugin has no info.device_id to give one at create(). */
	if (copy->device_id == 0 && copy->abi_minor == 0)
		return xasprintf("device id 0: give HVD_PLUGIN_DEFINE the "
				 "VIRTIO_ID_* of the device (0 means no "
				 "device to a guest)");
	return NULL;
}

char *loader_check_descriptor(const struct hvd_plugin_descriptor *desc)
{
	struct hvd_plugin_descriptor copy;
	struct hvd_device_ops ops;

	if (!desc)
		return xasprintf("no descriptor");
	return check_and_copy(desc, &copy, &ops);
}

/* ---- Opening files ------------------------------------------------------ */

static struct plugin_impl *find_by_handle(struct plugin_registry *reg,
					  void *handle)
{
	for (unsigned i = 0; i < reg->nplugins; i++)
		if (reg->plugins[i]->pub.handle == handle)
			return reg->plugins[i];
	return NULL;
}

/* The symbol table's size of the descriptor object, or 0 if unknown. */
static size_t symbol_size(const void *addr)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;

	if (!dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym ||
	    info.dli_saddr != addr)
		return 0;
	return (size_t)sym->st_size;
}

/* dlopen `path` (a bare name as ./name: dlopen would search the library
 * path). NULL with *reason set. */
static void *open_object(const char *path, char **reason)
{
	char *dlpath = strchr(path, '/') ? NULL : xasprintf("./%s", path);
	dlerror();
	void *handle = dlopen(dlpath ? dlpath : path, RTLD_NOW | RTLD_LOCAL);
	free(dlpath);
	if (!handle) {
		const char *e = dlerror();
		*reason = xasprintf("cannot be loaded: %s",
				    e ? e : "unknown error");
	}
	return handle;
}

/* What the listing shows of a descriptor: its ABI always, its type and id
 * once the descriptor could be copied and the type is valid. */
static void info_abi(struct entry_info *info,
		     const struct hvd_plugin_descriptor *d)
{
	if (info)
		snprintf(info->abi, sizeof info->abi, "%u.%u", d->abi_major,
			 d->abi_minor);
}

static void info_type(struct entry_info *info,
		      const struct hvd_plugin_descriptor *d)
{
	if (!info || !d->descriptor_size || !type_name_valid(d->type))
		return;
	snprintf(info->type, sizeof info->type, "%s", d->type);
	info->device_id = d->device_id;
	info->have_device_id = true;
}

/* The exported descriptor, if it is there and big enough for its version
 * words. NULL with *reason set. */
static const struct hvd_plugin_descriptor *find_descriptor(void *handle,
							   size_t *symsize,
							   char **reason)
{
	dlerror();
	const struct hvd_plugin_descriptor *desc =
		dlsym(handle, HVD_PLUGIN_SYMBOL);
	if (!desc) {
		*reason = xasprintf("not an hvisor device plugin (no "
				    "%s symbol)",
				    HVD_PLUGIN_SYMBOL);
		return NULL;
	}
	*symsize = symbol_size(desc);
	if (*symsize && *symsize < 4 * sizeof(uint32_t)) {
		*reason = xasprintf("%s is only %zu bytes", HVD_PLUGIN_SYMBOL,
				    *symsize);
		return NULL;
	}
	return desc;
}

/* Version, then the declared size against the symbol's real size. */
static char *check_sizes(const struct hvd_plugin_descriptor *desc,
			 size_t symsize)
{
	char *why = check_version(desc);
	if (!why && symsize && symsize < desc->descriptor_size &&
	    symsize < sizeof(struct hvd_plugin_descriptor))
		why = xasprintf("%s is %zu bytes, smaller than its declared "
				"descriptor size %u",
				HVD_PLUGIN_SYMBOL, symsize,
				desc->descriptor_size);
	return why;
}

/* Enter a checked plugin into the registry (it owns handle from now). */
static char *adopt(struct plugin_registry *reg, struct plugin_impl *impl,
		   void *handle, const char *path)
{
	struct plugin_impl **grown =
		realloc(reg->plugins, (reg->nplugins + 1) * sizeof *grown);
	if (!grown)
		return xasprintf("out of memory");
	reg->plugins = grown;
	impl->pub.path = strdup(path);
	if (!impl->pub.path)
		return xasprintf("out of memory");
	impl->pub.handle = handle;
	impl->pub.desc = &impl->desc;
	reg->plugins[reg->nplugins++] = impl;
	return NULL;
}

/* Open and check one file: load it, find its descriptor, check versions
 * and sizes, copy and check the tables, register it. Returns the plugin,
 * or NULL with *reason set (malloc'd, without the file name). `info`
 * (optional) receives what could be read for the listing. */
static struct plugin_impl *open_checked(struct plugin_registry *reg,
					const char *path, char **reason,
					struct entry_info *info)
{
	*reason = NULL;
	void *handle = open_object(path, reason);
	if (!handle)
		return NULL;
	struct plugin_impl *impl = find_by_handle(reg, handle);
	if (impl) {
		/* Same object again (a symlink, or listed twice): drop the
		 * extra reference dlopen just took. */
		dlclose(handle);
		info_abi(info, &impl->desc);
		info_type(info, &impl->desc);
		return impl;
	}
	size_t symsize = 0;
	const struct hvd_plugin_descriptor *desc =
		find_descriptor(handle, &symsize, reason);
	if (!desc)
		goto fail;
	info_abi(info, desc);
	*reason = check_sizes(desc, symsize);
	if (*reason)
		goto fail;
	impl = calloc(1, sizeof *impl);
	if (!impl) {
		*reason = xasprintf("out of memory");
		goto fail;
	}
	*reason = check_and_copy(desc, &impl->desc, &impl->pub.ops);
	/* The listing shows type and id of a refused plugin too. */
	info_type(info, &impl->desc);
	if (!*reason)
		*reason = adopt(reg, impl, handle, path);
	if (!*reason)
		return impl;
fail:
	if (impl)
		free(impl->pub.path);
	free(impl);
	dlclose(handle);
	return NULL;
}

struct plugin *loader_open_file(struct plugin_registry *reg, const char *path,
				char **why)
{
	char *reason = NULL;
	struct plugin_impl *impl = open_checked(reg, path, &reason, NULL);

	if (!impl) {
		*why = xasprintf("%s: %s", path, reason);
		free(reason);
		return NULL;
	}
	*why = NULL;
	return &impl->pub;
}

/* ---- Registry ----------------------------------------------------------- */

static bool dir_listed(char *const *dirs, unsigned n, const char *dir)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(dirs[i], dir) == 0)
			return true;
	return false;
}

struct plugin_registry *loader_new(const char *const *dirs, unsigned ndirs)
{
	struct plugin_registry *reg = calloc(1, sizeof *reg);

	if (!reg)
		return NULL;
	reg->dirs = calloc(ndirs + 1, sizeof *reg->dirs);
	if (!reg->dirs) {
		free(reg);
		return NULL;
	}
	for (unsigned i = 0; i < ndirs; i++) {
		if (!dirs[i] || dir_listed(reg->dirs, reg->ndirs, dirs[i]))
			continue;
		reg->dirs[reg->ndirs] = strdup(dirs[i]);
		if (!reg->dirs[reg->ndirs]) {
			loader_free(reg);
			return NULL;
		}
		reg->ndirs++;
	}
	return reg;
}

void loader_free(struct plugin_registry *reg)
{
	if (!reg)
		return;
	for (unsigned i = 0; i < reg->nentries; i++) {
		free(reg->entries[i].path);
		free(reg->entries[i].why);
		free(reg->info[i].dup_why);
	}
	free(reg->entries);
	free(reg->info);
	/* Handles stay open: see the top of this file. */
	for (unsigned i = 0; i < reg->nplugins; i++) {
		free(reg->plugins[i]->pub.path);
		free(reg->plugins[i]);
	}
	free(reg->plugins);
	for (unsigned i = 0; i < reg->ndirs; i++)
		free(reg->dirs[i]);
	free(reg->dirs);
	free(reg);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of *.so regular files and symlinks in dir, sorted. NULL with
 * *count 0 when the directory cannot be read. */
static char **list_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	unsigned n = 0, cap = 0;

	*count = 0;
	if (!d) {
		if (errno != ENOENT)
			log_warn("%s: cannot read plugin directory: %s", dir,
				 strerror(errno));
		return NULL;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *full;

		if (len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		full = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(full, &st) != 0 ||
		    !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) {
			free(full);
			continue;
		}
		free(full);
		if (n == cap) {
			unsigned ncap = cap ? cap * 2 : 8;
			char **grown = realloc(names, ncap * sizeof *names);

			if (!grown)
				break;
			names = grown;
			cap = ncap;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_names);
	*count = n;
	return names;
}

static bool add_entry(struct plugin_registry *reg, char *path, unsigned dir)
{
	struct plugin_entry *e;
	struct entry_info *inf;
	struct plugin_impl *impl;
	char *reason = NULL;

	e = realloc(reg->entries, (reg->nentries + 1) * sizeof *e);
	if (!e)
		return false;
	reg->entries = e;
	inf = realloc(reg->info, (reg->nentries + 1) * sizeof *inf);
	if (!inf)
		return false;
	reg->info = inf;

	e = &reg->entries[reg->nentries];
	inf = &reg->info[reg->nentries];
	memset(e, 0, sizeof *e);
	memset(inf, 0, sizeof *inf);
	inf->dir = dir;
	impl = open_checked(reg, path, &reason, inf);
	e->path = path;
	e->loadable = impl != NULL;
	e->why = reason;
	e->plugin = impl ? &impl->pub : NULL;
	reg->nentries++;
	return true;
}

/* Two different loadable plugins of one type in one directory. */
static void mark_duplicates(struct plugin_registry *reg)
{
	for (unsigned i = 0; i < reg->nentries; i++) {
		const struct plugin_entry *a = &reg->entries[i];

		if (!a->loadable)
			continue;
		for (unsigned j = i + 1; j < reg->nentries; j++) {
			const struct plugin_entry *b = &reg->entries[j];

			if (!b->loadable ||
			    reg->info[j].dir != reg->info[i].dir ||
			    a->plugin == b->plugin ||
			    strcmp(a->plugin->desc->type,
				   b->plugin->desc->type) != 0)
				continue;
			if (!reg->info[i].dup_why)
				reg->info[i].dup_why =
					xasprintf("type '%s' is provided by "
						  "both %s and %s",
						  a->plugin->desc->type,
						  a->path, b->path);
			if (!reg->info[j].dup_why)
				reg->info[j].dup_why =
					strdup(reg->info[i].dup_why);
		}
	}
}

static void scan(struct plugin_registry *reg)
{
	if (reg->scanned)
		return;
	reg->scanned = true;
	for (unsigned d = 0; d < reg->ndirs; d++) {
		unsigned n = 0;
		char **names = list_dir(reg->dirs[d], &n);

		for (unsigned i = 0; i < n; i++) {
			char *path = xasprintf("%s/%s", reg->dirs[d], names[i]);

			if (!add_entry(reg, path, d))
				free(path);
			free(names[i]);
		}
		free(names);
	}
	mark_duplicates(reg);
}

const struct plugin_entry *loader_scan(struct plugin_registry *reg,
				       unsigned *count)
{
	scan(reg);
	*count = reg->nentries;
	return reg->entries;
}

static char *searched_list(const struct plugin_registry *reg)
{
	size_t len = 1;
	char *s;

	for (unsigned i = 0; i < reg->ndirs; i++)
		len += strlen(reg->dirs[i]) + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (unsigned i = 0; i < reg->ndirs; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, reg->dirs[i]);
	}
	return s;
}

struct plugin *loader_find_type(struct plugin_registry *reg, const char *type,
				char **why)
{
	char *dirs;

	*why = NULL;
	if (!type)
		type = "";
	scan(reg);
	for (unsigned d = 0; d < reg->ndirs; d++) {
		for (unsigned i = 0; i < reg->nentries; i++) {
			struct plugin_entry *e = &reg->entries[i];

			if (reg->info[i].dir != d || !e->loadable ||
			    strcmp(e->plugin->desc->type, type) != 0)
				continue;
			if (reg->info[i].dup_why) {
				*why = strdup(reg->info[i].dup_why);
				return NULL;
			}
			return e->plugin;
		}
	}
	/* Say why files that might have served it were skipped. */
	for (unsigned i = 0; i < reg->nentries; i++)
		if (!reg->entries[i].loadable)
			log_warn("%s: %s", reg->entries[i].path,
				 reg->entries[i].why);
	dirs = searched_list(reg);
	*why = xasprintf("no plugin provides device type '%s' (searched: %s)",
			 type, dirs && *dirs ? dirs : "no directories");
	free(dirs);
	return NULL;
}

/* ---- Search list -------------------------------------------------------- */

static bool push_dir(char ***list, unsigned *n, const char *dir, size_t len)
{
	char *copy = strndup(dir, len);
	char **grown;

	if (!copy)
		return false;
	if (dir_listed(*list, *n, copy)) {
		free(copy);
		return true;
	}
	grown = realloc(*list, (*n + 2) * sizeof **list);
	if (!grown) {
		free(copy);
		return false;
	}
	*list = grown;
	(*list)[(*n)++] = copy;
	(*list)[*n] = NULL;
	return true;
}

char **loader_default_dirs(const char *const *flag_dirs, unsigned nflag,
			   unsigned *count)
{
	char **list = calloc(1, sizeof *list);
	const char *env = getenv("HVISOR_PLUGIN_PATH");
	unsigned n = 0;
	bool ok = list != NULL;

	for (unsigned i = 0; ok && i < nflag; i++) {
		struct stat st;

		if (!flag_dirs[i] || !*flag_dirs[i])
			continue;
		if (stat(flag_dirs[i], &st) != 0)
			log_warn("%s: plugin directory does not exist",
				 flag_dirs[i]);
		else if (!S_ISDIR(st.st_mode))
			log_warn("%s: plugin directory is not a directory",
				 flag_dirs[i]);
		ok = push_dir(&list, &n, flag_dirs[i], strlen(flag_dirs[i]));
	}
	while (ok && env && *env) {
		size_t len = strcspn(env, ":");

		if (len)
			ok = push_dir(&list, &n, env, len);
		env += len;
		if (*env == ':')
			env++;
	}
	if (ok)
		ok = push_dir(&list, &n, HVISOR_PLUGIN_DIR,
			      strlen(HVISOR_PLUGIN_DIR));
	if (!ok) {
		for (unsigned i = 0; list && i < n; i++)
			free(list[i]);
		free(list);
		*count = 0;
		return NULL;
	}
	*count = n;
	return list;
}

/* ---- Listing ------------------------------------------------------------ */

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

int loader_print_table(struct plugin_registry *reg)
{
	int bad = 0;
	size_t wfile = strlen("FILE"), wtype = strlen("TYPE");
	size_t wid = strlen("DEVICE-ID"), wabi = strlen("ABI");
	char idbuf[16];

	scan(reg);
	if (reg->nentries == 0) {
		char *dirs = searched_list(reg);

		printf("no plugins found (searched: %s)\n",
		       dirs && *dirs ? dirs : "no directories");
		free(dirs);
		return 0;
	}
	for (unsigned i = 0; i < reg->nentries; i++) {
		const struct entry_info *inf = &reg->info[i];
		size_t l;

		if ((l = strlen(reg->entries[i].path)) > wfile)
			wfile = l;
		if ((l = strlen(or_dash(inf->type))) > wtype)
			wtype = l;
		if ((l = strlen(or_dash(inf->abi))) > wabi)
			wabi = l;
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)wfile, "FILE", (int)wtype,
	       "TYPE", (int)wid, "DEVICE-ID", (int)wabi, "ABI", "STATUS");
	for (unsigned i = 0; i < reg->nentries; i++) {
		const struct plugin_entry *e = &reg->entries[i];
		const struct entry_info *inf = &reg->info[i];
		const char *why = !e->loadable ? e->why : inf->dup_why;

		if (inf->have_device_id)
			snprintf(idbuf, sizeof idbuf, "%u", inf->device_id);
		else
			snprintf(idbuf, sizeof idbuf, "-");
		printf("%-*s  %-*s  %-*s  %-*s  ", (int)wfile, e->path,
		       (int)wtype, or_dash(inf->type), (int)wid, idbuf,
		       (int)wabi, or_dash(inf->abi));
		if (why) {
			printf("refused: %s\n", why);
			bad++;
		} else {
			printf("ok\n");
		}
	}
	return bad;
}
