#!/usr/bin/env bash
# virtio-net benchmark: prints pps / Gbit/s beside same-run references
# (socket -> socket copy; veth pair when root). Figures only: fails only if
# the program does. About 20 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f build/build.ninja ] || meson setup build
meson compile -C build bench/net/bench_net
timeout 300 build/bench/net/bench_net
