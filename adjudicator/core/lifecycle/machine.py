"""Reading the table: may this party take this action now, and what may it take.

:func:`check` is the one place a move is allowed or refused; :func:`advance`
checks, computes the next state (:mod:`.steps`) and makes sure it is one of
the row's targets; :func:`available_actions` is what a claim shows its caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adjudicator.core.lifecycle.errors import ActionForbidden, InvalidTransition, StaleProposal
from adjudicator.core.lifecycle.state import ClaimState
from adjudicator.core.lifecycle.steps import STEPS
from adjudicator.core.lifecycle.table import Acting, Refusal, Transition, rows


@dataclass(frozen=True, slots=True)
class Available:
    """An action the caller may take as ``party``; ``reason`` says why not yet."""

    action: str
    party: str
    allowed: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"action", "as", "allowed", "reason"}``."""
        return {"action": self.action, "as": self.party, "allowed": self.allowed,
                "reason": self.reason}  # fmt: skip


def _refusal(row: Transition, state: ClaimState, acting: Acting) -> Refusal | None:
    for guard in row.guards:
        refusal = guard(state, acting)
        if refusal is not None:
            return refusal
    return None


def available_actions(state: ClaimState, parties: Sequence[str], acting: Acting) -> list[Available]:
    """Every action ``parties`` may take from this status, each allowed now or with why not."""
    found: dict[tuple[str, str], Available] = {}
    for row in rows(state.status):
        for party in row.parties:
            if party not in parties or (row.action, party) in found:
                continue
            refusal = _refusal(
                row, state, Acting(party, acting.actor_id, acting.now, acting.person)
            )
            found[(row.action, party)] = Available(
                row.action, party, refusal is None, None if refusal is None else refusal.reason
            )
    return list(found.values())


def allowed_now(state: ClaimState, parties: Sequence[str], acting: Acting) -> list[str]:
    """The names of the actions ``parties`` may take right now."""
    names = (a.action for a in available_actions(state, parties, acting) if a.allowed)
    return list(dict.fromkeys(names))


def check(
    state: ClaimState, action: str, acting: Acting, parties: Sequence[str] | None = None
) -> Transition:
    """The row that lets ``acting.party`` take ``action`` now; raises the refusal otherwise.

    ``parties`` are all the parties the caller could act as (for the ``allowed``
    list of a refusal); by default only ``acting.party``.
    """
    callers = list(parties) if parties is not None else [acting.party]
    candidates = rows(state.status, action)
    if not candidates:
        allowed = allowed_now(state, callers, acting)
        reason = f"A claim in status {state.status!r} does not accept {action!r}."
        raise InvalidTransition(action, state.status, allowed, reason)
    mine = [row for row in candidates if acting.party in row.parties]
    if not mine:
        who = sorted({p for row in candidates for p in row.parties})
        raise ActionForbidden(action, f"{action!r} is taken by: {', '.join(who)}.")
    row = mine[0]
    refusal = _refusal(row, state, acting)
    if refusal is None:
        return row
    if refusal.kind == "forbidden":
        raise ActionForbidden(action, refusal.reason)
    if refusal.kind == "stale" and state.proposal is not None:
        raise StaleProposal(int(state.proposal["revision"]), state.revision)
    raise InvalidTransition(action, state.status, allowed_now(state, callers, acting),
                            refusal.reason)  # fmt: skip


def advance(
    state: ClaimState,
    action: str,
    acting: Acting,
    body: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    parties: Sequence[str] | None = None,
) -> tuple[Transition, ClaimState]:
    """Check the move, compute the next state; return the row and the new state."""
    row = check(state, action, acting, parties)
    following = STEPS[action](state, acting, body, extra or {})
    if following.status not in row.targets:  # a step that disagrees with the table is a bug
        raise AssertionError(f"{action} moved {state.status} to {following.status}")
    return row, following
