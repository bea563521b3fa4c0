# Images for the blk check (tests/rig/blk.json): disk.img = 4 MiB of random
# data then room to write (32 MiB), ro.img = 4 MiB random (read-only),
# fs.img = 16 MiB blank (the guest makes an ext2 filesystem on it). The
# guest gets the expected checksums in its initramfs.
head -c $((4 << 20)) /dev/urandom >"$RIG_WORK/disk.img"
sha256sum <"$RIG_WORK/disk.img" | cut -d' ' -f1 >"$RIG_ROOT/rig/blk-data.sha256"
truncate -s 32M "$RIG_WORK/disk.img"
head -c $((4 << 20)) /dev/urandom >"$RIG_WORK/ro.img"
sha256sum <"$RIG_WORK/ro.img" | cut -d' ' -f1 | tee "$RIG_WORK/ro.sha256" \
	>"$RIG_ROOT/rig/blk-ro.sha256"
truncate -s 16M "$RIG_WORK/fs.img"
