# rig-modules: virtio_rng
# virtio-rng through the stock virtio_rng driver: entropy arrives through
# /dev/hwrng, and again after a driver reset (unbind/bind).
rng_round() { # ROUND: 256 bytes from /dev/hwrng, not all zero
	head -c 256 /dev/hwrng >/tmp/rng.$1 2>/dev/null
	rig_expect "round $1: 256 bytes from /dev/hwrng" \
		test "$(wc -c </tmp/rng.$1)" -eq 256
	rig_expect "round $1: bytes are not all zero" \
		test "$(tr -d '\000' </tmp/rng.$1 | wc -c)" -gt 0
}

rng_differ() { ! cmp -s /tmp/rng.1 /tmp/rng.2; }

if dev=$(rig_dev 4); then
	rig_pass "virtio-rng bound in window $(rig_window "$dev")"
	rig_expect "hwrng uses virtio_rng" \
		grep -q '^virtio_rng' /sys/class/misc/hw_random/rng_current
	rig_expect "status is DRIVER_OK|FEATURES_OK|DRIVER|ACK" \
		test "$(cat "$dev/status")" = 0x0000000f
	rng_round 1
	rig_expect "unbind + bind virtio_rng" rig_rebind "$dev"
	rig_wait 10 grep -q '^virtio_rng' /sys/class/misc/hw_random/rng_current
	rng_round 2
	rig_expect "the two rounds differ" rng_differ
else
	rig_fail "no virtio-rng device bound"
fi
