"""How values are shown: times in the viewer's zone with the offset, countdowns, cards.

The viewer's zone comes from the ``tz`` cookie that ``console.js`` sets from
the browser (``Intl.DateTimeFormat().resolvedOptions().timeZone``); without
it (no JavaScript yet) times are shown in UTC, still with their offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import request

OUTCOMES = {
    "upheld_full": "Upheld in full",
    "upheld_partial": "Upheld in part",
    "denied": "Denied",
    "not_eligible": "Not eligible",
    "escalate": "Escalate to staff",
}
PROPOSAL_KINDS = {"override": "Override", "settle": "Settlement"}  # a pending proposal's kind
DERIVED = "(a date or figure derived while reading the case)"
MONEY_LABELS = {
    "loss": "Loss",
    "assurance_amount": "Assurance amount",
    "covered_payments": "Covered payments",
    "prior_refunds": "Prior refunds",
    "cap": "Cap (the most that may be refunded)",
    "amount_claimed": "Amount claimed",
}


def viewer_zone() -> tzinfo:
    """The zone of the viewer's browser (cookie ``tz``), else UTC."""
    name = unquote(request.cookies.get("tz", ""))
    if name and len(name) < 64:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def parse_time(value: Any) -> datetime | None:
    """A datetime from a datetime or an RFC 3339 string; ``None`` for anything else."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and "T" in value:
        try:
            found = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return found if found.tzinfo else found.replace(tzinfo=UTC)
    return None


def local_time(value: Any) -> str:
    """``2024-04-23 18:00 +08:00`` in the viewer's zone; a date or text as it is."""
    moment = parse_time(value)
    if moment is None:
        return "" if value is None else str(value)
    shown = moment.astimezone(viewer_zone())
    offset = shown.strftime("%z")
    return f"{shown:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def iso_time(value: Any) -> str:
    """The machine-readable form for ``<time datetime=...>``."""
    moment = parse_time(value)
    return "" if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Countdown:
    """Time left until a deadline: its text, its state (ok, soon, overdue)."""

    text: str
    state: str


def countdown(due: Any, now: datetime) -> Countdown | None:
    """``3d 4h`` left (ok > 24 h, soon ≤ 24 h) or ``-2h 10m`` (overdue)."""
    moment = parse_time(due)
    if moment is None:
        return None
    left = moment - now
    sign = "-" if left < timedelta(0) else ""
    total = abs(int(left.total_seconds())) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    text = f"{sign}{days}d {hours}h" if days else f"{sign}{hours}h {minutes}m"
    if left < timedelta(0):
        return Countdown(text, "overdue")
    return Countdown(text, "soon" if left <= timedelta(hours=24) else "ok")


@dataclass(frozen=True)
class Step:
    """One fired rule: its step, id, title, the facts it read and the figures it set."""

    step: int
    rule: str
    title: str
    reads: list[tuple[str, Any]] = field(default_factory=list)
    sets: list[tuple[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Card:
    """A decision document arranged for reading."""

    document: dict[str, Any]
    outcome: str
    money: list[tuple[str, str, bool]]
    binding: str
    steps: list[Step]


def decision_card(document: dict[str, Any], titles: dict[str, str]) -> Card:
    """The card of ``document``; ``titles`` maps rule ids to their titles."""
    money = document.get("money") or {}
    binding = str(money.get("binding", ""))
    rows = [
        (MONEY_LABELS.get(key, key.replace("_", " ").capitalize()), str(value), key == binding)
        for key, value in money.items()
        if key != "binding"
    ]
    steps = []
    for entry in document.get("trace") or []:
        facts = entry.get("facts") or {}
        reads = [(k, v) for k, v in facts.items() if not k.startswith("=> ")]
        sets = [(k[3:], v) for k, v in facts.items() if k.startswith("=> ")]
        rule = str(entry.get("rule", ""))
        title = titles.get(rule, DERIVED)
        steps.append(Step(int(entry.get("step", 0)), rule, title, reads, sets))
    outcome = str(document.get("outcome", ""))
    return Card(document, OUTCOMES.get(outcome, outcome), rows, binding, steps)
