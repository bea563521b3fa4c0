#!/usr/bin/env bash
# Builds hvisor.ko outside the source tree (Kbuild writes its objects next
# to the sources, so they are copied first).
#   kmod/build.sh OUTDIR [MAKE VAR=VALUE...]
#     KDIR=<kernel build tree>   default: the running kernel's
#     HVISOR_FAKE=1              test build (fake hypervisor; never deploy)
#     ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-   cross build
# Result: OUTDIR/hvisor.ko; the build log is OUTDIR/build.log. Fails on any
# compiler warning.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
out=$1
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/tree"
mkdir -p "$out/tree"
cp -r "$src/kmod" "$src/interface" "$out/tree/"
if ! make -C "$out/tree/kmod" "$@" modules >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	echo "hvisor.ko: build failed ($*)" >&2
	exit 1
fi
if grep -q 'warning:' "$out/build.log"; then
	grep 'warning:' "$out/build.log" >&2
	echo "hvisor.ko: the build has warnings ($*)" >&2
	exit 1
fi
cp "$out/tree/kmod/hvisor.ko" "$out/hvisor.ko"
echo "$out/hvisor.ko"
