# Host peer of the console check: connects to the console's socket backend
# once the daemon listens and echoes every byte back, keeping a copy in
# RIG_WORK/console.rx (compared with the guest's checksum afterwards). The
# guest's checks see the echo, so data went both ways through the device.
exec python3 - "$RIG_WORK/console.sock" "$RIG_WORK/console.rx" <<'PY'
import os, socket, sys, time
path, copy = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 120  # failure guard: the daemon never listened
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
while True:
    try:
        s.connect(path)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("console peer: no socket at " + path)
        time.sleep(0.1)
print("console peer: connected", flush=True)
with open(copy, "wb") as out:
    while True:
        data = s.recv(65536)
        if not data:
            break
        out.write(data)
        out.flush()
        s.sendall(data)
print("console peer: guest side closed", flush=True)
PY
