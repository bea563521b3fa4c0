# Host side of the gpu_vnc check: the RFB client saw the guest's frame.
rig_expect "vnc viewer saw the guest's solid 320x240 frame" \
	grep -qx '320x240' "$RIG_WORK/vnc.seen"
