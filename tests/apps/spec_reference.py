"""MODEL_SPEC.md section 3 in plain numpy (float64), independent of the C++ code.

Reads a model directory (config.json + model.safetensors) with its own minimal
safetensors parser and runs the per-token recurrence exactly as written.
"""
import json
import struct
from pathlib import Path

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_safetensors(path):
    data = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"]).astype(np.float64)
    return tensors, header.get("__metadata__", {})


def load_config(model_dir):
    c = json.loads((Path(model_dir) / "config.json").read_text())
    D = c.get("hidden_dim", c.get("hidden_size"))
    return {
        "V": c["vocab_size"], "D": D,
        "N": c.get("num_layers", c.get("num_hidden_layers", c.get("n_layers"))),
        "eta": c["inner_lr"],
        "I": c.get("intermediate_dim", c.get("intermediate_size", 4 * D)),
        "d": c.get("ttt_dim", D // 4),
        "eps": c.get("rms_norm_eps", 1e-5),
        "int8": c.get("activation_quant", "none") == "int8",
    }


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x) + eps) * w


def bit_linear(x, W, int8):
    beta = max(np.mean(np.abs(W)), 1e-5)
    Wq = np.clip(np.round(W / beta), -1, 1)  # np.round is half-to-even
    if int8:
        gamma = max(np.max(np.abs(x)), 1e-5)
        x = np.clip(np.round(x * 127 / gamma), -128, 127) * gamma / 127
    return x @ (beta * Wq).T


def forward(model_dir, tokens, states=None):
    """Returns (logits [T, V], final states [N, d, d])."""
    c = load_config(model_dir)
    t, _ = read_safetensors(Path(model_dir) / "model.safetensors")
    S = np.zeros((c["N"], c["d"], c["d"])) if states is None else np.array(states, np.float64)
    out = []
    for token in tokens:
        h = t["embed.weight"][token].copy()
        for i in range(c["N"]):
            p = f"layers.{i}."
            x = rms_norm(h, t[p + "norm1.weight"], c["eps"])
            k = bit_linear(x, t[p + "ttt.down.weight"], c["int8"])
            f = k / (np.linalg.norm(k) + 1e-6)
            pred = S[i] @ f
            S[i] = S[i] - c["eta"] * np.outer(pred - f, f)
            h = h + bit_linear(pred, t[p + "ttt.up.weight"], c["int8"])
            x = rms_norm(h, t[p + "norm2.weight"], c["eps"])
            g = bit_linear(x, t[p + "mlp.gate_proj.weight"], c["int8"])
            u = bit_linear(x, t[p + "mlp.up_proj.weight"], c["int8"])
            a = g / (1 + np.exp(-g)) * u
            h = h + bit_linear(a, t[p + "mlp.down_proj.weight"], c["int8"])
        out.append(t["lm_head.weight"] @ rms_norm(h, t["norm_f.weight"], c["eps"]))
    return np.array(out), S
