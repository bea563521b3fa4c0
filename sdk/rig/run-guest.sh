#!/usr/bin/env bash
# run-guest.sh: boot a real Linux guest (Debian's kernel, busybox) whose
# virtio-mmio devices are served by the hvisor daemon and its plugins through
# hvisor-rig, run guest checks, and judge the result on the host.
#
# usage: sdk/rig/run-guest.sh [options] VIRTIO_JSON [CHECK...]
#   CHECK         a name (tests/rig/NAME.guest.sh, plus tests/rig/NAME.host.sh
#                 if present) or a path to a guest check file
#   --build DIR   the Meson build dir with hvisor, hvisor-rig, plugins
#                 (default: build)
#   --shell       after the checks, an interactive shell on the console
#   --timeout SEC guest time limit (default 240)
#   --out DIR     keep console.log, daemon.log and rig.log there
#   --verbose     the rig logs every register access
#   --hvisor BIN  another daemon binary (default: the build's)
#   --foreign     BIN is not our daemon (bench/hvtool/hvtool-daemon runs
#                 hvisor-tool's): the features verdict, which reads our
#                 daemon's log, only prints the guest's set
# Exit status 0 when every check passed, the guest ran /test to the end,
# QEMU and the daemon exited cleanly; 77 when Debian's archive is
# unreachable and nothing is cached (a skip). On failure the guest console
# log and the daemon log are printed.
#
# A check file is busybox sh run in the guest with the helpers of
# sdk/rig/guest/lib.sh (rig_expect, rig_dev, rig_rebind ...). A line
# "# rig-modules: NAME..." in it names the kernel modules it needs; a line
# "# rig-unnegotiated: TYPE MASK why" declares offered features of device
# TYPE the Linux driver does not know (exempt from the features verdict); a
# line "# rig-cmdline: ARG..." adds kernel arguments, placed before the
# rig's own "console=ttyS0" so that ttyS0 stays /dev/console. Host
# files of a named check: NAME.prep.sh runs before the boot (with RIG_WORK,
# a scratch folder for images, and RIG_ROOT, the initramfs tree),
# NAME.during.sh in the background while the guest runs (a host peer; it is
# stopped afterwards; RIG_CONTROL is the daemon's control socket and
# RIG_HVISOR the hvisor binary), NAME.host.sh after it (with RIG_WORK, RIG_CONSOLE_LOG,
# RIG_DAEMON_LOG, RIG_JSON and the rig_expect/rig_fail helpers).
# "@RIG_WORK@" in the JSON becomes RIG_WORK. A line "# rig-netns" runs the
# peers, the rig and the daemon in a network namespace of their own (root).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
KIT=$SRC/scripts/guest-kit.sh
build=build shell=0 timeout=240 out='' verbose=() hvisor=() foreign=0
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--shell) shell=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--verbose) verbose=(--verbose); shift ;;
	--hvisor) hvisor=(--hvisor "$(realpath "$2")"); shift 2 ;;
	--foreign) foreign=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-guest: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: run-guest.sh [options] VIRTIO_JSON [CHECK...]" >&2; exit 2; }
json=$(realpath "$1")
shift
build=$(realpath "$build")
rig=$build/sdk/rig/hvisor-rig
[ -x "$rig" ] || { echo "run-guest: $rig not built (meson compile -C $build)" >&2; exit 1; }

for tool in qemu-system-x86_64 make cpio python3; do
	command -v $tool >/dev/null || {
		echo "run-guest: $tool is missing; as root: apt-get install" \
			"qemu-system-x86 linux-headers-amd64 make cpio python3" >&2
		exit 1
	}
done

work=$(mktemp -d /tmp/hvisor-rig-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -n "$out" ] || out=$work/out
mkdir -p "$out"
out=$(realpath "$out")
t0=$(date +%s)
stamp() { echo "run-guest: $* ($(($(date +%s) - t0)) s)"; }

# --- the kit: kernel, headers, busybox (cached by guest-kit.sh) ---
set +e
kernel=$("$KIT" kernel amd64)
rc=$?
set -e
[ $rc = 0 ] || exit $rc # 77: skip, reason printed by the kit
headers=$("$KIT" headers amd64)

# --- the guest module, built against the kit's headers ---
mkdir -p "$work/mod"
cp "$SRC"/sdk/rig/guest/{hvisor_rig_guest.c,Kbuild} "$work/mod/"
if ! make -s -C "$headers" M="$work/mod" modules >"$work/mod/build.log" 2>&1 ||
	grep -q 'warning:' "$work/mod/build.log"; then
	cat "$work/mod/build.log" >&2
	echo "run-guest: the guest module did not build cleanly" >&2
	exit 1
fi
stamp "guest module built"

# --- checks: names or files; their modules ---
root=$work/root
"$KIT" root amd64 "$root"
mkdir -p "$root/rig/checks"
cp "$SRC/sdk/rig/guest/lib.sh" "$root/rig/lib.sh"
names=() hosts=() preps=() durings=() modules=(virtio_mmio) cmdline=()
netns=0
declare -A unknown_to_linux=()
for c in "$@"; do
	if [ -f "$c" ]; then
		name=$(basename "$c" .sh)
		name=${name%.guest}
		file=$c
	else
		name=$c
		file=$SRC/tests/rig/$c.guest.sh
		[ -f "$file" ] || { echo "run-guest: no check $file" >&2; exit 2; }
		[ -f "$SRC/tests/rig/$c.host.sh" ] && hosts+=("$SRC/tests/rig/$c.host.sh")
		[ -f "$SRC/tests/rig/$c.prep.sh" ] && preps+=("$SRC/tests/rig/$c.prep.sh")
		[ -f "$SRC/tests/rig/$c.during.sh" ] && durings+=("$SRC/tests/rig/$c.during.sh")
	fi
	cp "$file" "$root/rig/checks/$name.sh"
	names+=("$name")
	read -r -a more <<<"$(sed -n 's/^# rig-modules://p' "$file" | tr '\n' ' ')"
	modules+=("${more[@]}")
	read -r -a more <<<"$(sed -n 's/^# rig-cmdline://p' "$file" | tr '\n' ' ')"
	cmdline+=("${more[@]}")
	grep -q '^# rig-netns' "$file" && netns=1
	while read -r type mask _; do
		unknown_to_linux[$type]=$((${unknown_to_linux[$type]:-0} | mask))
	done < <(sed -n 's/^# rig-unnegotiated://p' "$file")
done
"$KIT" add-modules amd64 "$root" "${modules[@]}"
cp "$work/mod/hvisor_rig_guest.ko" "$root/lib/modules/"
echo hvisor_rig_guest.ko >>"$root/lib/modules/load-order"
[ $shell = 1 ] && touch "$root/rig/shell"
cat >"$root/test" <<EOF
#!/bin/sh
. /rig/lib.sh
rig_main ${names[*]}
EOF
chmod 755 "$root/test"
export RIG_WORK=$work/share RIG_ROOT=$root
# The daemon's control socket and the client binary, for host checks that
# use `hvisor virtio add|remove|stats` while the guest runs.
export RIG_CONTROL=$RIG_WORK/control.sock
export RIG_HVISOR=${hvisor[1]:-$build/core/hvisor}
mkdir -p "$RIG_WORK"
for p in "${preps[@]}"; do
	# shellcheck source=/dev/null
	(. "$p")
done
sed "s|@RIG_WORK@|$RIG_WORK|g" "$json" >"$work/virtio.json"
json=$work/virtio.json
"$KIT" cpio "$root" "$work/initrd.gz"
stamp "initramfs ($(du -k "$work/initrd.gz" | cut -f1) KiB, checks: ${names[*]:-none})"

# --- the guest ---
console=$out/console.log daemon=$out/daemon.log riglog=$out/rig.log
: >"$daemon"
qemu_args=(-kernel "$kernel" -initrd "$work/initrd.gz"
	-append "${cmdline[*]} console=ttyS0 panic=-1 quiet")
: >"$out/peers.log"
# "# rig-netns": the host peers, the rig and so the daemon run in a network
# namespace of their own (with only lo), so a tap the daemon creates and the
# addresses a peer gives it never touch the host's network.
inns=()
if [ $netns = 1 ]; then
	ns=hvisor-rig-$$
	ip netns add "$ns" || {
		echo "run-guest: a check needs a network namespace (root, iproute2)" >&2
		exit 1
	}
	trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$work"' EXIT
	ip -n "$ns" link set lo up
	inns=(ip netns exec "$ns")
fi
peers=()
for d in "${durings[@]}"; do
	"${inns[@]}" bash "$d" >>"$out/peers.log" 2>&1 &
	peers+=($!)
done
set +e
if [ $shell = 1 ]; then
	"${inns[@]}" "$rig" "${verbose[@]}" "${hvisor[@]}" --daemon-log "$daemon" "$json" -- "${qemu_args[@]}" 2>"$riglog" |
		tee "$console"
else
	"${inns[@]}" "$rig" "${verbose[@]}" "${hvisor[@]}" --timeout "$timeout" --daemon-log "$daemon" "$json" -- \
		"${qemu_args[@]}" </dev/null 2>"$riglog" >"$console"
fi
rig_status=${PIPESTATUS[0]}
for p in "${peers[@]}"; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
set -e
stamp "guest finished (rig exit $rig_status)"

# --- verdicts (a failed one must not end the script: set +e) ---
set +e
failures=0
rig_pass() { echo "RIG-PASS host: $*"; }
rig_fail() {
	echo "RIG-FAIL host: $*"
	failures=$((failures + 1))
}
rig_expect() {
	local what=$1
	shift
	if "$@"; then
		rig_pass "$what"
	else
		rig_fail "$what"
		return 1
	fi
}
clean=$work/console.txt
tr -d '\r' <"$console" >"$clean"
grep -E '^RIG-(PASS|FAIL)' "$clean" || true
rig_expect "hvisor-rig exit status 0 (QEMU and daemon clean, every access completed)" \
	test "$rig_status" = 0
rig_expect "the guest ran its checks to the end" grep -q '^RIG-DONE' "$clean"
rig_expect "no guest check failed" test -z "$(grep '^RIG-FAIL' "$clean" || true)"
# (an interactive session ends with poweroff from the shell, before /test
# returns)
[ $shell = 1 ] || rig_expect "guest /test exit 0" grep -qx 'GUEST-KIT-EXIT 0' "$clean"
rig_expect "no kernel oops or warning in the guest" \
	test -z "$(grep -E 'BUG:|WARNING:|Oops|Call Trace' "$clean" || true)"

# Features: the guest driver's negotiated set (sysfs, bit 0 first) must be
# what the daemon logged last for the device in that window, and equal to
# what the device offered (the real driver takes every advertised feature).
mapfile -t addrs < <(python3 - "$json" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'^\s*//.*$', '', text, flags=re.M)
for z in json.loads(text)["zones"]:
    for d in z["devices"]:
        if d.get("status", "enable") != "disable":
            print("%s@0x%x" % (d["type"], int(d["addr"], 16)))
EOF
)
while read -r _ win _ status bits; do
	name=${addrs[$win]:-window$win}
	if [ $((status & 4)) = 0 ]; then
		echo "run-guest: $name: no driver bound (status $status), features not compared"
		continue
	fi
	guest=0
	for ((i = ${#bits} - 1; i >= 0; i--)); do
		guest=$(((guest << 1) | ${bits:i:1}))
	done
	line=$(grep -F " $name: driver ok, features" "$daemon" | tail -n1 || true)
	offered=$(sed -n 's/.*offered \(0x[0-9a-f]*\).*/\1/p' <<<"$line")
	negotiated=$(sed -n 's/.*negotiated \(0x[0-9a-f]*\).*/\1/p' <<<"$line")
	printf -v guest_hex '0x%x' "$guest"
	if [ $foreign = 1 ]; then
		echo "run-guest: $name: guest negotiated $guest_hex (daemon not ours: not compared)"
		continue
	fi
	rig_expect "$name: guest features $guest_hex = daemon's negotiated ${negotiated:-?}" \
		test -n "$negotiated" -a "$((negotiated))" = "$guest"
	exempt=${unknown_to_linux[${name%%@*}]:-0}
	printf -v exempt_hex '0x%x' "$exempt"
	rig_expect "$name: the driver negotiated every offered feature (${offered:-?}; exempt $exempt_hex)" \
		test -n "$offered" -a "$((offered & ~exempt))" = "$guest"
done < <(grep '^RIG-FEATURES ' "$clean" || true)

export RIG_CONSOLE_LOG=$console RIG_DAEMON_LOG=$daemon RIG_JSON=$json
for h in "${hosts[@]}"; do
	# shellcheck source=/dev/null
	. "$h"
done

if [ $failures -ne 0 ]; then
	echo "======== guest console ($console)"
	cat "$clean"
	echo "======== daemon log ($daemon)"
	cat "$daemon"
	echo "======== rig log ($riglog)"
	cat "$riglog"
	if [ -s "$out/peers.log" ]; then
		echo "======== host peers ($out/peers.log)"
		cat "$out/peers.log"
	fi
	stamp "FAILED: $failures host verdict(s) failed"
	exit 1
fi
tail -n1 "$riglog"
stamp "OK: ${names[*]:-boot only}"
