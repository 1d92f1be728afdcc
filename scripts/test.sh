#!/usr/bin/env bash
# Every test, on a fresh Debian 12 machine: install dependencies, build
# (warnings are errors), run the GoogleTest + pytest suites through CTest, then
# the same suites again under AddressSanitizer + UndefinedBehaviorSanitizer, then
# a short fuzzing smoke run of the file parsers.
#   SKIP_SANITIZERS=1 / SKIP_FUZZ=1 skip those stages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc)"
bash "$root/scripts/install-deps.sh"

echo "== release build + tests"
BUILD_DIR="$root/build" bash "$root/scripts/build.sh"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== ASan + UBSan build + tests"
  BUILD_DIR="$root/build-asan" BUILD_TYPE=Debug bash "$root/scripts/build.sh" \
    -DBIT_TTT_SANITIZE=ON -DBIT_TTT_BUILD_BENCH=OFF -DBIT_TTT_CUDA=OFF  # device code: release stage
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs"
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz smoke"
  bash "$root/scripts/fuzz-smoke.sh" "${FUZZ_SECONDS:-15}"
fi
echo "== all tests passed"
