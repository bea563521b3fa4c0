# rig-modules: virtio_blk ext4 crc32c_generic
# virtio-blk through the stock virtio_blk driver, three disks of
# tests/rig/blk.json: window 0 data + serial + writes + discard, window 1
# read-only, window 2 an ext2 filesystem; then a driver reset of disk 0 and
# a second round of reads. blk.host.sh checks the images afterwards.
MIB=1048576

blk_node() { # WINDOW: /dev node of the disk in that window
	for d in /sys/bus/virtio/devices/*; do
		[ "$(rig_window "$d")" = "$1" ] || continue
		[ -d "$d/block" ] || return 1
		echo "/dev/$(ls "$d/block")"
		return 0
	done
	return 1
}
sha_of() { # DEV SKIP_MIB COUNT_MIB
	dd if="$1" bs=$MIB skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1
}
zero_mib() { # DEV SKIP_MIB: that MiB reads as zeros
	test "$(dd if="$1" bs=$MIB skip="$2" count=1 2>/dev/null | tr -d '\000' | wc -c)" -eq 0
}
ro_write_refused() {
	! dd if=/tmp/blk.w of="$ro" bs=4096 count=1 conv=fsync 2>/dev/null
}

if rig_wait 10 blk_node 2 >/dev/null; then
	disk=$(blk_node 0) ro=$(blk_node 1) fs=$(blk_node 2)
	rig_pass "three disks: $disk $ro $fs"
	rig_expect "$disk: first 4 MiB = the host image's" \
		test "$(sha_of "$disk" 0 4)" = "$(cat /rig/blk-data.sha256)"
	rig_expect "$disk: size 32 MiB" test "$(blockdev --getsize64 "$disk")" -eq $((32 * MIB))
	rig_expect "$disk: serial" test "$(cat "/sys/block/${disk#/dev/}/serial")" = rig-disk-0001

	# A write at 8 MiB, synced: the host checks the image holds it.
	head -c $MIB /dev/urandom >/tmp/blk.w
	wsha=$(sha256sum </tmp/blk.w | cut -d' ' -f1)
	echo "RIG-BLK-WRITE $wsha"
	rig_expect "$disk: 1 MiB written at 8 MiB and synced" \
		dd if=/tmp/blk.w of="$disk" bs=$MIB seek=8 conv=fsync 2>/dev/null

	# Discard: written data at 12 MiB, discarded, reads back as zeros.
	dd if=/tmp/blk.w of="$disk" bs=$MIB seek=12 conv=fsync 2>/dev/null
	rig_expect "$disk: blkdiscard 1 MiB at 12 MiB" \
		blkdiscard -o $((12 * MIB)) -l $MIB "$disk"
	rig_expect "$disk: discarded range reads as zeros" zero_mib "$disk" 12

	rig_expect "$ro: read-only in the guest" test "$(cat "/sys/block/${ro#/dev/}/ro")" = 1
	rig_expect "$ro: contents = the host image's" \
		test "$(sha_of "$ro" 0 4)" = "$(cat /rig/blk-ro.sha256)"
	rig_expect "$ro: a write is refused" ro_write_refused

	rig_expect "$fs: mke2fs" mke2fs -q "$fs"
	mkdir -p /mnt
	if rig_expect "$fs: mount ext2" mount -t ext2 "$fs" /mnt; then
		echo "hello from the guest" >/mnt/hello.txt
		cp /tmp/blk.w /mnt/big
		sync
		rig_expect "$fs: file reads back" cmp -s /tmp/blk.w /mnt/big
		rig_expect "$fs: umount" umount /mnt
	fi

	# Reset of disk 0 (unbind + bind virtio_blk), then a second round.
	dev=$(rig_dev 2)
	for d in /sys/bus/virtio/devices/*; do
		[ "$(rig_window "$d")" = 0 ] && dev=$d
	done
	rig_expect "unbind + bind virtio_blk of window 0" rig_rebind "$dev"
	rig_wait 10 blk_node 0 >/dev/null
	disk=$(blk_node 0)
	rig_expect "after reset: first 4 MiB still the host image's" \
		test "$(sha_of "$disk" 0 4)" = "$(cat /rig/blk-data.sha256)"
	rig_expect "after reset: the write at 8 MiB reads back" \
		test "$(sha_of "$disk" 8 1)" = "$wsha"
else
	rig_fail "the three virtio-blk disks did not appear"
fi
