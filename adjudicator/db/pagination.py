"""Opaque cursors for keyset pagination.

A cursor is the URL-safe base64 of a small JSON object naming the last item a
page returned; clients pass it back unchanged. A cursor that does not decode
to the expected keys raises :class:`InvalidRequest` (never a server error).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from adjudicator.db.errors import InvalidRequest

T = TypeVar("T")
MAX_LIMIT = 200
_MAX_CURSOR = 512


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the cursor of the next page (``None`` on the last)."""

    items: list[T]
    next_cursor: str | None


def clamp_limit(limit: int) -> int:
    """``limit`` held to 1..MAX_LIMIT."""
    return max(1, min(limit, MAX_LIMIT))


def encode_cursor(position: dict[str, Any]) -> str:
    """The opaque cursor for ``position``."""
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def invalid_cursor() -> InvalidRequest:
    """The error for a cursor this service did not issue."""
    return InvalidRequest("invalid cursor", {"cursor": ["Not a cursor this service issued."]})


def decode_cursor(cursor: str, keys: Sequence[str]) -> list[str | int]:
    """The values under ``keys`` of a cursor from :func:`encode_cursor`."""
    invalid = invalid_cursor()
    if len(cursor) > _MAX_CURSOR:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    if not isinstance(position, dict) or set(position) != set(keys):
        raise invalid
    values = [position[key] for key in keys]
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        raise invalid
    return values
