"""Helpers for the webhook tests: a real receiver on loopback, a clock tests move, events.

The receiver is a small threaded HTTP server on a free port of 127.0.0.1. It
records every request (path, headers, body) and answers with the statuses a
test queues (200 when none is queued); it can also hang until released, or be
stopped so its port refuses connections.

The clock starts at the real time and moves only when a test moves it:
Standard Webhooks receivers (``standardwebhooks.Webhook.verify``) refuse a
signature whose timestamp is more than five minutes from their own clock, so
signed requests in these tests must be stamped near the real time.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.webhooks.outbox import enqueue

ADMIN = Actor(key_id=None, name="cli:test", role="admin")


class MovableClock:
    """The real time when made; afterwards it changes only by :meth:`advance`."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops concurrent connections' SYNs (1 s stalls)
    daemon_threads = True


class Receiver:
    """A loopback HTTP receiver; see the module docstring."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: deque[int] = deque()
        self.hang = False
        self.hanging = threading.Event()  # set while a request is held by ``hang``
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                if receiver.hang:
                    receiver.hanging.set()
                    receiver.release.wait(30)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.url + "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def by_path(self, path: str) -> list[Received]:
        """The requests sent to ``path`` (a subscription's URL path and query)."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def stop(self) -> None:
        """Stop serving and close the port (it refuses connections from now on)."""
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A running :class:`Receiver`, stopped afterwards."""
    running = Receiver()
    try:
        yield running
    finally:
        running.stop()


def emit(
    store: Store, event_type: str, claim_ref: str = "c0ffee00-0000-4000-8000-000000000001"
) -> str:
    """Write one claim event to the outbox, as the claim lifecycle does; return its id."""
    claim = {"claim_ref": claim_ref, "stage": "negotiation", "status": "awaiting_supplier"}
    with store.db.write() as session:
        return enqueue(session, type=event_type, claim_ref=claim_ref, at=store.clock(), claim=claim)


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens."""
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    return f"http://127.0.0.1:{port}/down"
