"""The exceptions the service layer raises, under the core's ``AdjudicatorError``.

::

    AdjudicatorError                    (adjudicator.core.errors)
    └── StoreError                      the service layer refused or failed a request
        ├── NotFound                    no decision / key with that id
        ├── IdempotencyConflict         the Idempotency-Key was used for another request
        ├── InvalidRequest              a request the service cannot take (bad override, cursor)
        ├── SealError                   a sealed webhook secret does not open (webhooks.sealing)
        └── DatabaseUnavailable         the database could not be reached (retry later)

SQLAlchemy exceptions never leave the store: connection failures become
:class:`DatabaseUnavailable` (``raise ... from exc``); anything else is a fault
of the service and surfaces as :class:`StoreError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adjudicator.core.errors import AdjudicatorError


class StoreError(AdjudicatorError):
    """Root of the errors raised by the persistence and service layer."""


class NotFound(StoreError):
    """No record of that kind has that id."""

    def __init__(self, kind: str, ident: str) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"no {kind} with id {ident!r}")


class IdempotencyConflict(StoreError):
    """The Idempotency-Key was already used with a different request."""

    def __init__(self, key: str, decision_id: str) -> None:
        self.key = key
        self.decision_id = decision_id
        super().__init__("this Idempotency-Key was already used with a different request")


class InvalidRequest(StoreError):
    """The request is well-formed but the service cannot take it.

    ``errors`` maps a field path to its messages, like ``InvalidCase.errors``.
    """

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {path: list(msgs) for path, msgs in errors.items()}
        super().__init__(message)


class DatabaseUnavailable(StoreError):
    """The database did not answer; the request may be retried."""
