#!/usr/bin/env bash
# CI stage: cross build of the daemon, the plugins and the harness for
# aarch64 (cross/aarch64-linux-gnu.ini) with Debian's cross compiler and
# multiarch libcjson. Built, not run: nothing here executes arm64 code.
# The gpu plugin is built without its vnc backend and PNG snapshots here:
# Debian 12's libvncserver-dev:arm64 cannot be installed beside the native
# libvncserver-dev (apt would remove it), zlib1g-dev:arm64 is left out to
# keep this stage's sysroot small, and the build finds only arm64 .pc
# files.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
# The C library headers are only a Recommends of the cross compiler.
pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross libcjson-dev:arm64)

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
	apt-get update -q
fi
# Multiarch must add the arm64 libraries beside the native ones; stop if
# apt would remove anything to get there.
plan=$(apt-get install -s -q --no-install-recommends "${pkgs[@]}")
if grep -q '^Remv' <<<"$plan"; then
	grep '^Remv' <<<"$plan" >&2
	echo "cross: installing ${pkgs[*]} would remove packages; not doing it" >&2
	exit 1
fi
apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null

build=$(mktemp -d /tmp/hvd-cross-aarch64.XXXXXX)
trap 'rm -rf "$build"' EXIT
meson setup "$build" --cross-file cross/aarch64-linux-gnu.ini -Dtests=false >/dev/null
meson compile -C "$build" >/dev/null

# Everything that ships must be an AArch64 ELF.
status=0
for f in "$build/core/hvisor" "$build"/sdk/libhvd-mock.so.* "$build"/plugins/*/*.so; do
	[ -f "$f" ] && [ ! -L "$f" ] || continue
	machine=$(readelf -h "$f" | awk -F: '/Machine/ {gsub(/^ +/, "", $2); print $2}')
	echo "cross: ${f#"$build"/}: $machine"
	[ "$machine" = AArch64 ] || status=1
done
exit $status
