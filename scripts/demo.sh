#!/usr/bin/env bash
# The main job on a built-in default, on a fresh Debian 12 machine:
# install dependencies, build, create a model with the seed's default shape
# (V 16384, D 256, 8 layers) and stream text from it.
#
# Until the trainer lands (next milestone) the model has RANDOM weights and a
# byte-level tokenizer, so the text it streams is noise: this shows the whole
# pipeline (model files, tokenizer, TTT memory, sampling, streaming) and its
# speed, not a trained model.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
model="$root/models/demo-random"
"$root/build/bin/bit_llama" init --config "$root/configs/seed-default.json" --seed 1 --out "$model"
"$root/build/bin/bit_llama" --model "$model" --prompt "Once upon a time" --temp 0.8 \
  --max-tokens 100 --seed 1 --ignore-eos
