"""Deciding a case without storing it: the console's "Preview decision".

The same steps as :func:`adjudicator.decisions.service.create_decision` up to
the decision (the case completed with an id and ``as_of`` from the store's
clock, the same :class:`Decider`), and nothing written: no decision row, no
audit entry. A preview is a look, not an act.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from adjudicator.db.store import Store
from adjudicator.decisions.service import Decider, _complete


def preview_decision(
    store: Store, decider: Decider, body: Mapping[str, Any], *, ruleset: str | None = None
) -> dict[str, Any]:
    """The decision document ``body`` would get now; raises the core's ``InvalidCase`` & co."""
    now = store.clock()
    case = _complete(body, now)
    decision = decider.decide(case, ruleset, decision_id=str(uuid.uuid4()), decided_at=now)
    return decision.to_dict()
