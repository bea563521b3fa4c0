#!/usr/bin/env python3
"""additive.py OLD.abi < abidiff-report

Reads the report of `abidiff OLD NEW` on stdin; exits 0 when NEW only
extends OLD the way a minor ABI version may, else prints why and exits 1.

An extension: members added at the end of a struct (at or past its old
end, or in place of / before its trailing `reserved` words, which no
plugin reads), enumerators added, functions added. Anything else (a
member moved, retyped, renamed or removed; a function removed; a
constant changed) is not. The report format is libabigail 2.x's (Debian
12's abigail-tools)."""
import re
import sys
import xml.etree.ElementTree as ET


def trailing_reserved_offsets(abi_path):
    """struct name -> (bit offset where its trailing reserved members start,
    or its size when it has none; its size)."""
    tails = {}
    for decl in ET.parse(abi_path).getroot().iter("class-decl"):
        name, size = decl.get("name"), decl.get("size-in-bits")
        if not name or size is None:
            continue
        members = []
        for dm in decl.findall("data-member"):
            var = dm.find("var-decl")
            members.append((int(dm.get("layout-offset-in-bits", "0")),
                            var.get("name") if var is not None else ""))
        tail = int(size)
        for offset, member in sorted(members, reverse=True):
            if not member.startswith("reserved"):
                break
            tail = offset
        tails[name] = (tail, int(size))
    return tails


def main():
    tails = trailing_reserved_offsets(sys.argv[1])
    problems = []
    structs = []  # (indent, name): the structs the report is inside
    in_insertions = False
    reserved_indent = None  # indentation of a reserved member's change

    # Leaves of the report that are never part of an extension. Lines that
    # only lead to details ("type of 'x' changed:", "in pointed to type")
    # are judged by their details.
    breaking = re.compile(
        r"(offset changed|data member deletion|type name changed|"
        r"array type size changed|enumerator (change|deletion)|"
        r"return type changed|parameter \d+ .*(removed|added)|"
        r"name of .* changed)")

    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        indent = len(line) - len(line.lstrip())
        while structs and indent <= structs[-1][0]:
            structs.pop()
        current = structs[-1][1] if structs else "?"
        if reserved_indent is not None:
            if indent > reserved_indent or (
                    indent == reserved_indent and text.startswith("and ")):
                continue  # the reserved member's own details
            reserved_indent = None
        if in_insertions and not re.search(r"at offset \d+ \(in bits\)", text):
            in_insertions = False

        m = re.search(r"summary: (\d+) Removed", text)
        if m and int(m.group(1)) > 0:
            problems.append(text)
            continue
        m = re.search(r"(?:underlying|pointed to) type "
                      r"'(?:const )?(?:struct|union) (\S+?)'", text)
        if m:
            structs.append((indent, m.group(1)))
            continue
        m = re.match(r"type size changed from (\d+) to (\d+)", text)
        if m:
            if int(m.group(2)) < int(m.group(1)):
                problems.append(f"{current}: {text}")
            continue
        if re.match(r"\d+ data member insertions?:", text):
            in_insertions = True
            continue
        if in_insertions:
            offset = int(re.search(r"at offset (\d+)", text).group(1))
            if offset < tails.get(current, (1 << 62, 0))[0]:
                problems.append(f"{current}: inserted before its end: {text}")
            continue
        # A trailing reserved member moved behind new members, or shortened
        # to make room for them, is part of an extension.
        m = re.match(r"(?:type of )?'[^']*?\b(\w+)(?:\[\d*\])*' "
                     r"(?:offset changed|changed)", text)
        if m and m.group(1).startswith("reserved") and \
                struct_tail_member(current, tails):
            reserved_indent = indent
            continue
        if breaking.search(text):
            problems.append(f"{current}: {text}")

    if problems:
        print("not an ABI extension (a minor version may only append):")
        for p in problems:
            print("  " + p)
        return 1
    return 0


def struct_tail_member(struct, tails):
    """Whether `struct` has trailing reserved words in the old ABI."""
    tail, size = tails.get(struct, (0, 0))
    return tail < size


if __name__ == "__main__":
    sys.exit(main())
