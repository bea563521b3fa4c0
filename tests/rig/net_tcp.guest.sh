# rig-modules: virtio_net
# rig-netns
# TCP through the stock virtio_net driver and the tap backend: the host
# peer (net_tcp_peer.py, 10.0.3.1 on the daemon's tap, in a network
# namespace of the rig's own) takes 4 MiB of random data from busybox
# `nc HOST 5001 <file` (nc closes its write half at EOF) and sends 4 MiB
# back on port 5002; both are checksummed (the upload on the host, the
# download here against net_tcp.prep.sh's sha256). Two rounds, so that a
# run gives two figures per direction, timed here around nc (/proc/uptime,
# 10 ms steps; nc returns once the peer has closed, so the times include
# the last byte's delivery). The peer's times (accept to end) are printed
# beside them; they miss what the guest sent before the accept.
tcp_now() { # centiseconds since boot
	read -r up _ </proc/uptime
	echo $((${up%.*} * 100 + 1${up#*.} - 100))
}
tcp_cs() { # CENTISECONDS: as seconds
	printf '%d.%02d' $(($1 / 100)) $(($1 % 100))
}
tcp_stat() { # NAME: the interface's counter (tx_packets: frames the
	# driver handed the device, a TSO frame counting once)
	cat "/sys/class/net/$TCP_IF/statistics/$1"
}
# After a transfer that did not finish: what the guest's side saw, to tell
# a silent device from a stuck peer (frames each way, the device's
# interrupts, the TCP sockets).
tcp_stuck() {
	rig_log "stuck: tx_packets $(tcp_stat tx_packets) rx_packets $(tcp_stat rx_packets) rx_dropped $(tcp_stat rx_dropped)"
	rig_log "stuck: $(grep -i virtio /proc/interrupts | tr -s ' ' | tr '\n' ';')"
	rig_log "stuck: sockets $(tr -s ' ' </proc/net/tcp | cut -d' ' -f3-6 | tr '\n' ';')"
	return 1
}
# The guest's CPU ticks so far, "busy idle": all but idle and iowait, and
# those two (the first line of /proc/stat).
tcp_ticks() {
	read -r _ u n s i w q sq st _ </proc/stat
	echo "$((u + n + s + q + sq + st)) $((i + w))"
}
# Of the ticks since TICKS (tcp_ticks), the percentage the guest was busy:
# near 100 means the guest's own CPU paced the transfer, not the device.
tcp_busy() {
	set -- $1 $(tcp_ticks)
	echo $(((($3 - $1) * 100) / ($3 - $1 + $4 - $2 + 1)))
}
# timeout only guards against a hang.
tcp_put() { # ROUND
	t=$(tcp_now) f=$(tcp_stat tx_packets) k=$(tcp_ticks)
	timeout 60 nc 10.0.3.1 5001 </tmp/tcp.put || tcp_stuck || return 1
	rig_log "round $1: guest -> host 4 MiB in $(tcp_cs $(($(tcp_now) - t))) s (guest clock), $(($(tcp_stat tx_packets) - f)) frames sent, guest CPU $(tcp_busy "$k")% busy"
}
tcp_get() { # ROUND
	t=$(tcp_now) f=$(tcp_stat rx_packets) k=$(tcp_ticks)
	timeout 60 nc 10.0.3.1 5002 >/tmp/tcp.get || tcp_stuck || return 1
	rig_log "round $1: host -> guest 4 MiB in $(tcp_cs $(($(tcp_now) - t))) s (guest clock), $(($(tcp_stat rx_packets) - f)) frames received, guest CPU $(tcp_busy "$k")% busy"
	got=$(sha256sum </tmp/tcp.get | cut -d' ' -f1)
	[ "$got" = "$(cat /rig/net_tcp-get.sha256)" ] && return 0
	rig_log "download: $(wc -c </tmp/tcp.get) bytes, sha256 $got; the host's: $(cat /rig/net_tcp-get.sha256)"
	return 1
}
tcp_round() { # ROUND
	rig_expect "round $1: TCP upload of 4 MiB to 10.0.3.1:5001" tcp_put "$1"
	rig_expect "round $1: TCP download of 4 MiB, checksum as on the host" tcp_get "$1"
	rm -f /tmp/tcp.get
}

if dev=$(rig_dev 1); then
	rig_pass "virtio-net bound in window $(rig_window "$dev")"
	rig_expect "interface up with 10.0.3.15/24" rig_net_up "$dev" 10.0.3.15/24
	TCP_IF=$(rig_netif "$dev")
	rig_expect "the host peer answers (ping 10.0.3.1)" \
		rig_wait 30 ping -c 1 -W 1 10.0.3.1
	head -c $((4 << 20)) /dev/urandom >/tmp/tcp.put
	echo "RIG-TCP-PUT $(wc -c </tmp/tcp.put) $(sha256sum </tmp/tcp.put | cut -d' ' -f1)"
	tcp_round 1
	tcp_round 2
else
	rig_fail "no virtio-net device bound"
fi
