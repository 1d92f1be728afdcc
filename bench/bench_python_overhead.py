#!/usr/bin/env python3
"""Per-call overhead of the Python binding: BitLlama.forward(token_id=...) against
the C++ decode step of `bit_llama bench` on the same model and thread count.

    PYTHONPATH=build/python python3 bench/bench_python_overhead.py \
        [--bit-llama build/bin/bit_llama] [--config tiny|seed-default|PATH] [--tokens 2000]

Prints one JSON line per config: C++ and Python milliseconds per decode step
(best of --repeats, greedy argmax fed back in both) and the difference, the
binding's overhead per call. A tiny model makes the overhead visible; on the
seed-default model it is a small fraction of the step.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bit-llama", default=str(ROOT / "build" / "bin" / "bit_llama"))
    parser.add_argument("--config", action="append",
                        help="configs/NAME.json, a path, or 'micro' (default: micro, tiny, "
                             "seed-default)")
    parser.add_argument("--tokens", type=int, default=1000, help="decode steps per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "build" / "python"))
    import numpy as np
    import bit_ttt

    micro = {"vocab_size": 300, "hidden_dim": 32, "num_layers": 2, "inner_lr": 0.5,
             "intermediate_dim": 48, "ttt_dim": 8}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.config or ["micro", "tiny", "seed-default"]:
            if name == "micro":
                config_path = Path(tmp) / "micro.json"
                config_path.write_text(json.dumps(micro))
            elif Path(name).exists():
                config_path = Path(name)
            else:
                config_path = ROOT / "configs" / f"{name}.json"
            model_dir = Path(tmp) / f"model-{config_path.stem}"
            subprocess.run([args.bit_llama, "init", "--config", config_path, "--seed", "1",
                            "--out", model_dir], check=True, capture_output=True)
            cpp = subprocess.run(
                [args.bit_llama, "bench", "--model", model_dir, "--threads", str(args.threads),
                 "--decode-tokens", str(args.tokens), "--prompt-tokens", "32",
                 "--repeats", str(args.repeats)],
                check=True, capture_output=True, text=True)
            record = next(json.loads(line) for line in cpp.stdout.splitlines()
                          if line.startswith("{") and "decode_tokens_per_s" in line)
            cpp_ms = 1000.0 / record["decode_tokens_per_s"]

            model = bit_ttt.BitLlama(None, model_dir, n_threads=args.threads)

            def python_decode(feedback):
                best = float("inf")
                for _ in range(args.repeats):
                    model.reset_state()
                    token = 1
                    start = time.perf_counter()
                    for _ in range(args.tokens):
                        logits = model.forward(token_id=token)
                        if feedback:
                            token = int(logits.argmax())
                    best = min(best, time.perf_counter() - start)
                return 1000.0 * best / args.tokens

            python_decode(False)  # warm up
            py_ms = python_decode(True)
            py_fixed_ms = python_decode(False)
            print(json.dumps({
                "bench": "python_overhead",
                "config": record["config"],
                "threads": args.threads,
                "cpp_decode_ms": round(cpp_ms, 5),
                "python_forward_argmax_ms": round(py_ms, 5),
                "python_forward_ms": round(py_fixed_ms, 5),
                "overhead_us_per_call": round(1000.0 * (py_ms - cpp_ms), 2),
                "overhead_fraction": round((py_ms - cpp_ms) / cpp_ms, 4),
            }), flush=True)


if __name__ == "__main__":
    main()
