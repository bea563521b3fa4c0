#!/usr/bin/env bash
# CI stage: the SDK as an out-of-tree author gets it. Installs the project
# into a staging prefix, builds the example plugin (sdk/examples/input)
# from a copy outside the source tree with only that prefix on
# PKG_CONFIG_PATH, runs its tests (the installed `hvisor` serving the
# plugin from --plugin-dir through the installed mock harness), installs it
# under a second prefix and runs the tests again on the installed file.
# Then the skeleton plugin as installed under share/doc (with the guide)
# is built and tested the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD

work=$(mktemp -d /tmp/hvd-sdk-ci.XXXXXX)
trap 'rm -rf "$work"' EXIT
sdk=$work/sdk        # where the SDK is installed
consumer=$work/user  # the plugin author's own prefix

echo "-- install the project into $sdk"
# meson reports errors on stdout: keep it, show it on failure.
meson setup "$work/build" "$src" --prefix "$sdk" -Dtests=false >"$work/setup.log" ||
	{ cat "$work/setup.log"; exit 1; }
meson compile -C "$work/build" >"$work/compile.log" ||
	{ cat "$work/compile.log"; exit 1; }
meson install -C "$work/build" --quiet
pc=$(find "$sdk" -name hvd-plugin.pc -printf '%h\n' | head -n1)
[ -n "$pc" ] || { echo "hvd-plugin.pc was not installed" >&2; exit 1; }
doc=$sdk/share/doc/hvisor-virtio
for f in include/hvd/plugin.h include/hvd/iov.h include/hvd/mock.h bin/hvisor \
	bin/hvisor-mock \
	share/doc/hvisor-virtio/plugin-guide.md \
	share/doc/hvisor-virtio/examples/skeleton/meson.build \
	share/doc/hvisor-virtio/examples/input/meson.build; do
	[ -e "$sdk/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
mock_so=$(find "$sdk" -name 'libhvd-mock.so.1' | head -n1)
[ -n "$mock_so" ] || { echo "libhvd-mock.so.1 was not installed" >&2; exit 1; }
objdump -p "$mock_so" | grep -q 'SONAME *libhvd-mock.so.1$' ||
	{ echo "libhvd-mock has no soname libhvd-mock.so.1" >&2; exit 1; }

echo "-- build the example against $sdk alone"
cp -r "$src/sdk/examples/input" "$work/input"
export PKG_CONFIG_PATH=$pc
export PKG_CONFIG_LIBDIR=$pc # nothing from the system's pkg-config dirs...
# ...except the toolchain's own (cunit), which the SDK does not ship.
PKG_CONFIG_LIBDIR+=":$(pkg-config --variable pc_path pkg-config 2>/dev/null ||
	echo /usr/lib/x86_64-linux-gnu/pkgconfig:/usr/share/pkgconfig)"
meson setup "$work/input-build" "$work/input" --prefix "$consumer" >/dev/null
meson compile -C "$work/input-build" >/dev/null
meson test -C "$work/input-build" --print-errorlogs

echo "-- install the example under its own prefix ($consumer)"
meson install -C "$work/input-build" --quiet
plugin=$(find "$consumer" -path '*/hvisor/plugins/libhvd-input.so' | head -n1)
[ -n "$plugin" ] || { echo "libhvd-input.so not in $consumer/.../hvisor/plugins" >&2; exit 1; }
plugindir=$(dirname "$plugin")
exports=$(nm -D --defined-only "$plugin" | awk '$2 != "A" {print $3}' |
	grep -Ev '^(_init|_fini|_edata|_end|__bss_start)$' || true)
[ "$exports" = hvd_plugin_descriptor ] ||
	{ echo "libhvd-input.so exports more than its descriptor:" $exports >&2; exit 1; }
"$sdk/bin/hvisor" virtio plugins --plugin-dir "$plugindir" | tee "$work/plugins.txt"
grep -Eq "libhvd-input.so +input +18 +1\.[0-9]+ .*ok$" "$work/plugins.txt" ||
	{ echo "the installed daemon does not list the plugin as ok" >&2; exit 1; }

echo "-- the example's tests again, serving the installed plugin file"
INPUT_PLUGIN_DIR=$plugindir HVISOR_BIN=$sdk/bin/hvisor \
	LD_LIBRARY_PATH=$(dirname "$mock_so") "$work/input-build/test_input"
echo "-- the skeleton as installed with the guide, against $sdk alone"
cp -r "$doc/examples/skeleton" "$work/skeleton"
meson setup "$work/skeleton-build" "$work/skeleton" --prefix "$consumer" >/dev/null
meson compile -C "$work/skeleton-build" >/dev/null
meson test -C "$work/skeleton-build" --print-errorlogs
echo "sdk: OK"
