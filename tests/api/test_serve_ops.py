"""``adjudicator serve`` for operators: JSON logs from gunicorn and the app, metrics
merged over workers, and a SIGTERM that lets in-flight requests finish."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from claimkit import filed_case
from prometheus_client.parser import text_string_to_metric_families
from servicekit import make_case

from adjudicator import load_catalog
from adjudicator.db.config import utc_now

ADJUDICATOR = str(Path(sys.executable).with_name("adjudicator"))
GRACE = 20
ACTIVE_VERSION = load_catalog().active_version
DECIDED = (
    "adjudicator_decisions_total",
    (("outcome", "upheld_full"), ("ruleset", ACTIVE_VERSION)),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Served:
    def __init__(self, process: subprocess.Popen[bytes], port: int, key: str, log: Path) -> None:
        self.process, self.port, self.key, self.log = process, port, key, log

    def post(self, body: bytes, path: str = "/v1/decisions") -> tuple[int, bytes]:
        return self.request("POST", path, body)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body, {"Authorization": f"Bearer {self.key}"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def log_lines(self) -> list[dict[str, object]]:
        """Every line on serve's stderr, parsed: each must be one JSON object."""
        return [orjson.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    env = {
        **os.environ,
        "ADJUDICATOR_KEY_SECRET": "ops-test-secret-of-at-least-32-bytes",
        "ADJUDICATOR_GRACEFUL_TIMEOUT": str(GRACE),
        "ADJUDICATOR_WORKERS": "2",
        "ADJUDICATOR_THREADS": "4",
        "ADJUDICATOR_METRICS_DIR": str(tmp_path / "metrics"),
    }
    env.pop("DATABASE_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if getattr(request, "param", None) == "temporary metrics dir":
        del env["ADJUDICATOR_METRICS_DIR"]
        env["TMPDIR"] = str(tmp_path / "tmp")
        (tmp_path / "tmp").mkdir()
    key = subprocess.run(
        [ADJUDICATOR, "keys", "create", "--role", "system", "--name", "ops"],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    port = _free_port()
    log = tmp_path / "serve.stderr"
    with log.open("wb") as err, (tmp_path / "serve.stdout").open("wb") as out:
        process = subprocess.Popen(
            [ADJUDICATOR, "serve", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=err,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield Served(process, port, key, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.slow
def test_metrics_merge_every_worker_and_logs_are_json(served: Served, tmp_path: Path) -> None:
    total = 0
    for _ in range(10):  # rounds of 12 concurrent posts until both workers have served some
        bodies = [orjson.dumps(make_case()) for _ in range(12)]
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda b=b, out=results: out.append(served.post(b)[0]))
            for b in bodies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [201] * 12
        total += 12
        files = {p.name.rsplit("_", 1)[-1] for p in (tmp_path / "metrics").glob("histogram_*.db")}
        if len(files) == 2:  # a worker still booting serves nothing: readiness needs only one
            break
    assert len(files) == 2, "both workers served requests"  # so one scrape must merge them
    for _ in range(4):  # whichever worker answers the scrape sees every decision
        status, text = _get(served.port, "/metrics")
        assert status == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text.decode())
            for s in family.samples
        }
        decided = DECIDED
        assert samples[decided] == total
        assert samples[("adjudicator_audit_chain_length", ())] == total + 1  # and the key
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=GRACE + 10) == 0
    lines = served.log_lines()
    assert served.key not in served.log.read_text()
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.error", "adjudicator.access"} <= loggers
    access = [line for line in lines if line["logger"] == "adjudicator.access"]
    assert len([a for a in access if a["path"] == "/v1/decisions"]) == total
    assert all(len(str(a["request_id"])) == 32 for a in access)
    assert not list((tmp_path / "metrics").glob("gauge_live*"))


@pytest.mark.slow
def test_sigterm_finishes_in_flight_requests_then_exits_0(served: Served) -> None:
    """Requests whose bodies are half sent when SIGTERM arrives still get their 201."""
    bodies = [orjson.dumps(make_case()) for _ in range(6)]
    socks = []
    for body in bodies:
        sock = socket.create_connection(("127.0.0.1", served.port), timeout=GRACE)
        head = (
            f"POST /v1/decisions HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {served.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[: len(body) // 2])
        socks.append(sock)
    time.sleep(1.0)  # every request is now being read by a worker thread
    served.process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    time.sleep(1.5)  # the workers are stopping, the requests are still in flight
    assert served.process.poll() is None
    for sock, body in zip(socks, bodies, strict=True):
        sock.sendall(body[len(body) // 2 :])
    for sock in socks:
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 201, response.read()
        assert orjson.loads(response.read())["outcome"] == "upheld_full"
        sock.close()
    assert served.process.wait(timeout=GRACE + 5) == 0
    assert time.monotonic() - stopped_at < GRACE
    messages = [line["message"] for line in served.log_lines()]
    assert "Handling signal: term" in messages


@pytest.mark.slow
@pytest.mark.parametrize("served", ["temporary metrics dir"], indirect=True)
def test_serve_removes_the_metrics_dir_it_made(served: Served, tmp_path: Path) -> None:
    made = list((tmp_path / "tmp").glob("adjudicator-metrics-*"))
    assert len(made) == 1 and made[0].is_dir()
    assert served.post(orjson.dumps(make_case()))[0] == 201
    assert list(made[0].glob("*.db"))
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=GRACE + 10) == 0
    assert not made[0].exists()


@pytest.mark.slow
@pytest.mark.parametrize("served", ["temporary metrics dir"], indirect=True)
def test_a_worker_leaving_keeps_the_shared_metrics_dir(served: Served, tmp_path: Path) -> None:
    """A worker unwinds serve's frames as it exits: it must not remove the master's dir."""
    made = list((tmp_path / "tmp").glob("adjudicator-metrics-*"))
    assert served.post(orjson.dumps(make_case()))[0] == 201
    workers = _worker_pids(served.process.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGTERM)  # gunicorn replaces it
    deadline = time.monotonic() + 30
    while True:
        now = _worker_pids(served.process.pid)
        if len(now) == 2 and workers[0] not in now:
            break
        assert served.process.poll() is None, served.log.read_text()
        assert time.monotonic() < deadline, "the worker was never replaced"
        time.sleep(0.1)
    assert made[0].is_dir()
    for _ in range(6):  # both workers, the replacement included, decide and scrape
        assert served.post(orjson.dumps(make_case()))[0] == 201
        assert _get(served.port, "/metrics")[0] == 200
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=GRACE + 10) == 0
    assert not made[0].exists()


@pytest.mark.slow
def test_serve_on_sqlite_is_the_whole_product_timers_included(served: Served) -> None:
    """A claim filed ten days ago is escalated by serve's own job worker, and again by
    the one started after that worker was killed; SIGTERM then leaves no worker behind."""

    def escalated_when_filed_ten_days_ago() -> None:
        case = filed_case(filed_at=utc_now() - timedelta(days=10))
        status, body = served.post(orjson.dumps(case), "/v1/claims")
        assert status == 201, body
        ref = orjson.loads(body)["claim_ref"]
        deadline = time.monotonic() + 30
        while True:
            status, body = served.request("GET", f"/v1/claims/{ref}")
            if status == 200 and orjson.loads(body)["status"] == "awaiting_staff":
                return
            assert time.monotonic() < deadline, f"never escalated: {body[:300]!r}"
            time.sleep(0.2)

    escalated_when_filed_ten_days_ago()
    (supervisor,) = _job_workers(served.process.pid)
    (loop,) = _job_workers(supervisor)
    os.kill(loop, signal.SIGKILL)
    escalated_when_filed_ten_days_ago()
    (again,) = _job_workers(supervisor)
    assert again != loop
    restarts = [line for line in served.log_lines() if "job worker" in str(line.get("message"))]
    assert len(restarts) == 1 and restarts[0]["level"] == "ERROR", restarts
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=GRACE + 10) == 0
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in (supervisor, again)):
        assert time.monotonic() < deadline, "serve's job worker outlived it"
        time.sleep(0.1)


def _job_workers(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return sorted(int(pid) for pid in children if _is_job_worker(int(pid)))


def _worker_pids(master: int) -> list[int]:
    """gunicorn's workers: serve's children but its job worker (``adjudicator worker``)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children if not _is_job_worker(int(pid)))


def _is_job_worker(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    return b"worker" in argv and b"--parent" in argv
