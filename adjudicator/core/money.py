"""Exact money: ISO 4217 exponents, minor units and half-up rounding.

Money inside the core is ``decimal.Decimal`` or integer minor units, never a
float. The exponent of a currency comes from the ISO 4217 table shipped by the
``iso4217`` package (the maintained list, not a hand-written one).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import iso4217


@cache
def exponent(currency: str) -> int | None:
    """The ISO 4217 minor-unit exponent of ``currency``; ``None`` when unknown or without one."""
    try:
        found = iso4217.Currency(currency)
    except ValueError:
        return None
    return found.exponent


def is_currency(currency: str) -> bool:
    """True for an active ISO 4217 code that has a minor unit (funds and metals have none)."""
    return exponent(currency) is not None


def _exp(currency: str) -> int:
    found = exponent(currency)
    if found is None:
        raise ValueError(f"{currency!r} is not an ISO 4217 currency with a minor unit")
    return found


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half-up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-_exp(currency)), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer minor units of ``amount``, rounded half-up first."""
    return int(quantize(amount, currency).scaleb(_exp(currency)))


def format_minor(minor: int, currency: str) -> str:
    """The contract's money string (``"6000.00"``) for ``minor`` units."""
    places = _exp(currency)
    if places == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{part:0{places}d}"


def fits_exponent(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` has no more decimals than the currency allows."""
    exp = amount.as_tuple().exponent
    places = -exp if isinstance(exp, int) else 0
    return places <= _exp(currency)
