#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (committed).

Each seed is a well-formed input in the layout its target's source
documents (fuzz_plugin.h, fuzz_mmio.c, fuzz_vq.c), so the fuzzer starts
from requests the device actually serves. Zone JSON seeds come from
tests/zone/zone_test_files.h (compiled and printed), virtio JSON seeds from
tests/rig/*.json. Run from the repository root: tests/fuzz/make_seeds.py
"""
import glob
import os
import re
import struct
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")

RAM_GPA = 0x40000000
QUEUE_STRIDE, AVAIL_OFF, USED_OFF = 0x400, 0x100, 0x200
DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4
ALL = (1 << 64) - 1
NET_RX_OFF = 0x8000  # fuzz_net.c


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


class Guest:
    """Guest RAM image with split rings at the fuzz_plugin.h positions."""

    def __init__(self, qsize=8):
        self.ram = bytearray(0x2000)
        self.qsize = qsize
        self.next_desc = {}
        self.avail_idx = {}
        self.brk = 0x2000

    def alloc(self, data=b"", size=None):
        size = size if size is not None else len(data)
        gpa = RAM_GPA + self.brk
        self.ram += bytes(data) + bytes(size - len(data))
        self.brk += size
        while self.brk % 8:
            self.ram.append(0)
            self.brk += 1
        return gpa

    def chain(self, q, bufs, indirect=False):
        """bufs: (bytes or int size, device_writes). Returns the head."""
        descs = []
        for data, w in bufs:
            if isinstance(data, int):
                gpa, n = self.alloc(size=data), data
            else:
                gpa, n = self.alloc(data), len(data)
            descs.append((gpa, n, DESC_F_WRITE if w else 0))
        base = q * QUEUE_STRIDE
        head = self.next_desc.get(q, 0)
        if indirect:
            table = b"".join(
                struct.pack("<QIHH", g, n,
                            f | (DESC_F_NEXT if i + 1 < len(descs) else 0),
                            i + 1 if i + 1 < len(descs) else 0)
                for i, (g, n, f) in enumerate(descs))
            tgpa = self.alloc(table)
            entries = [(tgpa, len(table), DESC_F_INDIRECT)]
        else:
            entries = descs
        for i, (g, n, f) in enumerate(entries):
            idx = head + i
            nxt = idx + 1 if i + 1 < len(entries) else 0
            flags = f | (DESC_F_NEXT if i + 1 < len(entries) else 0)
            struct.pack_into("<QIHH", self.ram, base + idx * 16, g, n, flags, nxt)
        self.next_desc[q] = head + len(entries)
        a = self.avail_idx.get(q, 0)
        struct.pack_into("<H", self.ram, base + AVAIL_OFF + 4 + 2 * (a % self.qsize), head)
        self.avail_idx[q] = a + 1
        struct.pack_into("<H", self.ram, base + AVAIL_OFF + 2, a + 1)
        return head

    def input(self, queues, kicks, features=ALL, cfg=b"", flags=0, rx=b""):
        """rx: a datagram the net target sends the device (its byte 31
        and the image at NET_RX_OFF)."""
        log2 = {1: 0, 2: 1, 4: 2, 8: 3, 16: 4}[self.qsize]
        kick = bytes(kicks) + b"\xff" * (8 - len(kicks))
        cfg = (cfg + b"\xff\x00\x00" * 4)[:12]
        ram = bytes(self.ram)
        if rx:
            assert len(ram) <= NET_RX_OFF and len(rx) % 8 == 0
            ram = ram + bytes(NET_RX_OFF - len(ram)) + rx
        hdr = struct.pack("<QBB", features, queues, log2) + kick + cfg + bytes([flags, len(rx) // 8])
        assert len(hdr) == 32
        return hdr + ram


def blk_seeds():
    def req(t, sector, data=b"", wsize=0, q=0, indirect=False, g=None):
        g = g or Guest()
        bufs = [(struct.pack("<IIQ", t, 0, sector), False)]
        if data:
            bufs.append((data, False))
        if wsize:
            bufs.append((wsize, True))
        bufs.append((1, True))  # status
        g.chain(q, bufs, indirect)
        return g

    write("blk", "read", req(0, 0, wsize=512).input(1, [0]))
    write("blk", "write", req(1, 3, data=b"\xab" * 1024).input(1, [0]))
    write("blk", "flush", req(4, 0).input(1, [0]))
    write("blk", "get-id", req(8, 0, wsize=20).input(1, [0]))
    seg = struct.pack("<QII", 2, 4, 0)
    write("blk", "discard", req(11, 0, data=seg).input(1, [0]))
    write("blk", "write-zeroes", req(13, 0, data=struct.pack("<QII", 1, 2, 1)).input(1, [0]))
    write("blk", "indirect-read", req(0, 8, wsize=4096, indirect=True).input(1, [0]))
    g = req(1, 0, data=b"x" * 512, q=1)
    req(0, 0, wsize=512, q=1, g=g)
    write("blk", "two-requests-queue1", g.input(3, [1, 0]))
    # Split segments: header and data in several descriptors.
    g = Guest()
    g.chain(0, [(struct.pack("<IIQ", 0, 0, 1)[:8], False),
                (struct.pack("<Q", 1), False), (256, True), (256, True), (1, True)])
    write("blk", "split-header", g.input(1, [0]))
    write("blk", "config-writeback", req(0, 0, wsize=512).input(
        1, [0], cfg=bytes([0x20, 0, 1])))


def net_seeds():
    hdr = bytes(12)  # virtio_net_hdr_v1
    g = Guest()
    g.chain(1, [(hdr + b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + b"p" * 46, False)])
    write("net", "tx-frame", g.input(0x1f, [1]))
    g = Guest()
    csum = struct.pack("<BBHHHHH", 1, 0, 0, 0, 34, 16, 1)  # NEEDS_CSUM
    g.chain(1, [(csum, False), (b"\x02" * 12 + b"\x08\x00" + bytes(60), False)])
    write("net", "tx-csum-split", g.input(0x1f, [1]))
    g = Guest()
    for _ in range(4):
        g.chain(0, [(1526, True)])
    write("net", "rx-buffers", g.input(0x1f, [0]))
    frame = b"\x02\x00\x00\x00\x00\x01" + b"\x02" * 6 + b"\x08\x00" + b"r" * 54
    write("net", "rx-frame", g.input(0x1f, [0], rx=hdr + frame))
    csum_hdr = struct.pack("<BBHHHHH", 1, 0, 0, 0, 34, 16, 1)
    write("net", "rx-frame-needs-csum", g.input(0x1f, [0], rx=csum_hdr + frame))
    g = Guest()
    g.chain(0, [(12 + 40, True)])
    g.chain(0, [(64, True)])
    write("net", "rx-mergeable", g.input(0x1f, [0], rx=hdr + frame))

    def ctrl(cls, cmd, data, name):
        g = Guest()
        g.chain(4, [(bytes([cls, cmd]), False), (data, False), (1, True)])
        write("net", "ctrl-" + name, g.input(0x1f, [4]))

    ctrl(0, 0, b"\x01", "promisc")
    ctrl(0, 1, b"\x01", "allmulti")
    ctrl(1, 1, b"\x02\x00\x00\x00\x00\x09", "mac-addr-set")
    ctrl(1, 0, struct.pack("<I", 1) + b"\x02\x00\x00\x00\x00\x07" +
         struct.pack("<I", 1) + b"\x01\x00\x5e\x00\x00\x01", "mac-table-set")
    ctrl(2, 0, struct.pack("<H", 5), "vlan-add")
    ctrl(2, 1, struct.pack("<H", 5), "vlan-del")
    ctrl(3, 0, b"", "announce-ack")
    ctrl(4, 0, struct.pack("<H", 2), "mq-pairs")
    ctrl(9, 9, b"\x00", "unknown-class")


def console_seeds():
    g = Guest()
    g.chain(1, [(b"hello from the guest\n", False)])
    write("console", "port0-output", g.input(0x3f, [1]))
    g = Guest()
    g.chain(0, [(64, True)])
    write("console", "port0-input-buffer", g.input(0x3f, [0]))

    def control(msgs, name):
        g = Guest()
        g.chain(2, [(8, True)])
        g.chain(2, [(8, True)])
        for m in msgs:
            g.chain(3, [(m, False)])
        write("console", "control-" + name, g.input(0x3f, [2, 3]))

    msg = lambda i, e, v: struct.pack("<IHH", i, e, v)
    control([msg(0, 0, 1)], "device-ready")
    control([msg(0, 0, 1), msg(0, 3, 1), msg(1, 3, 1)], "ports-ready")
    control([msg(0, 0, 1), msg(1, 3, 1), msg(1, 6, 1)], "port-open")
    control([msg(7, 3, 1)], "bad-port")
    g = Guest()
    g.chain(5, [(b"port1 data", False)])
    write("console", "port1-output", g.input(0x3f, [5]))
    # EMERG_WRITE (config offset 8).
    write("console", "emerg-write", Guest().input(0x3f, [], cfg=bytes([8, 2, 0x41])))


def rng_seeds():
    g = Guest()
    g.chain(0, [(64, True)])
    write("rng", "one-request", g.input(1, [0]))
    g = Guest(qsize=16)
    for n in (1, 16, 4096):
        g.chain(0, [(n, True)])
    g.chain(0, [(32, True), (32, True)], indirect=True)
    write("rng", "several", g.input(1, [0, 0]))


def input_seeds():
    g = Guest()
    for _ in range(4):
        g.chain(0, [(8, True)])
    write("input", "event-buffers", g.input(3, [0]))
    g = Guest()
    g.chain(1, [(struct.pack("<HHI", 0x11, 1, 1), False)])  # EV_LED LED_CAPSL on
    g.chain(1, [(struct.pack("<HHI", 0, 0, 0), False)])  # EV_SYN
    write("input", "led-status", g.input(3, [1]))
    for sel, sub, name in ((1, 0, "id-name"), (0x11, 1, "ev-bits-key"), (0x12, 0, "abs-info"),
                           (0x03, 0, "id-devids"), (0x11, 0x11, "ev-bits-led")):
        write("input", "config-" + name, Guest().input(
            3, [], cfg=bytes([0, 0, sel, 1, 0, sub])))


def mmio_seeds():
    def op(kind, off, val, size=2):
        return struct.pack("<BBHI", kind, size, off, val)

    ack, drv, fok, dok = 1, 2, 8, 4
    bring = [op(1, 0x70, 0), op(1, 0x70, ack), op(1, 0x70, ack | drv),
             op(1, 0x24, 0), op(1, 0x20, 6), op(1, 0x24, 1), op(1, 0x20, 1),
             op(1, 0x70, ack | drv | fok), op(0, 0x70, 0)]
    # The high halves are 0: guest RAM is below 4 GiB (FUZZ_RAM_GPA).
    q = [op(1, 0x30, 0), op(1, 0x38, 4), op(2, 0x80, 0), op(1, 0x84, 0),
         op(2, 0x90, 0x100), op(1, 0x94, 0), op(2, 0xa0, 0x200),
         op(1, 0xa4, 0), op(1, 0x44, 1)]
    # One echo chain: desc 0 readable -> desc 1 writable.
    ring = [op(3, 0, RAM_GPA + 0x1000 & 0xffffffff), op(3, 1, 0), op(3, 2, 16),
            op(3, 3, 1 | (1 << 16)), op(3, 4, RAM_GPA + 0x1100 & 0xffffffff),
            op(3, 5, 0), op(3, 6, 16), op(3, 7, 2),
            op(3, 0x100 // 4, 1 << 16), op(3, 0x104 // 4, 0)]
    go = [op(1, 0x70, ack | drv | fok | dok), op(1, 0x50, 0), op(0, 0x60, 0),
          op(1, 0x64, 1)]
    write("mmio", "bring-up-echo", b"".join(bring + q + ring + go))
    write("mmio", "registers", b"".join(op(4, 0, 0) for _ in range(2)))
    for cmd in (1, 2, 3, 4):
        write("mmio", "config-command-%d" % cmd, b"".join(
            bring + q + ring + go + [op(1, 0x104, cmd, 0), op(0, 0x100, 0, 2),
                                     op(1, 0x108, 0xffff, 1), op(1, 0x70, 0)]))
    write("mmio", "late-queue", b"".join(bring + go + q + ring + [op(1, 0x50, 0)]))
    write("mmio", "features-all", b"".join(
        [op(1, 0x70, ack | drv), op(1, 0x24, 0), op(1, 0x20, 0xffffffff),
         op(1, 0x24, 1), op(1, 0x20, 0xffffffff), op(1, 0x70, ack | drv | fok),
         op(0, 0x70, 0)]))


def vq_seeds():
    def seed(name, num_log2, flags, ops, ram, ram_size=0x4000,
             desc=0, avail=0x1000, used=0x2000):
        hdr = struct.pack("<IIIIBBB", ram_size - 1, desc, avail, used, num_log2,
                          flags, len(ops))
        write("vq", name, hdr + bytes(ops) + bytes(ram))

    def ring(chains, num=8, event=None, avail_idx=None, base=0x3000):
        ram = bytearray(0x4000)
        d = 0
        heads = []
        for bufs in chains:
            heads.append(d)
            for i, (n, w, ind) in enumerate(bufs):
                flags = (2 if w else 0) | (1 if i + 1 < len(bufs) else 0) | (4 if ind else 0)
                struct.pack_into("<QIHH", ram, d * 16, 0x80000000 + base, n, flags,
                                 d + 1 if i + 1 < len(bufs) else 0)
                d += 1
        for i, h in enumerate(heads):
            struct.pack_into("<H", ram, 0x1000 + 4 + 2 * i, h)
        struct.pack_into("<H", ram, 0x1002, avail_idx if avail_idx is not None else len(heads))
        if event is not None:
            struct.pack_into("<H", ram, 0x1000 + 4 + 2 * num, event)
        return ram

    pops = [0, 4, 1, 0, 4, 2, 6, 0, 4, 3, 6]
    seed("direct", 3, 0, pops, ring([[(16, 0, 0), (16, 1, 0)], [(64, 1, 0)]]))
    seed("event-idx", 3, 1, pops + [7, 8, 6], ring([[(16, 0, 0)], [(8, 1, 0)]], event=0))
    ram = ring([[(48, 0, 1)]])
    for i in range(3):
        struct.pack_into("<QIHH", ram, 0x3000 + 16 * i, 0x80000000 + 0x3800, 8,
                         (2 if i else 0) | (1 if i < 2 else 0), i + 1 if i < 2 else 0)
    seed("indirect", 3, 2, pops, ram)
    seed("bad-avail-idx", 3, 0, pops, ring([[(16, 0, 0)]], avail_idx=200))
    seed("unpop-reset", 3, 3, [0, 5, 0, 10, 0, 4, 9], ring([[(16, 1, 0)], [(16, 1, 0)]]))
    loop = ring([[(16, 0, 0), (16, 0, 0)]])
    struct.pack_into("<H", loop, 16 + 14, 0)  # desc 1 -> next 0
    struct.pack_into("<H", loop, 16 + 12, 1)
    seed("loop", 3, 0, pops, loop)
    seed("small-ram", 3, 0, pops, ring([[(16, 0, 0)]]), ram_size=0x1800)


def json_seeds():
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "rig", "*.json"))):
        with open(p, "rb") as f:
            write("virtio_json", os.path.basename(p), f.read())
    write("virtio_json", "comments", b'// c\n{"zones": [/* z */{"id": 1, "memory_region": '
          b'[{"zone0_ipa": "0x50000000", "zonex_ipa": "0x0", "size": "0x1000000"}], '
          b'"devices": [{"type": "net", "addr": "0xa003c00", "len": "0x200", '
          b'"irq": 78, "tap": "tap0", "plugin": "/x.so"}]}]}\n')
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "p.c")
        with open(src, "w") as f:
            f.write('#include <stdio.h>\n#include "zone_test_files.h"\n'
                    'int main(void) { fputs(OLDER_EXAMPLE, stdout); putchar(0);'
                    ' fputs(NEWER_EXAMPLE, stdout); return 0; }\n')
        exe = os.path.join(d, "p")
        subprocess.check_call(["cc", "-I", os.path.join(ROOT, "tests", "zone"), src, "-o", exe])
        older, newer = subprocess.check_output([exe]).split(b"\0")
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "zone", "published", "**", "*.json"),
                              recursive=True)):
        with open(p, "rb") as f:
            write("zone", "published-" + os.path.basename(p), f.read())
    write("zone", "older-example", older)
    write("zone", "newer-example", newer)
    for arch in (b"riscv64", b"loongarch64", b"x86_64"):
        write("zone", "older-" + arch.decode(), older.replace(b'"arm64"', b'"' + arch + b'"'))


def dictionaries():
    """tests/fuzz/dict/<target>.dict: every identifier-like string literal
    of the parser's sources (its keys and keywords) and JSON punctuation."""
    sources = {
        "zone": ["core/zone_json*.c"],
        "virtio_json": ["core/config.c", "plugins/blk/blk.c", "plugins/net/net_config.c",
                        "plugins/console/console.c", "plugins/rng/rng.c"],
    }
    punct = ['{', '}', '[', ']', ':', ',', '"0x', '//', '/*', '*/', 'true', 'false', 'null',
             '-1', '0x', '18446744073709551615', '1e308', '\\\\u0000']
    os.makedirs(os.path.join(ROOT, "tests", "fuzz", "dict"), exist_ok=True)
    for target, globs in sources.items():
        words = set()
        for g in globs:
            for path in glob.glob(os.path.join(ROOT, g)):
                with open(path, encoding="utf-8") as f:
                    words.update(re.findall(r'"([a-z][a-z0-9_.]{1,40})"', f.read()))
        with open(os.path.join(ROOT, "tests", "fuzz", "dict", target + ".dict"), "w") as f:
            f.write("# libFuzzer dictionary of the %s target, written by make_seeds.py:\n"
                    "# the string literals of %s, and JSON punctuation.\n"
                    % (target, ", ".join(globs)))
            for w in sorted(words):
                f.write('"\\"%s\\""\n' % w)
            for c in punct:
                f.write('"%s"\n' % c.replace('"', '\\"'))


if __name__ == "__main__":
    dictionaries()
    for f in (blk_seeds, net_seeds, console_seeds, rng_seeds, input_seeds, mmio_seeds, vq_seeds,
              json_seeds):
        f()
