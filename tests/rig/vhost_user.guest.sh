# rig-modules: virtio_blk ext4 crc32c_generic virtiofs
# vhost-user devices through the stock drivers (tests/rig/vhost_user.json):
# window 0 a virtio-blk disk served by qemu-storage-daemon over nbdkit: an
# ext2 filesystem made, written, read back; window 1 virtio-fs served by
# virtiofsd: the host's file read, a file written for the host to check.
# vhost_user.host.sh checks disk.img (e2fsck) and the share afterwards.
disk_node() {
	for d in /sys/bus/virtio/devices/*; do
		[ "$(rig_window "$d")" = 0 ] && [ -d "$d/block" ] || continue
		echo "/dev/$(ls "$d/block")"
		return 0
	done
	return 1
}

if disk=$(rig_wait 10 disk_node); then
	rig_pass "vhost-user-blk disk: $disk"
	rig_expect "$disk: size 64 MiB" test "$(blockdev --getsize64 "$disk")" -eq $((64 << 20))
	rig_expect "$disk: mke2fs" mke2fs -q "$disk"
	mkdir -p /mnt/blk
	if rig_expect "$disk: mount ext2" mount -t ext2 "$disk" /mnt/blk; then
		head -c $((4 << 20)) /dev/urandom >/tmp/big
		echo "RIG-VU-BIG $(sha256sum </tmp/big | cut -d' ' -f1)"
		cp /tmp/big /mnt/blk/big
		echo "hello over vhost-user" >/mnt/blk/hello.txt
		sync
		echo 3 >/proc/sys/vm/drop_caches
		rig_expect "$disk: file reads back" cmp -s /tmp/big /mnt/blk/big
		rig_expect "$disk: umount" umount /mnt/blk
	fi
else
	rig_fail "the vhost-user-blk disk did not appear"
fi

if rig_dev 26 >/dev/null; then
	mkdir -p /mnt/fs
	if rig_expect "mount -t virtiofs rigshare" mount -t virtiofs rigshare /mnt/fs; then
		rig_expect "virtiofs: the host's file" \
			test "$(cat /mnt/fs/host.txt)" = "written on the host"
		echo "written by the guest" >/mnt/fs/guest.txt
		sync
		rig_expect "virtiofs: our file reads back" \
			test "$(cat /mnt/fs/guest.txt)" = "written by the guest"
		rig_expect "virtiofs: umount" umount /mnt/fs
	fi
else
	rig_fail "the virtio-fs device did not appear"
fi
