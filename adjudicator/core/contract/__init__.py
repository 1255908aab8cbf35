"""The case-document contract (spec/contract.md), validated with marshmallow.

:func:`load_case` is the one way in: it checks a parsed JSON document against
the contract and returns plain dicts and lists with exact types (``Decimal``
money, aware ``datetime``, ``date``) and every default applied, or raises
:class:`~adjudicator.core.errors.InvalidCase` with one message per dotted field
path. Nothing is guessed, and nothing unbounded gets through: every integer
the engine later derives fits in int64.

The schemas (``adjudicator.core.contract.schemas``) are also the source of the
OpenAPI description of the case document.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import cache
from typing import Any

from marshmallow import ValidationError
from marshmallow.exceptions import SCHEMA

from adjudicator.core.contract.fields import aql_context
from adjudicator.core.contract.schemas import CaseSchema
from adjudicator.core.errors import InvalidCase

__all__ = ["load_case"]

_KEY_MAX = 100


@cache
def _case_schema() -> CaseSchema:
    """The one CaseSchema instance; built on first use, not at import (loading is thread-safe)."""
    return CaseSchema()


def load_case(doc: object, *, aql_values: Collection[str]) -> dict[str, Any]:
    """Validate a case document and return it as plain data with defaults applied.

    ``aql_values`` are the AQL keys of the ruleset's ISO 2859-1 table; an AQL in
    the document must equal one of them numerically and comes back as that key
    (a critical AQL may also be ``"0"``). Raises :class:`InvalidCase` mapping
    each bad field's dotted path (``order.lines.0.quantity``) to its messages.
    """
    if not isinstance(doc, Mapping):
        raise InvalidCase({SCHEMA: ["A case document must be a JSON object."]})
    try:
        with aql_context(aql_values):
            loaded: dict[str, Any] = _case_schema().load(doc)
    except ValidationError as error:
        raise InvalidCase(flatten_errors(error.messages)) from None
    return loaded


def flatten_errors(messages: object, path: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as ``{"a.0.b": [messages]}``.

    A nested object's own errors (``_schema``) are reported at the object's
    path; only the document's own stay under ``_schema``.
    """
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == SCHEMA:
                inner = path or SCHEMA
            else:
                part = _path_part(key)
                inner = f"{path}.{part}" if path else part
            for name, found in flatten_errors(value, inner).items():
                flat.setdefault(name, []).extend(found)
    elif isinstance(messages, list):
        for item in messages:
            for name, found in flatten_errors(item, path).items():
                flat.setdefault(name, []).extend(found)
    else:
        flat[path or SCHEMA] = [str(messages)]
    return flat


def _path_part(key: object) -> str:
    """A document key made safe to echo: short and free of unpaired surrogates."""
    if isinstance(key, str):
        text = key.encode("utf-8", "backslashreplace").decode("utf-8")
    elif isinstance(key, int) and -(10**18) < key < 10**18:
        text = str(key)
    else:
        text = f"<{type(key).__name__} key>"
    return text if len(text) <= _KEY_MAX else text[:_KEY_MAX] + "..."
