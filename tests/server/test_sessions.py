"""Sessions: isolated TTT memories that persist across requests and restarts."""
from conftest import Server


def tokens(server, session):
    status, _, reply = server.get(f"/v1/sessions/{session}")
    assert status == 200, reply
    return reply["n_tokens"]


def test_sessions_are_isolated(server):
    assert tokens(server, "iso-a") == 0
    learned = server.post("/v1/sessions/iso-a/learn", {"text": "abc"})[2]
    assert learned["n_tokens_learned"] == 3 and learned["n_tokens"] == 3
    server.post("/v1/sessions/iso-b/learn", {"text": "defghij"})
    assert (tokens(server, "iso-a"), tokens(server, "iso-b")) == (3, 7)
    reply = server.post("/v1/completions", {"prompt": "xy", "max_tokens": 4, "ignore_eos": True},
                        headers={"X-Session-Id": "iso-a"})[2]
    assert reply["usage"]["total_tokens"] == 6 and reply["session_id"] == "iso-a"
    assert (tokens(server, "iso-a"), tokens(server, "iso-b")) == (9, 7)
    # A session continues its memory: the same request gives another text than a fresh memory.
    body = {"prompt": "zz", "max_tokens": 20, "temperature": 0, "ignore_eos": True}
    fresh = server.post("/v1/completions", body)[2]["choices"][0]["text"]
    assert server.post("/v1/completions", body)[2]["choices"][0]["text"] == fresh
    assert server.post("/v1/completions", dict(body, session_id="iso-b"))[2]["choices"][0][
        "text"] != fresh


def test_chat_with_session_feeds_only_new_turns(server):
    messages = [{"role": "user", "content": "Hi"}]
    first = server.post("/v1/chat/completions", {"messages": messages, "max_tokens": 3,
                                                 "session_id": "chat-1", "ignore_eos": True})[2]
    assert first["usage"]["prompt_tokens"] == len("<|user|>\nHi\n<|assistant|>\n")
    messages += [{"role": "assistant", "content": first["choices"][0]["message"]["content"]},
                 {"role": "user", "content": "Yo"}]
    second = server.post("/v1/chat/completions", {"messages": messages, "max_tokens": 3,
                                                  "session_id": "chat-1", "ignore_eos": True})[2]
    assert second["usage"]["prompt_tokens"] == len("\n<|user|>\nYo\n<|assistant|>\n")


def test_reset_save_load_in_memory(server):
    server.post("/v1/sessions/rsl/learn", {"text": "hello"})
    assert server.post("/v1/sessions/rsl/load")[0] == 404  # nothing saved yet
    assert server.post("/v1/sessions/rsl/save")[2]["n_tokens"] == 5
    server.post("/v1/sessions/rsl/learn", {"text": " world"})
    assert tokens(server, "rsl") == 11
    assert server.post("/v1/sessions/rsl/load")[2]["n_tokens"] == 5
    assert server.post("/v1/sessions/rsl/reset")[2]["n_tokens"] == 0
    assert server.post("/v1/sessions/rsl/learn", {"text": 3})[0] == 400
    assert server.post("/v1/sessions/rsl/learn", b"{bad")[0] == 400
    assert server.post("/v1/sessions/bad$id/reset")[0] == 400


def test_sessions_survive_a_restart_exactly(tiny_model, tmp_path):
    state_dir = tmp_path / "state"
    body = {"prompt": "continue", "max_tokens": 16, "temperature": 0.9, "seed": 4,
            "ignore_eos": True}
    first = Server(tiny_model, "--state-dir", state_dir)
    try:
        first.post("/v1/sessions/keep/learn", {"text": "The dragon's name was Ember."})
        first.post("/v1/completions", dict(body, max_tokens=5, session_id="keep"))
        before = tokens(first, "keep")
        # What the live memory would say next (on a copy: save, generate, load back).
        first.post("/v1/sessions/keep/save")
        expected = first.post("/v1/completions", dict(body, session_id="keep"))[2]
        first.post("/v1/sessions/keep/load")
        assert tokens(first, "keep") == before
    finally:
        assert first.stop() == 0
    assert (state_dir / "keep.safetensors").exists()
    second = Server(tiny_model, "--state-dir", state_dir)
    try:
        assert tokens(second, "keep") == before
        again = second.post("/v1/completions", dict(body, session_id="keep"))[2]
        assert again["choices"][0]["text"] == expected["choices"][0]["text"]
        assert tokens(second, "other") == 0
    finally:
        second.stop()


def test_eviction_saves_to_state_dir(tiny_model, tmp_path):
    server = Server(tiny_model, "--state-dir", tmp_path / "s", "--max-sessions", 2)
    try:
        for i, name in enumerate(["e1", "e2", "e3"]):
            server.post(f"/v1/sessions/{name}/learn", {"text": "x" * (i + 1)})
        assert (tmp_path / "s" / "e1.safetensors").exists()  # evicted, saved
        assert [tokens(server, n) for n in ["e1", "e2", "e3"]] == [1, 2, 3]
    finally:
        server.stop()


def test_concurrent_sessions_never_cross(server):
    import threading
    errors = []

    def client(index):
        session, size = f"conc-{index}", 0
        for _ in range(4):
            status, _, reply = server.post("/v1/completions", {
                "prompt": "p" * (index + 1), "max_tokens": 5, "session_id": session,
                "ignore_eos": True, "seed": index})
            if status != 200:
                errors.append(reply)
                return
            size += reply["usage"]["total_tokens"]
            if reply["timings"]["memory_tokens"] != size:
                errors.append((session, reply["timings"]["memory_tokens"], size))
        if tokens(server, session) != size:
            errors.append((session, "final", size))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
