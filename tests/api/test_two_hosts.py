"""Two hosts, one database (issue 10, point 6).

Two ``adjudicator serve`` processes on different loopback ports share one
PostgreSQL schema, as two hosts behind a balancer would; traffic goes to both
at once. What must hold, as ``docs/operations.md`` states it:

- idempotency: one ``Idempotency-Key`` sent to both hosts makes one decision;
- the audit chain: one unbroken chain holding every entry of both hosts;
- rate limits: each host keeps its own buckets, so a key gets the configured
  burst from each host (H hosts: up to H times the limit), and no more.

(Signed checkpoints across hosts come with the audit workstream's checkpoints:
a test that both hosts' checkpoints sign prefixes of the one chain belongs here.)
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
from httpkit import free_port, request, wait_ready
from servicekit import KEY_SECRET, make_case, pg_base_url, pg_schema

ADJUDICATOR = str(Path(sys.executable).with_name("adjudicator"))
BURST = 40

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(pg_base_url() is None, reason="ADJUDICATOR_TEST_DATABASE_URL unset"),
]


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment both hosts get: one schema, one key secret, a small burst."""
    base = pg_base_url()
    assert base is not None
    with pg_schema(base, "hosts") as url:
        yield {
            **os.environ,
            "DATABASE_URL": url,
            "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode(),
            "ADJUDICATOR_RATE_LIMIT": "0.01",
            "ADJUDICATOR_RATE_BURST": str(BURST),
            "ADJUDICATOR_WORKERS": "1",
            "ADJUDICATOR_THREADS": "4",
        }


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([ADJUDICATOR, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def hosts(shared: dict[str, str], tmp_path: Path) -> Iterator[list[int]]:
    """Two ``serve`` processes started together (both migrate: one waits for the other)."""
    started = []
    for name in ("a", "b"):
        port = free_port()
        log_path = tmp_path / f"host-{name}.log"
        log = log_path.open("wb")
        server = subprocess.Popen(
            [ADJUDICATOR, "serve", "--port", str(port)],
            env={**shared, "ADJUDICATOR_METRICS_DIR": str(tmp_path / f"metrics-{name}")},
            stdout=log, stderr=log, cwd=tmp_path, start_new_session=True,
        )  # fmt: skip
        started.append((port, server, log_path, log))
    try:
        for port, server, log_path, _ in started:
            wait_ready(port, server, log_path)
        yield [port for port, *_ in started]
    finally:
        for _, server, _, _ in started:
            server.send_signal(signal.SIGTERM)
        for _, server, _, log in started:
            server.wait(timeout=30)
            log.close()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post(port: int, token: str, body: object, key: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    status, _, raw = request(port, "POST", "/v1/decisions", body, headers)
    return status, orjson.loads(raw)


def test_two_hosts_share_idempotency_the_chain_and_document_their_limits(
    shared: dict[str, str], hosts: list[int], tmp_path: Path
) -> None:
    system = _cli(shared, "keys", "create", "--role", "system", "--name", "orders").strip()
    busy = _cli(shared, "keys", "create", "--role", "system", "--name", "busy").strip()
    auditor = _cli(shared, "keys", "create", "--role", "auditor", "--name", "audit").strip()
    one, two = hosts

    # The same Idempotency-Key and body to both hosts at once, 12 times over.
    cases = [make_case() for _ in range(12)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = [
            pool.submit(_post, port, system, case, f"twin-{i}")
            for i, case in enumerate(cases)
            for port in (one, two)
        ]
        answers = [future.result() for future in sent]
    by_key: dict[str, list[tuple[int, dict]]] = {}
    for index, answer in enumerate(answers):
        by_key.setdefault(f"twin-{index // 2}", []).append(answer)
    for key, pair in by_key.items():
        assert sorted(status for status, _ in pair) == [200, 201], (key, pair)
        assert len({body["decision_id"] for _, body in pair}) == 1, key

    # One chain, both hosts' entries in it, unbroken.
    verified = orjson.loads(_cli(shared, "audit", "verify", "--json"))
    assert verified["ok"] and verified["entries"] == 3 + 12  # three keys, twelve decisions
    status, _, raw = request(one, "GET", "/v1/audit/verify", None, _auth(auditor))
    assert status == 200 and orjson.loads(raw)["entries"] == 15

    # Rate limit: each host grants the key its own burst; the one after it is a 429.
    for port in (one, two):
        statuses = []
        for _ in range(BURST + 1):
            status, headers, _ = request(port, "GET", "/v1/rulesets", None, _auth(busy))
            statuses.append(status)
        assert statuses == [200] * BURST + [429]
        assert headers["RateLimit-Policy"] == f'"per-key";q={BURST};w={int(BURST / 0.01)}'

    # A chunked body over the limit is a 413 under gunicorn too (no Content-Length to refuse).
    def over_limit() -> Iterator[bytes]:
        yield b'{"pad": "'
        for _ in range(150):
            yield b"x" * 10_000
        yield b'"}'

    conn = http.client.HTTPConnection("127.0.0.1", one, timeout=20)
    try:
        conn.request("POST", "/v1/decisions", over_limit(), _auth(system), encode_chunked=True)
        assert conn.getresponse().status == 413
    finally:
        conn.close()

    # A key inside a malformed header line reaches no log line of either host.
    for port in (one, two):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"GET /v1/rulesets HTTP/1.1\r\nHost: x\r\nAuthorization Bearer "
                + system.encode()
                + b"\r\n\r\n"
            )
            assert b" 400 " in sock.recv(4096).split(b"\r\n")[0] + b" "
    logs = "".join(p.read_text() for p in tmp_path.glob("host-*.log"))
    assert "Invalid HTTP Header" in logs or "Invalid request" in logs
    for token in (system, busy, auditor):
        assert token[len("adj_") + 13 :] not in logs  # the secret part, after the key id
