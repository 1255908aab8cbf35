"""The console queue's tabs as a claims filter: what ``list_claims`` lists for each tab.

A :class:`QueueFilter` is a :class:`~adjudicator.claims.read.ClaimFilter`
(ground, assignee, order...) narrowed to one tab and an optional search, so
the console's queue is the API's ``list_claims`` (same query, same indexed
sort by next due time, same cursor) and not a query of its own. Every tab is
a condition on the indexed ``status`` and ``next_due`` columns:

- ``needs_staff``: awaiting_staff, and pending_approval unless the viewer
  (``viewer``, the acting identity) made the proposal: they cannot approve it
- ``waiting``: awaiting_supplier, awaiting_buyer, awaiting_evidence (a party must)
- ``approval``: pending_approval
- ``refunds``: refund_pending and refund_initiated: the claims that owe the
  buyer money, soonest due first (whatever their deadline), with
  :func:`owed_by_currency` the total they owe
- ``at_risk``: open or refund claims whose next duty is overdue or due within
  the at-risk window
- ``closed``: settled, determined, refunded, withdrawn, cancelled
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select

from adjudicator.claims.models import ClaimRow
from adjudicator.claims.read import ClaimFilter
from adjudicator.claims.records import Viewer
from adjudicator.core.lifecycle import CLOSED, OPEN, REFUND
from adjudicator.core.lifecycle.clocks import AT_RISK
from adjudicator.core.money import format_minor
from adjudicator.db.errors import InvalidRequest
from adjudicator.db.store import Store
from adjudicator.decisions.records import IDENTIFIER_MAX
from adjudicator.ledger.models import LedgerEntryRow

TABS: dict[str, tuple[str, ...]] = {
    "needs_staff": ("awaiting_staff", "pending_approval"),
    "waiting": ("awaiting_supplier", "awaiting_buyer", "awaiting_evidence"),
    "approval": ("pending_approval",),
    "refunds": REFUND,
    "at_risk": OPEN + REFUND,
    "closed": CLOSED,
}


@dataclass(frozen=True, slots=True)
class QueueFilter(ClaimFilter):
    """A :class:`ClaimFilter` for one queue tab, with a search by order, claim id or ref."""

    tab: str = "needs_staff"
    search: str | None = None
    viewer: str | None = None

    def apply(self, query: Select[Any], now: datetime) -> Select[Any]:
        """The claim filter's conditions, then the tab's and the search's."""
        if self.tab not in TABS:
            raise InvalidRequest("invalid tab", {"tab": [f"Must be one of: {', '.join(TABS)}."]})
        if self.search is not None and len(self.search) > IDENTIFIER_MAX:
            raise InvalidRequest("invalid search", {"q": ["Too long."]})
        query = ClaimFilter.apply(self, query, now)
        query = query.where(ClaimRow.status.in_(TABS[self.tab]))
        if self.tab == "needs_staff" and self.viewer is not None:
            proposer = ClaimRow.state[("proposal", "by")].as_string()
            query = query.where(
                or_(
                    ClaimRow.status != "pending_approval",
                    proposer.is_(None),
                    proposer != self.viewer,
                )
            )
        if self.tab == "at_risk":
            query = query.where(ClaimRow.next_due < now + AT_RISK)
        if self.search:
            term = self.search.strip()
            query = query.where(
                or_(ClaimRow.order_id == term, ClaimRow.claim_id == term, ClaimRow.ref == term)
            )
        return query


@dataclass(frozen=True, slots=True)
class Owed:
    """What the claims of a tab owe their buyers in one currency, and how many claims."""

    currency: str
    amount: str
    claims: int


def owed_by_currency(store: Store, where: QueueFilter, viewer: Viewer) -> list[Owed]:
    """The total the claims ``where`` selects still hold on their orders' ledgers, per currency.

    One aggregate over the ledger entries of those claims (every page at
    once, in minor units, so the sum is exact): holds less releases and
    payouts. A claim in the refund stage holds exactly its agreed refund, so
    for the ``refunds`` tab this is the money owed to buyers.
    """
    claims = where.apply(select(ClaimRow.ref), store.clock())
    if not viewer.sees_all:
        claims = claims.where(ClaimRow.opened_by == viewer.key_id)
    signed = case((LedgerEntryRow.kind == "hold", LedgerEntryRow.amount),
                  else_=-LedgerEntryRow.amount)  # fmt: skip
    claim = LedgerEntryRow.claim_ref
    query = (
        select(LedgerEntryRow.currency, func.sum(signed), func.count(func.distinct(claim)))
        .where(claim.in_(claims.scalar_subquery()))
        .group_by(LedgerEntryRow.currency)
        .order_by(LedgerEntryRow.currency)
    )
    with store.db.read() as session:
        found = session.execute(query).all()
    return [Owed(str(r[0]), format_minor(int(r[1] or 0), str(r[0])), int(r[2])) for r in found]
