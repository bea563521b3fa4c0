# rig-modules: virtio_net
# virtio-net through the stock driver, socket backend: the host peer
# (net_peer.py) answers ARP and ping for 10.0.2.2 and serves TFTP. Pings of
# several sizes, then files both ways over UDP with busybox tftp: an upload
# of random data (the host compares it with the checksum printed here) and
# a download of the host's file (compared here with the checksum from
# net.prep.sh). Then a driver reset (unbind/bind) and the same again, with
# blocks larger than a frame (IP fragments both ways).
# -A: the next ping goes out when the reply is in, not a second later (the
# 1 s interval stays as the fallback), which saves ~20 s a run.
net_round() { # ROUND
	rig_expect "round $1: ping 10.0.2.2" ping -A -c 3 -W 5 10.0.2.2
	rig_expect "round $1: 10 pings of 1400 bytes, all answered" \
		sh -c 'ping -A -c 10 -s 1400 -W 5 10.0.2.2 | grep -q "10 packets received"'
}
# timeout only guards against a hang: busybox tftp retries on its own.
net_get() { # ROUND BLKSIZE
	timeout 30 tftp -b "$2" -g -l /tmp/net.get.$1 -r get.bin 10.0.2.2 || return 1
	got=$(sha256sum </tmp/net.get.$1 | cut -d' ' -f1)
	[ "$got" = "$(cat /rig/net-get.sha256)" ] && return 0
	rig_log "download: $(wc -c </tmp/net.get.$1) bytes, sha256 $got; the host's: $(cat /rig/net-get.sha256)"
	return 1
}
net_transfer() { # ROUND BLKSIZE PUT_BYTES
	head -c "$3" /dev/urandom >/tmp/net.put.$1
	echo "RIG-NET-PUT $1 $3 $(sha256sum </tmp/net.put.$1 | cut -d' ' -f1)"
	rig_expect "round $1: tftp put of $3 random bytes in $2-byte blocks" \
		timeout 30 tftp -b "$2" -p -l /tmp/net.put.$1 -r put.$1 10.0.2.2
	rig_expect "round $1: tftp get in $2-byte blocks, checksum as on the host" \
		net_get "$1" "$2"
	rm -f /tmp/net.put.$1 /tmp/net.get.$1
}

if dev=$(rig_dev 1); then
	rig_pass "virtio-net bound in window $(rig_window "$dev")"
	rig_expect "MAC from the JSON" test "$(cat "$dev/net/$(rig_netif "$dev")/address")" = 02:00:00:00:00:0f
	rig_expect "interface up with 10.0.2.15/24" rig_net_up "$dev" 10.0.2.15/24
	net_round 1
	# 1408-byte blocks: one frame per datagram (the guest leaves the UDP
	# checksum to the device).
	net_transfer 1 1408 1048576
	rig_expect "unbind + bind virtio_net" rig_rebind "$dev"
	rig_expect "interface back up" rig_net_up "$dev" 10.0.2.15/24
	net_round 2
	# 8192-byte blocks: each datagram is six IP fragments.
	net_transfer 2 8192 1048576
else
	rig_fail "no virtio-net device bound"
fi
