"""The console's claim pages: the queue, a claim, its actions, opening a claim.

The queue is the API's ``list_claims`` with a :class:`~adjudicator.claims.queue.QueueFilter`
(the tab and the URL's filters); a claim is ``get_claim`` + ``claim_events``;
an action is ``act`` with the form as the API body and the user as actor;
"Open claim" is ``open_claim``. The same functions the claims API calls.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from adjudicator.claims.queue import TABS, QueueFilter
from adjudicator.claims.service import (
    ClaimExists,
    Viewer,
    act,
    claim_events,
    get_claim,
    list_claims,
    open_claim,
)
from adjudicator.core.dates import rfc3339
from adjudicator.core.decision import OUTCOMES
from adjudicator.core.errors import InvalidCase
from adjudicator.core.lifecycle import (
    ActionForbidden,
    InvalidAction,
    InvalidTransition,
    StaleProposal,
    as_of,
)
from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.decisions.queries import get_decision
from api.console import claim_forms, present
from api.console.auth import console_actor, console_user, requires
from api.console.rendering import Page, card_of, render
from api.services import services

TAB_LABELS = {
    "needs_staff": "Needs staff",
    "waiting": "Waiting on parties",
    "approval": "Pending approval",
    "at_risk": "At risk / overdue",
    "closed": "Closed",
}
FILTERS = ("ground", "currency", "recommendation", "assignee", "order_id", "q")
PAGE_SIZE = 25
EVIDENCE_DAYS = timedelta(days=5)  # the request form's suggested due time


def _query(tab: str, cursor: str | None = None) -> dict[str, str]:
    """The URL query for ``tab`` keeping the current filters (bookmarkable)."""
    kept = {k: request.args[k] for k in FILTERS if request.args.get(k)}
    kept["tab"] = tab
    if cursor:
        kept["cursor"] = cursor
    return kept


def register(blp: Blueprint, render: Any) -> None:
    """Add the claim routes to the console blueprint (``render`` picks page or partial)."""

    @blp.route("/")
    @requires("staff", "auditor")
    def home() -> Page:
        tab = request.args.get("tab", "needs_staff")
        if tab not in TABS:
            tab = "needs_staff"
        where = QueueFilter(
            ground=request.args.get("ground") or None,
            assignee=request.args.get("assignee") or None,
            order_id=request.args.get("order_id") or None,
            currency=request.args.get("currency", "").strip().upper() or None,
            recommendation=request.args.get("recommendation") or None,
            tab=tab,
            search=request.args.get("q") or None,
            viewer=console_actor().key_id,
        )
        errors: dict[str, list[str]] = {}
        try:
            page = list_claims(
                services().store, where, Viewer.of(console_actor()),
                cursor=request.args.get("cursor") or None, limit=PAGE_SIZE,
            )  # fmt: skip
        except InvalidRequest as invalid:
            errors, page = invalid.errors, None
        now = services().store.clock()
        rows = [] if page is None else [
            {"claim": c, "due": present.countdown(c.next_due, now)} for c in page.items
        ]  # fmt: skip
        return render(
            "queue", "partials/queue_table", tab=tab, tabs=TAB_LABELS, rows=rows, errors=errors,
            next_cursor=None if page is None else page.next_cursor, query=_query,
            args=request.args, outcome=present.OUTCOMES, recommendations=OUTCOMES,
        )  # fmt: skip

    @blp.route("/claims/<claim_ref>")
    @requires("staff", "auditor")
    def claim(claim_ref: str) -> Page:
        return _claim_page(claim_ref)

    @blp.route("/claims/<claim_ref>/act", methods=["POST"])
    @requires("staff")
    def claim_act(claim_ref: str) -> Page:
        action = request.form.get("action", "")
        body = claim_forms.action_body(action, request.form, console_user().name)
        try:
            act(services().store, services().decider, claim_ref, action, body,
                console_actor(), request_id=g.request_id)  # fmt: skip
        except (InvalidAction, InvalidRequest, InvalidCase) as invalid:
            return _claim_page(claim_ref, 422, action=action, errors=invalid.errors,
                               message="The action was not taken: see the fields.")  # fmt: skip
        except (InvalidTransition, StaleProposal) as refused:
            return _claim_page(claim_ref, 409, action=action, message=str(refused))
        except ActionForbidden as forbidden:
            return _claim_page(claim_ref, 403, action=action, message=forbidden.reason)
        flash(claim_forms.DONE.get(action, "Done."), "info")
        if request.headers.get("HX-Request"):
            return _claim_page(claim_ref, done=claim_forms.DONE.get(action))
        return redirect(url_for("console.claim", claim_ref=claim_ref))


def open_from_case(case: dict[str, Any]) -> WerkzeugResponse:
    """Store the claim (``open_claim``), then show it; raises ``InvalidCase``, ``ClaimExists``."""
    record, _ = open_claim(
        services().store, services().decider, case, console_actor(), request_id=g.request_id
    )
    flash(f"Claim {record.claim_id} on order {record.order_id} is open.", "info")
    target = url_for("console.claim", claim_ref=record.ref)
    if request.headers.get("HX-Request"):
        return WerkzeugResponse("", 204, {"HX-Redirect": target})  # htmx: a full page load
    return redirect(target)


def _claim_page(
    claim_ref: str,
    status: int = 200,
    *,
    action: str | None = None,
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
    done: str | None = None,
) -> Page:

    viewer = Viewer.of(console_actor())
    record = get_claim(services().store, claim_ref, viewer)
    events = claim_events(services().store, claim_ref, viewer)
    state = record.state
    decision_id = (state.determination or {}).get("decision_id") or state.recommendation[
        "decision_id"
    ]
    try:
        document = get_decision(services().store, str(decision_id)).to_dict()
    except NotFound:
        document = None
    now = record.now
    clocks = [
        {**clock, "countdown": present.countdown(clock["due"], now)}
        for clock in as_of(record.clocks, now)
    ]
    available = {a.action: a for a in record.available}
    return render(
        "claim", "partials/claim_body", status=status, record=record, claim=record.to_dict(),
        card=None if document is None else card_of(document), clocks=clocks, events=events,
        available=available, labels=claim_forms.LABELS, outcomes=claim_forms.OUTCOMES,
        form_action=action, errors=errors or {}, message=message, done=done,
        user_key=console_actor().key_id, next_due=present.countdown(record.next_due, now),
        default_due=rfc3339(now + EVIDENCE_DAYS),
    )  # fmt: skip


__all__ = ["ClaimExists", "open_from_case", "register"]
