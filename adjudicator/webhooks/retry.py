"""When a failed delivery is tried again: capped exponential backoff with jitter.

The n-th failed attempt (n = 1, 2, ...) waits a random time between half and
all of ``min(CAP, BASE * 2 ** (n - 1))``: 15-30 s, 30-60 s, 1-2 min, ... up to
30-60 min between attempts. The jitter spreads the retries of many deliveries
that failed together (a receiver that was down) so they do not return in one
burst. Retries stop ``MAX_AGE`` (24 h) after the event: a retry that would fall
later is not scheduled and the delivery is marked failed.

Pure: the caller passes the time and the random source.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

BASE = timedelta(seconds=30)
CAP = timedelta(hours=1)
MAX_AGE = timedelta(hours=24)


def backoff(failures: int, rng: random.Random) -> timedelta:
    """The wait after the ``failures``-th failed attempt, jitter included."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    ceiling = CAP if failures > 12 else min(CAP, BASE * 2 ** (failures - 1))
    return ceiling / 2 + ceiling / 2 * rng.random()


def next_retry(
    now: datetime, failures: int, expires_at: datetime, rng: random.Random
) -> datetime | None:
    """When to try again after ``failures`` failed attempts, or ``None`` past ``expires_at``."""
    at = now + backoff(failures, rng)
    return at if at <= expires_at else None
