/* SPDX-License-Identifier: MIT */
/*
 * Plugin loader: finds device plugins, checks their descriptors, and keeps
 * the type -> plugin map.
 *
 * Search order: the --plugin-dir directories as given, then the entries of
 * HVISOR_PLUGIN_PATH (colon-separated), then the installed plugin directory.
 * The first directory that has a plugin for a type wins; two loadable
 * plugins for one type in the same directory are an error naming both files.
 * Plugins are opened RTLD_NOW | RTLD_LOCAL and never unloaded once used.
 */
#ifndef CORE_LOADER_H
#define CORE_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "hvd/plugin.h"

struct plugin {
	char *path;
	void *handle;
	const struct hvd_plugin_descriptor *desc;
	/* The plugin's ops copied into a zeroed host-sized table: members an
	 * older plugin does not know read as NULL. */
	struct hvd_device_ops ops;
};

/* One candidate file found by a scan, loadable or not (for `plugins`). */
struct plugin_entry {
	char *path;
	bool loadable;
	char *why;             /* reason when !loadable, else NULL */
	struct plugin *plugin; /* when loadable */
};

struct plugin_registry;

/* dirs: the search list in order (the caller builds it from flags, the
 * environment and the install dir). */
struct plugin_registry *loader_new(const char *const *dirs, unsigned ndirs);
/* Frees the registry. Handles of refused files were closed when refused;
 * accepted plugins stay loaded (they may have started threads). */
void loader_free(struct plugin_registry *reg);

/* Load one file and check it. Returns the plugin, or NULL with *why set to
 * a malloc'd message that names the file, e.g.
 *   "/x/libfoo.so: built for plugin ABI 2.0, this daemon speaks 1.0" */
struct plugin *loader_open_file(struct plugin_registry *reg, const char *path,
				char **why);

/* Plugin serving `type`, scanning the search list on first use. NULL with
 * *why (malloc'd) when none or when the type is ambiguous. */
struct plugin *loader_find_type(struct plugin_registry *reg, const char *type,
				char **why);

/* Every *.so in the search list, in search order (for `hvisor virtio
 * plugins`). The array stays owned by the registry. */
const struct plugin_entry *loader_scan(struct plugin_registry *reg,
				       unsigned *count);

/* Pure descriptor check, exposed for tests. Returns NULL if acceptable or a
 * malloc'd reason (without the file name). */
char *loader_check_descriptor(const struct hvd_plugin_descriptor *desc);

/* Build the default search list: flag dirs, then $HVISOR_PLUGIN_PATH, then
 * HVISOR_PLUGIN_DIR (compile-time). Returns a malloc'd NULL-terminated
 * array of malloc'd strings; *count set. */
char **loader_default_dirs(const char *const *flag_dirs, unsigned nflag,
			   unsigned *count);

/* Print the `hvisor virtio plugins` table to stdout. Returns the number of
 * unloadable files (the command exits 0 anyway; a broken plugin is not an
 * error of the listing). */
int loader_print_table(struct plugin_registry *reg);

#endif
