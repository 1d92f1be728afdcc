"""bit_ttt.BitLlama / BitLlamaConfig and the cortex_rust alias: the seed snippet,
logits equal to `bit_llama logits`, streaming == batched, state files, errors."""
import json
import os
import shutil

import numpy as np
import pytest

import bit_ttt
from python_test_helpers import TINY_CONFIG, make_model, run_cli


def test_seed_snippet_verbatim(tmp_path, monkeypatch):
    model_dir = tmp_path / "seed"
    run_cli("init", "--config", os.path.join(os.path.dirname(__file__), "..", "..", "configs",
                                             "seed-default.json"),
            "--seed", 1, "--out", model_dir)
    monkeypatch.chdir(model_dir)
    import cortex_rust
    config = cortex_rust.BitLlamaConfig(16384, 256, 8, 0.1)
    # The seed's "cuda" line: runs on a GPU, and fails clearly where there is none.
    if bit_ttt.device_available("cuda"):
        model = cortex_rust.BitLlama(config, "model.safetensors", device="cuda")
        assert np.isfinite(model.forward(token_id=42)).all()
    else:
        with pytest.raises(RuntimeError) as error:
            model = cortex_rust.BitLlama(config, "model.safetensors", device="cuda")
        assert "cuda" in str(error.value).lower() or "gpu" in str(error.value).lower()
        assert isinstance(error.value, bit_ttt.Error)
    assert bit_ttt.device_available("cpu")
    # The same snippet on the CPU.
    model = cortex_rust.BitLlama(config, "model.safetensors", device="cpu")
    logits = model.forward(token_id=42)
    assert logits.shape == (16384,) and logits.dtype == np.float32
    assert np.isfinite(logits).all()
    assert model.n_tokens == 1


def test_cortex_rust_is_an_alias():
    import cortex_rust
    assert cortex_rust.BitLlama is bit_ttt.BitLlama
    assert cortex_rust.Llama is bit_ttt.Llama
    assert cortex_rust.BitLlamaConfig is bit_ttt.BitLlamaConfig
    assert set(bit_ttt.__all__) <= set(dir(cortex_rust))


def test_config_attributes_json_and_dict(tmp_path):
    config = bit_ttt.BitLlamaConfig(16384, 256, 8, 0.1)
    assert (config.intermediate_dim, config.ttt_dim) == (1024, 64)
    assert config.activation_quant == "none" and config.n_gpu_layers is None
    config.activation_quant = "int8"
    config.n_gpu_layers = 3
    config.eos_token_id = 2
    config.inner_lr = 0.25
    data = config.to_dict()
    assert data["activation_quant"] == "int8" and data["n_gpu_layers"] == 3
    assert data["eos_token_id"] == 2 and data["vocab_size"] == 16384
    assert abs(data["inner_lr"] - 0.25) < 1e-7
    again = bit_ttt.BitLlamaConfig.from_json(config.to_json())
    assert again == config
    (tmp_path / "config.json").write_text(json.dumps(dict(TINY_CONFIG, custom_key=[1, 2])))
    loaded = bit_ttt.BitLlamaConfig.from_json(tmp_path / "config.json")
    assert loaded.shape_string() == "V=300 D=32 N=2 I=48 d=8"
    assert loaded.extra_keys == {"custom_key": "[1,2]"}
    assert bit_ttt.BitLlamaConfig.from_json(str(tmp_path / "config.json")) == loaded
    keyword = bit_ttt.BitLlamaConfig(vocab_size=300, hidden_dim=32, num_layers=2, inner_lr=0.5,
                                     intermediate_dim=48, ttt_dim=8)
    assert keyword.same_shape(loaded)
    assert "V=300" in repr(keyword)


def test_config_bad_values():
    with pytest.raises(ValueError, match="vocab_size"):
        bit_ttt.BitLlamaConfig(0, 256, 8, 0.1)
    with pytest.raises(TypeError, match="unknown key 'hiden_dim'"):
        bit_ttt.BitLlamaConfig(10, 8, 1, 0.1, hiden_dim=3)
    config = bit_ttt.BitLlamaConfig(10, 8, 1, 0.1)
    with pytest.raises(ValueError, match="int8"):
        config.activation_quant = "int4"
    with pytest.raises(ValueError, match="no such config file"):
        bit_ttt.BitLlamaConfig.from_json("/nonexistent/config.json")
    with pytest.raises(ValueError, match="invalid JSON"):
        bit_ttt.BitLlamaConfig.from_json("{not json")


@pytest.mark.parametrize("mode", ["none", "int8"])
def test_forward_equals_bit_llama_logits(tmp_path, mode):
    model_dir = make_model(tmp_path / "m", activation_quant=mode)
    tokens = [5, 17, 255, 3, 3, 120, 299, 0, 42]
    run_cli("logits", "--model", model_dir, "--tokens", ",".join(map(str, tokens)),
            "--out", tmp_path / "l.npy")
    expected = np.load(tmp_path / "l.npy")
    model = bit_ttt.BitLlama(None, model_dir)
    batched = model.forward(tokens)
    assert batched.shape == (9, 300) and batched.dtype == np.float32
    assert np.array_equal(batched, expected)
    # The seed form: config + safetensors file.
    config = bit_ttt.BitLlamaConfig.from_json(model_dir / "config.json")
    seed_form = bit_ttt.BitLlama(config, model_dir / "model.safetensors")
    assert np.array_equal(seed_form.forward(np.array(tokens, dtype=np.int64)), expected)


def test_streaming_equals_batched_and_input_kinds(session_model):
    tokens = list(range(0, 300, 7))
    model = bit_ttt.BitLlama(None, session_model)
    batched = model.forward(np.asarray(tokens, dtype=np.int32))
    assert model.n_tokens == len(tokens)
    model.reset_state()
    assert model.n_tokens == 0
    rows = [model.forward(token_id=t) for t in tokens]
    stream = np.stack(rows)
    assert np.abs(batched - stream).max() <= 1e-5 * np.abs(batched).max()
    for kind in (tokens, tuple(tokens), np.asarray(tokens, dtype=np.uint16),
                 np.asarray(tokens, dtype=np.int64)[::1], np.repeat(np.asarray(tokens, np.int32), 2)[::2]):
        model.reset_state()
        assert np.array_equal(model.forward(kind), batched)
    model.reset_state()
    last = model.forward(tokens, all_logits=False)
    assert last.shape == (300,) and np.array_equal(last, batched[-1])
    model.reset_state()
    assert np.array_equal(model.forward(tokens[0]), batched[0])  # a bare int is one step
    assert model.forward([]).shape == (0, 300)


def test_logits_own_their_memory(session_model):
    model = bit_ttt.BitLlama(None, session_model)
    logits = model.forward([1, 2, 3])
    assert logits.flags["OWNDATA"] is False and logits.base is not None  # a capsule, no copy
    assert logits.flags["C_CONTIGUOUS"] and logits.flags["WRITEABLE"]
    del model
    assert np.isfinite(logits).all()  # still valid after the model is gone


def test_state_save_load_continues_exactly(tmp_path, session_model):
    tokens = [1, 2, 3, 4, 5, 6, 7, 8]
    model = bit_ttt.BitLlama(None, session_model)
    full = model.forward(tokens)
    model.reset_state()
    model.forward(tokens[:3])
    model.save_state(tmp_path / "memory.safetensors")
    layer0 = model.state_layer(0)
    assert layer0.shape == (8, 8)
    model.reset_state()
    assert not np.any(model.state_layer(0))
    model.load_state(str(tmp_path / "memory.safetensors"))
    assert model.n_tokens == 3
    assert np.array_equal(model.state_layer(0), layer0)
    assert np.array_equal(model.forward(tokens[3:]), full[3:])
    other = bit_ttt.BitLlama(None, make_model(tmp_path / "other", hidden_dim=64, ttt_dim=16,
                                              intermediate_dim=96))
    with pytest.raises(bit_ttt.Error):
        other.load_state(tmp_path / "memory.safetensors")


def test_bitt_file_and_config_checks(tmp_path, session_model):
    run_cli("export", "--model", session_model, "--out", tmp_path / "m.bitt", "--head", "f32",
            "--embed", "f32")
    direct = bit_ttt.BitLlama(None, session_model).forward([4, 5, 6])
    from_bitt = bit_ttt.BitLlama(None, tmp_path / "m.bitt")
    assert np.array_equal(from_bitt.forward([4, 5, 6]), direct)
    matching = bit_ttt.BitLlamaConfig.from_json(session_model / "config.json")
    assert bit_ttt.BitLlama(matching, tmp_path / "m.bitt").n_tokens == 0
    assert bit_ttt.BitLlama(matching, session_model).n_tokens == 0
    wrong = bit_ttt.BitLlamaConfig(16384, 256, 8, 0.1)
    with pytest.raises(ValueError, match="does not match"):
        bit_ttt.BitLlama(wrong, tmp_path / "m.bitt")
    with pytest.raises(ValueError, match="does not match"):
        bit_ttt.BitLlama(wrong, session_model)
    with pytest.raises(bit_ttt.Error):  # the weights file has other shapes
        bit_ttt.BitLlama(wrong, session_model / "model.safetensors")


def test_bad_arguments(tmp_path, session_model):
    with pytest.raises(ValueError, match="valid devices: cpu, cuda"):
        bit_ttt.BitLlama(None, session_model, device="tpu")
    with pytest.raises(ValueError, match="no such file"):
        bit_ttt.BitLlama(None, tmp_path / "missing")
    with pytest.raises(ValueError, match="needs device='cuda'"):
        bit_ttt.BitLlama(None, session_model, n_gpu_layers=1)
    model = bit_ttt.BitLlama(None, session_model)
    with pytest.raises(ValueError, match=r"token id 300 at position 1 .*\[0, 300\)"):
        model.forward([1, 300])
    with pytest.raises(ValueError, match="out of range"):
        model.forward(token_id=-1)
    with pytest.raises(ValueError, match="out of range"):
        model.forward(np.array([2**40], dtype=np.int64))
    with pytest.raises(TypeError, match="integers"):
        model.forward(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="must be an int"):
        model.forward([1, 2.5])
    with pytest.raises(TypeError, match="must be an int"):
        model.forward(token_id=1.5)
    with pytest.raises(TypeError, match="exactly one"):
        model.forward([1], token_id=2)
    with pytest.raises(TypeError, match="exactly one"):
        model.forward()
    with pytest.raises(TypeError, match="text"):
        model.forward("hello")
    with pytest.raises(ValueError, match="1-D"):
        model.forward(np.zeros((2, 2), dtype=np.int32))
    assert model.n_tokens == 0  # failed calls absorbed nothing
    with pytest.raises(bit_ttt.Error):
        model.load_state(tmp_path / "missing.safetensors")
    broken = tmp_path / "broken"
    shutil.copytree(session_model, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(bit_ttt.Error, match="model.safetensors"):
        bit_ttt.BitLlama(None, broken)


def test_help_is_useful():
    doc = bit_ttt.BitLlama.__doc__
    assert "forward" in doc and "token_id" in doc
    assert "device" in bit_ttt.BitLlama.__init__.__doc__
    assert "batched prefill" in bit_ttt.BitLlama.forward.__doc__
    assert "callback" in bit_ttt.Llama.stream_completion.__doc__
    assert "top_p" in bit_ttt.Llama.generate.__doc__
