"""The claims mix of ``make bench-http``: whole disputes driven over HTTP.

Each client connection repeats one dispute: ``POST /v1/claims`` (filed four
days ago, so the buyer may escalate), ``submit_evidence`` (a payment
corrected: a new revision, decided again), ``escalate``, ``propose`` (an
override, by one staff key) and ``approve`` (by another). Reports disputes
per second and p50/p99 latency per operation. A benchmark: it asserts nothing.
"""

from __future__ import annotations

import copy
import http.client
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from api.examples import WORKED_EXAMPLE_1

STEPS = ("open", "submit_evidence", "escalate", "propose", "approve")


def _case() -> dict[str, Any]:
    case = copy.deepcopy(WORKED_EXAMPLE_1)
    case.pop("as_of", None)
    case["order"]["order_id"] = f"PO-{uuid.uuid4().hex[:12]}"
    filed = datetime.now(UTC) - timedelta(days=4)
    case["claim"]["filed_at"] = filed.isoformat().replace("+00:00", "Z")
    return case


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def drive(port: int, keys: dict[str, str], seconds: float, concurrency: int) -> dict[str, Any]:
    """Run disputes for ``seconds`` on ``concurrency`` connections; latencies per step."""
    latencies: dict[str, list[float]] = {step: [] for step in STEPS}
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    disputes = [0]

    def call(
        conn: http.client.HTTPConnection,
        key: str,
        path: str,
        body: Any,
        step: str,
        mine: dict[str, list[float]],
        seen: dict[int, int],
    ) -> Any:
        headers = {
            "Authorization": f"Bearer {keys[key]}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        started = time.perf_counter()
        conn.request("POST", path, orjson.dumps(body), headers)
        response = conn.getresponse()
        raw = response.read()
        mine[step].append(time.perf_counter() - started)
        seen[response.status] = seen.get(response.status, 0) + 1
        return orjson.loads(raw) if response.status < 300 else None

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: dict[str, list[float]] = {step: [] for step in STEPS}
        seen: dict[int, int] = {}
        done = 0
        while time.monotonic() < stop_at:
            claim = call(conn, "system", "/v1/claims", _case(), "open", mine, seen)
            if claim is None:
                continue
            base = f"/v1/claims/{claim['claim_ref']}"
            evidence = {"as": "buyer", "payments": [{"payment_id": "P2", "amount": "13000.00"}]}
            call(conn, "system", f"{base}/submit_evidence", evidence, "submit_evidence", mine, seen)
            call(conn, "system", f"{base}/escalate", {"as": "buyer"}, "escalate", mine, seen)
            override = {
                "kind": "override",
                "outcome": "upheld_partial",
                "refund": {"amount": "9000.00"},
                "justification": "bench",
            }
            call(conn, "staff", f"{base}/propose", override, "propose", mine, seen)
            if call(conn, "staff2", f"{base}/approve", {}, "approve", mine, seen) is not None:
                done += 1
        conn.close()
        with lock:
            for step in STEPS:
                latencies[step].extend(mine[step])
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n
            disputes[0] += done

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    steps = {}
    for step in STEPS:
        ordered = sorted(latencies[step])
        steps[step] = {
            "p50_ms": _pct(ordered, 0.5) * 1000,
            "p99_ms": _pct(ordered, 0.99) * 1000,
            "requests": len(ordered),
        }
    requests = sum(len(v) for v in latencies.values())
    return {
        "disputes": disputes[0],
        "disputes_per_second": disputes[0] / elapsed,
        "requests_per_second": requests / elapsed,
        "steps": steps,
        "statuses": statuses,
    }


def report(database: str, result: dict[str, Any]) -> None:
    """Print one database's numbers."""
    print(
        f"{database:<10} {result['disputes_per_second']:7.1f} disputes/s "
        f"({result['requests_per_second']:.0f} requests/s, {result['disputes']} disputes, "
        f"statuses {result['statuses']})"
    )
    for step, numbers in result["steps"].items():
        print(f"  {step:<16} p50 {numbers['p50_ms']:6.1f} ms   p99 {numbers['p99_ms']:6.1f} ms")
