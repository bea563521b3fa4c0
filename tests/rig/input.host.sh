# Host side of the input check, after the guest powered off: the LED the
# guest set came over the statusq as one EV_LED record.
rig_expect "statusq: Caps Lock on recorded" grep -qx '17 1 1' "$RIG_WORK/kbd.leds"
