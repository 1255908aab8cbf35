"""Dates as the rules see them: local dates, epoch days, business days, RFC 3339.

The engine has no date type, so a date enters it as an integer count of days
since 1970-01-01 (an *epoch day*); windows like "30 days after receipt" are
then plain integer comparisons.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_EPOCH = date(1970, 1, 1)


def epoch_day(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def from_epoch_day(days: int) -> date:
    """The date ``days`` after 1970-01-01."""
    return _EPOCH + timedelta(days=days)


def local_date(moment: datetime) -> date:
    """The date in the timestamp's own offset, never the UTC date."""
    return moment.date()


def add_business_days(start: date, days: int) -> date:
    """``start`` plus ``days`` business days (Monday to Friday, no holidays)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def rfc3339(moment: datetime) -> str:
    """RFC 3339 text in the timestamp's own offset; ``Z`` for UTC."""
    text = moment.isoformat()
    if moment.utcoffset() == timedelta(0):
        text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return text
