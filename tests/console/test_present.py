"""Countdowns and times as the console shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from api.console.caseform import case_from_form, form_from_case
from api.console.present import Countdown, countdown, local_time
from api.examples import WORKED_EXAMPLE_1

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_countdowns_are_green_amber_then_red_and_negative() -> None:
    assert countdown(NOW + timedelta(days=3, hours=4), NOW) == Countdown("3d 4h", "ok")
    assert countdown(NOW + timedelta(hours=24), NOW) == Countdown("1d 0h", "soon")
    assert countdown(NOW + timedelta(hours=5, minutes=7), NOW) == Countdown("5h 7m", "soon")
    assert countdown(NOW - timedelta(hours=2, minutes=10), NOW) == Countdown("-2h 10m", "overdue")
    assert countdown("2026-02-27T12:00:00Z", NOW) == Countdown("-2d 0h", "overdue")
    assert countdown(None, NOW) is None


def test_times_are_in_the_viewers_zone_with_the_offset(app: Flask) -> None:
    with app.test_request_context(headers={"Cookie": "tz=Asia/Kolkata"}):
        assert local_time("2024-04-23T10:00:00Z") == "2024-04-23 15:30 +05:30"
        assert local_time("2024-05-09") == "2024-05-09"
    with app.test_request_context(headers={"Cookie": "tz=Not/AZone"}):
        assert local_time(NOW) == "2026-03-01 12:00 +00:00"


def test_the_case_form_round_trips_a_case() -> None:
    values, counts = form_from_case(WORKED_EXAMPLE_1)
    form = {**values, **{f"rows.{k}": str(n) for k, n in counts.items()}}
    case = case_from_form(form)
    expected = {**WORKED_EXAMPLE_1}
    expected["order"] = {**WORKED_EXAMPLE_1["order"], "partial_shipments_allowed": False,
                         "sample_order": False}  # fmt: skip
    assert case == expected
