"""The refusals of the claim lifecycle, under the core's ``AdjudicatorError``.

::

    AdjudicatorError                    (adjudicator.core.errors)
    └── LifecycleError                  the claim cannot take this action now
        ├── InvalidTransition           not from this state, or a guard says not yet (409)
        ├── ActionForbidden             this party may not take it (the proposer approving: 403)
        ├── StaleProposal               the proposal was made on an older case revision (409)
        ├── ReplacedProposal            the proposal reviewed is not the pending one (409 stale)
        ├── CapExhausted                the order's cap cannot cover the grant (409)
        └── InvalidAction               the action's body is wrong (422, with field paths)

They are results of the pure table (:mod:`.machine`); the service turns them
into problem+json at the HTTP boundary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adjudicator.core.errors import AdjudicatorError


class LifecycleError(AdjudicatorError):
    """Root of the lifecycle's refusals."""


class InvalidTransition(LifecycleError):
    """The claim does not accept ``action`` now; ``allowed`` lists what it accepts."""

    def __init__(self, action: str, status: str, allowed: Sequence[str], reason: str) -> None:
        self.action = action
        self.status = status
        self.allowed = list(allowed)
        self.reason = reason
        super().__init__(reason)


class ActionForbidden(LifecycleError):
    """The acting party may not take this action on this claim."""

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(reason)


class StaleProposal(LifecycleError):
    """The pending proposal was made on an older revision of the case."""

    def __init__(self, proposed_on: int, current: int) -> None:
        self.proposed_on = proposed_on
        self.current = current
        super().__init__(
            f"the proposal was made on revision {proposed_on}; the case is now at {current}"
        )


class ReplacedProposal(LifecycleError):
    """``approve``/``decline`` named a proposal that is no longer the pending one."""

    def __init__(self, named: str | None, pending: str | None) -> None:
        self.named = named
        self.pending = pending
        now = "no proposal is pending" if pending is None else f"the pending one is {pending}"
        super().__init__(f"proposal {named} was replaced or cleared since: {now}")


class CapExhausted(LifecycleError):
    """The order's cap account cannot cover ``wanted``: only ``remaining`` is left."""

    def __init__(self, wanted: str, remaining: str, currency: str, order_id: str) -> None:
        self.wanted = wanted
        self.remaining = remaining
        self.currency = currency
        self.order_id = order_id
        super().__init__(
            f"order {order_id} has {remaining} {currency} of its cap left; "
            f"{wanted} {currency} cannot be granted (propose {remaining} or less)"
        )


class InvalidAction(LifecycleError):
    """The body of an action is not acceptable; ``errors`` maps field paths to messages."""

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {path: list(msgs) for path, msgs in errors.items()}
        super().__init__(message)
