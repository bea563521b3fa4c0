#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks docs/conformance.md against the test suites, so the matrix
cannot drift from them (CI: .ci/steps/52-conformance.sh).

Each requirement row of the matrix is
  | section | requirement | our behaviour | proof |
where proof names tests as `suite: test name` (CUnit: the suite name given
to cunit_run() and the name in the suite's table; meson tests such as the
fuzz replays as `meson: fuzz-blk`), or says "not covered: why" or
"n/a: why". The script fails when
  - a named test does not exist,
  - a row has neither a test nor a reason,
  - a section listed in SECTIONS below (every virtio 1.2 section with
    device requirements in the scope of issue 17) has no row,
  - a test whose name starts with a section number ("2.2.2 ...") is not
    named by any row of that section.
`--list` prints every test name it knows.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "conformance.md")

# Sections of virtio 1.2 cs01 with "Device Requirements" in scope: 2.1,
# 2.2, 2.4-2.7 (split rings), 3.1, 4.2 (mmio), 5.1 net, 5.2 blk,
# 5.3 console, 5.4 rng, 5.8 input.
SECTIONS = [
    "2.1.2", "2.2.2", "2.4.1", "2.5.2", "2.6.1.1.1", "2.6.1.2.1",
    "2.7.4.1", "2.7.5.1", "2.7.5.3.2", "2.7.7.2", "2.7.8.2", "2.7.10.2",
    "3.1", "4.2.2.1", "5.1.4.1", "5.1.6.2.2", "5.1.6.3.2", "5.1.6.4.1",
    "5.1.6.5.1.1", "5.1.6.5.2.1", "5.1.6.5.4.2", "5.1.6.5.6.2",
    "5.1.6.5.7.3", "5.2.5.2", "5.2.6.2", "5.3.5.1", "5.3.6.2.1",
    "5.4.6.2", "5.8.5.2", "5.8.6.2",
]


def c_string(s):
    return s.encode().decode("unicode_escape")


def known_tests():
    tests = set()
    files = glob.glob(os.path.join(ROOT, "tests", "**", "*.c"), recursive=True)
    files += glob.glob(os.path.join(ROOT, "sdk", "examples", "**", "*.c"), recursive=True)
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        suite = re.search(r'cunit_run\(\s*"([^"]+)"', text)
        if not suite:
            # CUnit used directly: CU_add_suite("name", ...).
            suite = re.search(r'CU_add_suite\(\s*"([^"]+)"', text)
        if not suite:
            continue
        for m in re.finditer(r'\{\s*"((?:[^"\\]|\\.)+)"\s*,\s*\w+\s*\}', text):
            tests.add("%s: %s" % (suite.group(1), c_string(m.group(1))))
        for m in re.finditer(r'CU_add_test\(\s*\w+\s*,\s*"((?:[^"\\]|\\.)+)"', text):
            tests.add("%s: %s" % (suite.group(1), c_string(m.group(1))))
    for d in glob.glob(os.path.join(ROOT, "tests", "fuzz", "corpus", "*")):
        tests.add("meson: fuzz-" + os.path.basename(d))
    return tests


def main():
    tests = known_tests()
    if "--list" in sys.argv:
        print("\n".join(sorted(tests)))
        return 0
    errors = []
    rows = {}
    with open(DOC, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 4 or not re.fullmatch(r"\d+(\.\d+)+", cells[0]):
                continue
            sec, _, behaviour, proof = cells
            refs = re.findall(r"`([^`]+)`", proof)
            rows.setdefault(sec, []).extend(refs)
            if not behaviour:
                errors.append("line %d: %s: no behaviour" % (n, sec))
            for r in refs:
                if r not in tests:
                    errors.append("line %d: %s: no such test `%s`" % (n, sec, r))
            if not refs and not re.match(r"(not covered|n/a): \S", proof):
                errors.append("line %d: %s: neither a test nor "
                              "'not covered: why' / 'n/a: why'" % (n, sec))
    for sec in SECTIONS:
        if sec not in rows:
            errors.append("section %s has no row" % sec)
    for t in sorted(tests):
        m = re.match(r"[^:]+: (\d+(?:\.\d+)+) ", t)
        if m and t not in rows.get(m.group(1), []):
            errors.append("test `%s` carries section %s but no row of it "
                          "names the test" % (t, m.group(1)))
    for e in errors:
        print("conformance.md: " + e, file=sys.stderr)
    if errors:
        return 1
    total = sum(1 for _ in open(DOC) if re.match(r"\|\s*\d+\.\d", _))
    print("conformance.md: %d requirement rows, every named test exists" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
