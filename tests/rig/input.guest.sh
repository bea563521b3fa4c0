# rig-modules: virtio_input evdev
# virtio-input keyboard and tablet through the stock virtio_input driver:
# the capabilities Linux derived from the config space, then events. The
# guest opens both event devices (evdev keeps events from the open on) and
# turns Caps Lock on through the keyboard: the LED reaches the host over
# the statusq, and the host peer (input.during.sh), seeing it, sends a key
# press + release to the keyboard and a pointer report to the tablet.

# input_event (x86_64): 16 bytes of time, u16 type, u16 code, s32 value.
# One "type code value" line per event read from fd $1.
read_events() { # FD COUNT
	dd bs=24 count="$2" <&"$1" 2>/dev/null | od -An -v -tu2 -w24 |
		awk '{ print $9, $10, $11 + 65536 * $12 }'
}

# The evdev node of the input device called $1.
event_of() {
	for e in /sys/class/input/event*; do
		[ "$(cat "$e/device/name" 2>/dev/null)" = "$1" ] && {
			echo "/dev/input/${e##*/}"
			return 0
		}
	done
	return 1
}

caps() { cat "/sys/class/input/${1##*/}/device/capabilities/$2"; }

rig_wait 10 event_of "hvisor virtio tablet" >/dev/null
if kbd=$(event_of "hvisor virtio keyboard") &&
	tab=$(event_of "hvisor virtio tablet"); then
	rig_pass "keyboard $kbd and tablet $tab registered"
	# EV_SYN, EV_KEY, EV_LED, EV_REP; keys 1..248.
	rig_expect "keyboard ev bits 120003 (got $(caps "$kbd" ev))" \
		test "$(caps "$kbd" ev)" = 120003
	rig_expect "keyboard leds 7 (got $(caps "$kbd" led))" \
		test "$(caps "$kbd" led)" = 7
	# EV_SYN, EV_KEY, EV_REL, EV_ABS; ABS_X, ABS_Y; REL_HWHEEL, REL_WHEEL.
	rig_expect "tablet ev bits f (got $(caps "$tab" ev))" \
		test "$(caps "$tab" ev)" = f
	rig_expect "tablet abs bits 3 (got $(caps "$tab" abs))" \
		test "$(caps "$tab" abs)" = 3
	rig_expect "tablet rel bits 140 (got $(caps "$tab" rel))" \
		test "$(caps "$tab" rel)" = 140
	exec 3<>"$kbd" 4<"$tab"
	# EV_LED (17) LED_CAPSL (1) value 1, written to the keyboard.
	printf '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\021\0\001\0\001\0\0\0' >&3
	# The LED write comes back first (evdev hands a written event to its
	# readers too), then the host's report.
	read_events 3 5 >/tmp/kbd.events
	read_events 4 4 >/tmp/tab.events
	rig_expect "keyboard: LED, KEY_A press, SYN, release, SYN ($(tr '\n' , </tmp/kbd.events))" \
		test "$(tr '\n' , </tmp/kbd.events)" = "17 1 1,1 30 1,0 0 0,1 30 0,0 0 0,"
	rig_expect "tablet: ABS_X 16384, ABS_Y 8192, BTN_LEFT, SYN ($(tr '\n' , </tmp/tab.events))" \
		test "$(tr '\n' , </tmp/tab.events)" = "3 0 16384,3 1 8192,1 272 1,0 0 0,"
	exec 3<&- 4<&-
else
	rig_fail "no keyboard and tablet in /sys/class/input"
fi
