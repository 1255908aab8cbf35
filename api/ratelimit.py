"""Per-key rate limit: a token bucket per API key, in each worker process.

The configured rate and burst are for the whole service; each of ``serve``'s
N workers enforces ``rate / N`` and ``burst / N`` on the requests it gets
(gunicorn spreads connections over workers, so a key's traffic is spread too).
That needs no shared state and costs a dict lookup under a lock per request;
the price is that the limit is approximate when one key's connections land
unevenly on the workers. A request over the limit is a 429 problem with
``Retry-After`` (whole seconds until the bucket holds a token again).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


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
        """This process's share of a service-wide limit kept by ``processes`` workers."""
        processes = max(1, processes)
        return cls(rate / processes, burst / processes)

    @property
    def enabled(self) -> bool:
        """A rate of 0 turns the limit off."""
        return self.rate > 0

    def retry_after(self, key_id: str) -> int:
        """Take a token for ``key_id``: 0 if there was one, else seconds to wait for one."""
        if not self.enabled:
            return 0
        now = self._clock()
        with self._lock:
            tokens, when = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0
            self._buckets[key_id] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))
