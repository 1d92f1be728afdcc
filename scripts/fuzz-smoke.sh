#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang and runs each one for a short
# time from the seed corpus. Fails on any finding (crash, sanitizer report,
# leak, timeout, allocation over the limit); the reproducer is left in the build dir.
#
#   scripts/fuzz-smoke.sh [SECONDS_PER_FUZZER]    (default 20)
#   BUILD_DIR=...  build directory (default: build-fuzz in the repository)
#   JOBS=...       parallel build jobs (default: nproc)
set -euo pipefail

seconds="${1:-20}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-fuzz}"
jobs="${JOBS:-$(nproc)}"
fuzzers=(safetensors npy bitt)

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBIT_TTT_FUZZ=ON -DBIT_TTT_BUILD_TESTS=OFF -DBIT_TTT_BUILD_BENCH=OFF -DBIT_TTT_CUDA=OFF >/dev/null
targets=()
for name in "${fuzzers[@]}"; do targets+=("${name}_fuzz"); done
cmake --build "$build" --target "${targets[@]}" -j "$jobs"

# New inputs go to a scratch directory so the checked-in seeds stay small.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for name in "${fuzzers[@]}"; do
  echo "fuzz-smoke: ${name}_fuzz for ${seconds}s"
  mkdir -p "$scratch/$name"
  # Inputs are small, so any allocation over 512 MB means a lying header got through.
  "$build/bin/${name}_fuzz" "$scratch/$name" "$root/fuzz/corpus/$name" \
    -dict="$root/fuzz/$name.dict" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -malloc_limit_mb=512 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/${name}-"
done
echo "fuzz-smoke: no findings"
