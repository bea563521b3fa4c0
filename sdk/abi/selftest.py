#!/usr/bin/env python3
"""Self-test of the ABI check: edits a copy of plugin.h in the ways people
do, builds the probe against each, and asserts what `./dev abi` would say:
whether abidiff sees a change against the baseline, and whether
additive.py accepts it as a minor-version extension.

Usage: selftest.py (run by .ci/steps/21-abi.sh): compares with the
baseline of the version plugin.h states."""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "..", "include", "hvd", "plugin.h")
# The same options as abi-check.sh uses for the baselines.
DUMP = ["--no-corpus-path", "--no-comp-dir-path", "--no-show-locs",
        "--no-elf-needed", "--type-id-style", "hash"]


def struct_body(text, name):
    """(start, end) of the body of `struct name { ... };` in text."""
    start = text.index(f"struct {name} {{\n") + len(f"struct {name} {{\n")
    return start, text.index("\n};", start) + 1


def append_member(name, member):
    def edit(text):
        _, end = struct_body(text, name)
        return text[:end] + member + text[end:]
    return edit


def before_reserved(name, member, take_one=False):
    """Insert `member` before the struct's trailing reserved array, taking
    one word of it if take_one."""
    def edit(text):
        start, end = struct_body(text, name)
        m = list(re.finditer(r"\t(\w[^;]*?)\breserved\[(\d+)\];\n",
                             text[start:end]))[-1]
        words = int(m.group(2)) - (1 if take_one else 0)
        new = member + f"\t{m.group(1)}reserved[{words}];\n"
        return text[:start + m.start()] + new + text[start + m.end():]
    return edit


def replace(old, new):
    def edit(text):
        if old not in text:
            raise ValueError(f"plugin.h no longer contains {old!r}")
        return text.replace(old, new, 1)
    return edit


def ends_with_reserved(text, name):
    """Whether the struct's last member is a reserved array."""
    start, end = struct_body(text, name)
    return re.search(r"\breserved\[\d+\];\n$", text[start:end]) is not None


NEW_SERVICE = "\tint (*selftest_service)(struct hvd_device *dev);\n"

# name -> (edits, abidiff reports a change, accepted as an extension)
CASES = {
    "unchanged": ([], False, True),
    "service appended after reserved": (
        [append_member("hvd_host_services", NEW_SERVICE)], True, True),
    # Extensions only while the reserved words are the struct's end: once
    # members were appended after them, the same edits are insertions.
    "service inserted before reserved": (
        [before_reserved("hvd_host_services", NEW_SERVICE)], True,
        "services end in reserved"),
    "reserved word taken by a service": (
        [before_reserved("hvd_host_services", NEW_SERVICE, True)], True,
        "services end in reserved"),
    "callback appended to the ops": (
        [append_member("hvd_device_ops",
                       "\tvoid (*selftest_cb)(void *state);\n")], True, True),
    "member inserted in the middle": (
        [replace("\tuint32_t num_queues;",
                 "\tuint32_t extra;\n\tuint32_t num_queues;")], True, False),
    "member retyped": (
        [replace("\tuint32_t num_queues;", "\tuint64_t num_queues;")],
        True, False),
    "service removed": (
        [replace("\tvoid (*vq_unpop)(struct hvd_chain *chain);\n", "")],
        True, False),
    "callback signature changed": (
        [replace("\tvoid (*reset)(void *state);", "\tint (*reset)(void *state);")],
        True, False),
    "constant changed": (
        [replace("#define HVD_MAX_QUEUES 64", "#define HVD_MAX_QUEUES 128")],
        True, False),
}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    original = open(HEADER).read()
    version = ".".join(re.search(rf"#define HVD_ABI_{part} (\d+)", original).group(1)
                       for part in ("MAJOR", "MINOR"))
    baseline = os.path.join(HERE, f"hvd-plugin-{version}.abi")
    # The layout guards would refuse most edits at compile time: that is
    # their job, but here the libabigail side is under test.
    original = original.replace("#if defined(__x86_64__)", "#if 0 && defined(__x86_64__)")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="hvd-abi-selftest.") as tmp:
        for name, (edits, changed, extends) in CASES.items():
            if extends == "services end in reserved":
                extends = ends_with_reserved(original, "hvd_host_services")
            text = original
            try:
                for edit in edits:
                    text = edit(text)
            except ValueError as e:
                print(f"FAIL {name}: {e}")
                failures += 1
                continue
            inc = os.path.join(tmp, name.replace(" ", "_"))
            os.makedirs(os.path.join(inc, "hvd"))
            with open(os.path.join(inc, "hvd", "plugin.h"), "w") as f:
                f.write(text)
            so, abi = inc + ".so", inc + ".abi"
            build = run(["cc", "-g", "-O0", "-shared", "-fPIC",
                         "-fvisibility=hidden", "-I" + inc,
                         "-Wl,-soname,libhvd-abi-probe.so",
                         os.path.join(HERE, "probe.c"), "-o", so])
            if build.returncode:
                print(f"FAIL {name}: probe does not build\n{build.stderr}")
                failures += 1
                continue
            run(["abidw", *DUMP, "--out-file", abi, so], check=True)
            diff = run(["abidiff", baseline, abi])
            verdict = run([sys.executable, os.path.join(HERE, "additive.py"),
                           baseline], input=diff.stdout)
            got = (diff.returncode != 0, verdict.returncode == 0)
            ok = got == (changed, extends)
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: change seen "
                  f"{got[0]}, extension {got[1]}")
            if not ok:
                print(diff.stdout + verdict.stdout)
    print(f"{len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
