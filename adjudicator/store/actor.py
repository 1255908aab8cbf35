"""Who acted: recorded with every decision and every audit entry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """An API key (id, name, role), or an operator at the command line (no key id)."""

    key_id: str | None
    name: str
    role: str
