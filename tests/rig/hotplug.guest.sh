# rig-modules: virtio_blk virtio_console
# rig-unnegotiated: console 0x4 EMERG_WRITE: Linux's virtio_console has no emergency write
# Runtime control under a real guest: the guest releases its console
# (unbinds the virtio-mmio window), keeps its disk busy with verified
# writes while the host removes the console and adds it back through the
# control socket (hotplug.during.sh), then binds the window again and
# sends bytes through the re-added console. Guest and host signal through
# marker blocks 1000/1001 of the disk.
hp_disk() { # the disk's /dev node (window 0)
	for d in /sys/bus/virtio/devices/*; do
		[ "$(rig_window "$d")" = 0 ] && [ -d "$d/block" ] || continue
		echo "/dev/$(ls "$d/block")"
		return 0
	done
	return 1
}
hp_marker() { # BLOCK: its text, read from the device, not the cache
	blockdev --flushbufs "$disk"
	dd if="$disk" bs=4096 skip="$1" count=1 2>/dev/null | tr -d '\000'
}
hp_round() { # N: 64 KiB at 64 KiB * (N % 64), written, synced, read back
	head -c 65536 /dev/urandom >/tmp/hp.w
	dd if=/tmp/hp.w of="$disk" bs=65536 seek=$(($1 % 64)) conv=fsync 2>/dev/null &&
		blockdev --flushbufs "$disk" &&
		dd if="$disk" bs=65536 skip=$(($1 % 64)) count=1 2>/dev/null | cmp -s - /tmp/hp.w
}

hp_writer() { # rounds until /tmp/hp.stop; "rounds bad" in /tmp/hp.count
	n=0 bad=0
	while [ ! -e /tmp/hp.stop ]; do
		hp_round $n || bad=$((bad + 1))
		n=$((n + 1))
		echo "$n $bad" >/tmp/hp.count
	done
}

if disk=$(rig_wait 10 hp_disk >/dev/null && hp_disk) && con=$(rig_dev 3); then
	win=virtio-mmio.$(rig_window "$con")
	hp_writer &
	writer=$!
	rig_expect "console window $win released" \
		sh -c "echo $win >/sys/bus/platform/drivers/virtio-mmio/unbind"
	printf 'CONSOLE-RELEASED' | dd of="$disk" bs=4096 seek=1000 conv=sync,fsync 2>/dev/null
	# The host's turn; the bound (150 s) only guards against a hang.
	t=0
	while [ -z "$(hp_marker 1001)" ] && [ $t -lt 1500 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	touch /tmp/hp.stop
	wait $writer
	[ -e /tmp/hp.count ] || echo "0 0" >/tmp/hp.count
	read -r rounds bad </tmp/hp.count
	rig_expect "the host removed and re-added the console" \
		test "$(hp_marker 1001)" = HOTPLUG-DONE
	rig_expect "disk busy throughout: $rounds rounds of 64 KiB, $bad bad" \
		test "$rounds" -gt 0 -a "$bad" -eq 0
	rig_expect "console window $win bound again" \
		sh -c "echo $win >/sys/bus/platform/drivers/virtio-mmio/bind"
	rig_expect "the re-added console probed" rig_wait 10 rig_find_dev 3
	if rig_wait 10 test -c /dev/hvc0 && exec 3<>/dev/hvc0 && stty raw -echo <&3; then
		head -c 4096 /dev/urandom >/tmp/hp.out
		head -c 4096 <&3 >/tmp/hp.in &
		reader=$!
		cat /tmp/hp.out >&3
		wait $reader
		rig_expect "4 KiB echoed through the re-added console" cmp -s /tmp/hp.out /tmp/hp.in
		exec 3<&-
	else
		rig_fail "/dev/hvc0 of the re-added console"
	fi
else
	rig_fail "no disk or no console bound at start"
fi
