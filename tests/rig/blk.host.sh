# Host side of the blk check: what the guest wrote is in the images.
wsha=$(tr -d '\r' <"$RIG_CONSOLE_LOG" | sed -n 's/^RIG-BLK-WRITE //p' | tail -n1)
img_sha() { dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1; }
rig_expect "disk.img: the guest's write at 8 MiB is on the host" \
	test -n "$wsha" -a "$(img_sha "$RIG_WORK/disk.img" 8 1)" = "$wsha"
rig_expect "disk.img: the discarded MiB at 12 MiB is zeros" \
	cmp -s -n 1048576 <(dd if="$RIG_WORK/disk.img" bs=1M skip=12 count=1 2>/dev/null) /dev/zero
rig_expect "ro.img: unchanged" \
	test "$(img_sha "$RIG_WORK/ro.img" 0 4)" = "$(cat "$RIG_WORK/ro.sha256")"
rig_expect "fs.img: e2fsck -fn is clean" e2fsck -fn "$RIG_WORK/fs.img"
rig_expect "fs.img: /hello.txt holds the guest's line" \
	test "$(debugfs -R 'cat /hello.txt' "$RIG_WORK/fs.img" 2>/dev/null)" = "hello from the guest"
rig_expect "fs.img: /big has the guest's bytes" \
	test "$(debugfs -R 'cat /big' "$RIG_WORK/fs.img" 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$wsha"
