#!/usr/bin/env python3
"""Host peer of the rig's net check (started by net.during.sh).

The far end of the net device's socket backend: one datagram is a 12-byte
virtio_net_hdr_v1 followed by an Ethernet frame. The peer is 10.0.2.2: it
answers ARP and ICMP echo, and runs a TFTP server (RFC 1350 with the
blksize option of RFC 2348) so the guest's busybox tftp moves files both
ways over UDP. Every IPv4 packet's header checksum and every ICMP/UDP
checksum is verified; a frame the guest left for the device to checksum
(VIRTIO_NET_HDR_F_NEEDS_CSUM) must point at the UDP checksum field and
carry the pseudo-header sum there, and is then completed as a NIC would.
UDP datagrams larger than a frame arrive as IP fragments and are
reassembled; large replies to the guest are fragmented the same way.

Files: WORK/net-get.bin is served as "get.bin"; an upload "put.N" lands in
WORK/net-put.N. WORK/net.counts holds the counters (rewritten after every
frame) and WORK/net.transfers one line per finished transfer, for
net.host.sh.
"""
import hashlib
import os
import re
import socket
import struct
import sys
import time

ours, guest, work = sys.argv[1], sys.argv[2], sys.argv[3]
HOST_IP = bytes([10, 0, 2, 2])
HOST_MAC = bytes([2, 0, 0, 0, 0, 2])
MTU = 1500
VNET_HDR_LEN = 12
NEEDS_CSUM = 1
TFTP_PORT = 69
TFTP_RRQ, TFTP_WRQ, TFTP_DATA, TFTP_ACK, TFTP_ERROR, TFTP_OACK = range(1, 7)

n = dict.fromkeys(("frames", "arp", "echo", "udp", "csum_completed",
                   "fragments", "bad_csum", "bad_frame", "put_bytes",
                   "get_bytes", "puts_done", "gets_done", "dup_data",
                   "dup_ack"), 0)


def log(*args):
    print("net peer:", *args, flush=True)


def csum(data):
    """The Internet checksum (RFC 1071) of DATA: 0 over data that holds
    its own correct checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo_header(src, dst, proto, length):
    return src + dst + struct.pack("!BBH", 0, proto, length)


def bad(what):
    n["bad_csum"] += 1
    log("bad checksum:", what)


# ---- sending ----------------------------------------------------------

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(ours)
guest_mac = None
ip_id = 0


def send_eth(dst_mac, etype, payload):
    try:
        sock.sendto(bytes(VNET_HDR_LEN) + dst_mac + HOST_MAC +
                    struct.pack("!H", etype) + payload, guest)
    except OSError as e:
        log("send:", e)


def send_ip(dst_ip, proto, payload):
    """One IPv4 packet to the guest, in fragments when it exceeds the MTU
    (no checksum left to the guest: the virtio header's flags are 0)."""
    global ip_id
    ip_id = (ip_id + 1) & 0xFFFF
    room = (MTU - 20) // 8 * 8
    for off in range(0, len(payload), room):
        part = payload[off:off + room]
        more = off + room < len(payload)
        hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(part),
                                    ip_id, (more << 13) | (off // 8), 64,
                                    proto, 0, HOST_IP, dst_ip))
        hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
        send_eth(guest_mac, 0x0800, bytes(hdr) + part)


def send_udp(dst_ip, sport, dport, data):
    udp = bytearray(struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data)
    c = csum(pseudo_header(HOST_IP, dst_ip, 17, len(udp)) + bytes(udp))
    udp[6:8] = struct.pack("!H", c or 0xFFFF)
    send_ip(dst_ip, 17, bytes(udp))


# ---- receiving --------------------------------------------------------

def complete_partial(vhdr, eth):
    """A frame with NEEDS_CSUM: check that csum_start/csum_offset name the
    UDP checksum and that it holds the pseudo-header sum, then fill in the
    checksum from csum_start to the end. None when the frame is wrong."""
    start, offset = struct.unpack_from("<HH", vhdr, 6)
    ip = eth[14:]
    ihl = (ip[0] & 15) * 4
    if eth[12:14] != b"\x08\x00" or ip[9] != 17 or start != 14 + ihl or offset != 6:
        log("NEEDS_CSUM on a frame that is not UDP/IPv4 at start %d offset %d"
            % (start, offset))
        n["bad_frame"] += 1
        return None
    length = struct.unpack_from("!H", ip, ihl + 4)[0]
    want = (~csum(pseudo_header(ip[12:16], ip[16:20], 17, length))) & 0xFFFF
    have = struct.unpack_from("!H", eth, start + offset)[0]
    if have != want:
        bad("partial UDP checksum 0x%04x, pseudo-header sum 0x%04x" % (have, want))
        return None
    eth = bytearray(eth)
    total = struct.unpack_from("!H", ip, 2)[0]
    c = csum(bytes(eth[start:14 + total]))
    eth[start + offset:start + offset + 2] = struct.pack("!H", c or 0xFFFF)
    n["csum_completed"] += 1
    return bytes(eth)


fragments = {}  # (src, id) -> {offset: bytes}, plus "end" once known


def reassemble(ip, ihl, total):
    """The whole IP payload of IP, or None while fragments are missing."""
    flags_off = struct.unpack_from("!H", ip, 6)[0]
    more, off = flags_off & 0x2000, (flags_off & 0x1FFF) * 8
    if not more and off == 0:
        return ip[ihl:total]
    n["fragments"] += 1
    key = (ip[12:16], ip[4:6])
    parts = fragments.setdefault(key, {})
    parts[off] = ip[ihl:total]
    if not more:
        parts["end"] = off + total - ihl
    if "end" not in parts:
        return None
    data, pos = b"", 0
    while pos < parts["end"]:
        if pos not in parts:
            return None
        data += parts[pos]
        pos += len(parts[pos])
    del fragments[key]
    return data


def on_arp(eth):
    arp = eth[14:42]
    if struct.unpack("!H", arp[6:8])[0] != 1 or arp[24:28] != HOST_IP:
        return
    n["arp"] += 1
    body = arp[:6] + struct.pack("!H", 2) + HOST_MAC + HOST_IP + arp[8:18]
    send_eth(arp[8:14], 0x0806, body)


def on_icmp(src, icmp):
    if icmp[0] != 8:
        return
    if csum(icmp) != 0:
        bad("ICMP echo request")
        return
    n["echo"] += 1
    reply = bytearray(b"\0" + icmp[1:])
    reply[2:4] = b"\0\0"
    reply[2:4] = struct.pack("!H", csum(bytes(reply)))
    send_ip(src, 1, bytes(reply))


def on_ipv4(eth):
    ip = eth[14:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack_from("!H", ip, 2)[0]
    if ip[0] >> 4 != 4 or ihl < 20 or total > len(ip) or total < ihl:
        n["bad_frame"] += 1
        log("malformed IPv4 packet")
        return
    if csum(ip[:ihl]) != 0:
        bad("IPv4 header")
        return
    if ip[16:20] != HOST_IP:
        return
    payload = reassemble(ip, ihl, total)
    if payload is None:
        return
    if ip[9] == 1:
        on_icmp(ip[12:16], payload)
    elif ip[9] == 17:
        n["udp"] += 1
        if struct.unpack_from("!H", payload, 6)[0] == 0 or \
                csum(pseudo_header(ip[12:16], HOST_IP, 17, len(payload)) + payload) != 0:
            bad("UDP datagram of %d bytes" % len(payload))
            return
        sport, dport = struct.unpack_from("!HH", payload)
        tftp(ip[12:16], sport, dport, payload[8:])


# ---- TFTP -------------------------------------------------------------

transfers = {}  # (guest ip, guest port) -> Transfer


class Transfer:
    def __init__(self, kind, name, path, blksize):
        self.kind, self.name, self.path, self.blksize = kind, name, path, blksize
        self.block = 0  # put: last block stored; get: last block sent
        self.data = bytearray() if kind == "put" else open(path, "rb").read()
        self.t0 = time.monotonic()

    def finish(self):
        took = time.monotonic() - self.t0
        if self.kind == "put":
            with open(self.path, "wb") as f:
                f.write(self.data)
        line = "%s %s %d bytes %d-byte blocks %.2f s sha256 %s" % (
            self.kind, self.name, len(self.data), self.blksize, took,
            hashlib.sha256(self.data).hexdigest())
        log(line)
        with open(os.path.join(work, "net.transfers"), "a") as f:
            f.write(line + "\n")
        n[self.kind + "s_done"] += 1


def tftp_error(peer, text):
    log("tftp error to", peer, text)
    send_udp(peer[0], TFTP_PORT, peer[1],
             struct.pack("!HH", TFTP_ERROR, 0) + text.encode() + b"\0")


def tftp_request(peer, op, body):
    fields = body.split(b"\0")
    name, opts = fields[0].decode(errors="replace"), fields[2:-1]
    options = {opts[i].lower(): opts[i + 1] for i in range(0, len(opts) - 1, 2)}
    if op == TFTP_RRQ and name == "get.bin":
        path = os.path.join(work, "net-get.bin")
    elif op == TFTP_WRQ and re.fullmatch(r"put\.[0-9]+", name):
        path = os.path.join(work, "net-" + name)
    else:
        return tftp_error(peer, "no such file " + name)
    blksize = 512
    if b"blksize" in options:
        blksize = max(8, min(int(options[b"blksize"]), 65464))
    t = Transfer("get" if op == TFTP_RRQ else "put", name, path, blksize)
    transfers[peer] = t
    log("%s %s from %s:%d, %d-byte blocks" % (t.kind, name, socket.inet_ntoa(peer[0]),
                                               peer[1], blksize))
    if b"blksize" in options:
        send_udp(peer[0], TFTP_PORT, peer[1], struct.pack("!H", TFTP_OACK) +
                 b"blksize\0" + str(blksize).encode() + b"\0")
    elif t.kind == "put":
        send_udp(peer[0], TFTP_PORT, peer[1], struct.pack("!HH", TFTP_ACK, 0))
    else:
        tftp_send_block(peer, t, 1)


def tftp_send_block(peer, t, block):
    chunk = t.data[(block - 1) * t.blksize:block * t.blksize]
    t.block = block
    n["get_bytes"] += len(chunk)
    send_udp(peer[0], TFTP_PORT, peer[1],
             struct.pack("!HH", TFTP_DATA, block & 0xFFFF) + chunk)


def tftp(src, sport, dport, msg):
    if dport != TFTP_PORT or len(msg) < 4:
        return
    peer = (src, sport)
    op, block = struct.unpack_from("!HH", msg)
    if op in (TFTP_RRQ, TFTP_WRQ):
        return tftp_request(peer, op, msg[2:])
    t = transfers.get(peer)
    if t is None:
        return tftp_error(peer, "no transfer")
    if op == TFTP_DATA and t.kind == "put":
        data = msg[4:]
        if block == (t.block + 1) & 0xFFFF:
            t.block += 1
            t.data += data
            n["put_bytes"] += len(data)
            if len(data) < t.blksize:
                t.finish()
                del transfers[peer]
        elif block == t.block & 0xFFFF:
            n["dup_data"] += 1  # the guest's retransmit timer fired
        else:
            return tftp_error(peer, "block %d out of order" % block)
        send_udp(src, TFTP_PORT, sport, struct.pack("!HH", TFTP_ACK, block))
    elif op == TFTP_ACK and t.kind == "get":
        # ACK k asks for block k + 1; the last block is the first shorter
        # than blksize (possibly empty). A duplicate ACK (the guest's
        # retransmit timer fired) is ignored as RFC 1123 4.2.3.1 asks:
        # the block it waits for is on its way, the socket loses nothing.
        if block != t.block & 0xFFFF:
            n["dup_ack"] += 1
        elif len(t.data) < t.block * t.blksize:
            t.finish()
            del transfers[peer]
        else:
            tftp_send_block(peer, t, t.block + 1)
    elif op == TFTP_ERROR:
        log("tftp error from guest:", msg[4:].split(b"\0")[0].decode(errors="replace"))
        del transfers[peer]


# ---- main loop --------------------------------------------------------

def write_counts():
    counts = os.path.join(work, "net.counts")
    with open(counts + ".tmp", "w") as f:
        f.write(" ".join("%s=%d" % kv for kv in sorted(n.items())) + "\n")
    os.replace(counts + ".tmp", counts)


while True:
    frame = sock.recv(70000)
    n["frames"] += 1
    vhdr, eth = frame[:VNET_HDR_LEN], frame[VNET_HDR_LEN:]
    if len(eth) < 14:
        n["bad_frame"] += 1
    else:
        if vhdr[0] & NEEDS_CSUM:
            eth = complete_partial(vhdr, eth)
        if eth is not None:
            guest_mac = eth[6:12]
            etype = struct.unpack_from("!H", eth, 12)[0]
            if etype == 0x0806:
                on_arp(eth)
            elif etype == 0x0800:
                on_ipv4(eth)
    write_counts()
