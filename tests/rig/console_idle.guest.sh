# rig-modules: virtio_console
# rig-cmdline: console=hvc0 printk.devkmsg=on
# rig-unnegotiated: console 0x4 EMERG_WRITE: Linux's virtio_console has no emergency write
# An unattended console (pty backend, nobody has it open) is the guest's
# kernel console: Linux writes each line synchronously and waits for the
# device to give the buffer back. 3000 kernel lines must all go through
# (each one is a buffer the device must return) although nobody reads;
# then the host attaches (console_idle.during.sh), reads the last lines
# from the scrollback and sends "go", which this check waits for.
RIG_IDLE_LINES=3000

if dev=$(rig_dev 3); then
	rig_pass "virtio-console bound in window $(rig_window "$dev")"
	rig_expect "hvc0 is a kernel console" grep -q '^hvc0' /proc/consoles
	i=1
	while [ $i -le $RIG_IDLE_LINES ]; do
		# Priority 2 (critical): above "quiet"'s console level.
		echo "<2>rig-idle line $i of $RIG_IDLE_LINES" >/dev/kmsg
		i=$((i + 1))
	done
	rig_pass "$RIG_IDLE_LINES kernel lines printed on hvc0 with nobody reading"
	# The host's go, after it read the scrollback (60 s guard a hang).
	go=''
	read -r -t 60 go </dev/hvc0
	rig_expect "the host reader attached and answered" test "$go" = go
else
	rig_fail "no virtio-console device bound"
fi
