#!/usr/bin/env bash
# CI stage: the /dev/hvisor kernel module (kmod/).
#  1. build hvisor.ko (real and test build) against Debian's
#     linux-headers-amd64, and cross-build both for arm64 against the
#     unpacked arm64 headers, every build checked by sparse (C=1) and
#     failing on any warning; check the test build is marked (modinfo
#     test=Y) and cannot come from the environment;
#  2. boot the matching Debian kernel under QEMU (TCG) for amd64 and arm64
#     with an initramfs holding the test build, kmod_test and the real daemon
#     with the testdev plugin (arm64: also the scmi plugin, its ids
#     declared and sealed in the module; cross-built with Meson against
#     Debian's arm64 libcjson/libcunit, unpacked, not installed), and run
#     kmod/tests/guest-test.sh there; the amd64 guest also runs the gpu
#     plugin's drm suite on QEMU's standard VGA (bochs.ko, see add_gpu_drm).
# Downloads are cached in /var/cache/hvisor-ci. If Debian's archive cannot
# be reached and nothing is cached, the stage prints why and skips (exit 0).
# KMOD_ARCHES="amd64" boots only that guest (default: "amd64 arm64").
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
KIT=$ROOT/scripts/guest-kit.sh
export DEBIAN_FRONTEND=noninteractive
WORK=$(mktemp -d /tmp/hvisor-kmod.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
t0=$(date +%s)
arches=" ${KMOD_ARCHES:-amd64 arm64} "
stamp() { echo "-- $* ($(($(date +%s) - t0)) s)"; }

skip() {
	echo "SKIP kmod stage: $*"
	exit 0
}

# --- packages (heavy ones here, not in .ci/packages) ---
pkgs=(linux-headers-amd64 cpio qemu-system-x86 qemu-system-arm
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross sparse device-tree-compiler)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null 2>&1 &&
			apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
		skip "cannot install ${missing[*]} from Debian's archive"
fi
stamp "packages"

# The kernel the kit boots must be the one the installed headers are for.
set +e
kver=$("$KIT" kver amd64)
rc=$?
set -e
[ $rc = 77 ] && skip "Debian's archive is unreachable and no kernel is cached"
[ $rc = 0 ] || exit $rc
hdr_amd64=/usr/src/linux-headers-$kver
# An older linux-headers-amd64 may be installed already: add the matching one.
if [ ! -d "$hdr_amd64" ]; then
	apt-get install -y -q --no-install-recommends "linux-headers-$kver" >/dev/null ||
		skip "cannot install linux-headers-$kver from Debian's archive"
fi
for arch in amd64 arm64; do
	set +e
	"$KIT" fetch $arch >/dev/null
	rc=$?
	set -e
	[ $rc = 77 ] && skip "cannot download the $arch kernel from Debian's archive"
	[ $rc = 0 ] || exit $rc
done
hdr_arm64=$("$KIT" headers arm64)
stamp "kernels ($kver)"

# --- module builds (kmod/build.sh fails on warnings, sparse's too) ---
build_module() { # NAME KDIR [make args...]
	local name=$1 kdir=$2
	shift 2
	kmod/build.sh "$WORK/$name" KDIR="$kdir" C=1 "$@" >/dev/null
	grep -q '^  CHECK ' "$WORK/$name/build.log" ||
		{ echo "sparse did not run for $name" >&2; exit 1; }
	echo "built $name (sparse clean): $(du -k "$WORK/$name/hvisor.ko" | cut -f1) KiB"
}
cross=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
build_module amd64-real "$hdr_amd64"
build_module amd64-fake "$hdr_amd64" HVISOR_FAKE=1
build_module arm64-real "$hdr_arm64" "${cross[@]}"
build_module arm64-fake "$hdr_arm64" "${cross[@]}" HVISOR_FAKE=1
# The real build must not contain the fake (and the test build must).
if grep -q hvisor_fake_call "$WORK/amd64-real/hvisor.ko" ||
	! grep -q hvisor_fake_call "$WORK/amd64-fake/hvisor.ko"; then
	echo "HVISOR_FAKE leaked into (or missing from) a build" >&2
	exit 1
fi
# The test build is marked (modinfo test=Y taints at load) and the real
# one is not; an exported HVISOR_FAKE stops the build instead.
for b in amd64 arm64; do
	readelf -p .modinfo "$WORK/$b-fake/hvisor.ko" | grep -q ' test=Y$' ||
		{ echo "$b test build lacks modinfo test=Y" >&2; exit 1; }
	if readelf -p .modinfo "$WORK/$b-real/hvisor.ko" | grep -q ' test='; then
		echo "$b real build is marked as a test build" >&2
		exit 1
	fi
done
if HVISOR_FAKE=1 kmod/build.sh "$WORK/env-fake" KDIR="$hdr_amd64" >/dev/null 2>&1 ||
	! grep -q 'HVISOR_FAKE is set in the environment' "$WORK/env-fake/build.log"; then
	echo "HVISOR_FAKE from the environment was not refused" >&2
	exit 1
fi
echo "ok: test build marked in modinfo; HVISOR_FAKE from the environment refused"
# The test-only reset and power-domain providers (arm64 guest only: they
# bind to a DT node), sparse-checked and warning-free like hvisor.ko.
mkdir -p "$WORK/fakeprov"
cp kmod/tests/fakeprov/Kbuild kmod/tests/fakeprov/fakeprov.c "$WORK/fakeprov/"
make -C "$hdr_arm64" M="$WORK/fakeprov" C=1 "${cross[@]}" modules \
	>"$WORK/fakeprov/build.log" 2>&1 || { cat "$WORK/fakeprov/build.log"; exit 1; }
if grep -q 'warning:' "$WORK/fakeprov/build.log" ||
	! grep -q '^  CHECK ' "$WORK/fakeprov/build.log"; then
	cat "$WORK/fakeprov/build.log"
	echo "hvisor_fakeprov.ko: warnings, or sparse did not run" >&2
	exit 1
fi
echo "built arm64 hvisor_fakeprov.ko (test only, sparse clean)"
test_cflags=(-O2 -Wall -Wextra -Werror -static -Iinterface -Ikmod)
test_src=(kmod/tests/kmod_test.c kmod/tests/isolation.c kmod/tests/scmi_test.c)
gcc "${test_cflags[@]}" -o "$WORK/kmod_test-amd64" "${test_src[@]}"
aarch64-linux-gnu-gcc "${test_cflags[@]}" -o "$WORK/kmod_test-arm64" "${test_src[@]}"
stamp "module builds"

# --- the daemon (CI's earlier stages built it; build it if run alone) ---
if [ ! -x build/core/hvisor ] || [ ! -f build/tests/testdev/libhvd-testdev.so ]; then
	[ -f build/build.ninja ] || meson setup build >/dev/null
	meson compile -C build >/dev/null
fi

# --- the daemon for arm64: Meson cross build against an unpacked sysroot ---
arm64_daemon=
rc=1
if [[ $arches == *" arm64 "* ]]; then
	set +e
	sysroot=$("$KIT" sysroot arm64 libcjson1 libcjson-dev libcunit1 libcunit1-dev)
	rc=$?
	set -e
fi
if [ $rc = 0 ]; then
	# The committed cross file, with only the sysroot layered on top
	# (Meson merges --cross-file arguments, later ones winning).
	cat >"$WORK/arm64-sysroot.ini" <<CROSS
[properties]
sys_root = '$sysroot'
pkg_config_libdir = '$sysroot/usr/lib/aarch64-linux-gnu/pkgconfig'
CROSS
	meson setup "$WORK/build-arm64" --cross-file "$ROOT/cross/aarch64-linux-gnu.ini" \
		--cross-file "$WORK/arm64-sysroot.ini" >"$WORK/arm64-meson.log" 2>&1 ||
		{ cat "$WORK/arm64-meson.log"; exit 1; }
	meson compile -C "$WORK/build-arm64" hvisor testdev scmi >>"$WORK/arm64-meson.log" 2>&1 ||
		{ cat "$WORK/arm64-meson.log"; exit 1; }
	arm64_daemon=$WORK/build-arm64
	stamp "arm64 daemon cross build"
elif [ $rc = 77 ]; then
	echo "note: arm64 libcjson not downloadable: the arm64 guest runs without the daemon"
elif [[ $arches == *" arm64 "* ]]; then
	exit $rc
fi

# Copies an arm64 ELF and, recursively, the libraries it needs (readelf
# NEEDED: ldd cannot run it) from DIRS into ROOT/lib, plus its ld.so.
add_foreign() { # ROOT FILE DEST DIRS...
	local root=$1 file=$2 dest=$3 lib d interp
	shift 3
	mkdir -p "$root$(dirname "$dest")" "$root/lib"
	cp -L "$file" "$root$dest"
	for lib in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$root/lib/$lib" ] && continue
		for d in "$@"; do
			if [ -e "$d/$lib" ]; then
				add_foreign "$root" "$d/$lib" "/lib/$lib" "$@"
				break
			fi
		done
		[ -e "$root/lib/$lib" ] || { echo "no $lib for $file" >&2; exit 1; }
	done
	interp=$(readelf -l "$file" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
	if [ -n "$interp" ] && [ ! -e "$root$interp" ]; then
		mkdir -p "$root$(dirname "$interp")"
		cp -L "/usr/aarch64-linux-gnu/lib/$(basename "$interp")" "$root$interp"
	fi
}

# The gpu plugin's drm suite (tests/gpu/test_gpu_drm.c) on the KMS device
# of QEMU's standard VGA (Bochs' bochs.ko): Debian's 6.1 kernel is built
# without vkms (CONFIG_DRM_VKMS is not set in its config). amd64 only: the
# arm64 daemon is built without tests.
add_gpu_drm() { # ROOT
	local r=$1 t=$ROOT/build/tests/gpu/test_gpu_drm
	if [ ! -x "$t" ] || [ ! -f "$ROOT/build/plugins/gpu/libhvd-gpu.so" ]; then
		echo "note: no gpu drm suite in build/ (libdrm-dev missing?): not run"
		return
	fi
	"$KIT" add-bin "$r" "$t" "$ROOT/build/plugins/gpu/libhvd-gpu.so"
	mkdir -p "$r/opt/hvisor/lib"
	cp -L "$t" "$r/opt/hvisor/test_gpu_drm"
	cp -L "$ROOT/build/plugins/gpu/libhvd-gpu.so" "$r/opt/hvisor/plugins/"
	cp -L "$ROOT"/build/sdk/libhvd-mock.so.1 "$r/opt/hvisor/lib/"
	"$KIT" add-modules amd64 "$r" bochs
}

# --- guests ---
make_guest() { # ARCH MODULE_BUILD KMOD_TEST OUT [host | ARM64_BUILD_DIR]
	local arch=$1 mod=$2 test=$3 out=$4 daemon=${5:-}
	local r=$WORK/root-$arch
	"$KIT" root "$arch" "$r"
	cp "$WORK/$mod/hvisor.ko" "$r/hvisor.ko"
	# arm64 only: its real build must refuse to load (no device-tree
	# node); amd64's would execute vmcall outside a hypervisor. The fake
	# providers serve the DT node the arm64 boot adds.
	if [ "$arch" = arm64 ]; then
		cp "$WORK/arm64-real/hvisor.ko" "$r/hvisor-real.ko"
		cp "$WORK/fakeprov/hvisor_fakeprov.ko" "$r/hvisor_fakeprov.ko"
	fi
	cp "$test" "$r/kmod_test"
	cp kmod/tests/guest-test.sh "$r/test"
	if [ "$daemon" = host ]; then
		# add-bin brings the shared libraries; the files themselves go
		# to /opt/hvisor, because the checkout's own path may be under
		# /tmp, which the guest mounts a tmpfs over.
		"$KIT" add-bin "$r" "$ROOT/build/core/hvisor" \
			"$ROOT/build/tests/testdev/libhvd-testdev.so"
		mkdir -p "$r/opt/hvisor/plugins"
		cp -L "$ROOT/build/core/hvisor" "$r/opt/hvisor/hvisor"
		cp -L "$ROOT/build/tests/testdev/libhvd-testdev.so" \
			"$r/opt/hvisor/plugins/"
		printf 'HVISOR_BIN=/opt/hvisor/hvisor\nPLUGIN_DIR=/opt/hvisor/plugins\n' \
			>"$r/etc/kmod-test.conf"
		add_gpu_drm "$r"
	elif [ -n "$daemon" ]; then
		local dirs=(/usr/aarch64-linux-gnu/lib "$sysroot/usr/lib/aarch64-linux-gnu")
		add_foreign "$r" "$daemon/core/hvisor" /opt/hvisor/hvisor "${dirs[@]}"
		add_foreign "$r" "$daemon/tests/testdev/libhvd-testdev.so" \
			/opt/hvisor/plugins/libhvd-testdev.so "${dirs[@]}"
		add_foreign "$r" "$daemon/plugins/scmi/libhvd-scmi.so" \
			/opt/hvisor/plugins/libhvd-scmi.so "${dirs[@]}"
		printf 'HVISOR_BIN=/opt/hvisor/hvisor\nPLUGIN_DIR=/opt/hvisor/plugins\n' \
			>"$r/etc/kmod-test.conf"
	fi
	"$KIT" cpio "$r" "$out"
}
run_guest() { # ARCH INITRAMFS [QEMU ARGS...]
	local log=$WORK/guest-$1.log status
	set +e
	GUEST_KIT_TIMEOUT=300 "$KIT" boot "$@" >"$log" 2>&1
	status=$?
	set -e
	grep -E '^(ok|FAIL|note|daemon|KMOD-TEST|kmod_test)|\] (hvisor|BUG|WARNING|Oops)' "$log" | tr -d '\r' || true
	if [ $status != 0 ] || ! grep -q 'KMOD-TEST PASS' "$log"; then
		echo "--- full $1 guest log ---"
		tr -d '\r' <"$log" | tail -n 150
		echo "$1 guest failed (status $status)" >&2
		exit 1
	fi
}

if [[ $arches == *" amd64 "* ]]; then
	make_guest amd64 amd64-fake "$WORK/kmod_test-amd64" "$WORK/amd64.cpio.gz" host
	run_guest amd64 "$WORK/amd64.cpio.gz" -vga std
	stamp "amd64 guest"
fi
if [[ $arches == *" arm64 "* ]]; then
	make_guest arm64 arm64-fake "$WORK/kmod_test-arm64" "$WORK/arm64.cpio.gz" "$arm64_daemon"
	# QEMU's own tree (same machine, CPU and memory as the boot) plus an
	# hvisor_virtio_device listing its fixed clock and two resets and two
	# power domains of /fake-provider (hvisor_fakeprov.ko), so SCMI
	# requests drive the real clk, reset and genpd frameworks (kmod_test
	# scmi-dt, scmi-sets).
	dtb=$WORK/virt.dtb
	qemu-system-aarch64 -M virt,dumpdtb="$dtb" -cpu cortex-a57 \
		-m "${GUEST_KIT_MEM:-512M}" -nographic >/dev/null 2>&1
	pclk=$(fdtget "$dtb" /apb-pclk phandle)
	# A phandle above every one QEMU gave out.
	fp=0
	for p in $(dtc -q -I dtb -O dts "$dtb" | grep -o 'phandle = <0x[0-9a-f]*>' |
		grep -o '0x[0-9a-f]*'); do
		if [ $((p)) -gt $fp ]; then fp=$((p)); fi
	done
	fp=$((fp + 1))
	fdtput -c "$dtb" /fake-provider
	fdtput -t s "$dtb" /fake-provider compatible hvisor-test,fake-provider
	fdtput -t u "$dtb" /fake-provider '#reset-cells' 1
	fdtput -t u "$dtb" /fake-provider '#power-domain-cells' 1
	fdtput -t u "$dtb" /fake-provider phandle "$fp"
	fdtput -c "$dtb" /hvisor_virtio_device
	fdtput -t s "$dtb" /hvisor_virtio_device compatible hvisor
	fdtput -t u "$dtb" /hvisor_virtio_device clocks "$pclk"
	fdtput -t u "$dtb" /hvisor_virtio_device resets "$fp" 0 "$fp" 1
	fdtput -t u "$dtb" /hvisor_virtio_device power-domains "$fp" 0 "$fp" 1
	run_guest arm64 "$WORK/arm64.cpio.gz" -dtb "$dtb"
	stamp "arm64 guest${arm64_daemon:+ with the daemon}"
fi
echo "kmod stage passed"
