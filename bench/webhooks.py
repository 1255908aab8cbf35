"""``python -m bench.webhooks``: how fast the worker's jobs move events to a receiver.

Writes N claim events to the outbox of a fresh database (a temporary SQLite
file, or ``--database-url``, which must be an empty database), subscribes a
loopback receiver that answers 204 at once (its own process, so that it does
not share this one's GIL), then times ``dispatch_outbox`` until the outbox is
empty and ``deliver_due`` until nothing is due, in this one worker. Prints
events/s for each. A benchmark, not a test: it asserts nothing (the receiver
shares the machine's cores with the worker).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from adjudicator.db.actor import Actor
from adjudicator.db.config import StoreConfig
from adjudicator.db.store import open_store
from adjudicator.webhooks import create_subscription, deliver_due, dispatch_outbox
from adjudicator.webhooks.outbox import enqueue

OPERATOR = Actor(key_id=None, name="bench", role="admin")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops concurrent SYNs: 1 s stalls, not the worker
    daemon_threads = True


class _Quick(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def run(database_url: str, events: int) -> None:
    store = open_store(StoreConfig(database_url=database_url, key_secret=b"bench-secret"))
    store.db.migrate()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.webhooks", "--receiver"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert receiver.stdout is not None
        url = f"http://127.0.0.1:{int(receiver.stdout.readline())}/hooks"
        create_subscription(store, url=url, events=["*"], actor=OPERATOR)
        claim = {"claim_ref": "bench", "stage": "negotiation", "status": "awaiting_supplier"}
        with store.db.write() as session:
            for _ in range(events):
                enqueue(
                    session, type="claim.opened", claim_ref="bench", at=store.clock(), claim=claim
                )
        started = time.perf_counter()
        while dispatch_outbox(store):
            pass
        dispatched = time.perf_counter() - started
        started = time.perf_counter()
        sent = 0
        while made := deliver_due(store):
            sent += made
        delivered = time.perf_counter() - started
    finally:
        receiver.terminate()
        receiver.wait()
        store.close()
    print(f"{store.db.dialect}: {events} events")
    print(f"  dispatch_outbox  {events / dispatched:8.0f} events/s")
    print(f"  deliver_due      {sent / delivered:8.0f} deliveries/s ({sent} sent)")


def receive() -> None:
    """Serve the receiver on a free loopback port; print the port, then serve until killed."""
    server = _Server(("127.0.0.1", 0), _Quick)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite)")
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        receive()
        return
    if args.database_url:
        run(args.database_url, args.events)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'bench.db'}", args.events)


if __name__ == "__main__":
    main()
