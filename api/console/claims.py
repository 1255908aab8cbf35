"""The console's claim pages: the queue, a claim, its actions, opening a claim.

The queue is the API's ``list_claims`` with a :class:`~adjudicator.claims.queue.QueueFilter`
(the tab and the URL's filters), and on the Refunds tab the total owed per
currency (:func:`~adjudicator.claims.queue.owed_by_currency`); a claim is
``get_claim`` + ``claim_events`` + its order's ledger (``order_ledgers``);
an action is ``act`` with the form as the API body and the user as actor;
"Open claim" is ``open_claim``. The same functions the claims API calls.

Every refusal of the service is shown on the claim page, at the form that
caused it when it names a field (a refund the order's cap cannot cover says
what the order has left). The refund steps are taken only once confirmed
(:mod:`.claim_forms`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, g, redirect, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from adjudicator.claims.ledger_view import order_ledgers
from adjudicator.claims.queue import TABS, QueueFilter, owed_by_currency
from adjudicator.claims.service import (
    ClaimExists,
    ClaimRecord,
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
    Available,
    CapExhausted,
    InvalidAction,
    InvalidTransition,
    LifecycleError,
    ReplacedProposal,
    as_of,
)
from adjudicator.db.actor import person
from adjudicator.db.errors import InvalidRequest, NotFound, StoreError
from adjudicator.decisions.queries import get_decision
from adjudicator.identity.users import get_user
from api.console import claim_forms, present
from api.console.auth import console_actor, console_user, requires
from api.console.blueprint import blp
from api.console.rendering import Page, card_of, render
from api.services import services

TAB_LABELS = {
    "needs_staff": "Needs staff",
    "waiting": "Waiting on parties",
    "approval": "Pending approval",
    "refunds": "Refunds",
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


@blp.route("/")
@requires("staff", "auditor")
def home() -> Page:
    """The claims queue: a tab, the URL's filters, a page of claims (the Refunds tab
    with what is owed per currency)."""
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
        viewer=person(console_actor()),
    )
    errors: dict[str, list[str]] = {}
    viewer = Viewer.of(console_actor())
    owed = None
    try:
        page = list_claims(
            services().store, where, viewer,
            cursor=request.args.get("cursor") or None, limit=PAGE_SIZE,
        )  # fmt: skip
        if tab == "refunds":
            owed = owed_by_currency(services().store, where, viewer)
    except InvalidRequest as invalid:
        errors, page = invalid.errors, None
    now = services().store.clock()
    rows = [] if page is None else [
        {"claim": c, "due": present.countdown(c.next_due, now)} for c in page.items
    ]  # fmt: skip
    return render(
        "queue", "partials/queue_table", tab=tab, tabs=TAB_LABELS, rows=rows, errors=errors,
        next_cursor=None if page is None else page.next_cursor, query=_query,
        args=request.args, outcome=present.OUTCOMES, recommendations=OUTCOMES, owed=owed,
    )  # fmt: skip


@blp.route("/claims/<claim_ref>")
@requires("staff", "auditor")
def claim(claim_ref: str) -> Page:
    """A claim: its decision card, clocks, timeline, ledger and the actions it offers."""
    return _claim_page(claim_ref)


@blp.route("/claims/<claim_ref>/act", methods=["POST"])
@requires("staff")
def claim_act(claim_ref: str) -> Page:
    """Take the form's action on the claim (a refund step once confirmed); show the claim."""
    action = request.form.get("action", "")
    body = claim_forms.action_body(action, request.form, console_user().name)
    if not claim_forms.confirmed(action, request.form):
        confirming = _confirm_step(claim_ref, action, body)
        if confirming is not None:
            return confirming
    try:
        act(services().store, services().decider, claim_ref, action, body,
            console_actor(), request_id=g.request_id)  # fmt: skip
    except NotFound:
        raise
    except (InvalidAction, InvalidRequest, InvalidCase) as invalid:
        return _claim_page(claim_ref, 422, action=action, errors=invalid.errors,
                           message="The action was not taken: see the fields.")  # fmt: skip
    except CapExhausted as short:
        message = (f"Not granted: order {short.order_id} has {short.remaining} "
                   f"{short.currency} of its cap left, and {short.wanted} {short.currency} "
                   "does not fit.")  # fmt: skip
        at_form = claim_forms.cap_left(action, body, f"{short.remaining} {short.currency}")
        return _claim_page(claim_ref, 409, action=action, message=message, **at_form)
    except ReplacedProposal:
        message = ("Nothing was done: the proposal you reviewed was replaced or withdrawn "
                   "since you opened this page. Review the claim as it is now.")  # fmt: skip
        return _claim_page(claim_ref, 409, action=action, message=message)
    except ActionForbidden as forbidden:
        return _claim_page(claim_ref, 403, action=action, message=forbidden.reason)
    except InvalidTransition as refused:
        return _claim_page(claim_ref, 409, action=action, message=refused.reason)
    except (LifecycleError, StoreError) as refused:  # a stale proposal, or anything else
        return _claim_page(claim_ref, 409, action=action, message=f"Not done: {refused}.")
    done = claim_forms.done_message(action, body)
    flash(done, "info")
    if request.headers.get("HX-Request"):
        return _claim_page(claim_ref, done=done)
    return redirect(url_for("console.claim", claim_ref=claim_ref))


def _confirm_step(claim_ref: str, action: str, body: dict[str, Any]) -> Page | None:
    """The confirmation a refund step asks for first (``None``: not allowed now, let ``act``
    say why). Nothing is stored."""
    record = get_claim(services().store, claim_ref, Viewer.of(console_actor()))
    allowed = _available(record).get(action)
    if allowed is None or not allowed.allowed:
        return None
    errors = claim_forms.confirm_errors(action, body)
    if errors:
        return _claim_page(claim_ref, 422, action=action, errors=errors,
                           message="The action was not taken: see the fields.")  # fmt: skip
    return _claim_page(claim_ref, confirming=action, confirm_body=body)


def _available(record: ClaimRecord) -> dict[str, Available]:
    """The actions the viewer may take on the claim now, by name (judged as the person they are)."""
    return {a.action: a for a in record.available}


def _people(record: ClaimRecord) -> dict[str, str]:
    """The names of the people a claim's proposal, determination and agreement name."""
    state = record.state
    named = [(state.proposal or {}).get("by")]
    for part in (state.determination, state.agreement):
        named += [(part or {}).get("proposed_by"), (part or {}).get("approved_by")]
    found: dict[str, str] = {}
    for who in {w for w in named if isinstance(w, str) and w.startswith("user:")}:
        number = who.removeprefix("user:")
        user = get_user(services().store, int(number)) if number.isdigit() else None
        found[who] = who if user is None else user.name
    return found


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
    refusal: str | None = None,
    confirming: str | None = None,
    confirm_body: dict[str, Any] | None = None,
) -> Page:

    actor = console_actor()
    viewer = Viewer.of(actor)
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
    try:
        ledgers = order_ledgers(services().store, record.order_id, viewer)
    except NotFound:
        ledgers = []
    return render(
        "claim", "partials/claim_body", status=status, record=record, claim=record.to_dict(),
        card=None if document is None else card_of(document), clocks=clocks, events=events,
        available=_available(record), labels=claim_forms.LABELS,
        outcomes=claim_forms.OUTCOMES, outcome_labels=present.OUTCOMES,
        proposal_kinds=present.PROPOSAL_KINDS, form_action=action, errors=errors or {},
        message=message, done=done, next_due=present.countdown(record.next_due, now),
        default_due=rfc3339(now + EVIDENCE_DAYS), ledgers=ledgers, people=_people(record),
        refusal=refusal, confirming=confirming, confirm_body=confirm_body or {},
    )  # fmt: skip


__all__ = ["ClaimExists", "open_from_case"]
