#!/usr/bin/env bash
# The GPU checks, for a machine with an NVIDIA GPU: the CPU == CUDA parity suite
# (inference and training), decode/prefill benchmarks on the GPU beside the CPU,
# a hybrid plan under a small memory budget, and training steps on the GPU beside
# the CPU. JSON lines go to $OUT_DIR/gpu-bench.jsonl and gpu-train.jsonl.
#   BIN_DIR   where test_cuda and bit_llama are (default: build/bin)
#   OUT_DIR   where results go (default: build/gpu-check)
#   QUICK=1   the seed default only (skip the ~137M config)
#   CONFIG_DIR  where 137m.json is (default: configs/)
# scripts/pack-gpu-check.sh packs all of it for a machine without the build tools.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BIN_DIR:-$root/build/bin}"
out="${OUT_DIR:-$root/build/gpu-check}"
configs="${CONFIG_DIR:-$root/configs}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

echo "== CPU == CUDA parity"
"$bin/test_cuda" --gtest_brief=1 2>&1 | tee "$out/parity.log" || echo "== PARITY FAILED (benchmarks still run)"
"$bin/test_model" --gtest_filter='Placement*' --gtest_brief=1 2>&1 | tee -a "$out/parity.log" || true

bench() {  # bench <label> <args...>
  local label="$1"
  shift
  echo "== bench $label"
  timeout "${BENCH_TIMEOUT:-150}" "$bin/bit_llama" bench "$@" --out "$out/gpu-bench.jsonl" 2>&1 |
    grep -v "^{" || echo "== bench $label failed or timed out"
}
threads="$(nproc)"
gpu=(--device cuda --threads 1 --decode-tokens 512 --prompt-tokens 512)
cpu=(--threads "$threads" --decode-tokens 128 --prompt-tokens 512 --repeats 2)
for quant in int8 none; do
  bench "seed-default $quant cuda" --config seed-default --activation-quant "$quant" --head int8 "${gpu[@]}"
  bench "seed-default $quant cpu" --config seed-default --activation-quant "$quant" --head int8 "${cpu[@]}"
done
bench "seed-default f16 head cuda" --config seed-default --head f16 "${gpu[@]}"
if [ "${QUICK:-0}" != 1 ]; then
  bench "137m int8 cuda" --config 137m --activation-quant int8 --head int8 "${gpu[@]}"
  bench "137m int8 cpu" --config 137m --activation-quant int8 --head int8 "${cpu[@]}"
  bench "137m f16 head cuda" --config 137m --head f16 "${gpu[@]}"
fi
# Hybrid: a budget that holds only part of the model (the plan is printed).
big=137m
[ "${QUICK:-0}" != 1 ] || big=seed-default
bench "hybrid plan" --config "$big" --activation-quant int8 --head f16 --device cuda --n-gpu-layers auto \
  --gpu-mem-limit "${HYBRID_LIMIT:-200M}" --threads "$threads" --decode-tokens 128 --repeats 2

# Training steps (forward/backward + AdamW): CPU lines, then the GPU line, per run.
train_bench() {  # train_bench <label> <args...>
  local label="$1"
  shift
  echo "== train bench $label"
  timeout "${BENCH_TIMEOUT:-150}" "$bin/bench_train_step" "$@" --device cuda \
    >>"$out/gpu-train.jsonl" || echo "== train bench $label failed or timed out"
}
for quant in none int8; do
  train_bench "seed-default $quant" --mode "$quant" --threads "$threads" --batch 16 --seq-len 128
done
[ "${QUICK:-0}" = 1 ] ||
  train_bench "137m int8" --config "$configs/137m.json" --mode int8 --threads "$threads" \
    --batch 8 --seq-len 128 --steps 2
echo "== done: $out"
