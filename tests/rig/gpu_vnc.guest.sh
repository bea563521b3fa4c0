# rig-modules: virtio_gpu virtio_input evdev
# rig-cmdline: vt.global_cursor_default=0
# A guest screen over VNC, end to end: the stock virtio_gpu driver's
# framebuffer (DRM fbdev emulation) gets a solid colour; the host peer
# (gpu_vnc.during.sh), an RFB client on the vnc backend's socket, waits
# until every pixel it receives is that colour and then types "a"; the key
# must come out of the keyboard's event device here. No blinking console
# cursor (cmdline) to spoil the picture.

read_events() { # FD COUNT: "type code value" lines (x86_64 input_event)
	dd bs=24 count="$2" <&"$1" 2>/dev/null | od -An -v -tu2 -w24 |
		awk '{ print $9, $10, $11 + 65536 * $12 }'
}

kbd_event() {
	for e in /sys/class/input/event*; do
		[ "$(cat "$e/device/name" 2>/dev/null)" = "hvisor virtio keyboard" ] &&
			echo "/dev/input/${e##*/}" && return 0
	done
	return 1
}

# Pixel 0x00332211 (XRGB8888 in memory: 11 22 33 44 with a non-zero X
# byte, which must not matter), the whole visible frame.
fill_fb() {
	stride=$(cat /sys/class/graphics/fb0/stride)
	h=$(cut -d, -f2 /sys/class/graphics/fb0/virtual_size)
	printf '\021"3D' >/tmp/px
	while [ "$(wc -c </tmp/px)" -lt $((stride * h)) ]; do
		cat /tmp/px /tmp/px >/tmp/px2 && mv /tmp/px2 /tmp/px
	done
	head -c $((stride * h)) /tmp/px >/dev/fb0
}

if rig_wait 20 test -c /dev/fb0 && rig_wait 10 kbd_event >/dev/null; then
	rig_pass "virtio_gpu framebuffer $(cat /sys/class/graphics/fb0/virtual_size), keyboard $(kbd_event)"
	exec 3<"$(kbd_event)"
	rig_expect "solid frame written to /dev/fb0" fill_fb
	read_events 3 2 >/tmp/kbd.events
	rig_expect "the viewer's \"a\" arrived: $(tr '\n' , </tmp/kbd.events)" \
		test "$(tr '\n' , </tmp/kbd.events)" = "1 30 1,0 0 0,"
	exec 3<&-
else
	rig_fail "no /dev/fb0 or no keyboard"
fi
