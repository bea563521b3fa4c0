#!/usr/bin/env bash
# CI stage: the systemd unit from dist/. `meson install` into a staging
# root must install it with ExecStart naming the installed binary, and
# `systemd-analyze verify` must accept it (run on a copy whose ExecStart
# points into the staging root, since verify checks that the binary exists).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v systemd-analyze >/dev/null; then
	# Debian package systemd: systemd-analyze.
	apt-get -o DPkg::Lock::Timeout=600 install -y -q systemd >/dev/null
fi
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
stage=$(mktemp -d /tmp/hvisor-stage-XXXXXX)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage" meson install -C build --no-rebuild >/dev/null
prefix=$(meson introspect build --buildoptions |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
unit="$stage$prefix/lib/systemd/system/hvisor-virtio.service"
test -f "$unit" || { echo "50-systemd: $unit not installed" >&2; exit 1; }
exec_bin=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
test -x "$stage$exec_bin" || {
	echo "50-systemd: ExecStart $exec_bin is not the installed binary" >&2
	exit 1
}
check="$stage/hvisor-virtio.service"
sed "s|^ExecStart=$exec_bin|ExecStart=$stage$exec_bin|" "$unit" >"$check"
# verify reports a bad value as a warning and still exits 0: any output
# is a failure.
out=$(systemd-analyze verify "$check" 2>&1) || true
if [ -n "$out" ]; then
	echo "50-systemd: systemd-analyze verify:" >&2
	echo "$out" >&2
	exit 1
fi
echo "50-systemd: $(basename "$unit") verified (ExecStart $exec_bin)"
