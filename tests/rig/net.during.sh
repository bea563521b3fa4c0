# Host peer of the net check: the far end of the net device's socket
# backend (one datagram = virtio_net_hdr_v1 + Ethernet frame). It answers
# ARP for 10.0.2.2 and ICMP echo requests to it, and counts what it saw in
# RIG_WORK/net.counts for net.host.sh.
exec python3 - "$RIG_WORK/net-host.sock" "$RIG_WORK/net-guest.sock" \
	"$RIG_WORK/net.counts" <<'PY'
import os, socket, struct, sys
ours, guest, counts = sys.argv[1], sys.argv[2], sys.argv[3]
HOST_IP = bytes([10, 0, 2, 2])
HOST_MAC = bytes([2, 0, 0, 0, 0, 2])
VNET_HDR = bytes(12)  # no checksum or GSO work left for the guest

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def arp_reply(eth):
    arp = eth[14:42]
    if struct.unpack("!H", arp[6:8])[0] != 1 or arp[24:28] != HOST_IP:
        return None
    sender_mac, sender_ip = arp[8:14], arp[14:18]
    body = arp[:6] + struct.pack("!H", 2) + HOST_MAC + HOST_IP + sender_mac + sender_ip
    return sender_mac + HOST_MAC + b"\x08\x06" + body

def icmp_reply(eth):
    ip = eth[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 1 or ip[16:20] != HOST_IP or ip[ihl] != 8:
        return None
    total = struct.unpack("!H", ip[2:4])[0]
    icmp = bytearray(ip[ihl:total])
    # The request's own checksum must hold: the bytes arrived intact.
    if csum(bytes(icmp)) != 0:
        n["bad_csum"] += 1
        return None
    icmp[0] = 0
    icmp[2:4] = b"\0\0"
    icmp[2:4] = struct.pack("!H", csum(bytes(icmp)))
    hdr = bytearray(ip[:ihl])
    hdr[12:16], hdr[16:20] = ip[16:20], ip[12:16]
    hdr[10:12] = b"\0\0"
    hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
    return eth[6:12] + HOST_MAC + b"\x08\x00" + bytes(hdr) + bytes(icmp)

n = {"frames": 0, "arp": 0, "echo": 0, "bad_csum": 0}
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(ours)
while True:
    frame = s.recv(70000)
    n["frames"] += 1
    eth = frame[12:]
    etype = struct.unpack("!H", eth[12:14])[0]
    reply = None
    if etype == 0x0806:
        reply = arp_reply(eth)
        n["arp"] += reply is not None
    elif etype == 0x0800:
        reply = icmp_reply(eth)
        n["echo"] += reply is not None
    if reply:
        try:
            s.sendto(VNET_HDR + reply, guest)
        except OSError as e:
            print("net peer:", e, flush=True)
    with open(counts + ".tmp", "w") as f:
        f.write(" ".join("%s=%d" % kv for kv in sorted(n.items())) + "\n")
    os.replace(counts + ".tmp", counts)
PY
