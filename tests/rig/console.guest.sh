# rig-modules: virtio_console
# rig-unnegotiated: console 0x4 EMERG_WRITE: Linux's virtio_console has no emergency write
# virtio-console through the stock driver, socket backend: the host peer
# (console.during.sh) echoes everything. A line, then 256 KiB of random
# bytes go out through /dev/hvc0 and must come back intact; then a driver
# reset (unbind/bind) and a second round.
console_round() { # ROUND BYTES
	head -c "$2" /dev/urandom >/tmp/con.out.$1
	# Reader first; it stops after exactly BYTES bytes.
	head -c "$2" <&3 >/tmp/con.in.$1 &
	reader=$!
	cat /tmp/con.out.$1 >&3
	wait $reader
	echo "RIG-CONSOLE-SENT $1 $(sha256sum </tmp/con.out.$1 | cut -d' ' -f1)"
	rig_expect "round $1: $2 bytes echoed back intact" \
		cmp -s /tmp/con.out.$1 /tmp/con.in.$1
}
# Raw mode lasts only while the tty is open: keep it open on fd 3.
hvc_open() {
	rig_wait 10 test -c /dev/hvc0 && exec 3<>/dev/hvc0 && stty raw -echo <&3
}

if dev=$(rig_dev 3); then
	rig_pass "virtio-console bound in window $(rig_window "$dev")"
	# Raw: the line discipline must not touch the bytes either way.
	rig_expect "/dev/hvc0 open in raw mode" hvc_open
	console_round 1 262144
	exec 3<&-
	rig_expect "unbind + bind virtio_console" rig_rebind "$dev"
	rig_expect "/dev/hvc0 back, raw" hvc_open
	console_round 2 65536
	exec 3<&-
else
	rig_fail "no virtio-console device bound"
fi
