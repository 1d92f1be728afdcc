"""bit_ttt.prepare and bit_ttt.train from Python, with progress callbacks."""
import json

import pytest

import bit_ttt
from python_test_helpers import make_model


@pytest.fixture
def corpus(tmp_path, session_model):
    text_dir = tmp_path / "texts"
    text_dir.mkdir()
    sentences = [f"Document {i}: the quick brown fox jumps over the lazy dog {i * 7}.\n" * 3
                 for i in range(60)]
    (text_dir / "a.txt").write_text("<|endoftext|>\n".join(sentences))
    return text_dir


def test_prepare_then_train_with_progress(tmp_path, corpus, session_model):
    progress = []
    stats = bit_ttt.prepare([corpus], tokenizer=session_model / "tokenizer.json",
                            out=tmp_path / "data", val_fraction=0.1, callback=progress.append)
    assert stats["n_train_tokens"] > 1000 and stats["n_val_tokens"] > 0
    assert (tmp_path / "data" / "train.bin").exists()
    assert progress[0]["phase"] == "start" and progress[0]["n_bytes_total"] > 0
    assert progress[-1]["phase"] == "done" and progress[-1]["n_files"] == 1

    records = []
    result = bit_ttt.train(data=tmp_path / "data", output_dir=tmp_path / "run", dim=32, layers=1,
                           context_len=16, batch_size=2, steps=6, warmup_steps=1,
                           val_interval=3, val_batches=2, save_interval=100,
                           callback=records.append)
    assert result["final_step"] == 6 and not result["interrupted"]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert all(r["steps"] == 6 for r in records) and "val_loss" in records[2]
    assert result["best_val_loss"] is not None
    assert (tmp_path / "run" / "best" / "config.json").exists()
    llm = bit_ttt.Llama.load_auto(tmp_path / "run" / "best")
    assert isinstance(llm.generate("the", max_tokens=3), str)


def test_train_callback_stops_with_a_checkpoint(tmp_path, corpus, session_model):
    bit_ttt.prepare(corpus, session_model / "tokenizer.json", tmp_path / "data")
    seen = []

    def stop_at_two(record):
        seen.append(record["step"])
        return record["step"] < 2

    result = bit_ttt.train(tmp_path / "data", output_dir=tmp_path / "run", dim=32, layers=1,
                           context_len=16, batch_size=2, steps=500, val_interval=1000,
                           callback=stop_at_two, poll_seconds=0.01)
    assert result["interrupted"] and result["final_step"] < 500
    assert result["last_checkpoint"].exists()
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["step"] == result["final_step"]


def test_train_bad_options(tmp_path):
    with pytest.raises(TypeError, match="unknown option 'stepz'"):
        bit_ttt.train(tmp_path, stepz=3)
    with pytest.raises(ValueError, match="data"):
        bit_ttt.train(steps=3)
    with pytest.raises(bit_ttt.Error):
        bit_ttt.train(tmp_path / "missing", output_dir=tmp_path / "run", steps=1)
    options = bit_ttt.TrainOptions()
    assert options.context_len == 128 and options.lr == pytest.approx(3e-4)
    assert "context_len" in options.to_json()


def test_train_on_cuda_without_a_gpu_is_a_clear_error(tmp_path, corpus, session_model):
    if bit_ttt.device_available("cuda"):
        pytest.skip("this machine has a GPU (tests/cuda trains on it)")
    bit_ttt.prepare(corpus, session_model / "tokenizer.json", tmp_path / "data")
    with pytest.raises(bit_ttt.Error, match="cannot train on cuda"):
        bit_ttt.train(tmp_path / "data", output_dir=tmp_path / "run", dim=32, layers=1,
                      context_len=16, batch_size=2, steps=2, device="cuda")
    assert not (tmp_path / "run").exists()
