"""bit_llama export (.bitt files) and bit_llama bench (JSON lines)."""
import json

import numpy as np

from conftest import make_model, run_cli


def test_export_f32_head_gives_identical_logits_and_chat_runs(tmp_path):
    model = make_model(tmp_path / "m")
    run_cli("export", "--model", model, "--out", tmp_path / "m.bitt", "--head", "f32",
            "--embed", "f32")
    tokens = "5,17,255,3,3,120,299,0,42"
    run_cli("logits", "--model", model, "--tokens", tokens, "--out", tmp_path / "a.npy")
    run_cli("logits", "--model", tmp_path / "m.bitt", "--tokens", tokens, "--out",
            tmp_path / "b.npy", "--verify")
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    result = run_cli("run", "--model", tmp_path / "m.bitt", "--prompt", "hi", "-n", "5",
                     "--temp", "0")
    assert result.returncode == 0


def test_export_smallest_file_and_corrupt_file_errors(tmp_path):
    model = make_model(tmp_path / "m")
    run_cli("export", "--model", model, "--out", tmp_path / "big.bitt", "--head", "f32",
            "--embed", "f32")
    run_cli("export", "--model", model, "--out", tmp_path / "small.bitt", "--ternary", "1.6bit",
            "--head", "int8", "--embed", "int8")
    assert (tmp_path / "small.bitt").stat().st_size < (tmp_path / "big.bitt").stat().st_size / 2
    data = (tmp_path / "small.bitt").read_bytes()
    (tmp_path / "cut.bitt").write_bytes(data[: len(data) // 3])
    bad = run_cli("logits", "--model", tmp_path / "cut.bitt", "--tokens", "1", "--out",
                  tmp_path / "x.npy", check=False)
    assert bad.returncode != 0 and b"cut.bitt" in bad.stderr and b"truncated" in bad.stderr


def test_bench_prints_json_for_speed_and_memory(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"vocab_size": 300, "hidden_dim": 32, "num_layers": 2,
                                  "inner_lr": 0.1}))
    result = run_cli("bench", "--config", config, "--threads", "1", "--decode-tokens", "8",
                     "--prompt-tokens", "16", "--repeats", "1", "--memory", "--memory-tokens",
                     "10,50")
    lines = [json.loads(line) for line in result.stdout.decode().splitlines() if line.startswith("{")]
    speed = [r for r in lines if r["bench"] == "speed"]
    memory = [r for r in lines if r["bench"] == "memory_vs_context"]
    assert len(speed) == 1 and speed[0]["decode_tokens_per_s"] > 0
    assert speed[0]["prefill_tokens_per_s"] > 0 and speed[0]["peak_rss_mib"] > 0
    assert 0 < speed[0]["bytes_per_parameter"] < 4
    assert [p["tokens"] for p in memory[0]["points"]] == [10, 50]
