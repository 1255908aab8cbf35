"""``make bench-console``: the console queue's first page with 10,000 claims stored.

Opens one claim through the service (``open_claim``: engine, audit, events),
then copies its row 9,999 times with other refs, orders, statuses,
currencies, recommended outcomes, amounts claimed and due times in one bulk
insert (the queue reads only the ``claims`` table; copying
skips the engine and the audit chain, so ``audit verify`` of this scratch
database would name the copies, and nothing else reads them). Then it logs a
staff user in and times ``GET /console/`` (the Needs staff tab, 25 rows) and
its other tabs, and two filtered views (currency, recommendation), in the
app itself, through the Flask test client: server
time, without a network or a browser. SQLite always; PostgreSQL too when
``ADJUDICATOR_TEST_DATABASE_URL`` is set (a scratch schema). Prints the
median and p95 of 200 requests per tab. A benchmark, not a test: it asserts
nothing.
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from servicekit import KEY_SECRET, make_case, pg_base_url, pg_schema  # noqa: E402

from adjudicator.claims.models import ClaimRow  # noqa: E402
from adjudicator.claims.service import open_claim  # noqa: E402
from adjudicator.core.decision import OUTCOMES  # noqa: E402
from adjudicator.core.lifecycle import STATUSES, stage_of  # noqa: E402
from adjudicator.db.actor import Actor  # noqa: E402
from adjudicator.identity.users import create_user  # noqa: E402
from api import create_app  # noqa: E402

CLAIMS = 10_000
ROUNDS = 200
OPERATOR = Actor(key_id=None, name="bench", role="admin")
WAITING = {"awaiting_supplier": "supplier", "awaiting_buyer": "buyer",
           "awaiting_evidence": "supplier", "awaiting_staff": "staff",
           "pending_approval": "staff", "refund_pending": "staff",
           "refund_initiated": "system"}  # fmt: skip
TABS = ("needs_staff", "waiting", "approval", "at_risk", "closed")
FILTERED = ("needs_staff&currency=EUR", "needs_staff&recommendation=denied")  # filtered views
CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP")


def _fill(app: Any) -> None:
    store = app.extensions["adjudicator"].store
    decider = app.extensions["adjudicator"].decider
    with app.app_context():
        record, _ = open_claim(store, decider, make_case(order_id="PO-BENCH-0"), OPERATOR)
    with store.db.read() as session:
        template = session.execute(select(ClaimRow).where(ClaimRow.ref == record.ref)).scalar_one()
        base = {c.name: getattr(template, c.name) for c in ClaimRow.__table__.c}
    now = store.clock()
    rng = random.Random(8)
    rows = []
    for i in range(1, CLAIMS):
        status = rng.choice(STATUSES)
        due = None if status not in WAITING else now + timedelta(hours=rng.uniform(-72, 240))
        rows.append({**base, "ref": str(uuid.uuid4()), "order_id": f"PO-BENCH-{i}",
                     "claim_id": f"CL-{i}", "status": status, "stage": stage_of(status),
                     "waiting_on": WAITING.get(status, "none"), "open_key": None,
                     "idempotency_key": None, "next_due": due,
                     "currency": rng.choice(CURRENCIES),
                     "recommended_outcome": rng.choice(OUTCOMES),
                     "amount_claimed": rng.choice((None, f"{rng.randint(1, 20000)}.00")),
                     "due_sort": due or base["due_sort"]})  # fmt: skip
    with store.db.write() as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(ClaimRow), rows[start : start + 1000])
    with store.db.read() as session:
        count = session.execute(select(ClaimRow.ref)).all()
    print(f"  {len(count)} claims stored")


def _measure(url: str, label: str) -> None:
    app = create_app({"DATABASE_URL": url, "KEY_SECRET": KEY_SECRET})
    store = app.extensions["adjudicator"].store
    store.db.migrate()
    print(f"{label}:")
    _fill(app)
    create_user(store, name="bench", role="staff", password="bench password", actor=OPERATOR)
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form = {"username": "bench", "password": "bench password", "csrf_token": token.group(1)}
    assert client.post("/console/login", data=form).status_code == 302
    for tab in TABS + FILTERED:
        for _ in range(10):  # warm up: templates compiled, connections pooled
            client.get(f"/console/?tab={tab}")
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            response = client.get(f"/console/?tab={tab}")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        rows = response.get_data(as_text=True).count('id="claim-')
        times.sort()
        print(f"  {tab:34} first page ({rows:2} rows): median {statistics.median(times):6.2f} ms"
              f"   p95 {times[int(len(times) * 0.95)]:6.2f} ms")  # fmt: skip
    store.close()


def main() -> None:
    """Measure on SQLite, then on PostgreSQL when configured."""
    with tempfile.TemporaryDirectory() as scratch:
        _measure(f"sqlite:///{Path(scratch) / 'bench.db'}", "SQLite")
    base = pg_base_url()
    if base:
        with pg_schema(base, "bench") as url:
            _measure(url, "PostgreSQL")


if __name__ == "__main__":
    main()
