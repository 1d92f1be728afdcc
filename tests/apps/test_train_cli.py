"""Training from the command line: prepare, train (+ resume), loss, eval, plot, train_llama."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import bit_llama_path, make_model, run_cli
import spec_reference


def test_loss_matches_numpy_reference_and_writes_named_gradients(tmp_path, tiny_model):
    tokens = [3, 7, 11, 200, 5, 5, 42]
    out = run_cli("loss", "--model", tiny_model, "--tokens", ",".join(map(str, tokens)),
                  "--grads-out", tmp_path / "g.safetensors").stdout
    loss = float(out.decode())
    logits, _ = spec_reference.forward(tiny_model, tokens)
    shifted = logits[:-1] - logits[:-1].max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -np.mean([log_probs[t, tokens[t + 1]] for t in range(len(tokens) - 1)])
    assert abs(loss - expected) <= 1e-4 * abs(expected)
    grads, metadata = spec_reference.read_safetensors(tmp_path / "g.safetensors")
    weights, _ = spec_reference.read_safetensors(tiny_model / "model.safetensors")
    assert set(grads) == set(weights)
    for name in weights:
        assert grads[name].shape == weights[name].shape, name
    # Only the embedding rows of the input tokens (all but the last) get gradient.
    used = sorted(set(tokens[:-1]))
    embed = grads["embed.weight"]
    assert np.abs(embed[used]).sum() > 0
    assert np.abs(np.delete(embed, used, axis=0)).sum() == 0


def write_corpus(path, n_stories=150):
    lines = []
    for i in range(n_stories):
        lines.append(f"Once upon a time a little cat named Tom {i % 9} went to the park. "
                     f"He was very happy.\n<|endoftext|>")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def prepared(tmp_path):
    model = make_model(tmp_path / "byte-model")  # only for its byte-level tokenizer
    write_corpus(tmp_path / "corpus.txt")
    result = run_cli("prepare", "--input", tmp_path / "corpus.txt", "--tokenizer",
                     model / "tokenizer.json", "--out", tmp_path / "data", "--val-fraction", "0.1")
    assert (tmp_path / "data" / "train.bin").exists()
    assert (tmp_path / "data" / "tokenizer.json").exists()
    return tmp_path / "data"


TRAIN_ARGS = ["--dim", "16", "--layers", "2", "--context-len", "16", "--batch-size", "4",
              "--steps", "8", "--warmup-steps", "2", "--lr", "3e-3", "--save-interval", "4",
              "--val-interval", "4", "--val-batches", "2", "--log-interval", "2"]


def test_train_resume_loss_eval_plot(tmp_path, prepared):
    full = run_cli("train", "--data", prepared, "--output-dir", tmp_path / "full", *TRAIN_ARGS)
    assert b"step      8/8" in full.stderr and b"tok/s" in full.stderr and b"ETA" in full.stderr
    run_cli("train", "--data", prepared, "--output-dir", tmp_path / "staged", *TRAIN_ARGS,
            "--stop-at-step", "5")
    # The seed's program name, resuming the staged run.
    trainer = str(Path(bit_llama_path()).parent / "train_llama")
    subprocess.run([trainer, "--data", str(prepared), "--output-dir", str(tmp_path / "staged"),
                    "--load", str(tmp_path / "staged"), *TRAIN_ARGS], check=True,
                   capture_output=True)
    read = lambda run: [json.loads(l)["loss"] for l in (tmp_path / run / "metrics.jsonl").open()]
    assert read("full") == read("staged")

    checkpoint = tmp_path / "full" / "checkpoints" / "step-00000008"
    out = run_cli("run", "--model", checkpoint, "--prompt", "Once", "--max-tokens", "5")
    assert out.stdout.startswith(b"Once")
    evaluation = run_cli("eval", "--model", checkpoint, "--data", prepared / "val.bin",
                         "--context-len", "16").stdout.decode()
    assert evaluation.startswith("loss ") and "perplexity" in evaluation
    run_cli("plot", "--metrics", tmp_path / "full", "--out", tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_prepare_bad_input_names_file_and_offset(tmp_path):
    model = make_model(tmp_path / "m")
    (tmp_path / "bad.txt").write_bytes(b"hello\xffworld\n")
    result = run_cli("prepare", "--input", tmp_path / "bad.txt", "--tokenizer",
                     model / "tokenizer.json", "--out", tmp_path / "out", check=False)
    assert result.returncode != 0
    assert b"bad.txt" in result.stderr and b"offset 5" in result.stderr
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{not json}\n')
    result = run_cli("prepare", "--input", tmp_path / "bad.jsonl", "--tokenizer",
                     model / "tokenizer.json", "--out", tmp_path / "out", check=False)
    assert result.returncode != 0 and b"bad.jsonl:2" in result.stderr


def test_train_rejects_mismatched_tokenizer(tmp_path, prepared):
    other = make_model(tmp_path / "other", vocab_size=400)
    tokenizer = json.loads((other / "tokenizer.json").read_text())
    tokenizer["added_tokens"].append({"id": 257, "content": "<extra>", "single_word": False,
                                      "lstrip": False, "rstrip": False, "normalized": False,
                                      "special": True})
    (tmp_path / "other.json").write_text(json.dumps(tokenizer))
    result = run_cli("train", "--data", prepared, "--tokenizer", tmp_path / "other.json",
                     "--output-dir", tmp_path / "run", *TRAIN_ARGS, check=False)
    assert result.returncode != 0 and b"fingerprint" in result.stderr


def test_train_on_cuda_without_a_gpu_is_a_clear_error(tmp_path, prepared):
    result = run_cli("train", "--data", prepared, "--output-dir", tmp_path / "run", *TRAIN_ARGS,
                     "--device", "cuda", check=False)
    if result.returncode == 0:
        pytest.skip("this machine has a GPU (tests/cuda trains on it)")
    assert b"cannot train on cuda" in result.stderr and b"--device cpu" in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing half-written
    bad = run_cli("train", "--data", prepared, "--output-dir", tmp_path / "run", *TRAIN_ARGS,
                  "--device", "tpu", check=False)
    assert bad.returncode != 0 and b"--device" in bad.stderr
