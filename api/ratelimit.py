"""Per-key rate limit: a token bucket per API key, in each worker process.

The configured rate and burst are for one ``adjudicator serve`` (one host);
each of its N workers enforces ``rate / N`` and ``burst / N`` on the requests it
gets (gunicorn spreads connections over workers, so a key's traffic is spread
too). That needs no shared state and costs a dict lookup under a lock per
request; the price is that the limit is approximate when one key's
connections land unevenly on the workers. Several hosts behind a balancer do
not share buckets either: with H hosts a key may make up to H times the
configured rate (see ``docs/operations.md``).

A request over the limit is a 429 problem with ``Retry-After`` (whole seconds
until the bucket holds a token again). Every response to a request with a
valid key carries the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers,
revision 10, Structured Fields), describing the bucket of the worker that
answered:

- ``RateLimit-Policy: "per-key";q=<burst>;w=<seconds>``: the quota ``q``
  (the bucket's size) and the window ``w`` in which an empty bucket refills;
- ``RateLimit: "per-key";r=<remaining>;t=<seconds>``: the requests left now
  and the seconds until the bucket is full again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g

POLICY = "per-key"


@dataclass(frozen=True, slots=True)
class Quota:
    """One request's answer from the bucket: allowed or not, and what is left."""

    allowed: bool
    remaining: int
    reset: int  # seconds until the bucket is full again
    retry_after: int  # seconds until the next request may pass (0: now)


class RateLimiter:
    """Token buckets keyed by API key id; ``rate`` tokens per second, at most ``burst``."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when)
        self._lock = threading.Lock()

    @classmethod
    def share(cls, rate: float, burst: int, processes: int) -> RateLimiter:
        """This process's share of a limit kept by ``processes`` workers of one host."""
        processes = max(1, processes)
        return cls(rate / processes, burst / processes)

    @property
    def enabled(self) -> bool:
        """A rate of 0 turns the limit off."""
        return self.rate > 0

    def take(self, key_id: str) -> Quota:
        """Take a token for ``key_id`` if there is one; say what is left either way."""
        now = self._clock()
        with self._lock:
            tokens, when = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key_id] = (tokens, now)
        reset = math.ceil((self.burst - tokens) / self.rate)
        wait = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))
        return Quota(allowed, int(tokens), reset, wait)

    def retry_after(self, key_id: str) -> int:
        """Take a token for ``key_id``: 0 if there was one, else seconds to wait for one."""
        if not self.enabled:
            return 0
        return self.take(key_id).retry_after

    def policy(self) -> str:
        """The ``RateLimit-Policy`` field value."""
        return f'"{POLICY}";q={int(self.burst)};w={max(1, math.ceil(self.burst / self.rate))}'

    def headers(self, quota: Quota) -> dict[str, str]:
        """The ``RateLimit`` and ``RateLimit-Policy`` fields for ``quota``."""
        return {
            "RateLimit": f'"{POLICY}";r={quota.remaining};t={quota.reset}',
            "RateLimit-Policy": self.policy(),
        }


def install(app: Flask, limiter: RateLimiter | None) -> None:
    """Add the RateLimit fields to every response whose request took a token."""
    if limiter is None or not limiter.enabled:
        return

    def add_fields(response: Response) -> Response:
        quota = g.get("rate_quota")
        if quota is not None:
            for name, value in limiter.headers(quota).items():
                response.headers.setdefault(name, value)
        return response

    app.after_request(add_fields)
