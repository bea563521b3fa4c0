#!/usr/bin/env bash
# CI stage: every libFuzzer target of tests/fuzz for 12 s from the committed
# seed corpus (9 targets: 108 s of fuzzing plus the clang build, ~20 s from
# scratch; 8 targets took 110 s with the build done, on the shared 2-core
# machine). Fails on any crash, leak, sanitizer report or timeout, naming
# the reproducer file.
set -euo pipefail
cd "$(dirname "$0")/../.."
./dev fuzz "${FUZZ_SECONDS:-12}"
