#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarise several `./dev bench` outputs against their targets.

Usage: bench-summary.py RUN1.txt RUN2.txt ...

Each target row the benchmark programs print (issue 16's, and the console's
ratio) gets its value from every run, the best and the median, and whether
the target is met. The benchmarks' own rule: a ratio or a latency is judged
by the best of the runs (the machine is shared and noisy), a count that must
be zero (frames lost, idle ticks) by every run. Rows of hvisor-tool's daemon
(./dev bench --hvisor-tool) are listed under their label, without a verdict.
"""
import re
import statistics
import sys

NUM = r"([0-9]+(?:\.[0-9]+)?)"
NET_TARGET = {"guest -> tap": 1.0, "tap -> guest": 0.5}
BLK_ROWS = ("4k randread QD1", "4k randread QD32", "4k randwrite QD32")
# Our rows every full run prints: one missing from a run (a program that
# failed or skipped, a changed output format) is a target not shown.
NET_ROWS = ("guest -> tap %s", "guest -> tap %s lost", "tap -> guest %s",
            "tap -> guest %s lost", "tap -> guest %s lost at 10k pps")
EXPECTED = (("register read median (ns)", "idle daemon CPU ticks over 2 s") +
            BLK_ROWS + ("console guest -> pty", "console pty -> guest") +
            tuple(r % n for n in ("64 B", "1500 B") for r in NET_ROWS))


def rows_of(text):
    """(row, label, value, direction, target, rule) per target row found.
    direction: 'max' (higher is better) or 'min'; rule: 'best' (judged by
    the best run) or 'every' (each run must meet it)."""
    out = []
    blk_row = None  # hvisor-tool's blk rows leave the name column blank
    for line in text.splitlines():
        m = re.match(r"^(daemon|hvisor-tool) register read\s.*?median\s+" +
                     NUM + " ns", line)
        if m:
            label = "ours" if m.group(1) == "daemon" else m.group(1)
            out.append(("register read median (ns)", label,
                        float(m.group(2)), "min", 1000, "best"))
            continue
        m = re.match(r"^idle daemon CPU over 2 s: " + NUM + " tick", line)
        if m:
            out.append(("idle daemon CPU ticks over 2 s", "ours",
                        float(m.group(1)), "min", 0, "every"))
            continue
        m = re.match(r"^(\S.{18}|\s{19}) (\S+)\s+\d+\s+\S+\s+\d+\s+\d+\s+" +
                     NUM + r"\s+(\S+)", line)
        if m:
            name = re.sub(r"\s+", " ", m.group(1).strip())
            blk_row = name or blk_row
            if blk_row in BLK_ROWS and m.group(4).startswith(">="):
                out.append((blk_row, m.group(2), float(m.group(3)), "max",
                            float(m.group(4)[2:]), "best"))
            continue
        m = re.match(r"^console (guest -> pty|pty -> guest) .*ratio " + NUM,
                     line)
        if m:
            out.append(("console " + m.group(1), "ours", float(m.group(2)),
                        "max", 0.5, "best"))
            continue
        m = re.match(r"^\s+(guest -> tap|tap -> guest)\s+(\S+)\s+(\d+ B)\s+"
                     r"\d+ pps\s+\S+ Gbit/s\s+ref.*ratio\s+" + NUM +
                     r"\s+lost (\d+)", line)
        if m:
            row = "%s %s" % (m.group(1), m.group(3))
            out.append((row, m.group(2), float(m.group(4)), "max",
                        NET_TARGET[m.group(1)], "best"))
            out.append((row + " lost", m.group(2), float(m.group(5)), "min",
                        0, "every"))
            continue
        m = re.match(r"^\s+tap -> guest\s+(\S+)\s+(\d+ B)\s+\d+ pps\s+steady "
                     r"10k pps: lost (\d+)", line)
        if m:
            out.append(("tap -> guest %s lost at 10k pps" % m.group(2),
                        m.group(1), float(m.group(3)), "min", 0, "every"))
    return out


def fmt(v):
    """Counts and latencies (whole, from 10 up, or 0) bare, ratios with two
    decimals."""
    if v == 0 or (v == int(v) and abs(v) >= 10):
        return "%.0f" % v
    return "%.2f" % v


class Row:
    """One target row over the runs: its values in run order, the best,
    the median, and the verdict ('yes', 'NO', or '-' for another daemon's
    row, which is listed but not judged)."""

    def __init__(self, name, label, direction, target, rule):
        self.name, self.label = name, label
        self.direction, self.target, self.rule = direction, target, rule
        self.values = []
        self.verdict = "-"

    def judge(self, runs):
        better = max if self.direction == "max" else min
        worse = min if self.direction == "max" else max
        self.best = better(self.values)
        self.median = statistics.median(self.values)
        if self.label != "ours":
            return
        judged = self.best if self.rule == "best" else worse(self.values)
        ok = (judged >= self.target if self.direction == "max" else
              judged <= self.target) and len(self.values) == runs
        self.verdict = "yes" if ok else "NO"


def summarise(texts):
    """Rows (in first-seen order) and, per expected row of ours missing from
    some run, the run numbers (from 1) that lack it."""
    table = {}
    absent = {}
    for run, text in enumerate(texts, 1):
        seen = set()
        for name, label, value, direction, target, rule in rows_of(text):
            key = (name, label)
            if key not in table:
                table[key] = Row(name, label, direction, target, rule)
            table[key].values.append(value)
            seen.add(key)
        for name in EXPECTED:
            if (name, "ours") not in seen:
                absent.setdefault(name, []).append(run)
    for row in table.values():
        row.judge(len(texts))
    return list(table.values()), absent


def main(paths):
    if not paths:
        print("usage: bench-summary.py RUN1.txt RUN2.txt ...", file=sys.stderr)
        return 2
    texts = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
    rows, absent = summarise(texts)
    if not rows:
        print("no target rows found", file=sys.stderr)
        return 1
    print("bench summary over %d run(s): ratios and latencies judged by the "
          "best run, zero counts by every run" % len(paths))
    runs = [" ".join(fmt(v) for v in r.values) for r in rows]
    line = "%%-36s %%-11s %%-%ds %%7s %%7s %%9s  %%s" % max(
        [24] + [len(x) for x in runs])
    print(line % ("row", "daemon", "runs", "best", "median", "target", "met"))
    for r, values in zip(rows, runs):
        op = ">=" if r.direction == "max" else "<=" if r.target else "="
        print(line % (r.name, r.label, values,
                      fmt(r.best), fmt(r.median), op + " " + fmt(r.target),
                      r.verdict))
    # A row of ours missing from only some runs is already judged NO
    # above; one missing from every run has no row and is counted here.
    missed = sum(r.verdict == "NO" for r in rows)
    ours = {r.name for r in rows if r.label == "ours"}
    for name, lacking in absent.items():
        print("%-36s %-11s not in run(s) %s: not met" %
              (name, "ours", ", ".join(map(str, lacking))))
        missed += name not in ours
    print("targets missed: %d" % missed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
