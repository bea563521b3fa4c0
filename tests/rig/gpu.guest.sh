# rig-modules: virtio_gpu
# virtio-gpu through the stock virtio_gpu driver: a guest program
# (gpu_draw.c) draws a known 1280x800 picture (gpu.prep.sh) into a dumb
# buffer, shows it with a mode set and waits until the device has served
# that; the host's snapshot must show the picture pixel for pixel
# (gpu.host.sh). The fbdev emulation (/dev/fb0) is checked for its mode
# only: in this kernel, write() to it sends the device nothing (measured:
# no interrupt in the 10 s after a full-screen dd).

gpu_shown() { grep -q '^gpu_draw: shown' /tmp/gpu-draw.log; }

if dev=$(rig_dev 16); then
	rig_pass "virtio-gpu bound in window $(rig_window "$dev")"
	fb=/sys/class/graphics/fb0
	rig_expect "fbdev: fb0 is 1280x800, 32 bpp (the device's mode)" \
		rig_wait 10 test "$(cat $fb/virtual_size 2>/dev/null) $(cat $fb/bits_per_pixel 2>/dev/null)" = \
		"1280,800 32"
	/rig/gpu-draw /rig/gpu-pattern.bin >/tmp/gpu-draw.log 2>&1 &
	pid=$!
	# Until it says so, or ends with an error.
	rig_wait 20 sh -c "grep -q '^gpu_draw: shown' /tmp/gpu-draw.log || ! kill -0 $pid 2>/dev/null"
	rig_expect "the picture shown and served by the device" gpu_shown ||
		cat /tmp/gpu-draw.log
else
	rig_fail "no virtio-gpu device bound"
fi
