"""What the views call: the store, the adjudicator, the metrics, the rate limiter,
and the rules governance (the active version, replay settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from flask import current_app

from adjudicator.core.rules.model import Catalog
from adjudicator.db.store import Store
from adjudicator.decisions.service import Decider
from adjudicator.governance.active import ActiveVersionCache
from api.metrics import Metrics, TimedDecider
from api.ratelimit import RateLimiter

EXTENSION = "adjudicator"


class DecisionCore(Decider, Protocol):
    """What the views need of the core: ``adjudicator.Adjudicator``, or a test double
    that decides and holds a catalog of ruleset versions."""

    catalog: Catalog  # the loaded ruleset versions


@dataclass(frozen=True)
class Services:
    """The store and the decision core of one app (one per worker process)."""

    store: Store
    adjudicator: DecisionCore
    metrics: Metrics | None = None
    limiter: RateLimiter | None = None
    active: ActiveVersionCache | None = None
    rules_dir: Path | None = None
    replay_jobs: int = 1
    decider: Decider = field(init=False)

    def __post_init__(self) -> None:
        """The adjudicator as the store's Decider, timed when there are metrics."""
        decider: Decider = self.adjudicator
        if self.metrics is not None:
            decider = TimedDecider(decider, self.metrics)
        object.__setattr__(self, "decider", decider)

    def active_version(self) -> str | None:
        """The version decisions use when a request names none (the database's, cached)."""
        if self.active is None:  # a test double without a catalog: let the core choose
            return None
        return self.active.get()


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions[EXTENSION]
    return found
