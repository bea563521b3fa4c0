# Host reader of the console_idle check: nobody has the console's pty open
# while the guest prints; once the log file shows the last line, attach,
# read until the last line arrives (the scrollback, then anything live),
# keep what was read in RIG_WORK/scrollback.txt and answer "go".
exec python3 - "$RIG_WORK/hvc0" "$RIG_WORK/hvc0.log" "$RIG_WORK/scrollback.txt" <<'PY'
import os, select, sys, time
link, log, keep = sys.argv[1:4]
last = b"rig-idle line 3000 of 3000"
deadline = time.monotonic() + 150  # failure guard: the guest never got there
def log_has_last():
    try:
        with open(log, "rb") as f:
            return last in f.read()
    except OSError:
        return False
while not log_has_last():
    if time.monotonic() > deadline:
        sys.exit("console_idle reader: the log never showed the last line")
    time.sleep(0.2)
fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
got = b""
while last not in got:
    r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
    if not r:
        sys.exit("console_idle reader: the last line never arrived")
    got += os.read(fd, 65536)
with open(keep, "wb") as f:
    f.write(got)
print("console_idle reader: %d bytes after attaching" % len(got), flush=True)
os.write(fd, b"go\n")
while True:  # keep the pty open until the rig stops us
    time.sleep(1)
PY
