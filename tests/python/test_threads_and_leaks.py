"""The GIL is released during compute, and 10,000 forward calls do not leak."""
import gc
import threading
import time

import numpy as np
import pytest

import bit_ttt
from python_test_helpers import make_model


def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    pytest.skip("no /proc/self/status")


def test_python_thread_runs_during_a_long_forward(tmp_path):
    model = bit_ttt.BitLlama(None, make_model(tmp_path / "wide", hidden_dim=128, ttt_dim=32,
                                              intermediate_dim=256, num_layers=4),
                             )
    tokens = np.arange(4096, dtype=np.int32) % 300
    started = time.perf_counter()
    model.forward(tokens[:256])
    model.reset_state()
    per_token = (time.perf_counter() - started) / 256
    n_tokens = int(min(len(tokens), max(256, 0.5 / max(per_token, 1e-9))))  # about 0.5 s

    counter = 0
    stop = threading.Event()

    def count():
        nonlocal counter
        while not stop.is_set():
            counter += 1

    # Baseline: how far the counter gets while the main thread merely sleeps.
    thread = threading.Thread(target=count)
    thread.start()
    time.sleep(0.05)
    counter = 0
    start = time.perf_counter()
    model.forward(tokens[:n_tokens])
    elapsed = time.perf_counter() - start
    during = counter
    stop.set()
    thread.join()
    # With the GIL held the counter could not move at all during the forward.
    assert elapsed > 0.05
    assert during > 1000, f"Python thread counted only {during} during a {elapsed:.2f}s forward"


def test_forward_from_two_threads_is_serialised(session_model):
    model = bit_ttt.BitLlama(None, session_model)
    tokens = list(range(1, 100))
    expected = model.forward(tokens)
    model.reset_state()
    errors = []

    def work():
        try:
            for _ in range(20):
                model.forward(token_id=5)
        except Exception as error:  # pragma: no cover
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and model.n_tokens == 80
    model.reset_state()
    assert np.array_equal(model.forward(tokens), expected)


def test_no_leak_over_10000_forwards(session_model):
    model = bit_ttt.BitLlama(None, session_model)
    tokens32 = np.array([1, 2, 3], dtype=np.int32)

    def burst(n):
        for i in range(n):
            if i % 500 == 0:
                model.reset_state()
            logits = model.forward(token_id=i % 300)
            assert logits.shape == (300,)
            if i % 10 == 0:
                model.forward(tokens32)
                model.forward([4, 5])

    burst(1000)  # warm up allocators and caches
    gc.collect()
    before = rss_kib()
    burst(10000)
    gc.collect()
    after = rss_kib()
    # 10,000 leaked logit vectors would be 12 MB; allow allocator noise.
    assert after - before < 4 * 1024, f"RSS grew {after - before} KiB over 10,000 forwards"
