"""Starts the real `bit_llama serve` on a free port with a tiny random model."""
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bit_llama_cli import TINY_CONFIG, bit_llama_path, make_model  # noqa: E402,F401


class Server:
    """One `bit_llama serve` process; stderr is collected by a thread."""

    def __init__(self, model, *args, api_key=None):
        self.api_key = api_key
        command = [bit_llama_path(), "serve", "--model", str(model), "--port", "0",
                   "--threads", "1", *map(str, args)]
        if api_key:
            command += ["--api-key", api_key]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        ready = threading.Event()
        self.port = None

        def pump():
            for line in self.process.stderr:
                self.stderr_lines.append(line)
                if line.startswith("listening on http://"):
                    self.port = int(line.strip().rsplit(":", 1)[1])
                    ready.set()
            ready.set()

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        if not ready.wait(60) or self.port is None:
            self.process.kill()
            raise AssertionError("server did not start:\n" + "".join(self.stderr_lines))

    def connection(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, auth=True):
        """(status, headers, parsed JSON or text)."""
        headers = dict(headers or {})
        if auth and self.api_key:
            headers.setdefault("Authorization", f"Bearer {self.api_key}")
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            text = data.decode("utf-8")
            kind = response.getheader("Content-Type", "")
            value = json.loads(text) if kind.startswith("application/json") else text
            return response.status, dict(response.getheaders()), value
        finally:
            connection.close()

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError("server did not stop on signal")
        self.pump.join(5)
        report = "".join(self.stderr_lines)
        for marker in ["AddressSanitizer", "LeakSanitizer", "runtime error:"]:
            assert marker not in report, report  # sanitizer builds (CI) report here
        return self.process.returncode


def sse_events(response):
    """Parses an SSE body: list of decoded JSON chunks, ending with the string '[DONE]'."""
    events = []
    for block in response.read().decode("utf-8").split("\n\n"):
        if not block.strip():
            continue
        assert block.startswith("data: "), block
        payload = block[len("data: "):]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("model") / "tiny", timeout=120)


@pytest.fixture(scope="module")
def server(tiny_model):
    instance = Server(tiny_model, "--parallel", 2, "--max-tokens-limit", 1000000)
    yield instance
    assert instance.stop() == 0


@pytest.fixture
def start_server(tiny_model):
    started = []

    def start(*args, **kwargs):
        instance = Server(tiny_model, *args, **kwargs)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()
