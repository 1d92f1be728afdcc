#!/usr/bin/env bash
# The main job on a built-in default, on a fresh Debian 12 machine: install
# dependencies, build, then turn a corpus every Debian machine can install (the
# King James Bible, package bible-kjv) into a working Bit-TTT model with our own
# tools — tokenizer training, data preparation, training — and generate from it.
# About 5 minutes on 2 cores. Everything lands in models/demo/.
#   STEPS=N   training steps (default 1200)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
bin="$root/build/bin/bit_llama"
work="$root/models/demo"
mkdir -p "$work"

echo "== 1/5 corpus: the King James Bible (one document per chapter)"
# `bible` prints "Ge1:1 In the beginning ..."; drop the verse reference and end
# each chapter with the document separator.
bible -f gen1:1-rev22:21 | awk '{
    split($1, ref, ":"); if (NR > 1 && ref[1] != chapter) print "<|endoftext|>"; chapter = ref[1]
    $1 = ""; sub(/^ /, ""); print }
  END { print "<|endoftext|>" }' > "$work/bible.txt"
ls -l "$work/bible.txt"

echo "== 2/5 tokenizer: byte-level BPE, 4096 tokens"
"$bin" tokenizer train --input "$work/bible.txt" --vocab-size 4096 --special "<|endoftext|>" \
  --out "$work/tokenizer.json"

echo "== 3/5 data: train.bin / val.bin"
"$bin" prepare --input "$work/bible.txt" --tokenizer "$work/tokenizer.json" --out "$work/data" \
  --val-fraction 0.02

echo "== 4/5 training: D 128, 4 layers, context 128, batch 16"
rm -rf "$work/run"
"$bin" train --data "$work/data" --output-dir "$work/run" --dim 128 --layers 4 \
  --context-len 128 --batch-size 16 --steps "${STEPS:-1200}" --lr 2e-3 --min-lr 1e-4 \
  --warmup-steps 50 --save-interval 200 --val-interval 100 --val-batches 8 --log-interval 20
"$bin" plot --metrics "$work/run" --out "$work/loss.png" --title "Bit-TTT on the KJV Bible"

echo "== 5/5 generate"
"$bin" run --model "$work/run/best" --prompt "And God said" --temp 0.7 --top-p 0.9 \
  --max-tokens 80 --seed 1
