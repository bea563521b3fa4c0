#!/usr/bin/env bash
# guest-kit.sh: a Debian kernel, its modules and headers, busybox, an
# initramfs and a QEMU boot, for tests that need a real Linux guest.
#
# Stable interface (other scripts copy or call this one; extend, don't change):
#
#   guest-kit.sh fetch ARCH          download + unpack kernel, modules, headers,
#                                    busybox for ARCH (amd64 | arm64) into the
#                                    cache; prints the kit directory
#   guest-kit.sh kver ARCH           the kernel release, e.g. 6.1.0-56-amd64
#   guest-kit.sh kernel ARCH         path of the bootable kernel image
#   guest-kit.sh headers ARCH        path of a kernel build tree for
#                                    `make -C <it> M=... modules` (cross for
#                                    arm64: add ARCH=arm64 CROSS_COMPILE=...)
#   guest-kit.sh root ARCH DIR       create DIR as a busybox root with a
#                                    generic /init (see below)
#   guest-kit.sh add-bin DIR FILE... copy host executables/libraries into DIR at
#                                    the same path with every shared library
#                                    they need (ldd; ld.so included)
#   guest-kit.sh add-modules ARCH DIR NAME...
#                                    copy kernel modules NAME (and what they
#                                    depend on) into DIR/lib/modules/, and
#                                    append them, dependencies first, to
#                                    DIR/lib/modules/load-order (/init loads
#                                    them with insmod before /test)
#   guest-kit.sh cpio DIR OUT        pack DIR into a gzip newc initramfs OUT
#   guest-kit.sh boot ARCH INITRAMFS [QEMU ARG...]
#                                    boot it under QEMU TCG (serial console on
#                                    stdout); exit status = the guest's /test
#                                    status, 124 on timeout, 125 if the guest
#                                    died without reporting one
#
# The generic /init mounts proc, sys, devtmpfs, debugfs, tmpfs /tmp, loads
# lib/modules/load-order, runs the executable /test (which the caller puts in
# DIR), prints "GUEST-KIT-EXIT <status>" and powers off. Kernel command line
# extras: GUEST_KIT_APPEND. Extra environment:
#   GUEST_KIT_CACHE   download cache (default /var/cache/hvisor-ci/guest-kit)
#   GUEST_KIT_TIMEOUT seconds before `boot` gives up (default 180)
#   GUEST_KIT_MEM     guest memory (default 512M)
# Exit status 77 from fetch/kver/kernel/headers: Debian's archive could not be
# reached and nothing is cached (callers treat it as "skip", with the reason
# printed on stderr). Needs apt-get, dpkg-deb, cpio, gzip; boot needs
# qemu-system-x86 or qemu-system-arm; arm64 headers need linux-kbuild-6.1 on
# the host (it comes with linux-headers-amd64).
set -euo pipefail

CACHE=${GUEST_KIT_CACHE:-/var/cache/hvisor-ci/guest-kit}
SKIP=77

die() {
	echo "guest-kit: $*" >&2
	exit 1
}

check_arch() {
	case "$1" in
	amd64 | arm64) ;;
	*) die "unknown ARCH '$1' (amd64 or arm64)" ;;
	esac
}

# The Debian kernel ABI name (6.1.0-56) behind the linux-image-ARCH metapackage,
# remembered in the cache so later runs work without the archive.
abi() {
	local arch=$1 dep
	mkdir -p "$CACHE"
	dep=$(apt-cache depends "linux-image-$arch:$arch" 2>/dev/null |
		sed -n "s/^ *Depends: linux-image-\([0-9][^ :]*\)-$arch.*/\1/p" |
		head -n1) || true
	if [ -z "$dep" ] && [ "$arch" = arm64 ] &&
		! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
		apt-get update -q >/dev/null 2>&1 || true
		dep=$(apt-cache depends "linux-image-$arch:$arch" 2>/dev/null |
			sed -n "s/^ *Depends: linux-image-\([0-9][^ :]*\)-$arch.*/\1/p" |
			head -n1) || true
	fi
	if [ -n "$dep" ]; then
		echo "$dep" >"$CACHE/abi-$arch"
	elif [ ! -s "$CACHE/abi-$arch" ]; then
		echo "guest-kit: SKIP: cannot resolve linux-image-$arch in Debian's archive and nothing is cached" >&2
		exit $SKIP
	fi
	cat "$CACHE/abi-$arch"
}

kitdir() { echo "$CACHE/$1-$(abi "$1")"; }

# download PKG... into DIR/debs (apt-get download works without installing)
download() {
	local dir=$1
	shift
	mkdir -p "$dir/debs"
	if ! (cd "$dir/debs" && apt-get download -q "$@" >/dev/null 2>"$dir/download.log"); then
		cat "$dir/download.log" >&2
		echo "guest-kit: SKIP: cannot download $* from Debian's archive" >&2
		exit $SKIP
	fi
}

cmd_fetch() {
	local arch=$1 ver dir tmp
	ver=$(abi "$arch")
	dir=$CACHE/$arch-$ver
	if [ -f "$dir/.complete" ]; then
		echo "$dir"
		return
	fi
	tmp=$dir.partial
	rm -rf "$tmp"
	mkdir -p "$tmp"
	download "$tmp" "linux-image-$ver-$arch:$arch" "linux-headers-$ver-$arch:$arch" \
		"linux-headers-$ver-common" "busybox-static:$arch"
	mkdir -p "$tmp/tree"
	for deb in "$tmp"/debs/*.deb; do
		dpkg-deb -x "$deb" "$tmp/tree"
	done
	rm -rf "$tmp/debs"
	# The headers' scripts live in linux-kbuild-6.1, a host (amd64) package:
	# point the unpacked tree at the host's copy at the same path.
	local kbuild
	kbuild=$(readlink "$tmp/tree/usr/src/linux-headers-$ver-$arch/scripts" 2>/dev/null |
		sed -n 's|.*\(lib/linux-kbuild-[0-9.]*\).*|/usr/\1|p') || true
	if [ -n "$kbuild" ]; then
		mkdir -p "$tmp/tree$(dirname "$kbuild")"
		ln -sfn "$kbuild" "$tmp/tree$kbuild"
	fi
	# The arch tree's Makefile includes the common tree by absolute path:
	# use the unpacked copy, not whatever the host has installed.
	sed -i "s|^include /usr/src/|include $dir/tree/usr/src/|" \
		"$tmp/tree/usr/src/linux-headers-$ver-$arch/Makefile"
	touch "$tmp/.complete"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	echo "$dir"
}

cmd_kver() { echo "$(abi "$1")-$1"; }

cmd_kernel() {
	local dir
	dir=$(cmd_fetch "$1")
	echo "$dir/tree/boot/vmlinuz-$(cmd_kver "$1")"
}

cmd_headers() {
	local dir kver
	dir=$(cmd_fetch "$1")
	kver=$(cmd_kver "$1")
	[ -d "/usr/lib/linux-kbuild-${kver%%.0-*}" ] ||
		die "the host needs linux-kbuild-${kver%%.0-*} (apt-get install linux-kbuild-${kver%%.0-*})"
	echo "$dir/tree/usr/src/linux-headers-$kver"
}

cmd_root() {
	local arch=$1 root=$2 dir
	dir=$(cmd_fetch "$arch")
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,lib/modules}
	cp "$dir/tree/bin/busybox" "$root/bin/busybox"
	# Applet links are created by /init at boot (busybox --install), which
	# keeps the host side independent of the guest architecture.
	: >"$root/lib/modules/load-order"
	cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
while read -r m; do
	[ -n "$m" ] && insmod "/lib/modules/$m"
done </lib/modules/load-order
status=125
if [ -x /test ]; then
	/test
	status=$?
else
	echo "guest-kit: no /test in the initramfs"
fi
echo "GUEST-KIT-EXIT $status"
poweroff -f
EOF
	chmod 755 "$root/init"
}

cmd_add_bin() {
	local root=$1 f lib
	shift
	for f in "$@"; do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
		# ldd prints "name => /path (addr)" and "/lib64/ld-linux... (addr)"
		for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	done
}

cmd_add_modules() {
	local arch=$1 root=$2 dir kver moddir name path dep todo=()
	shift 2
	dir=$(cmd_fetch "$arch")
	kver=$(cmd_kver "$arch")
	moddir=$dir/tree/lib/modules/$kver
	# resolve NAME -> relative path, dependencies first. Debian ships no
	# modules.dep (depmod runs at install), so read each module's own
	# "depends=" entry from its .modinfo strings.
	resolve() {
		local want=$1 rel d deps
		rel=$(cd "$moddir" && find kernel -regex ".*/${want//_/[-_]}\.ko\(\.xz\)?" | head -n1)
		[ -n "$rel" ] || die "module $want not found for $kver"
		case "$rel" in
		*.xz) deps=$(xz -dc "$moddir/$rel" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1) ;;
		*) deps=$(tr '\0' '\n' <"$moddir/$rel" | sed -n 's/^depends=//p' | head -n1) ;;
		esac
		for d in ${deps//,/ }; do
			resolve "$d"
		done
		for d in "${todo[@]}"; do
			[ "$d" = "$rel" ] && return
		done
		todo+=("$rel")
	}
	for name in "$@"; do
		resolve "$name"
	done
	for path in "${todo[@]}"; do
		dep=$(basename "${path%.xz}")
		grep -qx "$dep" "$root/lib/modules/load-order" && continue
		case "$path" in
		*.xz) xz -dc "$moddir/$path" >"$root/lib/modules/$dep" ;;
		*) cp "$moddir/$path" "$root/lib/modules/$dep" ;;
		esac
		echo "$dep" >>"$root/lib/modules/load-order"
	done
}

cmd_cpio() {
	local root=$1 out=$2
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$out"
}

cmd_boot() {
	local arch=$1 initrd=$2 kernel log status
	shift 2
	kernel=$(cmd_kernel "$arch")
	local append="panic=-1 quiet ${GUEST_KIT_APPEND:-}"
	local common=(-accel tcg -m "${GUEST_KIT_MEM:-512M}" -nographic -no-reboot
		-kernel "$kernel" -initrd "$initrd")
	log=$(mktemp)
	set +e
	case "$arch" in
	amd64)
		timeout "${GUEST_KIT_TIMEOUT:-180}" qemu-system-x86_64 "${common[@]}" \
			-append "console=ttyS0 $append" "$@" </dev/null | tee "$log"
		;;
	arm64)
		timeout "${GUEST_KIT_TIMEOUT:-180}" qemu-system-aarch64 -M virt -cpu cortex-a57 \
			"${common[@]}" -append "console=ttyAMA0 $append" "$@" </dev/null | tee "$log"
		;;
	esac
	status=${PIPESTATUS[0]}
	set -e
	if [ "$status" = 124 ]; then
		rm -f "$log"
		echo "guest-kit: guest timed out" >&2
		return 124
	fi
	status=$(tr -d '\r' <"$log" | sed -n 's/^GUEST-KIT-EXIT \([0-9]*\)$/\1/p' | tail -n1)
	rm -f "$log"
	[ -n "$status" ] || return 125
	return "$status"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
fetch | kver | kernel | headers)
	[ $# -eq 1 ] || die "usage: $cmd ARCH"
	check_arch "$1"
	"cmd_$cmd" "$1"
	;;
root)
	[ $# -eq 2 ] || die "usage: root ARCH DIR"
	check_arch "$1"
	cmd_root "$@"
	;;
add-bin)
	[ $# -ge 2 ] || die "usage: add-bin DIR FILE..."
	cmd_add_bin "$@"
	;;
add-modules)
	[ $# -ge 3 ] || die "usage: add-modules ARCH DIR NAME..."
	check_arch "$1"
	cmd_add_modules "$@"
	;;
cpio)
	[ $# -eq 2 ] || die "usage: cpio DIR OUT"
	cmd_cpio "$@"
	;;
boot)
	[ $# -ge 2 ] || die "usage: boot ARCH INITRAMFS [QEMU ARG...]"
	check_arch "$1"
	cmd_boot "$@"
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
