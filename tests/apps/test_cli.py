"""bit_llama end to end: init, logits (the external verification contract), tokenize, run, chat."""
import json

import numpy as np
import pytest

from conftest import make_model, run_cli, shared_data
import spec_reference


def test_init_is_deterministic_per_seed(tmp_path):
    a = make_model(tmp_path / "a", seed=7)
    b = make_model(tmp_path / "b", seed=7)
    c = make_model(tmp_path / "c", seed=8)
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    assert (a / "model.safetensors").read_bytes() != (c / "model.safetensors").read_bytes()
    config = json.loads((a / "config.json").read_text())
    assert config["ttt_dim"] == 8 and config["activation_quant"] == "none"
    assert (a / "tokenizer.json").exists()  # byte-level default tokenizer (V >= 257)


@pytest.mark.parametrize("mode", ["none", "int8"])
def test_logits_match_numpy_spec_reference(tmp_path, mode):
    model = make_model(tmp_path / "m", activation_quant=mode)
    tokens = [5, 17, 255, 3, 3, 120, 299, 0, 42]
    run_cli("logits", "--model", model, "--tokens", ",".join(map(str, tokens)),
            "--out", tmp_path / "l.npy", "--states-out", tmp_path / "s.npy")
    logits = np.load(tmp_path / "l.npy")
    states = np.load(tmp_path / "s.npy")
    assert logits.dtype == np.float32 and logits.shape == (len(tokens), 300)
    assert states.dtype == np.float32 and states.shape == (2, 8, 8)
    ref_logits, ref_states = spec_reference.forward(model, tokens)
    # int8 activations: float vs double can round a value on the other side of .5.
    tolerance = 2e-5 if mode == "none" else 2e-2
    scale = np.abs(ref_logits).max()
    assert np.abs(logits - ref_logits).max() <= tolerance * scale
    assert np.abs(states - ref_states).max() <= tolerance * 5 * np.abs(ref_states).max()


def test_logits_streaming_equals_batched_and_json_token_file(tmp_path, tiny_model):
    tokens = list(range(0, 300, 7))
    (tmp_path / "tokens.json").write_text(json.dumps(tokens))
    run_cli("logits", "--model", tiny_model, "--tokens", tmp_path / "tokens.json",
            "--out", tmp_path / "batched.npy")
    run_cli("logits", "--model", tiny_model, "--tokens", ",".join(map(str, tokens)),
            "--out", tmp_path / "stream.npy", "--streaming")
    batched, stream = np.load(tmp_path / "batched.npy"), np.load(tmp_path / "stream.npy")
    assert np.abs(batched - stream).max() <= 1e-5 * np.abs(batched).max()


def test_state_out_and_in_continue_exactly(tmp_path, tiny_model):
    tokens = [1, 2, 3, 4, 5, 6, 7, 8]
    run_cli("logits", "--model", tiny_model, "--tokens", ",".join(map(str, tokens)),
            "--out", tmp_path / "all.npy")
    run_cli("logits", "--model", tiny_model, "--tokens", "1,2,3", "--out", tmp_path / "a.npy",
            "--state-out", tmp_path / "memory.safetensors")
    run_cli("logits", "--model", tiny_model, "--tokens", "4,5,6,7,8", "--out", tmp_path / "b.npy",
            "--state-in", tmp_path / "memory.safetensors")
    full = np.load(tmp_path / "all.npy")
    assert np.array_equal(np.load(tmp_path / "b.npy"), full[3:])


def test_logits_bad_input_is_a_clear_error(tmp_path, tiny_model):
    result = run_cli("logits", "--model", tiny_model, "--tokens", "1,300", "--out",
                     tmp_path / "x.npy", check=False)
    assert result.returncode != 0 and b"outside the model's vocabulary" in result.stderr
    result = run_cli("logits", "--model", tiny_model, "--tokens", "1,x", "--out",
                     tmp_path / "x.npy", check=False)
    assert result.returncode != 0 and b"'x' is not a token id" in result.stderr
    result = run_cli("logits", "--model", tmp_path / "missing", "--tokens", "1", "--out",
                     tmp_path / "x.npy", check=False)
    assert result.returncode != 0 and b"missing" in result.stderr
    weights = tiny_model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated
    result = run_cli("logits", "--model", tiny_model, "--tokens", "1", "--out",
                     tmp_path / "x.npy", check=False)
    assert result.returncode == 1 and b"model.safetensors" in result.stderr
    assert not (tmp_path / "x.npy").exists()


def test_tokenize_gpt2(tmp_path):
    tokenizer = shared_data() / "tokenizers" / "gpt2" / "tokenizer.json"
    if not tokenizer.exists():
        pytest.skip("shared data not found: tokenizers/gpt2/tokenizer.json")
    out = run_cli("tokenize", "--tokenizer", tokenizer, "--text", "Hello world").stdout
    assert out.decode().strip() == "15496 995"
    (tmp_path / "t.txt").write_text("Hello world")
    out = run_cli("tokenize", "--tokenizer", tokenizer, "--file", tmp_path / "t.txt").stdout
    assert out.decode().strip() == "15496 995"


def test_tokenize_add_special_tinyllama():
    tokenizer = shared_data() / "tokenizers" / "tinyllama" / "tokenizer.json"
    if not tokenizer.exists():
        pytest.skip("shared data not found: tokenizers/tinyllama/tokenizer.json")
    plain = run_cli("tokenize", "--tokenizer", tokenizer, "--text", "Hello").stdout.split()
    special = run_cli("tokenize", "--tokenizer", tokenizer, "--text", "Hello",
                      "--add-special").stdout.split()
    assert special == [b"1"] + plain


def test_run_streams_and_reports_speed(tmp_path, tiny_model):
    args = ["--model", tiny_model, "--prompt", "Hi", "--temp", "0.8", "--max-tokens", "20",
            "--seed", "5", "--ignore-eos"]
    first = run_cli("run", *args)
    second = run_cli(*args)  # the seed's form without a subcommand
    assert first.stdout == second.stdout and first.stdout.startswith(b"Hi")
    assert b"tokens/s" in first.stderr and b"generated: 20 tokens" in first.stderr
    other = run_cli(*args[:-3], "--seed", "6", "--ignore-eos")
    assert other.stdout != first.stdout


def test_run_state_in_out(tmp_path, tiny_model):
    run_cli("run", "--model", tiny_model, "--prompt", "abc", "--max-tokens", "5", "--ignore-eos",
            "--state-out", tmp_path / "mem.safetensors")
    result = run_cli("run", "--model", tiny_model, "--prompt", "d", "--max-tokens", "5",
                     "--ignore-eos", "--state-in", tmp_path / "mem.safetensors")
    assert b"memory: 14 tokens" in result.stderr  # 3 + 5 generated, then 1 + 5 generated


def test_run_bad_flags(tiny_model):
    result = run_cli("run", "--model", tiny_model, "--prompt", "x", "--top-p", "1.5", check=False)
    assert result.returncode != 0 and b"top_p" in result.stderr
    result = run_cli("run", "--model", tiny_model, "--bogus", check=False)
    assert result.returncode != 0
    result = run_cli("run", "--model", tiny_model, "--device", "tpu", check=False)
    assert result.returncode != 0 and b"valid devices: cpu, cuda" in result.stderr


def test_gpu_flags_on_a_machine_without_a_gpu(tiny_model):
    base = ["run", "--model", tiny_model, "--prompt", "x", "--max-tokens", "2", "--ignore-eos"]
    explicit = run_cli(*base, "--device", "cuda", "--n-gpu-layers", "1", check=False)
    if explicit.returncode == 0:
        pytest.skip("this machine has a GPU")
    assert b"needs a GPU" in explicit.stderr
    bare = run_cli(*base, "--device", "cuda", check=False)  # asked for a GPU: a clear error
    assert bare.returncode != 0 and b"device 'cuda' is not available" in bare.stderr
    fallback = run_cli(*base, "--device", "cuda", "--n-gpu-layers", "auto")  # auto: the CPU
    assert b"running every block on the CPU" in fallback.stderr
    assert fallback.stdout.startswith(b"x")
    limit = run_cli(*base, "--gpu-mem-limit", "12X", check=False)
    assert limit.returncode != 0 and b"--gpu-mem-limit must be a size like 512M" in limit.stderr
    run_cli(*base, "--gpu-mem-limit", "1.5G")  # a well-formed limit is accepted on the CPU


def test_chat_commands_over_a_pipe(tmp_path, tiny_model):
    memory = tmp_path / "chat.safetensors"
    script = (f"/tokens\nhello\n/save {memory}\n/reset\n/tokens\n/load {memory}\n/tokens\n"
              f"/temp 0\n/temp abc\n/nonsense\n/quit\n")
    result = run_cli("chat", "--model", tiny_model, "--max-tokens", "4", "--ignore-eos",
                     input=script.encode())
    out = result.stdout.decode(errors="replace")
    assert "memory holds 0 tokens" in out
    assert "memory cleared" in out
    assert "loaded memory (10 tokens)" in out  # "hello\n" = 6 byte tokens + 4 generated
    assert out.count("memory holds 10 tokens") == 1
    assert "temperature 0" in out
    assert "error: /temp needs a number" in out
    assert "unknown command /nonsense" in out
    assert memory.exists()
