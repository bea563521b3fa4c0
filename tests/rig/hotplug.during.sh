# Host side of the hotplug check. Guest and host signal each other through
# 4 KiB marker blocks of the disk image (block 1000: the guest released
# the console; block 1001: the host removed and re-added it). In between
# the host runs `hvisor virtio remove` and `add` against the daemon's
# control socket, and after each waits until the guest's disk served 20
# more requests (its writer never stops); then it echoes the re-added
# console's bytes back, as console.during.sh does.
img=$RIG_WORK/disk.img
log=$RIG_WORK/hotplug.log
marker() { # BLOCK: the marker text in that block of the image
	dd if="$img" bs=4096 skip="$1" count=1 2>/dev/null | tr -d '\000'
}
deadline=$((SECONDS + 200)) # failure guard: the guest never got there
until [ "$(marker 1000)" = CONSOLE-RELEASED ]; do
	[ $SECONDS -lt $deadline ] || { echo "hotplug: no guest marker" >>"$log"; exit 1; }
	sleep 0.2
done
ctl=(--control "$RIG_CONTROL")
blk_requests() {
	"$RIG_HVISOR" virtio stats --json --zone 1 --addr 0xa003c00 "${ctl[@]}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["requests"])'
}
# Until the disk served 20 more requests than $1: the guest's writer runs.
blk_moves() {
	local until=$((SECONDS + 60)) # failure guard
	while [ "$(blk_requests)" -lt $(($1 + 20)) ]; do
		[ $SECONDS -lt $until ] || return 1
		sleep 0.1
	done
}
fail() {
	echo "hotplug: FAILED: $*" >>"$log"
	printf 'HOTPLUG-FAILED' | dd of="$img" bs=4096 seek=1001 conv=notrunc,sync 2>/dev/null
	exit 1
}
before=$(blk_requests)
"$RIG_HVISOR" virtio remove --zone 1 --addr 0xa003800 "${ctl[@]}" >>"$log" 2>&1 || fail remove
"$RIG_HVISOR" virtio list "${ctl[@]}" >>"$log" 2>&1 || fail list
blk_moves "$before" || fail "the disk stopped while the console was gone"
removed=$(blk_requests)
"$RIG_HVISOR" virtio add "$RIG_WORK/console-add.json" "${ctl[@]}" >>"$log" 2>&1 || fail add
blk_moves "$removed" || fail "the disk stopped after the add"
echo "hotplug: removed and re-added; blk requests $before at the remove," \
	"$removed at the add, $(blk_requests) after" >>"$log"
printf 'HOTPLUG-DONE' | dd of="$img" bs=4096 seek=1001 conv=notrunc,sync 2>/dev/null
exec python3 - "$RIG_WORK/console.sock" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 120  # failure guard
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
while True:
    try:
        s.connect(sys.argv[1])
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("hotplug peer: no console socket")
        time.sleep(0.1)
while True:
    data = s.recv(65536)
    if not data:
        break
    s.sendall(data)
PY
