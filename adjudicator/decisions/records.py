"""A stored decision as the service hands it out, and the checks its columns need."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adjudicator.decisions.models import DecisionRow

IDENTIFIER_MAX = 200
IDEMPOTENCY_KEY_MAX = 255
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_decision_id(text: str) -> bool:
    """True for the lowercase UUID form decision ids have."""
    return _UUID.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A stored decision: its document, the case it decided, and what it overrides."""

    decision_id: str
    document: dict[str, Any]
    case: dict[str, Any] | None
    overrides: str | None
    justification: str | None
    created_at: datetime
    overridden_by: tuple[str, ...] = ()

    def to_dict(self, *, with_case: bool = False) -> dict[str, Any]:
        """The decision document plus ``overrides``, ``overridden_by``, ``justification``.

        ``overridden_by`` lists the decisions that override this one, oldest first
        (empty while none does); ``case`` is added ``with_case``.
        """
        out = {
            **self.document,
            "overrides": self.overrides,
            "overridden_by": list(self.overridden_by),
            "justification": self.justification,
        }
        if with_case:
            out["case"] = self.case
        return out


def stored_decision(row: DecisionRow, *, with_case: bool = True) -> StoredDecision:
    """The :class:`StoredDecision` of a row (without its case document if not ``with_case``)."""
    return StoredDecision(
        decision_id=row.id,
        document=row.document,
        case=row.case_document if with_case else None,
        overrides=row.overrides_id,
        justification=row.justification,
        created_at=row.created_at,
    )


def check_text(errors: dict[str, list[str]], path: str, value: str, limit: int) -> None:
    """Record an error at ``path`` when ``value`` is longer than ``limit`` or holds a NUL."""
    if len(value) > limit or "\x00" in value:
        errors[path] = [f"Must be at most {limit} characters, without NUL."]
