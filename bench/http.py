"""``make bench-http``: decisions per second and latency of ``POST /v1/decisions``,
then the claims mix (:mod:`bench.claims_mix`: whole disputes over HTTP).

Starts ``adjudicator serve`` (its default workers) on a free loopback port,
first against SQLite and then against PostgreSQL, and drives it from this
machine with a bounded thread pool of keep-alive ``http.client`` connections
posting the fixture cases (``fixtures/*.json``; a built-in worked example
when there are none), each with its own ``Idempotency-Key`` as upstream
systems send them. Prints decisions/s and p50/p99 latency per database. A
benchmark, not a test: it asserts nothing. The load generator shares the
machine's cores with the server, as the target says.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, text

from api.examples import WORKED_EXAMPLE_1
from bench import claims_mix

ROOT = Path(__file__).resolve().parents[1]
ADJUDICATOR = str(Path(sys.executable).with_name("adjudicator"))
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _bodies(folder: Path) -> list[bytes]:
    cases = [orjson.loads(p.read_bytes())["case"] for p in sorted(folder.glob("*.json"))]
    return [orjson.dumps(case) for case in (cases or [WORKED_EXAMPLE_1])]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def _pg_schema(base_url: str) -> Iterator[str]:
    schema = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(base_url.split("?")[0])
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url.split('?')[0]}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@contextmanager
def _server(
    database_url: str, workdir: Path, workers: int | None, threads: int | None
) -> Iterator[tuple[int, dict[str, str]]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ADJUDICATOR_KEY_SECRET": secrets.token_hex(16),
    }
    keys = {
        name: subprocess.run(
            [ADJUDICATOR, "keys", "create", "--role", role, "--name", f"bench-{name}"],
            cwd=workdir, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()
        for name, role in (("system", "system"), ("staff", "staff"), ("staff2", "staff"))
    }  # fmt: skip
    port = _free_port()
    command = [ADJUDICATOR, "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    log = (workdir / "serve.log").open("wb")
    server = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"server did not start; see {workdir / 'serve.log'}")
            time.sleep(0.1)
        yield port, keys
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _drive(
    port: int, key: str, bodies: list[bytes], total: int, seconds: float, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(total))
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        seen: dict[int, int] = {}
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            headers = {
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex,
            }
            started = time.perf_counter()
            conn.request("POST", "/v1/decisions", bodies[i % len(bodies)], headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            seen[response.status] = seen.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "per_second": len(ordered) / elapsed,
        "p50_ms": _pct(ordered, 0.50) * 1000,
        "p99_ms": _pct(ordered, 0.99) * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=None, help="default: the active version's")
    parser.add_argument("--requests", type=int, default=6000, help="per database (bound)")
    parser.add_argument("--seconds", type=float, default=15.0, help="per database (bound)")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections")
    parser.add_argument("--workers", type=int, default=None, help="default: serve's default")
    parser.add_argument("--threads", type=int, default=None, help="default: serve's default")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("ADJUDICATOR_TEST_DATABASE_URL") or DEFAULT_PG,
        help="PostgreSQL server (a fresh schema is used and dropped)",
    )
    parser.add_argument("--mix", choices=["decisions", "claims"], action="append",
                        help="decisions: POST /v1/decisions; claims: whole disputes "
                        "(open, evidence, escalate, propose, approve); default both")  # fmt: skip
    args = parser.parse_args()
    if args.fixtures is None:
        from adjudicator import load_catalog

        args.fixtures = ROOT / "fixtures" / load_catalog().active_version
    mixes = args.mix or ["decisions", "claims"]
    bodies = _bodies(args.fixtures)
    print(
        f"POST /v1/decisions: {len(bodies)} case(s), {args.concurrency} connections, "
        f"at most {args.requests} requests or {args.seconds:.0f} s per database, "
        f"{os.cpu_count()} CPUs shared with the load generator"
    )
    for database in args.database or ["sqlite", "postgresql"]:
        workdir = Path(tempfile.mkdtemp(prefix="bench-http-"))
        try:
            with (
                _database(database, workdir, args.pg_url) as url,
                _server(url, workdir, args.workers, args.threads) as (port, keys),
            ):
                if "decisions" in mixes:
                    _drive(port, keys["system"], bodies, 300, 10, 4)  # warm-up
                    result = _drive(
                        port, keys["system"], bodies, args.requests, args.seconds,
                        args.concurrency,
                    )  # fmt: skip
                    print(
                        f"{database:<10} {result['per_second']:7.0f} decisions/s   "
                        f"p50 {result['p50_ms']:6.1f} ms   p99 {result['p99_ms']:6.1f} ms   "
                        f"({result['requests']} requests, statuses {result['statuses']})"
                    )
                if "claims" in mixes:
                    claims_mix.drive(port, keys, 3, 4)  # warm-up
                    claims_mix.report(
                        database, claims_mix.drive(port, keys, args.seconds, args.concurrency)
                    )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _database(kind: str, workdir: Path, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
    else:
        with _pg_schema(pg_url) as url:
            yield url


if __name__ == "__main__":
    main()
