#!/usr/bin/env python3
"""Loopback load test of `bit_llama serve` (not a ctest test; prints JSON).

Starts the server on a free port with a model (default: a fresh tiny random one),
then CLIENTS threads send REQUESTS completions in total, each client on its own
session. Every reply's memory size must be exactly the client's previous size
plus the reply's prompt + completion tokens, and each session's final size is
checked again at the end: any crossed session fails the run.

  python3 bench/bench_server_load.py [--bit-llama build/bin/bit_llama] [--model DIR]
      [--clients 64] [--requests 500] [--max-tokens 16] [--parallel 4]
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_server(bit_llama, model, parallel, max_queue):
    process = subprocess.Popen([bit_llama, "serve", "--model", str(model), "--port", "0",
                                "--parallel", str(parallel), "--max-queue", str(max_queue)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        if line.startswith("listening on http://"):
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, int(line.strip().rsplit(":", 1)[1])
    process.kill()
    sys.exit("server did not start")


def call(port, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bit-llama", default=os.environ.get("BIT_LLAMA",
                                                              str(ROOT / "build/bin/bit_llama")))
    parser.add_argument("--model", help="model directory or .bitt (default: tiny random model)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        model = args.model
        if not model:
            model = Path(scratch) / "model"
            subprocess.run([args.bit_llama, "init", "--config", str(ROOT / "configs/tiny.json"),
                            "--seed", "1", "--out", str(model)], check=True, capture_output=True)
        process, port = start_server(args.bit_llama, model, args.parallel, args.clients)
        latencies, errors, lock = [], [], threading.Lock()
        next_request = [0]
        expected = {}

        def client(index):
            session = f"load-{index}"
            size, broken = 0, False
            while True:
                with lock:
                    if next_request[0] >= args.requests:
                        break
                    next_request[0] += 1
                start = time.perf_counter()
                try:
                    status, reply = call(port, "POST", "/v1/completions", {
                        "prompt": f"client {index} says hello", "max_tokens": args.max_tokens,
                        "temperature": 0.8, "seed": index, "session_id": session,
                        "ignore_eos": True})
                except OSError as error:
                    with lock:
                        errors.append(f"{session}: {error!r}")
                    broken = True
                    break  # the session's expected size is unknown from here on
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        errors.append(f"{session}: HTTP {status}: {reply}")
                        continue
                size += reply["usage"]["total_tokens"]
                if reply["timings"]["memory_tokens"] != size:
                    with lock:
                        errors.append(f"{session}: memory holds {reply['timings']['memory_tokens']}"
                                      f" tokens, expected {size} (crossed sessions?)")
            if not broken:
                expected[session] = size

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        for session, size in expected.items():
            status, reply = call(port, "GET", f"/v1/sessions/{session}")
            if status != 200 or reply["n_tokens"] != size:
                errors.append(f"{session}: final size {reply.get('n_tokens')}, expected {size}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/metrics")
        metrics_text = connection.getresponse().read().decode()
        process.terminate()
        process.wait(30)

    latencies.sort()
    generated = [line for line in metrics_text.splitlines()
                 if line.startswith("bit_ttt_generated_tokens_total ")]
    n_generated = float(generated[0].split()[1]) if generated else 0.0
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3
    print(json.dumps({
        "clients": args.clients, "requests": len(latencies), "max_tokens": args.max_tokens,
        "parallel": args.parallel, "wall_seconds": round(wall, 3),
        "requests_per_second": round(len(latencies) / wall, 1),
        "generated_tokens_per_second": round(n_generated / wall, 1),
        "latency_ms": {"p50": round(pick(0.5), 2), "p99": round(pick(0.99), 2),
                       "max": round(latencies[-1] * 1e3, 2)},
        "errors": len(errors), "first_errors": errors[:5],
        "sessions_checked": len(expected)}, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
