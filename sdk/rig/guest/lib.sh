# Guest side of hvisor-rig checks (busybox sh), sourced by the initramfs's
# /test. A check is a file of shell commands run with these helpers; each
# verdict is one console line the host collects:
#   RIG-PASS <check>: <what>    RIG-FAIL <check>: <what>
# Waits poll a condition with a bound that only guards against a hang.

RIG_FAILS=0
RIG_CHECK=setup

rig_log() { echo "RIG: $RIG_CHECK: $*"; }
rig_pass() { echo "RIG-PASS $RIG_CHECK: $*"; }
rig_fail() {
	echo "RIG-FAIL $RIG_CHECK: $*"
	RIG_FAILS=$((RIG_FAILS + 1))
}

# rig_expect WHAT CMD...: pass or fail by CMD's exit status, which it
# returns (so `if rig_expect ...` can skip what depends on it).
rig_expect() {
	what=$1
	shift
	if "$@"; then
		rig_pass "$what"
	else
		rig_fail "$what"
		return 1
	fi
}

# rig_wait SECONDS CMD...: until CMD succeeds; 1 if it never did.
rig_wait() {
	tries=$(($1 * 10))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ $tries -gt 0 ] || return 1
		sleep 0.1
	done
}

# rig_dev ID: the /sys/bus/virtio/devices entry of the first device with
# virtio device id ID (decimal: 2 blk, 3 console, 1 net, 4 rng) that a
# driver has bound; waits for it.
rig_find_dev() {
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d/device" ] || continue
		[ $(($(cat "$d/device"))) -eq "$1" ] || continue
		[ -e "$d/driver" ] || continue
		echo "$d"
		return 0
	done
	return 1
}
rig_dev() {
	rig_wait 10 rig_find_dev "$1" >/dev/null || return 1
	rig_find_dev "$1"
}

# rig_window DEV: the rig window (= index of the device in the virtio JSON's
# enabled devices) a virtio device sits in.
rig_window() {
	p=$(readlink -f "$1/..")
	echo "${p##*/virtio-mmio.}"
}

# rig_rebind DEV: unbind the device's driver and bind it again; the driver
# resets the device on the way out and initialises it from scratch.
rig_rebind() {
	name=${1##*/}
	drv=$(readlink -f "$1/driver")
	echo "$name" >"$drv/unbind" || return 1
	[ ! -e "$1/driver" ] || return 1
	echo "$name" >"$drv/bind" || return 1
	rig_wait 10 test -e "$1/driver"
}

# rig_netif DEV: the network interface of virtio-net device DEV.
rig_netif() {
	ls "$1/net" 2>/dev/null | head -n1
}

# rig_net_up DEV ADDR/PREFIX: waits for DEV's interface, brings it up with
# that address.
rig_net_up() {
	rig_wait 10 test -n "$(rig_netif "$1")" || return 1
	ifc=$(rig_netif "$1")
	ip link set "$ifc" up && ip addr add "$2" dev "$ifc"
}

# One line per device for the host: window, device id, status, features
# (the driver's negotiated set, bit 0 first), compared with the daemon log.
rig_report_features() {
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d/features" ] || continue
		echo "RIG-FEATURES $(rig_window "$d") $(($(cat "$d/device"))) $(cat "$d/status") $(cat "$d/features")"
	done
}

# rig_main CHECK...: runs /rig/checks/CHECK.sh in order; status = failures.
rig_main() {
	if ! rig_wait 20 test -d /sys/bus/pci/drivers/hvisor_rig_guest; then
		rig_fail "the guest module is not loaded"
	fi
	echo "RIG: windows: $(ls -d /sys/bus/platform/devices/virtio-mmio.* 2>/dev/null | wc -l)"
	for RIG_CHECK in "$@"; do
		rig_log "start"
		# shellcheck source=/dev/null
		. "/rig/checks/$RIG_CHECK.sh"
		rig_log "end"
	done
	RIG_CHECK=report
	rig_report_features
	echo "RIG-DONE failures=$RIG_FAILS"
	if [ -e /rig/shell ]; then
		echo "RIG: interactive shell; 'poweroff -f' ends the guest"
		setsid cttyhack sh
	fi
	[ $RIG_FAILS -eq 0 ]
}
