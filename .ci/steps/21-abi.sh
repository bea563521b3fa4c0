#!/usr/bin/env bash
# CI stage: the plugin ABI (through the ABI probe) and the harness library
# compared with the committed libabigail baselines; a difference fails with
# abidiff's report unless the version and the baseline changed together.
set -euo pipefail
cd "$(dirname "$0")/../.."
./dev abi
# The checker itself: typical header edits must be classified right.
python3 sdk/abi/selftest.py
