"""Strict marshmallow fields for the case document (contract v1).

marshmallow's own fields are lenient where the contract is strict: ``Boolean``
takes ``"yes"`` and ``1``, ``Integer`` takes ``5.0`` and ``"5"``, ``DateTime``
takes naive times, and nothing there reads money as an exact decimal string.
The fields here accept exactly the JSON the contract describes, bound every
value the engine later turns into integers, and never echo an unbounded input
into a message. Each subclasses the built-in field of the same JSON type, and
writes its bounds into ``metadata``, so apispec's MarshmallowPlugin documents
it with the right OpenAPI type, pattern and limits.

The AQL table of the ruleset reaches the :class:`Aql` field through
marshmallow 4's documented context API (``marshmallow.experimental.context``),
which is a ``contextvars`` variable: one value per thread and per task.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from marshmallow import ValidationError, fields
from marshmallow.experimental.context import Context

from adjudicator.core.money import is_currency

MONEY_MAX = Decimal(10) ** 13
COUNT_MAX = 10**9
TEXT_MAX = 200
LONG_TEXT_MAX = 2000
YEAR_MIN, YEAR_MAX = 1900, 2200

_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DECIMAL_MAX_CHARS = 64
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
_TIMESTAMP = re.compile(_TIME + r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})")
_NAIVE = re.compile(_TIME)
_TIMESTAMP_HELP = "e.g. 2024-04-16T01:30:00+08:00"


def openapi_meta(kwargs: dict[str, Any], **openapi: Any) -> dict[str, Any]:
    """Merge OpenAPI keywords under the caller's ``metadata`` (the caller's win)."""
    return {**openapi, **kwargs.pop("metadata", {})}


def show(value: str, limit: int = 40) -> str:
    """A short, printable quotation of a user string for an error message."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _check_text(value: Any, max_length: int, non_empty: bool) -> str:
    if not isinstance(value, str):
        raise ValidationError("Must be a string.")
    if len(value) > max_length:
        raise ValidationError(f"At most {max_length} characters.")
    if non_empty and not value:
        raise ValidationError("Must not be empty.")
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("Must be valid Unicode (no unpaired surrogates).") from None
    return value


def _validate_if_any(self: fields.Field[Any], value: Any) -> None:
    """Field._validate without building an empty validator chain per value (it adds up)."""
    if self.validators:
        fields.Field._validate(self, value)


class Text(fields.String):
    """A JSON string of bounded length (``non_empty`` for ids)."""

    _validate = _validate_if_any

    def __init__(self, *, max_length: int = TEXT_MAX, non_empty: bool = False, **kw: Any) -> None:
        extra = {"minLength": 1} if non_empty else {}
        super().__init__(metadata=openapi_meta(kw, maxLength=max_length, **extra), **kw)
        self.max_length = max_length
        self.non_empty = non_empty

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return _check_text(value, self.max_length, self.non_empty)


class Choice(fields.String):
    """A closed enum of exact strings; the value is returned as the ``str`` itself."""

    _validate = _validate_if_any

    def __init__(self, choices: Sequence[str], **kw: Any) -> None:
        super().__init__(metadata=openapi_meta(kw, enum=list(choices)), **kw)
        self.choices = frozenset(choices)
        self.listing = ", ".join(choices)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and value in self.choices:
            return value
        if isinstance(value, str):
            raise ValidationError(f"Unknown value {show(value)}; expected one of: {self.listing}.")
        raise ValidationError(f"Must be a string, one of: {self.listing}.")


class Currency(fields.String):
    """An ISO 4217 code that has a minor unit, upper-case (``USD``)."""

    _validate = _validate_if_any

    def __init__(self, **kw: Any) -> None:
        super().__init__(metadata=openapi_meta(kw, pattern="^[A-Z]{3}$", example="USD"), **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and _CURRENCY.fullmatch(value) and is_currency(value):
            return value
        shown = show(value) if isinstance(value, str) else "this value"
        raise ValidationError(
            f"Unknown currency {shown}; expected an upper-case ISO 4217 code "
            "with a minor unit, such as USD."
        )


def parse_decimal(value: Any, example: str) -> Decimal:
    """Read a plain non-negative decimal string; anything else is a ValidationError."""
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValidationError(f'Must be a decimal string such as "{example}", not a number.')
        raise ValidationError(f'Must be a decimal string such as "{example}".')
    if len(value) <= _DECIMAL_MAX_CHARS and _DECIMAL.fullmatch(value):
        return Decimal(value)
    if value.startswith("-") and _DECIMAL.fullmatch(value[1 : _DECIMAL_MAX_CHARS + 1]):
        raise ValidationError("Must not be negative.")
    raise ValidationError(
        f'Must be a decimal string such as "{example}": digits, an optional "." and '
        "decimals; no sign, exponent or spaces."
    )


class DecimalString(fields.String):
    """A decimal carried as a JSON string (``"6000.00"``), loaded as an exact ``Decimal``.

    It is a ``String`` on the wire (and in OpenAPI), a ``Decimal`` inside.
    """

    _validate = _validate_if_any

    def __init__(
        self,
        *,
        maximum: Decimal,
        positive: bool = False,
        max_places: int | None = None,
        example: str = "6000.00",
        **kw: Any,
    ) -> None:
        super().__init__(
            metadata=openapi_meta(kw, pattern="^[0-9]+(\\.[0-9]+)?$", example=example), **kw
        )
        self.maximum = maximum
        self.positive = positive
        self.max_places = max_places
        self.example = example

    def _deserialize(  # type: ignore[override]  # a decimal string loads as Decimal
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> Decimal:
        amount = parse_decimal(value, self.example)
        if self.positive and not amount:
            raise ValidationError("Must be greater than 0.")
        if amount > self.maximum:
            raise ValidationError(f"Must be at most {self.maximum}.")
        if self.max_places is not None and -int(amount.as_tuple().exponent) > self.max_places:
            raise ValidationError(f"At most {self.max_places} decimals.")
        return amount


class Money(DecimalString):
    """Money: ≥ 0 and ≤ 10^13; its decimals are checked against the currency by the schema."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(maximum=MONEY_MAX, **kw)


class Price(DecimalString):
    """A unit price: > 0, ≤ 10^13, up to 6 decimals whatever the currency."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(maximum=MONEY_MAX, positive=True, max_places=6, example="2.00", **kw)


class Percent(DecimalString):
    """A percentage 0..100 as a decimal string (``"0.5"``), up to 6 decimals."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(maximum=Decimal(100), max_places=6, example="5", **kw)


class StrictInt(fields.Integer):
    """A JSON integer (not a bool, float or string) within ``[minimum, maximum]``."""

    _validate = _validate_if_any

    def __init__(self, *, minimum: int = 0, maximum: int = COUNT_MAX, **kw: Any) -> None:
        super().__init__(
            strict=True, metadata=openapi_meta(kw, minimum=minimum, maximum=maximum), **kw
        )
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if type(value) is not int:
            raise ValidationError("Must be an integer such as 5.")
        if value < self.minimum:
            raise ValidationError(f"Must be at least {self.minimum}.")
        if value > self.maximum:
            raise ValidationError(f"Must be at most {self.maximum}.")
        return value


class StrictBool(fields.Boolean):
    """JSON ``true`` or ``false`` only (marshmallow's Boolean also takes "yes" and 1)."""

    _validate = _validate_if_any

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise ValidationError("Must be true or false.")


class Timestamp(fields.DateTime):
    """An RFC 3339 timestamp with an offset, loaded as an aware ``datetime`` in that offset."""

    _validate = _validate_if_any

    def __init__(self, **kw: Any) -> None:
        super().__init__(metadata=openapi_meta(kw, example="2024-04-16T01:30:00+08:00"), **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40 or not _TIMESTAMP.fullmatch(value):
            if isinstance(value, str) and _NAIVE.fullmatch(value):
                raise ValidationError(f"Timestamp needs an offset, {_TIMESTAMP_HELP}")
            raise ValidationError(f"Must be an RFC 3339 timestamp with offset, {_TIMESTAMP_HELP}")
        text = value.upper()
        if text[17:19] == "60":  # a leap second (spec v1.1, clarification 14): read as :59
            text = text[:17] + "59" + text[19:]
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"Not a real date and time, {_TIMESTAMP_HELP}") from None
        if not YEAR_MIN <= found.year <= YEAR_MAX:
            raise ValidationError(f"The year must be between {YEAR_MIN} and {YEAR_MAX}.")
        return found


class StrictDate(fields.Date):
    """A calendar date written ``YYYY-MM-DD`` (nothing else), loaded as ``datetime.date``."""

    _validate = _validate_if_any

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValidationError("Must be a date written YYYY-MM-DD, e.g. 2024-04-15.")
        try:
            found = date.fromisoformat(value)
        except ValueError:
            raise ValidationError("Not a real date.") from None
        if not YEAR_MIN <= found.year <= YEAR_MAX:
            raise ValidationError(f"The year must be between {YEAR_MIN} and {YEAR_MAX}.")
        return found


@dataclass(frozen=True, slots=True)
class AqlTable:
    """The AQL keys of a ruleset's ISO 2859-1 table, by numeric value."""

    by_value: Mapping[Decimal, str]
    listing: str


AqlContext = Context[AqlTable]


@lru_cache(maxsize=64)
def _aql_table(keys: frozenset[str]) -> AqlTable:
    try:
        by_value = {Decimal(key): key for key in keys}
    except ArithmeticError:
        by_value = {}
    if len(by_value) != len(keys) or not all(v.is_finite() and v >= 0 for v in by_value):
        raise ValueError(f"AQL table keys must be distinct decimal strings, got {sorted(keys)}")
    return AqlTable(by_value, ", ".join(by_value[v] for v in sorted(by_value)))


def aql_context(aql_values: Collection[str]) -> Context[AqlTable]:
    """A context manager under which :class:`Aql` fields accept the keys of ``aql_values``."""
    return AqlContext(_aql_table(frozenset(aql_values)))


class Aql(fields.String):
    """An AQL as a decimal string, accepted when numerically equal to a key of the table
    in :func:`aql_context` (``"2.50"`` → ``"2.5"``); ``zero_ok`` also allows ``"0"``."""

    _validate = _validate_if_any

    def __init__(self, *, zero_ok: bool = False, **kw: Any) -> None:
        super().__init__(
            metadata=openapi_meta(kw, pattern="^[0-9]+(\\.[0-9]+)?$", example="2.5"), **kw
        )
        self.zero_ok = zero_ok

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        table = AqlContext.get(None)
        if not isinstance(table, AqlTable):
            raise RuntimeError("Aql field loaded outside aql_context(): no AQL table is set")
        number = parse_decimal(value, "2.5")
        if self.zero_ok and not number:
            return "0"
        found = table.by_value.get(number)
        if found is None:
            zero = "0 (critical only), " if self.zero_ok else ""
            raise ValidationError(
                f"AQL {value} is not in the ISO 2859-1 table; "
                f"expected one of: {zero}{table.listing}."
            )
        return found
