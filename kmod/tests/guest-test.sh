#!/bin/sh
# Runs inside the CI guest as /test (see .ci/steps/30-kmod.sh): the test
# build of hvisor.ko, kmod_test and, when /etc/kmod-test.conf names them,
# the real daemon and the testdev plugin. Prints KMOD-TEST PASS and exits 0 when
# everything held.
fail() {
	echo "KMOD-TEST FAIL: $*"
	dmesg | tail -n 40
	exit 1
}
HVISOR_BIN=
PLUGIN_DIR=
[ -f /etc/kmod-test.conf ] && . /etc/kmod-test.conf

# The real build, where given (arm64: QEMU's device tree has no
# hvisor_virtio_device node, or one without the hypervisor's interrupt), must
# refuse to load cleanly rather than half-initialise.
if [ -f /hvisor-real.ko ]; then
	insmod /hvisor-real.ko 2>/dev/null && fail "real build loaded without hvisor"
	dmesg | grep -Eq 'no hvisor_virtio_device node|has no usable interrupt' ||
		fail "real build gave no reason for refusing"
	[ ! -e /dev/hvisor ] || fail "refused real build left /dev/hvisor"
	echo "ok: real build refuses to load outside hvisor (no device-tree node)"
fi

insmod /hvisor.ko || fail "insmod hvisor.ko"
[ -c /dev/hvisor ] || fail "/dev/hvisor missing"
mode=$(stat -c %a /dev/hvisor)
[ "$mode" = 600 ] || fail "/dev/hvisor mode $mode, want 600"
echo "ok: /dev/hvisor is a 0600 character device"
# The test build says what it is: loading it taints the kernel (N).
grep -q N /sys/module/hvisor/taint || fail "test build did not taint the kernel"
echo "ok: the test build taints the kernel ($(cat /sys/module/hvisor/taint))"

/kmod_test zones || fail "zone and mmap checks"
# SCMI: on the resources of the DT node when the guest's tree has one (the
# arm64 stage adds it, pointing at QEMU's fixed clock and at the resets and
# power domains of the test-only hvisor_fakeprov.ko), else unavailable.
if [ -d /proc/device-tree/hvisor_virtio_device ]; then
	insmod /hvisor_fakeprov.ko || fail "insmod hvisor_fakeprov.ko"
	/kmod_test scmi-dt || fail "SCMI on the DT node's resources"
	/kmod_test scmi-sets || fail "SCMI allowed sets"
	dmesg | grep -q 'hvisor-fakeprov.*2 fake resets' ||
		fail "the fake provider did not bind to its node"
else
	/kmod_test scmi-absent || fail "SCMI without the DT node"
fi
/kmod_test isolation || fail "isolation checks"

# kmod_test ARGS... while the real daemon serves /tmp/virtio.json.
with_daemon() {
	# No HVISOR_MOCK: the daemon must use /dev/hvisor.
	HVISOR_PLUGIN_PATH=$PLUGIN_DIR "$HVISOR_BIN" virtio start --foreground \
		--log-level info /tmp/virtio.json >/tmp/daemon.log 2>&1 &
	pid=$!
	/kmod_test "$@"
	rc=$?
	kill -TERM "$pid"
	wait "$pid"
	drc=$?
	sed 's/^/daemon: /' /tmp/daemon.log
	[ $rc = 0 ] || fail "daemon checks ($*)"
	[ $drc = 0 ] || fail "daemon exit status $drc after SIGTERM ($*)"
	grep -q '/dev/hvisor' /tmp/daemon.log || fail "daemon did not use /dev/hvisor"
}

if [ -n "$HVISOR_BIN" ]; then
	# arm64: the daemon also serves an scmi device on the DT node, and
	# must have declared and sealed its ids in the module.
	scmi=
	[ -f "$PLUGIN_DIR/libhvd-scmi.so" ] &&
		[ -d /proc/device-tree/hvisor_virtio_device ] && scmi=scmi
	/kmod_test start-zone /tmp/virtio.json $scmi || fail "zone for the daemon"
	with_daemon virtio
	if [ -n "$scmi" ]; then
		dmesg | grep -q 'SCMI allowed set sealed: 1 zone(s), 3 id(s)' ||
			fail "the daemon did not seal its SCMI set in the module"
		grep -q 'kernel keeps no SCMI allowed set' /tmp/daemon.log &&
			fail "the daemon found no allowed sets in the module"
		echo "ok: the daemon declared and sealed its scmi device's ids"
	fi
else
	echo "note: no daemon in this guest (module-only run)"
	/kmod_test start-zone /tmp/virtio.json || fail "zone for the bridge test"
fi
/kmod_test bridge || fail "bridge protocol by hand"
/kmod_test bridge-phys /tmp/bridge-phys || fail "bridge page address"
/kmod_test stop-zone || fail "zone shutdown"

rmmod hvisor || fail "rmmod"
[ ! -e /dev/hvisor ] || fail "/dev/hvisor left behind"
[ ! -e /sys/kernel/debug/hvisor ] || fail "debugfs left behind"
# The hypervisor still writes to the bridge page it was told about.
/kmod_test still-reserved "$(cat /tmp/bridge-phys)" || fail "bridge page freed"
# Load and unload once more: unload must have left nothing that breaks it.
insmod /hvisor.ko && rmmod hvisor || fail "second load/unload"
# The fake playing a LoongArch hypervisor of each generation (v0.4 reports
# layout 0x05): the module and the daemon must pick its protocol.
for gen in v0.4 line; do
	[ -n "$HVISOR_BIN" ] || break
	ver=6
	[ $gen = v0.4 ] && ver=5
	insmod /hvisor.ko fake_loongarch=1 fake_config_version=$ver ||
		fail "insmod as LoongArch $gen"
	/kmod_test start-zone /tmp/virtio.json || fail "zone for LoongArch $gen"
	with_daemon lines $gen
	grep -q "interrupts: loongarch-$gen model" /tmp/daemon.log ||
		fail "daemon did not choose the loongarch-$gen model"
	/kmod_test stop-zone || fail "zone shutdown (LoongArch $gen)"
	rmmod hvisor || fail "rmmod (LoongArch $gen)"
	echo "ok: LoongArch $gen interrupt protocol"
done
# The gpu plugin's drm backend on Bochs' KMS device, where the stage put
# its suite in (amd64, booted with -vga std).
if [ -x /opt/hvisor/test_gpu_drm ]; then
	[ -c /dev/dri/card0 ] || fail "no /dev/dri/card0 for the gpu drm suite"
	t0=$(cut -d' ' -f1 /proc/uptime)
	LD_LIBRARY_PATH=/opt/hvisor/lib HVISOR_PLUGIN_PATH=$PLUGIN_DIR \
		HVD_TEST_DRM_CARD=/dev/dri/card0 /opt/hvisor/test_gpu_drm \
		>/tmp/gpu-drm.log 2>&1
	rc=$?
	tr -d '\r' </tmp/gpu-drm.log | grep -v '^$' | sed 's/^/note: gpu_drm: /'
	[ $rc = 0 ] || fail "gpu drm backend suite (exit $rc)"
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "ok: gpu plugin's drm backend on bochs KMS (modes, flip, hotplug, restore): $t0 -> $t1 s uptime"
fi
insmod /hvisor.ko fake_ecam_base=0xb0000000 || fail "insmod with an ECAM base"
/kmod_test boot || fail "GET_ECAM_BASE / SET_BOOT_MODE"
rmmod hvisor || fail "rmmod after the boot requests"
# Lockdown is one way and refuses unsigned modules from then on: last.
insmod /hvisor.ko || fail "third load"
mkdir -p /sys/kernel/security
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
/kmod_test lockdown || fail "lockdown checks"
if dmesg | grep -E 'Oops|BUG:|WARNING:|Call Trace|general protection|refcount_t'; then
	fail "the kernel complained"
fi
echo "KMOD-TEST PASS"
