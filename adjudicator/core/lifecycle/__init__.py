"""The claim lifecycle: a pure state machine over a claim's state and events.

No clock, no database, no Flask: the service (``adjudicator.claims.service``)
loads a claim, asks this package whether an action is allowed and what the
claim becomes, and stores the result with its event, audit entry and outbox row.

- :mod:`.state`    statuses, stages, who the claim waits on; :class:`ClaimState`
- :mod:`.table`    THE transition table, its guards, the TIME-01 gates
- :mod:`.machine`  check a move, list the available actions, advance
- :mod:`.steps`    what each action does to the state
- :mod:`.clocks`   the clocks computed from the events; next due, overdue, at risk
- :mod:`.evidence` merging evidence into a new case revision
- :mod:`.errors`   the refusals
"""

from adjudicator.core.lifecycle.clocks import (
    Clock,
    EventRecord,
    as_of,
    at_risk,
    compute_clocks,
    next_due,
    overdue,
    snapshot,
    timer_due,
)
from adjudicator.core.lifecycle.errors import (
    ActionForbidden,
    CapExhausted,
    InvalidAction,
    InvalidTransition,
    LifecycleError,
    ReplacedProposal,
    StaleProposal,
)
from adjudicator.core.lifecycle.evidence import merge_evidence
from adjudicator.core.lifecycle.machine import Available, advance, available_actions, check
from adjudicator.core.lifecycle.state import (
    CLOSED,
    NEGOTIATION,
    OPEN,
    PLATFORM_REVIEW,
    REFUND,
    STAGES,
    STATUSES,
    ClaimState,
    stage_of,
    statuses_for,
    wire_status,
)
from adjudicator.core.lifecycle.table import (
    ACTIONS,
    API_ACTIONS,
    EVENT_TYPES,
    TABLE,
    TIMER_ACTIONS,
    Acting,
    Transition,
)

__all__ = [
    "ACTIONS",
    "API_ACTIONS",
    "CLOSED",
    "EVENT_TYPES",
    "NEGOTIATION",
    "OPEN",
    "PLATFORM_REVIEW",
    "REFUND",
    "STAGES",
    "STATUSES",
    "TABLE",
    "TIMER_ACTIONS",
    "Acting",
    "ActionForbidden",
    "CapExhausted",
    "Available",
    "ClaimState",
    "Clock",
    "EventRecord",
    "InvalidAction",
    "InvalidTransition",
    "LifecycleError",
    "ReplacedProposal",
    "StaleProposal",
    "Transition",
    "advance",
    "as_of",
    "at_risk",
    "available_actions",
    "check",
    "compute_clocks",
    "merge_evidence",
    "next_due",
    "overdue",
    "snapshot",
    "stage_of",
    "statuses_for",
    "timer_due",
    "wire_status",
]
