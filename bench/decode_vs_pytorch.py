#!/usr/bin/env python3
"""Decode speed of Bit-TTT vs a plain PyTorch implementation of the same model
(MODEL_SPEC.md section 3), in one run, on random weights.

  /usr/bin/python3 bench/decode_vs_pytorch.py [--build build] [--config seed-default|137m]
                                              [--threads 2] [--tokens 200]

Needs Debian's python3-torch (scripts/install-bench-deps.sh). PyTorch gets the
fairest form of the model: ternary weights pre-quantized once to dense float
matrices (W~ = beta * Wq), inference mode, one token per step with the TTT
memory carried between steps. Ours runs `bit_llama bench` on the same model
directory (f32 head: the same math) and on .bitt exports (f16 / int8 heads).
Prints one JSON line per engine and a summary line with the ratios.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "apps"))
import spec_reference  # noqa: E402  (safetensors reader)

CONFIGS = {
    "seed-default": {"vocab_size": 16384, "hidden_dim": 256, "num_layers": 8, "inner_lr": 0.1},
    "137m": {"vocab_size": 32000, "hidden_dim": 768, "num_layers": 12, "inner_lr": 0.1,
             "intermediate_dim": 3072},
}


def quantize_weight(w):
    beta = w.abs().mean().clamp(min=1e-5)
    return (w / beta).round().clamp(-1, 1) * beta


def quantize_activation(x):
    gamma = x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    return (x * 127 / gamma).round().clamp(-128, 127) * gamma / 127


def pytorch_decode_tokens_per_s(model_dir, n_tokens, int8):
    config = json.loads((Path(model_dir) / "config.json").read_text())
    tensors, _ = spec_reference.read_safetensors(Path(model_dir) / "model.safetensors")
    p = {name: torch.tensor(value, dtype=torch.float32) for name, value in tensors.items()}
    n_layers, eps, eta = config["num_layers"], config["rms_norm_eps"], config["inner_lr"]
    d = config["ttt_dim"]
    ternary = [k for k in p if k.endswith(("ttt.down.weight", "ttt.up.weight", "proj.weight"))]
    w = {k: quantize_weight(p[k]).t().contiguous() for k in ternary}  # [in, out] for x @ w

    def linear(x, name):
        return (quantize_activation(x) if int8 else x) @ w[name]

    def rms_norm(x, weight):
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * weight

    head = p["lm_head.weight"].t().contiguous()
    states = [torch.zeros(d, d) for _ in range(n_layers)]
    token = 1
    with torch.inference_mode():
        for step in range(n_tokens + 10):  # 10 warm-up steps
            if step == 10:
                start = time.perf_counter()
            h = p["embed.weight"][token]
            for i in range(n_layers):
                q = f"layers.{i}."
                k = linear(rms_norm(h, p[q + "norm1.weight"]), q + "ttt.down.weight")
                f = k / (k.norm() + 1e-6)
                pred = states[i] @ f
                states[i] = states[i] - eta * torch.outer(pred - f, f)
                h = h + linear(pred, q + "ttt.up.weight")
                x = rms_norm(h, p[q + "norm2.weight"])
                g, u = linear(x, q + "mlp.gate_proj.weight"), linear(x, q + "mlp.up_proj.weight")
                h = h + linear(torch.nn.functional.silu(g) * u, q + "mlp.down_proj.weight")
            logits = rms_norm(h, p["norm_f.weight"]) @ head
            token = int(torch.argmax(logits))
    return n_tokens / (time.perf_counter() - start)


def ours(build, model, threads, n_tokens, extra=()):
    result = subprocess.run(
        [str(Path(build) / "bin" / "bit_llama"), "bench", "--model", str(model), "--threads",
         str(threads), "--decode-tokens", str(n_tokens), "--prompt-tokens", "64", *extra],
        check=True, capture_output=True, text=True)
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")][0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--config", default="seed-default", choices=sorted(CONFIGS))
    parser.add_argument("--activation-quant", default="int8", choices=["none", "int8"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bit_llama = Path(args.build) / "bin" / "bit_llama"
    with tempfile.TemporaryDirectory() as tmp:
        config = dict(CONFIGS[args.config], activation_quant=args.activation_quant)
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        model = Path(tmp) / "model"
        subprocess.run([str(bit_llama), "init", "--config", str(Path(tmp) / "config.json"),
                        "--seed", "1", "--out", str(model)], check=True, capture_output=True)
        results = {"bench": "decode_vs_pytorch", "config": args.config,
                   "activation_quant": args.activation_quant, "threads": args.threads}
        results["pytorch_tokens_per_s"] = pytorch_decode_tokens_per_s(
            model, args.tokens, args.activation_quant == "int8")
        for head in ("f32", "f16", "int8"):
            path = model
            if head != "f32":
                path = Path(tmp) / f"model_{head}.bitt"
                subprocess.run([str(bit_llama), "export", "--model", str(model), "--out", str(path),
                                "--head", head, "--embed", head], check=True, capture_output=True)
            rate = ours(args.build, path, args.threads, max(args.tokens, 500))["decode_tokens_per_s"]
            results[f"ours_{head}_head_tokens_per_s"] = rate
            results[f"ratio_{head}_head_vs_pytorch"] = rate / results["pytorch_tokens_per_s"]
        print(json.dumps(results))


if __name__ == "__main__":
    main()
