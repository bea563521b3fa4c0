#!/usr/bin/env python3
"""Host peer of the rig's net_tcp check (started by net_tcp.during.sh).

Waits for the daemon to create the tap interface IFNAME (in the rig's own
network namespace), gives it ADDR and brings it up, then serves TCP:
port 5001 takes an upload (read to EOF; WORK/net_tcp-put.N holds upload
N), port 5002 sends WORK/net_tcp-get.bin and closes its write half, then
waits for the guest to close. One line per connection goes to
WORK/net_tcp.transfers: "up|down N BYTES SECONDS SHA256", the time taken
from accept to the end of the transfer (EOF from the guest).
"""
import hashlib
import os
import select
import socket
import subprocess
import sys
import time

ifname, addr, work = sys.argv[1], sys.argv[2], sys.argv[3]
PUT_PORT, GET_PORT = 5001, 5002
CHUNK = 1 << 16


def log(*args):
    print("net_tcp peer:", *args, flush=True)


def record(line):
    with open(os.path.join(work, "net_tcp.transfers"), "a") as f:
        f.write(line + "\n")


def wait_for_interface():
    # The daemon creates the tap when it starts; the bound only guards
    # against a daemon that never does.
    deadline = time.monotonic() + 120
    while not os.path.exists("/sys/class/net/" + ifname):
        if time.monotonic() > deadline:
            log("no interface", ifname)
            sys.exit(1)
        time.sleep(0.05)
    subprocess.run(["ip", "addr", "add", addr, "dev", ifname], check=True)
    subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
    log(ifname, "up with", addr)


def take_upload(conn, n):
    t0 = time.monotonic()
    h = hashlib.sha256()
    total = 0
    with open(os.path.join(work, "net_tcp-put.%d" % n), "wb") as f:
        while True:
            b = conn.recv(CHUNK)
            if not b:
                break
            f.write(b)
            h.update(b)
            total += len(b)
    secs = time.monotonic() - t0
    record("up %d %d %.3f %s" % (n, total, secs, h.hexdigest()))
    log("upload %d: %d bytes in %.3f s" % (n, total, secs))


def serve_download(conn, n):
    t0 = time.monotonic()
    with open(os.path.join(work, "net_tcp-get.bin"), "rb") as f:
        data = f.read()
    conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)
    # The guest's nc closes once it has read our EOF, i.e. everything.
    while conn.recv(CHUNK):
        pass
    secs = time.monotonic() - t0
    record("down %d %d %.3f %s" % (n, len(data), secs,
                                   hashlib.sha256(data).hexdigest()))
    log("download %d: %d bytes in %.3f s" % (n, len(data), secs))


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4)
    return s


def main():
    wait_for_interface()
    put, get = listener(PUT_PORT), listener(GET_PORT)
    counts = {put: 0, get: 0}
    while True:
        ready, _, _ = select.select([put, get], [], [])
        for s in ready:
            conn, _ = s.accept()
            counts[s] += 1
            with conn:
                if s is put:
                    take_upload(conn, counts[s])
                else:
                    serve_download(conn, counts[s])


main()
