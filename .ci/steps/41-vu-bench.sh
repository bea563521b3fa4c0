#!/usr/bin/env bash
# vhost-user-blk beside the blk plugin and direct preadv, 4k random reads
# at QD1 and QD32, same image and run (bench/vhost-user/bench_vu.c). A
# figure is not a verdict on a shared machine; the step fails only if the
# benchmark itself fails. Skipped (77 -> 0) without qemu-storage-daemon.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release
meson compile -C build-release
rc=0
build-release/bench/vhost-user/bench_vu build-release/core/hvisor 0.3 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]
