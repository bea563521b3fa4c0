#!/usr/bin/env bash
# CI stage: the real-guest rig (sdk/rig, docs/real-guest-rig.md). Boots
# Debian's kernel under QEMU (TCG) with busybox; the guest's stock virtio
# drivers talk to the real daemon and plugins through hvisor-rig. Each
# tests/rig/NAME.json below runs its listed checks (tests/rig/NAME.guest.sh
# in the guest, NAME.host.sh after it). Downloads are cached in
# /var/cache/hvisor-ci; if Debian's archive cannot be reached and nothing is
# cached, the stage prints why and skips.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)

# Heavy packages stay out of .ci/packages: only this stage needs them.
pkgs=(qemu-system-x86 linux-headers-amd64 make cpio gzip python3 e2fsprogs nbdkit iproute2)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null 2>&1 &&
			apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
		{ echo "SKIP rig stage: cannot install ${missing[*]}"; exit 0; }
fi
echo "-- packages ($(($(date +%s) - t0)) s)"

[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null

# config -> checks, for each device plugin in the tree. Add a device: its
# JSON and checks in tests/rig, and a line here.
runs=("tests/rig/rng.json rng")
[ -e plugins/blk/meson.build ] && runs+=("tests/rig/blk.json blk")
[ -e plugins/console/meson.build ] && runs+=("tests/rig/console.json console"
	"tests/rig/console_idle.json console_idle")
# net_tcp: 4 MiB each way over TCP through a tap in a network namespace
# of the rig's own ("# rig-netns", root); prints both directions' times.
[ -e plugins/net/meson.build ] && runs+=("tests/rig/net.json net"
	"tests/rig/net_tcp.json net_tcp")
[ -e plugins/vhost-user/meson.build ] && runs+=("tests/rig/vhost_user.json vhost_user")
# gpu: a guest program draws into a virtio_gpu dumb buffer; the headless
# backend's snapshot must show it (the program is built static with gcc and
# libdrm-dev's uapi headers).
[ -e plugins/gpu/meson.build ] && runs+=("tests/rig/gpu.json gpu")
# virtio-input keyboard + tablet: capabilities, events, statusq LED.
[ -e plugins/input/meson.build ] && runs+=("tests/rig/input.json input")
# A guest screen over VNC: virtio_gpu's framebuffer reaches an RFB client,
# whose key press reaches the guest (only when the vnc backend is built).
pkg-config --exists libvncserver && runs+=("tests/rig/gpu_vnc.json gpu_vnc")
# Runtime control: console removed and re-added while the disk is busy.
[ -e plugins/blk/meson.build ] && [ -e plugins/console/meson.build ] &&
	runs+=("tests/rig/hotplug.json hotplug")
failed=0
for run in "${runs[@]}"; do
	read -r -a args <<<"$run"
	echo "-- ${args[*]}"
	set +e
	sdk/rig/run-guest.sh --build build --timeout 180 "${args[@]}"
	rc=$?
	set -e
	if [ $rc = 77 ]; then
		echo "SKIP rig stage: Debian's archive is unreachable and no kernel is cached"
		exit 0
	fi
	[ $rc = 0 ] || failed=$((failed + 1))
done
echo "-- rig stage: $((${#runs[@]} - failed)) of ${#runs[@]} guest run(s) passed ($(($(date +%s) - t0)) s)"
[ $failed = 0 ]
