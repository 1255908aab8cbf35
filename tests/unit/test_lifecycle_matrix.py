"""Who may take which action from which status: a matrix transcribed by hand from lifecycle.md.

The grid below is written from ../shared/spec/lifecycle.md ("Stages and statuses",
the transitions list, "Who acts") and its last section "Lifecycle v1.1: money",
which wins where the two differ. It is NOT derived from the lifecycle table: the
table is only ever reached through the public ``check`` and ``available_actions``,
so changing a row of the table (say, letting ``settle`` in from the refund stage)
fails here until someone changes this grid by hand and can cite the spec for it.

Reading the grid
----------------
- One line per API action, one column per internal status:

      a_sup awaiting_supplier   a_stf awaiting_staff      r_pen refund_pending
      a_buy awaiting_buyer      a_evd awaiting_evidence   r_ini refund_initiated
                                p_apr pending_approval
      settl settled   deter determined   refnd refunded   withd withdrawn   cancl cancelled

  (negotiation: a_sup, a_buy; platform review: a_stf, a_evd, p_apr; refund stage:
  r_pen, r_ini, the wire's ``pending``/``initiated``; closed: the last five.)
- A cell lists who may take the action: ``B`` buyer, ``S`` supplier, ``T`` staff,
  ``Y`` the system acting as itself; ``.`` nobody (409 ``invalid-transition``).
  A party not in a cell whose line has someone in it is refused as the wrong
  party (403).
- "system" means the system's *own* actions only: "an upstream order system
  (role `system`) acts for the parties and names the party on each action
  (`"as": "buyer" | "supplier"`); staff act as themselves". So the system
  answering for the supplier is the ``S`` column entry, and ``Y`` appears only
  where the spec names the system itself (the refund steps).
- Time guards are out of scope: every check runs 30 days after filing, so the
  72 h escalation gate is open.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adjudicator.core.lifecycle import (
    API_ACTIONS,
    STATUSES,
    Acting,
    ActionForbidden,
    ClaimState,
    InvalidTransition,
    advance,
    available_actions,
    check,
)
from adjudicator.core.lifecycle.errors import ReplacedProposal  # the design's 409 `stale`

# Lines starting with "#" are the spec's sentence (or the choice made) for the line below.
MATRIX = """
action            a_sup a_buy a_stf a_evd p_apr r_pen r_ini settl deter refnd withd cancl

# "`respond` (supplier): a proposal ... → awaiting_buyer"; awaiting_supplier is the status
# whose waiting_on is the supplier. CHOICE: not again from awaiting_buyer (the spec gives the
# supplier no second offer while the buyer is the one awaited; the buyer `reject`s first).
respond           S     .     .     .     .     .     .     .     .     .     .     .

# "`accept` (buyer, on a proposal)"; "`reject` (buyer): → awaiting_supplier". A proposal is
# on the table only in awaiting_buyer ("entered by supplier `respond`").
accept            .     B     .     .     .     .     .     .     .     .     .     .
reject            .     B     .     .     .     .     .     .     .     .     .     .

# "`escalate` (buyer): ... → platform_review/awaiting_staff"; the auto-escalation acts on
# "any claim still in negotiation", so escalate is a negotiation move. CHOICE: buyer only;
# the intro's "either may ask the platform to decide" is overruled by the transitions list
# and the status table ("`escalate` (buyer, or the auto-escalation timer)").
escalate          B     B     .     .     .     .     .     .     .     .     .     .

# "`withdraw` (buyer): from any state before a determination" (v1.1: or an agreement). A
# proposal waiting for approval is not yet a determination, so p_apr is in; the refund stage
# is entered by "a determination or agreement with a refund > 0", so it is out.
withdraw          B     B     B     B     B     .     .     .     .     .     .     .

# "`submit_evidence` (the party asked, or either party at any open stage)". Open = negotiation
# and platform review (the refund stage follows a determination or agreement; v1.1: "Closed
# means closed"). Staff are not a party and submit nothing; they `request_evidence`.
submit_evidence   BS    BS    BS    BS    BS    .     .     .     .     .     .     .

# "`request_evidence` (staff): {party, what, due} → awaiting_evidence". CHOICE: from
# awaiting_staff, and again while a request is outstanding (a_evd: staff may ask anew or ask
# the other party; the status table enters awaiting_evidence by any staff request); not while
# a proposal waits for its second pair of eyes (p_apr: the reviewer declines first), nor in
# negotiation (staff are not yet involved).
request_evidence  .     .     T     T     .     .     .     .     .     .     .     .

# "`assign` (staff), `note` (staff; internal, never shown to parties): no change of state."
# "Closed claims accept only `note`." Brief/v1.1: assign on any claim not closed, the refund
# stage included (someone has to own a refund that is owed).
assign            T     T     T     T     T     T     T     .     .     .     .     .
note              T     T     T     T     T     T     T     T     T     T     T     T

# v1.1 (design): `propose` from awaiting_staff only. "Closed means closed. No grant,
# settlement or override in the refund stage or after."
propose           .     .     T     .     .     .     .     .     .     .     .     .

# "`approve` / `decline` (staff, not the proposer)": the proposal waits in pending_approval.
approve           .     .     .     .     T     .     .     .     .     .     .     .
decline           .     .     .     .     T     .     .     .     .     .     .     .

# v1.0: "`settle` (staff ...): from any open state". v1.1: "`settle` therefore becomes
# `propose {"kind": "settle", ...}` (... or is kept as an alias that proposes)"; the design
# keeps the alias from any open status (negotiation or platform review) -> pending_approval.
# CHOICE: p_apr is open, so a settlement may be proposed there too (it replaces the pending
# proposal; approve names the proposal_id it reviewed). Never from the refund stage (v1.1).
settle            T     T     T     T     T     .     .     .     .     .     .     .

# "`refund_initiated` (system or staff, with a payout reference) → refund/initiated;
# `refund_completed` → closed/refunded." CHOICE: "(system or staff ...)" is read as covering
# both steps of that one sentence; each step from the status the other one leaves it in.
refund_initiated  .     .     .     .     .     TY    .     .     .     .     .     .
refund_completed  .     .     .     .     .     .     TY    .     .     .     .     .
"""

COLUMNS = {
    "a_sup": "awaiting_supplier",
    "a_buy": "awaiting_buyer",
    "a_stf": "awaiting_staff",
    "a_evd": "awaiting_evidence",
    "p_apr": "pending_approval",
    "r_pen": "refund_pending",
    "r_ini": "refund_initiated",
    "settl": "settled",
    "deter": "determined",
    "refnd": "refunded",
    "withd": "withdrawn",
    "cancl": "cancelled",
}
LETTERS = {"B": "buyer", "S": "supplier", "T": "staff", "Y": "system"}
PARTIES = tuple(LETTERS.values())


def parse_matrix(text: str) -> dict[str, dict[str, frozenset[str]]]:
    """The grid as {action: {status: parties}}; every line must have every column."""
    lines = [line.split() for line in text.splitlines() if line.strip() and line[0] != "#"]
    header, *body = lines
    assert header[0] == "action" and len(header) == len(COLUMNS) + 1, header
    statuses = [COLUMNS[name] for name in header[1:]]
    grid: dict[str, dict[str, frozenset[str]]] = {}
    for action, *cells in body:
        assert action not in grid, f"{action} is listed twice"
        assert len(cells) == len(statuses), f"{action} has {len(cells)} cells"
        row: dict[str, frozenset[str]] = {}
        for status, cell in zip(statuses, cells, strict=True):
            assert cell == "." or set(cell) <= set(LETTERS), f"{action}/{status}: {cell!r}"
            row[status] = frozenset() if cell == "." else frozenset(LETTERS[c] for c in cell)
        grid[action] = row
    return grid


GRID = parse_matrix(MATRIX)
CELLS = [(status, action) for action, row in GRID.items() for status in row]

# The claim each status implies (lifecycle.md's "holds" list and the v1.1 proposal form).
FILED = datetime(2024, 4, 20, 10, 0, tzinfo=UTC)
NOW = FILED + timedelta(days=30)  # far past every TIME-01 gate
USD = "USD"
RECOMMENDATION = {
    "decision_id": "d-1",
    "outcome": "upheld_full",
    "cap": "20000.00",
    "refund": {"amount": "20000.00", "currency": USD},
}
PROPOSAL_ID = "6f1d3c1e-4b6a-4c1e-9a53-0d6c1f6f2b10"
PROPOSER = "user:9"  # the proposal is someone else's: the staff checked here are "user:1"
OVERRIDE = {
    "outcome": "upheld_partial",
    "refund": {"amount": "5000.00", "currency": USD},
    "fee_reimbursement": {"amount": "0.00", "currency": USD},
    "reasons": [{"message": "partly"}],
}
DETERMINATION = {
    "kind": "confirm",
    "decision_id": "d-1",
    "outcome": "upheld_full",
    "refund": {"amount": "20000.00", "currency": USD},
    "at": "2024-05-10T10:00:00Z",
    "by": "user:9",
}
REFUND = {"amount": "20000.00", "currency": USD, "due": "2024-05-21T10:00:00Z"}
AGREEMENT = {
    "kind": "settlement",
    "refund": {"amount": "0.00", "currency": USD},
    "terms": "replacement shipped",
    "at": "2024-05-10T10:00:00Z",
    "proposal_id": PROPOSAL_ID,
    "proposed_by": "user:9",
    "approved_by": "user:8",
}
ESCALATED = "2024-04-27T10:00:00Z"

DATA: dict[str, dict[str, Any]] = {
    "awaiting_supplier": {},
    "awaiting_buyer": {
        "offer": {
            "kind": "refund",
            "refund": {"amount": "100.00", "currency": USD},
            "message": "we refund",
        }
    },
    "awaiting_staff": {"escalated_at": ESCALATED},
    # an evidence request of the buyer, already past its due time (the lapse is the timer's)
    "awaiting_evidence": {
        "escalated_at": ESCALATED,
        "evidence_request": {"party": "buyer", "what": "photos", "due": "2024-05-10T00:00:00Z"},
    },
    # a v1.1 proposal by another person, made on the current revision
    "pending_approval": {
        "escalated_at": ESCALATED,
        "proposal": {
            "proposal_id": PROPOSAL_ID,
            "kind": "override",
            "by": PROPOSER,
            "revision": 1,
            "at": "2024-05-11T10:00:00Z",
            "outcome": OVERRIDE["outcome"],
            "refund": OVERRIDE["refund"],
            "fee_reimbursement": OVERRIDE["fee_reimbursement"],
            "justification": "the inspection found a third of the lot defective",
            "document": OVERRIDE,
        },
    },
    "refund_pending": {
        "escalated_at": ESCALATED,
        "determination": DETERMINATION,
        "refund": REFUND,
    },  # fmt: skip
    "refund_initiated": {
        "escalated_at": ESCALATED,
        "determination": DETERMINATION,
        "refund": {**REFUND, "payout_reference": "PAY-1", "initiated_at": "2024-05-12T10:00:00Z"},
    },
    "settled": {"agreement": AGREEMENT},
    "determined": {
        "escalated_at": ESCALATED,
        "determination": {**DETERMINATION, "refund": {"amount": "0.00", "currency": USD}},
    },  # fmt: skip
    "refunded": {
        "escalated_at": ESCALATED,
        "determination": DETERMINATION,
        "refund": {
            **REFUND,
            "payout_reference": "PAY-1",
            "initiated_at": "2024-05-12T10:00:00Z",
            "completed_at": "2024-05-13T10:00:00Z",
        },  # fmt: skip
    },
    "withdrawn": {},
    "cancelled": {
        "escalated_at": ESCALATED,
        "evidence_request": {"party": "buyer", "what": "photos", "due": "2024-05-10T00:00:00Z"},
    },
}


def claim_in(status: str) -> ClaimState:
    """A claim in ``status`` carrying the data that status implies."""
    return ClaimState(
        status=status,
        filed_at="2024-04-20T10:00:00Z",
        currency=USD,
        recommendation=dict(RECOMMENDATION),
        **DATA[status],
    )


def acting(party: str) -> Acting:
    """``party`` acting 30 days after filing; staff as the person user:1 (never the proposer)."""
    if party == "staff":
        return Acting(party, "user:1", NOW, person="user:1")
    return Acting(party, "key-upstream", NOW)


def test_the_matrix_covers_every_status_and_every_api_action() -> None:
    """A new action or status is a new line or column here, written by hand from the spec."""
    assert set(GRID) == set(API_ACTIONS)
    assert len(GRID) == len(API_ACTIONS) == 15
    for action, row in GRID.items():
        assert set(row) == set(STATUSES), action
    assert set(DATA) == set(STATUSES) and len(STATUSES) == 12


@pytest.mark.parametrize(("status", "action"), CELLS)
def test_each_cell_allows_exactly_its_parties(status: str, action: str) -> None:
    state, allowed = claim_in(status), GRID[action][status]
    for party in PARTIES:
        if party in allowed:
            row = check(state, action, acting(party))
            assert row.action == action
        elif not allowed:
            with pytest.raises(InvalidTransition) as refused:
                check(state, action, acting(party))
            assert action not in refused.value.allowed
        else:
            with pytest.raises(ActionForbidden):
                check(state, action, acting(party))


@pytest.mark.parametrize("status", STATUSES)
def test_a_refusal_lists_what_the_status_accepts(status: str) -> None:
    """The 409's ``allowed`` for a caller who may act as anyone: the non-empty cells."""
    expected = {action for action, row in GRID.items() if row[status]}
    refused_actions = [action for action, row in GRID.items() if not row[status]]
    for action in refused_actions:
        with pytest.raises(InvalidTransition) as refused:
            check(claim_in(status), action, acting("staff"), PARTIES)
        assert set(refused.value.allowed) == expected, action


@pytest.mark.parametrize("status", STATUSES)
def test_available_actions_are_the_cells_of_the_status(status: str) -> None:
    shown = available_actions(claim_in(status), PARTIES, acting("staff"))
    expected = {(action, party) for action, row in GRID.items() for party in row[status]}
    assert {(a.action, a.party) for a in shown} == expected
    assert [a for a in shown if not a.allowed] == []  # no time guard holds 30 days on


def test_closed_claims_show_only_note() -> None:
    """ "Closed claims accept only `note`." — the grid's closed columns, read back."""
    closed = ("settled", "determined", "refunded", "withdrawn", "cancelled")
    for status in closed:
        assert {a for a, row in GRID.items() if row[status]} == {"note"}


def test_no_money_is_granted_from_the_refund_stage_or_after() -> None:
    """v1.1 "Closed means closed": the grant actions have no cell from r_pen onwards."""
    after = ("refund_pending", "refund_initiated", "settled", "determined", "refunded",
             "withdrawn", "cancelled")  # fmt: skip
    for action in ("accept", "propose", "approve", "settle"):
        for status in after:
            with pytest.raises(InvalidTransition):
                check(claim_in(status), action, acting("staff" if action != "accept" else "buyer"))


# --- v1.1: settle is a proposal, approve names the proposal it reviewed ---------------------

SETTLE_BODY = {"refund": {"amount": "1234.00", "currency": USD}, "terms": "signed 2024-05-18"}


@pytest.mark.parametrize("status", ["awaiting_buyer", "awaiting_staff"])
def test_settle_proposes_a_settlement_for_a_second_pair_of_eyes(status: str) -> None:
    """v1.1: "Every other grant — an override, a settlement — is a proposal that a different
    person approves"; the `settle` alias proposes."""
    _, after = advance(claim_in(status), "settle", acting("staff"), SETTLE_BODY)
    assert after.status == "pending_approval"
    assert after.proposal is not None
    assert after.proposal["kind"] == "settle"
    assert after.proposal["by"] == "user:1"
    assert after.proposal["refund"]["amount"] == "1234.00"
    assert after.proposal["proposal_id"]
    assert after.determination is None and after.refund is None and after.agreement is None


def test_approve_of_a_replaced_proposal_is_stale() -> None:
    """v1.1: "`approve` and `decline` name the `proposal_id` they reviewed; a proposal
    replaced since is 409 `stale`." """
    state = claim_in("pending_approval")
    for action in ("approve", "decline"):
        with pytest.raises(ReplacedProposal):
            advance(state, action, acting("staff"),
                    {"proposal_id": "00000000-0000-4000-8000-000000000000"},
                    {"decision_id": "d-2"})  # fmt: skip


def test_the_proposer_may_not_approve_their_own_proposal() -> None:
    """ "`approve` / `decline` (staff, **not the proposer**: 403 for the proposer)"."""
    own = Acting("staff", "key-17", NOW, person=PROPOSER)  # their API key: the same person
    for action in ("approve", "decline"):
        with pytest.raises(ActionForbidden):
            advance(claim_in("pending_approval"), action, own, {"proposal_id": PROPOSAL_ID},
                    {"decision_id": "d-2"})  # fmt: skip


def test_an_unbound_staff_key_may_not_take_money_actions() -> None:
    """v1.1: "Staff and admin API keys belong to a console user ... four eyes compares users";
    a key bound to nobody keeps its non-money actions and is refused every money act."""
    unbound = Acting("staff", "key-old", NOW)
    check(claim_in("awaiting_staff"), "note", unbound)
    check(claim_in("awaiting_staff"), "assign", unbound)
    check(claim_in("awaiting_staff"), "request_evidence", unbound)
    check(claim_in("refund_pending"), "refund_initiated", unbound)
    money = [
        ("awaiting_staff", "propose"),
        ("awaiting_buyer", "settle"),
        ("pending_approval", "approve"),
        ("pending_approval", "decline"),
    ]
    for status, action in money:
        with pytest.raises(ActionForbidden):
            check(claim_in(status), action, unbound)
