#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scripts/bench-summary.py: rows found in the benchmark programs' output,
and the verdicts (best run for ratios, every run for zero counts)."""
import importlib.util
import os
import sys
import unittest

SRC = os.environ.get("HVISOR_TEST_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), ".."))
spec = importlib.util.spec_from_file_location(
    "bench_summary", os.path.join(SRC, "scripts", "bench-summary.py"))
bs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bs)

# Lines as the programs print them (./dev bench, 2026-12-07), with the
# values the tests change put in as {fields}.
RUN = """\
daemon register read (polling)     median     {mmio} ns  p90     741 ns  p99     818 ns
idle daemon CPU over 2 s: 0 tick(s) (target 0)
workload            daemon      path IOPS     MB/s  ref IOPS   ref  ratio  target  daemon   guest    irq
4k randread  QD1    ours           279910   1146.5   1231461     1   0.23  >=0.20    3.50    3.55   1.00
4k randread  QD32   ours          1028817   4214.0   2355445     2   0.44  >=0.40    0.96    0.96   0.03
4k randwrite QD1    ours            69086    283.0    146238     1   0.47       -   14.61   13.26   1.00
4k randwrite QD32   ours           125505    514.1    150872     1   {wr}  >=0.90    8.34    7.59   0.05
                    hvisor-tool     74308    304.4    116512     1   0.64  >=0.90   21.68    1.18   0.03
console guest -> pty                  181.6 MB/s  lost 0  ratio 1.76
console pty -> guest                  139.8 MB/s  lost 0  ratio 1.38
  guest -> socket  ours          64 B   606440 pps  0.310 Gbit/s  ref   688331 pps  0.352 Gbit/s  ratio  0.88  lost 0  daemon 1.10 us/pkt
  guest -> tap     ours          64 B   977431 pps  0.500 Gbit/s  ref  1116024 pps  0.571 Gbit/s  ratio  {tx}  lost {txlost}  daemon 1.00 us/pkt
  tap -> guest     ours          64 B   643563 pps  0.330 Gbit/s  ref  1020191 pps  0.522 Gbit/s  ratio  0.63  lost 0  daemon 1.20 us/pkt
  tap -> guest     ours          64 B   591503 pps  sender never waits: lost 61376 of 100000  daemon 1.29 us/pkt
  tap -> guest     ours          64 B     9999 pps  steady 10k pps: lost 0 of 20000  daemon 62.00 us/pkt
  guest -> tap     ours        1500 B   735140 pps  8.822 Gbit/s  ref   732241 pps  8.787 Gbit/s  ratio  1.00  lost 0  daemon 1.80 us/pkt
  tap -> guest     ours        1500 B   488746 pps  5.865 Gbit/s  ref   721104 pps  8.653 Gbit/s  ratio  0.68  lost 0  daemon 1.40 us/pkt
  tap -> guest     ours        1500 B    10000 pps  steady 10k pps: lost 0 of 20000  daemon 62.50 us/pkt
"""


def run(mmio=680, wr="0.92", tx="1.01", txlost=0):
    return RUN.format(mmio=mmio, wr=wr, tx=tx, txlost=txlost)


def verdicts(texts):
    rows, absent = bs.summarise(texts)
    return {(r.name, r.label): r for r in rows}, absent


class Summary(unittest.TestCase):
    def test_every_row_found(self):
        rows, absent = verdicts([run()])
        self.assertEqual(absent, {})
        for name in bs.EXPECTED:
            self.assertEqual(rows[(name, "ours")].verdict, "yes", name)
        self.assertEqual(rows[("register read median (ns)", "ours")].values,
                         [680.0])
        self.assertEqual(rows[("4k randwrite QD32", "ours")].target, 0.90)
        # Rows without a target are not listed.
        self.assertNotIn(("4k randwrite QD1", "ours"), rows)
        self.assertNotIn(("guest -> socket 64 B", "ours"), rows)

    def test_ratio_judged_by_best_run(self):
        rows, _ = verdicts([run(wr="0.83"), run(wr="0.86"), run(wr="0.92")])
        r = rows[("4k randwrite QD32", "ours")]
        self.assertEqual((r.best, r.median, r.verdict), (0.92, 0.86, "yes"))
        rows, _ = verdicts([run(wr="0.89"), run(wr="0.86"), run(wr="0.84")])
        self.assertEqual(rows[("4k randwrite QD32", "ours")].verdict, "NO")

    def test_latency_judged_by_lowest(self):
        rows, _ = verdicts([run(mmio=1200), run(mmio=990)])
        r = rows[("register read median (ns)", "ours")]
        self.assertEqual((r.best, r.verdict), (990.0, "yes"))
        rows, _ = verdicts([run(mmio=1200), run(mmio=1001)])
        self.assertEqual(rows[("register read median (ns)", "ours")].verdict,
                         "NO")

    def test_zero_counts_judged_by_every_run(self):
        rows, _ = verdicts([run(), run(txlost=5), run()])
        self.assertEqual(rows[("guest -> tap 64 B lost", "ours")].verdict,
                         "NO")
        # The ratio itself is still judged by its best run.
        self.assertEqual(rows[("guest -> tap 64 B", "ours")].verdict, "yes")

    def test_row_missing_from_a_run(self):
        partial = "\n".join(l for l in run().splitlines()
                            if "randread  QD32" not in l)
        rows, absent = verdicts([run(), partial])
        self.assertEqual(absent, {"4k randread QD32": [2]})
        self.assertEqual(rows[("4k randread QD32", "ours")].verdict, "NO")

    def test_other_daemon_listed_not_judged(self):
        rows, _ = verdicts([run()])
        r = rows[("4k randwrite QD32", "hvisor-tool")]
        self.assertEqual((r.values, r.verdict), ([0.64], "-"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=1)
