#!/usr/bin/env bash
# CI stage: every libFuzzer target of tests/fuzz for 12 s from the committed
# seed corpus (8 targets: about 100 s of fuzzing plus the clang build; the
# whole stage took ~2.5 min on the 2-core CI machine). Fails on any crash,
# leak, sanitizer report or timeout, naming the reproducer file.
set -euo pipefail
cd "$(dirname "$0")/../.."
./dev fuzz "${FUZZ_SECONDS:-12}"
