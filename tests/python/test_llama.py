"""bit_ttt.Llama: text in, text out; callbacks that stop; the stream iterator
(early break stops generation); learn; tokenizer; errors."""
import threading

import numpy as np
import pytest

import bit_ttt
from python_test_helpers import run_cli


@pytest.fixture
def llm(session_model):
    return bit_ttt.Llama.load_auto(session_model)


GREEDY = dict(max_tokens=20, temperature=0.0, stop_at_eos=False)


def test_generate_matches_bit_llama_run(session_model, llm):
    text = llm.generate("Hello", **GREEDY)
    cli = run_cli("run", "--model", session_model, "--prompt", "Hello", "--temp", "0",
                  "--max-tokens", "20", "--ignore-eos").stdout.decode()
    assert text and text in cli
    llm.reset_state()
    result = llm.generate("Hello", **GREEDY, return_result=True)
    assert result.text == text and result.n_generated_tokens == 20
    assert result.finish_reason == "length" and result.n_prompt_tokens == 5


def test_stream_completion_callback_and_early_stop(llm):
    pieces = []
    text = llm.stream_completion("Hello", 20, 0.0, lambda piece: pieces.append(piece))
    assert "".join(pieces) == text and len(pieces) >= 1
    llm.reset_state()
    seen = []

    def stop_after_three(piece):
        seen.append(piece)
        return len(seen) < 3

    llm.stream_completion("Hello", 20, 0.0, stop_after_three)
    assert len(seen) == 3
    llm.reset_state()
    result = llm.generate("Hello", **GREEDY, callback=lambda piece: False, return_result=True)
    assert result.finish_reason == "callback" and result.n_generated_tokens < 20


def test_callback_exception_propagates(llm):
    def boom(piece):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        llm.generate("Hello", **GREEDY, callback=boom)
    assert isinstance(llm.generate("x", max_tokens=2), str)  # still usable


def test_stream_iterator_equals_generate(llm):
    expected = llm.generate("Hello", **GREEDY)
    llm.reset_state()
    stream = llm.stream("Hello", **GREEDY)
    pieces = list(stream)
    assert "".join(pieces) == expected
    assert stream.result.n_generated_tokens == 20
    assert llm.n_tokens == 5 + 20


def test_stream_break_stops_generation(llm):
    n_before = llm.n_tokens
    for i, piece in enumerate(llm.stream("Hello", max_tokens=200, temperature=0.0,
                                         stop_at_eos=False)):
        if i == 2:
            break
    # The iterator was dropped: generation stopped right away, far short of 200 tokens.
    assert llm.n_tokens - n_before < 5 + 40
    # The Llama is free again.
    assert isinstance(llm.generate("a", max_tokens=3), str)
    with llm.stream("Hello", max_tokens=200, temperature=0.0, stop_at_eos=False) as stream:
        next(stream)
        with pytest.raises(RuntimeError, match="stream"):
            llm.generate("x")
    assert stream.result is not None and stream.result.finish_reason == "callback"
    llm.learn("ok")


def test_learn_state_and_tokenizer(tmp_path, llm):
    assert llm.learn("The dragon's name was Ember.") > 0
    n = llm.n_tokens
    llm.save_state(tmp_path / "memory.safetensors")
    llm.reset_state()
    assert llm.n_tokens == 0
    llm.load_state(tmp_path / "memory.safetensors")
    assert llm.n_tokens == n
    tokenizer = llm.tokenizer
    ids = tokenizer.encode("Hello world")
    assert ids == list(b"Hello world") or len(ids) == 11
    assert tokenizer.decode(ids) == "Hello world"
    assert tokenizer.decode(np.asarray(ids, dtype=np.int32)) == "Hello world"
    assert tokenizer.vocab_size == len(tokenizer) <= llm.config.vocab_size
    assert tokenizer.eos_id is not None and tokenizer.is_special(tokenizer.eos_id)
    assert tokenizer.token_to_id("<|endoftext|>") == tokenizer.eos_id


def test_tokenizer_from_paths(session_model):
    a = bit_ttt.Tokenizer(session_model)
    b = bit_ttt.Tokenizer(session_model / "tokenizer.json")
    assert a.fingerprint == b.fingerprint
    assert b.encode("héllo") == a.encode("héllo")
    with pytest.raises(ValueError):
        a.decode([10**6])


def test_bitt_llama(tmp_path, session_model):
    run_cli("export", "--model", session_model, "--out", tmp_path / "m.bitt", "--head", "f32",
            "--embed", "f32")
    a = bit_ttt.Llama.load_auto(session_model).generate("Hi", **GREEDY)
    b = bit_ttt.Llama(tmp_path / "m.bitt").generate("Hi", **GREEDY)
    assert a == b


def test_llama_bad_arguments(tmp_path, llm, session_model):
    with pytest.raises(ValueError, match="valid devices"):
        bit_ttt.Llama.load_auto(session_model, device="gpu")
    with pytest.raises(bit_ttt.Error):
        bit_ttt.Llama.load_auto(session_model, device="cuda")
    with pytest.raises(ValueError, match="no such file"):
        bit_ttt.Llama.load_auto(tmp_path / "nothing")
    with pytest.raises(bit_ttt.Error, match="model directory"):
        bit_ttt.Llama.load_auto(session_model / "config.json")
    with pytest.raises(ValueError, match="top_p"):
        llm.generate("x", top_p=1.5)
    with pytest.raises(ValueError, match="max_tokens"):
        llm.generate("x", max_tokens=-1)
    with pytest.raises(ValueError, match="stop strings"):
        llm.generate("x", stop=[""])
    with pytest.raises(TypeError):
        llm.generate("x", bogus=1)


def test_stop_strings(llm):
    full = llm.generate("Hello", **GREEDY)
    llm.reset_state()
    if len(full) > 4:
        cut = full[2:4]
        text = llm.generate("Hello", **GREEDY, stop=cut)
        assert text == full[:full.index(cut)]


def test_concurrent_streams_on_separate_llamas(session_model):
    results = {}

    def work(key):
        llm = bit_ttt.Llama.load_auto(session_model)
        results[key] = "".join(llm.stream("Hello", **GREEDY))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results.values())) == 1
