# Host peer of the input check: waits until the guest's Caps Lock LED
# reaches the keyboard's status_out file (the guest has both event devices
# open then), then sends KEY_A press + release to the keyboard's source and
# a pointer report to the tablet's, as the vnc backend would.
exec python3 - "$RIG_WORK" <<'PY'
import os, socket, struct, sys, time
work = sys.argv[1]
leds = os.path.join(work, "kbd.leds")
deadline = time.monotonic() + 150  # failure guard: the guest never got there
while not (os.path.exists(leds) and "17 1 1" in open(leds).read()):
    if time.monotonic() > deadline:
        sys.exit("input peer: no Caps Lock LED from the guest")
    time.sleep(0.1)
rec = lambda t, c, v: struct.pack("<HHi", t, c, v)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(rec(1, 30, 1) + rec(0, 0, 0) + rec(1, 30, 0) + rec(0, 0, 0),
         os.path.join(work, "kbd"))
s.sendto(rec(3, 0, 16384) + rec(3, 1, 8192) + rec(1, 272, 1) + rec(0, 0, 0),
         os.path.join(work, "tablet"))
print("input peer: LED seen, events sent", flush=True)
PY
