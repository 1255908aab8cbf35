"""What the views call: the store and the adjudicator built by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from adjudicator.store import Decider, Store

EXTENSION = "adjudicator"


@dataclass(frozen=True)
class Services:
    """The store and the decision core of one app (one per worker process)."""

    store: Store
    adjudicator: Any  # an adjudicator.Adjudicator, or a test double with .decide and .catalog

    @property
    def decider(self) -> Decider:
        """The adjudicator as the store's Decider."""
        decider: Decider = self.adjudicator
        return decider


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions[EXTENSION]
    return found
