"""Helpers for the claim tests: a case filed at a known time, actors, and a clock tests move."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from servicekit import make_case

from adjudicator.db.actor import Actor

FILED = datetime(2024, 4, 20, 10, 0, tzinfo=UTC)  # worked example 1's filing time
SYSTEM = Actor(key_id="sys-key", name="orders", role="system")
STAFF_A = Actor(key_id="user:1", name="Ada", role="staff", user_id=1)
STAFF_B = Actor(key_id="user:2", name="Bo", role="staff", user_id=2)


def filed_case(*, filed_at: datetime = FILED, **kwargs: Any) -> dict[str, Any]:
    """Worked example 1 (refund 20000.00 USD) filed at ``filed_at``, without ``as_of``."""
    case = make_case(**kwargs)
    case.pop("as_of", None)
    case["claim"]["filed_at"] = filed_at.isoformat().replace("+00:00", "Z")
    return case


class MovableClock:
    """A clock tests set and move; each reading also steps a microsecond (ordered events)."""

    def __init__(self, start: datetime = FILED + timedelta(hours=1)) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self._now += timedelta(microseconds=1)
            return self._now

    def move(self, delta: timedelta) -> None:
        """Jump forward (or back) by ``delta``."""
        with self._lock:
            self._now += delta

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``."""
        with self._lock:
            self._now = moment
