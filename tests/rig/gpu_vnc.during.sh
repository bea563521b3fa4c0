# Host peer of the gpu_vnc check: an RFB 3.8 client (no security, 32 bpp,
# Raw) on the vnc backend's UNIX socket. Asks for updates until every
# pixel of the screen is 0x332211 (what the guest wrote to its
# framebuffer), records that in RIG_WORK/vnc.seen, then presses and
# releases "a" (keysym 0x61).
exec python3 - "$RIG_WORK" <<'PY'
import os, socket, struct, sys, time
work = sys.argv[1]
deadline = time.monotonic() + 150  # failure guard only
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
while True:
    try:
        s.connect(os.path.join(work, "vnc"))
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("vnc peer: no socket")
        time.sleep(0.1)
s.settimeout(150)
def read(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("vnc peer: server closed")
        b += c
    return b
assert read(12).startswith(b"RFB 003.00")
s.sendall(b"RFB 003.008\n")
types = read(read(1)[0])
assert 1 in types, types
s.sendall(b"\x01")
assert read(4) == b"\0\0\0\0"
s.sendall(b"\x01")
w, h = struct.unpack(">HH", read(4))
read(16)
read(struct.unpack(">I", read(4))[0])
# 32 bpp, depth 24, little-endian, true colour, 255 each, shifts 16/8/0.
s.sendall(struct.pack(">BxxxBBBBHHHBBBxxx", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
s.sendall(struct.pack(">BxHi", 2, 1, 0))
fb = bytearray(w * h * 4)
want = struct.pack("<I", 0x332211) * (w * h)
incremental = 0
while fb != want:
    if time.monotonic() > deadline:
        sys.exit("vnc peer: the picture never became the guest's")
    s.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0, w, h))
    incremental = 1
    kind = read(1)[0]
    if kind == 2:
        continue
    assert kind == 0, kind
    n = struct.unpack(">xH", read(3))[0]
    for _ in range(n):
        x, y, rw, rh, enc = struct.unpack(">HHHHi", read(12))
        assert enc == 0, enc
        for row in range(rh):
            at = ((y + row) * w + x) * 4
            fb[at:at + rw * 4] = read(rw * 4)
open(os.path.join(work, "vnc.seen"), "w").write("%dx%d\n" % (w, h))
print("vnc peer: %dx%d picture is the guest's" % (w, h), flush=True)
for down in (1, 0):
    s.sendall(struct.pack(">BBxxI", 4, down, 0x61))
# Stay connected (reading whatever comes) until the daemon goes away.
s.settimeout(None)
try:
    while s.recv(65536):
        pass
except OSError:
    pass
PY
