#!/usr/bin/env python3
"""Training throughput of Bit-TTT vs a plain PyTorch implementation of the same
model (MODEL_SPEC.md section 4), in one run, plus a correctness cross-check.

  /usr/bin/python3 bench/train_vs_pytorch.py [--build build] [--threads 2] [--steps 3]

Needs Debian's python3-torch (scripts/install-bench-deps.sh). Prints one JSON line:
tokens/s of our forward+backward (bench_train_step) and of PyTorch's on the seed
default config (V 16384, D 256, 8 layers, I 1024, d 64), batch 16 x 128, and
their ratio. Before timing, it loads one random model into both and checks that
the loss and every gradient agree (`bit_llama loss --grads-out`).
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "apps"))
import spec_reference  # noqa: E402  (safetensors reader)


def bit_linear(x, w, int8):
    beta = w.abs().mean().clamp(min=1e-5).detach()
    w_q = (w / beta).round().clamp(-1, 1) * beta
    w_ste = w + (w_q - w).detach()
    if int8:
        gamma = x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5).detach()
        x_q = (x * 127 / gamma).round().clamp(-128, 127) * gamma / 127
        x = x + (x_q - x).detach()
    return x @ w_ste.t()


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def loss_fn(params, tokens, cfg):
    """tokens: [B, T] long. Mean cross-entropy of the B*(T-1) next-token predictions."""
    B, T = tokens.shape
    h = params["embed.weight"][tokens]
    for i in range(cfg["N"]):
        p = f"layers.{i}."
        x = rms_norm(h, params[p + "norm1.weight"], cfg["eps"])
        k = bit_linear(x, params[p + "ttt.down.weight"], cfg["int8"])
        f = k / (k.norm(dim=-1, keepdim=True) + 1e-6)
        S = torch.zeros(B, cfg["d"], cfg["d"])
        preds = []
        for t in range(T):  # the sequential TTT scan, as a Python loop
            f_t = f[:, t, :]
            p_t = torch.bmm(S, f_t.unsqueeze(-1)).squeeze(-1)
            S = S - cfg["eta"] * torch.bmm((p_t - f_t).unsqueeze(-1), f_t.unsqueeze(1))
            preds.append(p_t)
        h = h + bit_linear(torch.stack(preds, dim=1), params[p + "ttt.up.weight"], cfg["int8"])
        x = rms_norm(h, params[p + "norm2.weight"], cfg["eps"])
        g = bit_linear(x, params[p + "mlp.gate_proj.weight"], cfg["int8"])
        u = bit_linear(x, params[p + "mlp.up_proj.weight"], cfg["int8"])
        h = h + bit_linear(torch.nn.functional.silu(g) * u, params[p + "mlp.down_proj.weight"],
                           cfg["int8"])
    logits = rms_norm(h, params["norm_f.weight"], cfg["eps"]) @ params["lm_head.weight"].t()
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                             tokens[:, 1:].reshape(-1))


def load_params(model_dir):
    tensors, _ = spec_reference.read_safetensors(Path(model_dir) / "model.safetensors")
    return {name: torch.tensor(value, dtype=torch.float32, requires_grad=True)
            for name, value in tensors.items()}


def cross_check(build, workdir):
    """Loss and gradients of a small random model: ours vs PyTorch (float32)."""
    config = {"vocab_size": 300, "hidden_dim": 32, "num_layers": 2, "inner_lr": 0.5,
              "intermediate_dim": 48, "ttt_dim": 8}
    (workdir / "cfg.json").write_text(json.dumps(config))
    model = workdir / "check-model"
    subprocess.run([build / "bin" / "bit_llama", "init", "--config", workdir / "cfg.json",
                    "--seed", "3", "--out", model], check=True, capture_output=True)
    tokens = [int(t) for t in np.random.default_rng(0).integers(0, 300, size=40)]
    out = subprocess.run([build / "bin" / "bit_llama", "loss", "--model", model, "--tokens",
                          ",".join(map(str, tokens)), "--grads-out", workdir / "g.safetensors"],
                         check=True, capture_output=True)
    ours_loss = float(out.stdout)
    ours_grads, _ = spec_reference.read_safetensors(workdir / "g.safetensors")
    params = load_params(model)
    cfg = spec_reference.load_config(model)
    loss = loss_fn(params, torch.tensor([tokens]), cfg)
    loss.backward()
    worst = max(float(np.abs(ours_grads[n] - p.grad.numpy()).max() /
                      (np.abs(p.grad.numpy()).max() + 1e-12)) for n, p in params.items())
    return {"loss_ours": ours_loss, "loss_pytorch": float(loss),
            "loss_rel_diff": abs(ours_loss - float(loss)) / abs(float(loss)),
            "grad_max_rel_diff": worst}


def pytorch_tokens_per_s(model_dir, threads, steps, batch, seq_len):
    torch.set_num_threads(threads)
    params = load_params(model_dir)
    cfg = spec_reference.load_config(model_dir)
    tokens = torch.randint(0, cfg["V"], (batch, seq_len))
    best = float("inf")
    for _ in range(steps):
        start = time.perf_counter()
        loss = loss_fn(params, tokens, cfg)
        loss.backward()
        best = min(best, time.perf_counter() - start)
        for p in params.values():
            p.grad = None
    return batch * seq_len / best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=str(Path(__file__).resolve().parents[1] / "build"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    build = Path(args.build)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        check = cross_check(build, workdir)
        ours = subprocess.run([build / "bin" / "bench_train_step", "--threads", str(args.threads),
                               "--steps", str(args.steps)], check=True, capture_output=True)
        ours = json.loads(ours.stdout.decode().strip().splitlines()[-1])
        (workdir / "seed.json").write_text(json.dumps(
            {"vocab_size": 16384, "hidden_dim": 256, "num_layers": 8, "inner_lr": 0.1}))
        subprocess.run([build / "bin" / "bit_llama", "init", "--config", workdir / "seed.json",
                        "--seed", "1", "--out", workdir / "seed"], check=True, capture_output=True)
        torch_rate = pytorch_tokens_per_s(workdir / "seed", args.threads, args.steps, 16, 128)
    print(json.dumps({"bench": "train_vs_pytorch", "config": "V=16384 D=256 N=8 I=1024 d=64",
                      "batch": "16x128", "threads": args.threads,
                      "ours_tokens_per_s": ours["tokens_per_s"],
                      "pytorch_tokens_per_s": torch_rate,
                      "ratio": ours["tokens_per_s"] / torch_rate,
                      "ours_mfu_vs_230gflops": ours.get("mfu_vs_230gflops"),
                      "cross_check": check}))


if __name__ == "__main__":
    main()
