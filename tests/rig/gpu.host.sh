# Host side of the gpu check, after the guest powered off: the snapshot
# shows exactly the picture the guest drew into its framebuffer.
gpu_same() {
	python3 - "$RIG_WORK/screen.ppm" "$RIG_WORK/gpu-pattern.bin" <<'PY'
import sys
ppm = open(sys.argv[1], "rb").read()
pat = open(sys.argv[2], "rb").read()
head = ppm.split(b"\n", 3)
if head[0] != b"P6" or head[1] != b"1280 800" or head[2] != b"255":
    sys.exit("snapshot header %r" % head[:3])
rgb = head[3]
bad = 0
for i in range(1280 * 800):
    b, g, r = pat[i * 4], pat[i * 4 + 1], pat[i * 4 + 2]
    if rgb[i * 3:i * 3 + 3] != bytes((r, g, b)):
        if bad == 0:
            print("first difference at (%d,%d)" % (i % 1280, i // 1280))
        bad += 1
if bad:
    sys.exit("%d pixel(s) differ" % bad)
PY
}
rig_expect "snapshot written" test -s "$RIG_WORK/screen.ppm"
rig_expect "snapshot shows the guest's picture pixel for pixel" gpu_same
n=$(grep -c 'gpu@.*: driver ok' "$RIG_DAEMON_LOG" || true)
rig_expect "daemon: gpu reached DRIVER_OK (saw $n)" test "$n" -ge 1
