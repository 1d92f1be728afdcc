"""bit_llama serve: the OpenAI-compatible endpoints, stream format and bad input."""
import json
import re

import pytest

from conftest import sse_events


def test_health_models_metrics(server):
    assert server.get("/health")[0:3:2] == (200, {"status": "ok"})
    status, _, models = server.get("/v1/models")
    assert status == 200 and models["object"] == "list"
    card = models["data"][0]
    assert card["id"] == "tiny" and card["object"] == "model"
    assert card["context"].startswith("unlimited") and card["parameters"] > 0
    assert card["bits_per_weight"] == 1.58 and "ternary" in card["format"]
    assert card["file_bytes"] > 0 and "<|assistant|>" in card["chat_template"]
    assert server.get("/v1/models/tiny")[2]["id"] == "tiny"
    assert server.get("/v1/models/other")[0] == 404
    server.post("/v1/completions", {"prompt": "x", "max_tokens": 3})
    status, headers, text = server.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    for name in ["bit_ttt_http_responses_total{code=\"200\"}", "bit_ttt_generated_tokens_total",
                 "bit_ttt_tokens_per_second", "bit_ttt_queue_depth", "bit_ttt_sessions"]:
        assert re.search(re.escape(name) + r" [0-9.e+]+\n", text), name


def test_page_is_served_without_external_urls(server):
    status, headers, page = server.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "<html" in page and "/v1/chat/completions" in page and "textContent" in page
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I), "external URL in page"
    assert "innerHTML" not in page
    assert "connect-src 'self'" in headers["Content-Security-Policy"]


def test_completion_shape_and_usage(server):
    status, _, reply = server.post("/v1/completions",
                                   {"model": "tiny", "prompt": "Hello", "max_tokens": 7,
                                    "temperature": 0.7, "top_p": 0.9, "seed": 5,
                                    "ignore_eos": True})
    assert status == 200, reply
    assert reply["object"] == "text_completion" and reply["id"].startswith("cmpl-")
    assert reply["model"] == "tiny" and isinstance(reply["created"], int)
    choice = reply["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "length"
    assert isinstance(choice["text"], str)
    assert reply["usage"] == {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    again = server.post("/v1/completions", {"prompt": "Hello", "max_tokens": 7, "temperature": 0.7,
                                            "top_p": 0.9, "seed": 5, "ignore_eos": True})[2]
    assert again["choices"][0]["text"] == choice["text"]  # same seed, fresh memory: same text


def test_chat_shape(server):
    status, _, reply = server.post("/v1/chat/completions", {
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "max_tokens": 4, "seed": 1, "ignore_eos": True})
    assert status == 200, reply
    assert reply["object"] == "chat.completion" and reply["id"].startswith("chatcmpl-")
    message = reply["choices"][0]["message"]
    assert message["role"] == "assistant" and isinstance(message["content"], str)
    prompt = "<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\n"
    assert reply["usage"]["prompt_tokens"] == len(prompt.encode())  # byte-level tokenizer


def test_stream_matches_non_stream(server):
    body = {"prompt": "Once", "max_tokens": 12, "seed": 9, "ignore_eos": True}
    whole = server.post("/v1/completions", body)[2]
    connection = server.connection()
    connection.request("POST", "/v1/completions", json.dumps(dict(body, stream=True)))
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "text_completion" and c["id"] == chunks[0]["id"] for c in chunks)
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert "".join(c["choices"][0]["text"] for c in chunks) == whole["choices"][0]["text"]


def test_chat_stream_with_usage(server):
    connection = server.connection()
    connection.request("POST", "/v1/chat/completions", json.dumps({
        "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6, "stream": True,
        "stream_options": {"include_usage": True}, "seed": 2, "ignore_eos": True}))
    events = sse_events(connection.getresponse())
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-2]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 6


def test_stop_strings(server):
    body = {"prompt": "abc", "max_tokens": 40, "temperature": 0, "ignore_eos": True}
    text = server.post("/v1/completions", body)[2]["choices"][0]["text"]
    assert len(text) >= 8
    stop = text[4:6]
    for value in [stop, [stop, "never-seen-stop"]]:
        reply = server.post("/v1/completions", dict(body, stop=value))[2]
        assert reply["choices"][0]["text"] == text[:text.index(stop)]
        assert reply["choices"][0]["finish_reason"] == "stop"


def test_frequency_and_presence_penalties_change_the_output(server):
    body = {"prompt": "abc", "max_tokens": 48, "temperature": 0, "ignore_eos": True,
            "repeat_last_n": -1}

    def text(**extra):
        reply = server.post("/v1/completions", dict(body, **extra))
        assert reply[0] == 200, reply
        return reply[2]["choices"][0]["text"]

    plain = text()
    assert text(frequency_penalty=0, presence_penalty=0) == plain  # 0 is off
    # Greedy decoding of a random model repeats itself; penalising what was seen
    # must send it elsewhere.
    for extra in [{"frequency_penalty": 2}, {"presence_penalty": 2}]:
        assert text(**extra) != plain, extra
    # The same request twice gives the same text: the penalties are deterministic.
    assert text(frequency_penalty=1.5) == text(frequency_penalty=1.5)


@pytest.mark.parametrize("body,param", [
    ({"prompt": "x", "n": 2}, "n"),
    ({"prompt": "x", "max_tokens": "10"}, "max_tokens"),
    ({"prompt": "x", "max_tokens": -1}, "max_tokens"),
    ({"prompt": "x", "max_tokens": 10**7}, "max_tokens"),
    ({"prompt": "x", "temperature": "hot"}, "temperature"),
    ({"prompt": "x", "temperature": 3}, "temperature"),
    ({"prompt": "x", "top_p": 1.5}, "top_p"),
    ({"prompt": "x", "frequency_penalty": 2.5}, "frequency_penalty"),
    ({"prompt": "x", "presence_penalty": "high"}, "presence_penalty"),
    ({"prompt": "x", "repeat_last_n": -2}, "repeat_last_n"),
    ({"prompt": "x", "seed": 1.5}, "seed"),
    ({"prompt": "x", "stop": 3}, "stop"),
    ({"prompt": "x", "stop": [""]}, "stop"),
    ({"prompt": "x", "stream": "yes"}, "stream"),
    ({"prompt": 5}, "prompt"),
    ({"prompt": ["a", "b"]}, "prompt"),
    ({"prompt": "x", "session_id": "../etc"}, "session_id"),
])
def test_bad_fields_are_400_naming_the_field(server, body, param):
    status, _, reply = server.post("/v1/completions", body)
    assert status == 400, reply
    assert reply["error"]["param"] == param and reply["error"]["type"] == "invalid_request_error"
    assert reply["error"]["message"]


@pytest.mark.parametrize("messages", [None, "hi", [], [{"role": "robot", "content": "x"}],
                                      [{"content": "x"}], [{"role": "user", "content": 5}], [3]])
def test_bad_messages_are_400(server, messages):
    body = {} if messages is None else {"messages": messages}
    status, _, reply = server.post("/v1/chat/completions", body)
    assert status == 400 and reply["error"]["param"].startswith("messages"), reply


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b"", b"\"text\"", b'{"prompt": "\xff\xfe"}',
                                 b'{"prompt": "a\xc3"}', b"\x00\x01"])
def test_malformed_bodies_are_400(server, raw):
    status, _, reply = server.post("/v1/completions", raw)
    assert status == 400 and "error" in reply and reply["error"]["message"], reply


def test_huge_body_is_413_and_server_survives(server):
    status, _, reply = server.post("/v1/completions", b'{"prompt": "' + b"a" * (2 << 20) + b'"}')
    assert status == 413 and "too large" in reply["error"]["message"]
    assert server.get("/health")[0] == 200


def test_unknown_endpoint_is_404_json(server):
    status, _, reply = server.get("/v1/nothing")
    assert status == 404 and "no such endpoint" in reply["error"]["message"]


def test_page_script_parses(server, tmp_path):
    import shutil
    import subprocess
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed (the page's script is only syntax-checked with it)")
    page = server.get("/")[2]
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    (tmp_path / "page.js").write_text(script)
    subprocess.run([node, "--check", str(tmp_path / "page.js")], check=True, timeout=60)
