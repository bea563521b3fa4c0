# rig-modules: virtio_net
# virtio-net through the stock driver, socket backend: the host peer
# (net.during.sh) answers ARP and ping for 10.0.2.2. Pings of several sizes,
# then a driver reset (unbind/bind) and pings again.
net_if() { # DEV: its network interface
	ls "$1/net" 2>/dev/null | head -n1
}
net_up() { # DEV
	rig_wait 10 test -n "$(net_if "$1")" || return 1
	ifc=$(net_if "$1")
	ip link set "$ifc" up && ip addr add 10.0.2.15/24 dev "$ifc"
}
net_round() { # ROUND
	rig_expect "round $1: ping 10.0.2.2" ping -c 3 -W 5 10.0.2.2
	rig_expect "round $1: 10 pings of 1400 bytes, all answered" \
		sh -c 'ping -c 10 -s 1400 -W 5 10.0.2.2 | grep -q "10 packets received"'
}

if dev=$(rig_dev 1); then
	rig_pass "virtio-net bound in window $(rig_window "$dev")"
	rig_expect "MAC from the JSON" test "$(cat "$dev/net/$(net_if "$dev")/address")" = 02:00:00:00:00:0f
	rig_expect "interface up with 10.0.2.15/24" net_up "$dev"
	net_round 1
	rig_expect "unbind + bind virtio_net" rig_rebind "$dev"
	rig_expect "interface back up" net_up "$dev"
	net_round 2
else
	rig_fail "no virtio-net device bound"
fi
