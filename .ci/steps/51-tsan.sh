#!/usr/bin/env bash
# CI stage: the thread-heavy suites under ThreadSanitizer (./dev tsan); any data
# race, lock-order inversion or thread leak fails it.
set -euo pipefail
cd "$(dirname "$0")/../.."
./dev tsan
