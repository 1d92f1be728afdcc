"""Auth, admission (429), client disconnects and graceful shutdown."""
import json
import signal
import socket
import time

from conftest import Server

LONG = {"prompt": "go", "max_tokens": 900000, "ignore_eos": True, "stream": True}


def open_stream(server, body=LONG, headers=None):
    """Starts a long streaming request and reads until the first token arrived."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    payload = json.dumps(body).encode()
    head = (f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n")
    for key, value in (headers or {}).items():
        head += f"{key}: {value}\r\n"
    sock.sendall(head.encode() + b"\r\n" + payload)
    received = b""
    while received.count(b"data: ") < 2:
        data = sock.recv(65536)
        assert data, received
        received += data
    assert b" 200 " in received.split(b"\r\n", 1)[0]
    return sock


def test_api_key(start_server, tiny_model):
    server = start_server(api_key="s3cret-key")
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-key"},
                    {"Authorization": "Bearer s3cret-key-longer"}]:
        status, response_headers, reply = server.get("/v1/models", headers=headers, auth=False)
        assert status == 401 and reply["error"]["code"] == "invalid_api_key"
        assert response_headers["WWW-Authenticate"] == "Bearer"
    assert server.post("/v1/completions", {"prompt": "x"}, auth=False)[0] == 401
    assert server.get("/metrics", auth=False)[0] == 401
    assert server.get("/v1/models")[0] == 200
    assert server.post("/v1/completions", {"prompt": "x", "max_tokens": 2})[0] == 200
    assert server.get("/health", auth=False)[0] == 200 and server.get("/", auth=False)[0] == 200


def test_queue_full_is_429_and_disconnect_frees_the_slot(start_server):
    server = start_server("--parallel", 1, "--max-queue", 0, "--max-tokens-limit", 1000000)
    sock = open_stream(server)
    status, _, reply = server.post("/v1/completions", {"prompt": "x", "max_tokens": 2})
    assert status == 429 and reply["error"]["code"] == "queue_full"
    assert server.post("/v1/sessions/q/learn", {"text": "x"})[0] == 429
    assert server.get("/health")[0] == 200  # non-generating endpoints still answer
    sock.close()  # the client goes away mid-stream: generation must stop and free the slot
    deadline = time.time() + 20
    while True:
        status = server.post("/v1/completions", {"prompt": "x", "max_tokens": 2})[0]
        if status == 200:
            break
        assert status == 429 and time.time() < deadline, "slot never freed after disconnect"
        time.sleep(0.05)
    metrics = server.get("/metrics")[2]
    assert 'bit_ttt_http_responses_total{code="429"}' in metrics
    assert "bit_ttt_active_generations 0" in metrics
    assert "bit_ttt_client_disconnects_total 1" in metrics


def test_queue_waits_for_a_slot(start_server):
    server = start_server("--parallel", 1, "--max-queue", 4, "--max-tokens-limit", 1000000)
    sock = open_stream(server)
    import threading
    results = []
    worker = threading.Thread(target=lambda: results.append(
        server.post("/v1/completions", {"prompt": "x", "max_tokens": 2})[0]))
    worker.start()
    time.sleep(0.3)
    assert not results  # waiting in the queue
    assert "bit_ttt_queue_depth 1" in server.get("/metrics")[2]
    sock.close()
    worker.join(30)
    assert results == [200]


def test_sigterm_stops_a_running_stream_and_exits(start_server):
    server = start_server("--max-tokens-limit", 1000000)
    sock = open_stream(server, headers={"X-Session-Id": "term"})
    server.process.send_signal(signal.SIGTERM)
    sock.settimeout(20)
    received = b""
    while True:  # the stream ends (generation stopped), not hangs
        data = sock.recv(65536)
        if not data:
            break
        received += data
    sock.close()
    assert server.process.wait(20) == 0
    server.pump.join(5)
    assert any("SIGTERM" in line for line in server.stderr_lines)
    assert b"data: [DONE]" in received  # the stream was ended properly


def test_second_signal_exits_at_once(start_server):
    server = start_server("--max-tokens-limit", 1000000)
    sock = open_stream(server)
    server.process.send_signal(signal.SIGINT)
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(20) in (0, 130)
    sock.close()


def test_sigint_exits_cleanly(start_server):
    server = start_server()
    assert server.stop(sig=signal.SIGINT) == 0


def test_port_in_use_is_an_error(server, tiny_model):
    import subprocess
    from conftest import bit_llama_path
    result = subprocess.run([bit_llama_path(), "serve", "--model", str(tiny_model), "--port",
                             str(server.port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "cannot listen on 127.0.0.1:" in result.stderr


def metric(server, name):
    import re
    return float(re.search(rf"^{name} (\S+)$", server.get("/metrics")[2], re.M).group(1))


def test_disconnect_stops_a_non_streaming_generation(start_server):
    limit = 2000000000  # hours of generation: only the disconnect can end it in time
    server = start_server("--parallel", 1, "--max-tokens-limit", limit)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    payload = json.dumps({"prompt": "go", "max_tokens": limit, "ignore_eos": True,
                          "session_id": "gone"}).encode()
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
    deadline = time.time() + 20
    while metric(server, "bit_ttt_active_generations") != 1:
        assert time.time() < deadline, "generation never started"
        time.sleep(0.02)
    time.sleep(0.3)
    assert metric(server, "bit_ttt_active_generations") == 1  # still going: nobody stopped it
    sock.close()
    deadline = time.time() + 10
    while metric(server, "bit_ttt_active_generations") != 0:
        assert time.time() < deadline, "generation went on after the client disconnected"
        time.sleep(0.02)
    assert metric(server, "bit_ttt_client_disconnects_total") == 1
    generated = metric(server, "bit_ttt_generated_tokens_total")
    assert 0 < generated < limit
    # The memory kept what was generated before the disconnect, and no more.
    n_tokens = server.get("/v1/sessions/gone")[2]["n_tokens"]
    assert n_tokens == generated + metric(server, "bit_ttt_prompt_tokens_total")
    # A client that stays gets its whole reply.
    reply = server.post("/v1/completions", {"prompt": "x", "max_tokens": 3, "ignore_eos": True})
    assert reply[0] == 200 and reply[2]["usage"]["completion_tokens"] == 3
    assert metric(server, "bit_ttt_client_disconnects_total") == 1
