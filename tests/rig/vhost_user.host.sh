# Host side of the vhost_user check: stop the backends vhost_user.prep.sh
# started, then the disk image is fsck-clean with the guest's files in it,
# and the share holds the guest's file.
for p in qsd virtiofsd nbdkit; do
	[ -f "$RIG_WORK/$p.pid" ] && kill "$(cat "$RIG_WORK/$p.pid")" 2>/dev/null
done
big=$(tr -d '\r' <"$RIG_CONSOLE_LOG" | sed -n 's/^RIG-VU-BIG //p' | tail -n1)
rig_expect "disk.img: e2fsck -fn is clean" e2fsck -fn "$RIG_WORK/disk.img"
rig_expect "disk.img: /hello.txt holds the guest's line" \
	test "$(debugfs -R 'cat /hello.txt' "$RIG_WORK/disk.img" 2>/dev/null)" = "hello over vhost-user"
rig_expect "disk.img: /big has the guest's bytes" \
	test -n "$big" -a "$(debugfs -R 'cat /big' "$RIG_WORK/disk.img" 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$big"
rig_expect "share: guest.txt holds the guest's line" \
	test "$(cat "$RIG_WORK/share/guest.txt" 2>/dev/null)" = "written by the guest"
