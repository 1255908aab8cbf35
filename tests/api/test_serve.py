"""``adjudicator serve`` end to end: gunicorn, migrations on start, a key, a decision."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from servicekit import make_case

ADJUDICATOR = str(Path(sys.executable).with_name("adjudicator"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.slow
def test_serve_migrates_and_answers_under_gunicorn(tmp_path: Path) -> None:
    env = {**os.environ, "ADJUDICATOR_KEY_SECRET": "serve-test-secret-of-at-least-32-bytes"}
    env.pop("DATABASE_URL", None)  # the SQLite default in the working directory
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [ADJUDICATOR, "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _request(port, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "serve.log"
            ).read_text()
            time.sleep(0.1)
        assert (tmp_path / "adjudicator.db").exists()

        key = subprocess.run(
            [ADJUDICATOR, "keys", "create", "--role", "system", "--name", "e2e"],
            cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for _ in range(4):  # reach both workers
            status, body = _request(
                port, "POST", "/v1/decisions", orjson.dumps(make_case()), headers
            )
            assert status == 201, body
            assert orjson.loads(body)["outcome"] == "upheld_full"
        assert _request(port, "POST", "/v1/decisions", b"{", headers)[0] == 400
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert text.count("Booting worker") == 2 and "Traceback" not in text
