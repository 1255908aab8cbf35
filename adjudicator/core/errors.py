"""The exceptions the decision core raises.

Every error the core raises derives from :class:`AdjudicatorError`, so a caller
can catch the whole family in one place::

    AdjudicatorError
    ├── InvalidCase        the case document breaks the contract (one message per field path)
    ├── UnknownRuleset     no loaded ruleset version has that name
    ├── RulesetError       a ruleset folder is malformed (bad rule, unknown field, missing id)
    └── EngineError        the rules engine failed while deciding (a fault, not a client error)
        └── NoOutcome      a valid case reached no outcome: a gap in the ruleset version

"Not eligible" and "denied" are decisions, not errors. Exceptions from
durable-rules are wrapped into :class:`EngineError` at the adapter boundary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class AdjudicatorError(Exception):
    """Root of every error raised by the decision core."""


class InvalidCase(AdjudicatorError):
    """The case document is not valid under the contract; it was not decided.

    ``errors`` maps a dotted field path (``order.lines.0.quantity``) to the
    messages for that field.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {path: list(msgs) for path, msgs in errors.items()}
        super().__init__(f"invalid case document: {len(self.errors)} field(s) with errors")


class UnknownRuleset(AdjudicatorError):
    """No loaded ruleset has the requested version."""

    def __init__(self, version: str, known: Sequence[str]) -> None:
        self.version = version
        self.known = list(known)
        super().__init__(
            f"unknown ruleset version {version!r}; known: {', '.join(known) or 'none'}"
        )


class RulesetError(AdjudicatorError):
    """A ruleset folder could not be loaded: the data breaks the ruleset format."""


class EngineError(AdjudicatorError):
    """The rules engine failed while deciding a case.

    ``recycle`` is true when the engine reported a condition (``MemoryError``)
    after which the process should be replaced. ``case_digest`` names the case
    that was being decided (``sha256:...``; set by the service, which logs it in
    place of the case itself).
    """

    def __init__(self, message: str, *, recycle: bool = False) -> None:
        self.recycle = recycle
        self.case_digest: str | None = None
        super().__init__(message)


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


class NoOutcome(EngineError):
    """A valid case reached no outcome: no rule of the stage it waited for held.

    Spec v1.2, clarification 22: every valid case reaches an outcome, so this
    is a defect of the ruleset version (a gap ``adjudicator rules check`` can
    find), not of the engine nor of the case. ``stage`` names the stage the case
    waited for (``breach``, ``loss``), ``version`` the ruleset version;
    :meth:`Adjudicator.decide <adjudicator.core.decide.Adjudicator.decide>` sets
    ``case_digest``. The API answers it with a problem naming both, never a
    bare 500.
    """

    def __init__(self, name: str, version: str, stage: str, finding: str) -> None:
        self.name = name
        self.version = version
        self.stage = stage
        self.finding = finding
        super().__init__(
            f"ruleset {name}@{version} reached no outcome: the case waited for its "
            f"{stage} stage (finding {finding!r}) and no rule of that stage held"
        )
