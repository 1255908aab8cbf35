"""What the views call: the store, the adjudicator, the metrics and the rate limiter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from adjudicator.store import Decider, Store
from api.metrics import Metrics, TimedDecider
from api.ratelimit import RateLimiter

EXTENSION = "adjudicator"


@dataclass(frozen=True)
class Services:
    """The store and the decision core of one app (one per worker process)."""

    store: Store
    adjudicator: Any  # an adjudicator.Adjudicator, or a test double with .decide and .catalog
    metrics: Metrics | None = None
    limiter: RateLimiter | None = None
    decider: Decider = field(init=False)

    def __post_init__(self) -> None:
        """The adjudicator as the store's Decider, timed when there are metrics."""
        decider: Decider = self.adjudicator
        if self.metrics is not None:
            decider = TimedDecider(decider, self.metrics)
        object.__setattr__(self, "decider", decider)


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions[EXTENSION]
    return found
