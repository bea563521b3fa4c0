#!/usr/bin/env python3
"""Read an `abidiff OLD NEW` report on stdin; exit 0 when NEW only extends
OLD the way a minor ABI version may (members appended at the end of a
struct, enumerators added, functions added), else print why and exit 1.

The report format is libabigail 2.x's (Debian 12's abigail-tools)."""
import re
import sys

problems = []
size = {}  # struct name -> old size in bits, from the last header seen
current = None
in_insertions = False

for line in sys.stdin:
    text = line.strip()
    m = re.search(r"summary: (\d+) Removed", text)
    if m and int(m.group(1)) > 0:
        problems.append(text)
        continue
    m = re.search(r"in unqualified underlying type '(?:struct|union|enum) (\S+)'", text) \
        or re.search(r"type '(?:struct|union|enum) (\S+)' changed", text)
    if m:
        current = m.group(1)
        in_insertions = False
        continue
    m = re.match(r"type size changed from (\d+) to (\d+)", text)
    if m:
        size[current] = int(m.group(1))
        if int(m.group(2)) < int(m.group(1)):
            problems.append(f"{current}: {text}")
        continue
    if re.match(r"\d+ data member insertions?:", text):
        in_insertions = True
        continue
    if in_insertions:
        m = re.search(r"at offset (\d+) \(in bits\)", text)
        if m:
            if current not in size or int(m.group(1)) < size[current]:
                problems.append(f"{current}: inserted before its old end: {text}")
            continue
        in_insertions = False
    if re.match(r"\d+ enumerator insertions?:", text) or text.startswith("'") and "value '" in text:
        continue
    if re.search(r"(data member (change|deletion)|offset changed|type of .* changed|"
                 r"enumerator (change|deletion)|name of .* changed|parameter \d+ of type .* changed|"
                 r"return type changed|underlying type .* changed)", text):
        problems.append(f"{current or '?'}: {text}")

if problems:
    print("not an ABI extension (a minor version may only append):")
    for p in problems:
        print("  " + p)
    sys.exit(1)
sys.exit(0)
