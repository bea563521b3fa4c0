#!/usr/bin/env bash
# virtio-blk benchmarks, short runs: the full path against direct
# preadv/pwritev on the same file, printed as a ratio. A figure is not a
# verdict (the machine is shared); the step fails only if the benchmark
# itself fails (daemon does not start, a request errors or times out).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release
meson compile -C build-release
B=$PWD/build-release
"$B/bench/blk/bench_blk" "$B/core/hvisor" "$B/plugins/blk" 0.3
# The engine comparison (built when liburing-dev is installed).
if [ -x "$B/bench/blk/bench_engine" ]; then
	"$B/bench/blk/bench_engine" 0.3
fi
