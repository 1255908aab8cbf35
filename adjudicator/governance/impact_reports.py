"""The newest replay jobs (impact reports of candidate versions), for the console's rules page.

The replays themselves are made and read by :mod:`adjudicator.governance.replays`
(``create_replay``, ``get_replay``); this lists them, newest first, in the
same :class:`~adjudicator.governance.replays.ReplayInfo` form the API returns.
"""

from __future__ import annotations

from sqlalchemy import select

from adjudicator.db.store import Store
from adjudicator.governance.models import ReplayRow
from adjudicator.governance.replays import ReplayInfo, _info


def list_replays(store: Store, *, limit: int = 20) -> list[ReplayInfo]:
    """The newest ``limit`` replay jobs with their reports (indexed by ``created_at``)."""
    query = select(ReplayRow).order_by(ReplayRow.created_at.desc(), ReplayRow.id).limit(limit)
    with store.db.autocommit() as session:
        return [_info(row) for row in session.execute(query).scalars()]
