#!/usr/bin/env bash
# virtio-console throughput beside a plain pty copy (figures for the
# record) and the lossless check: fails only if a byte was lost or changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release
meson compile -C build-release
out=$(build-release/bench/console/bench_console)
echo "$out"
if echo "$out" | grep -Eq 'lost [1-9]'; then
	echo "console bench: bytes lost" >&2
	exit 1
fi
