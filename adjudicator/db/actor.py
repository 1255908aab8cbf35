"""Who acted: recorded with every decision and every audit entry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """An API key (id, name, role), or an operator at the command line (no key id).

    ``user_id`` names the console user behind the actor: the user of a console
    session, or the user an API key is bound to (``keys create --user``). Four
    eyes on money compares these persons (:func:`person`), never key ids.
    """

    key_id: str | None
    name: str
    role: str
    user_id: int | None = None


def person(actor: Actor) -> str | None:
    """The person behind ``actor`` (``user:<id>``), or ``None`` for an unbound key."""
    return None if actor.user_id is None else f"user:{actor.user_id}"
