"""The OpenAPI example case is worked example 1, and decides as rules.md says."""

from __future__ import annotations

from pathlib import Path

import orjson

from adjudicator import decide, load_catalog
from api.examples import WORKED_EXAMPLE_1

FIXTURE = (
    Path(__file__).resolve().parents[2]
    / "fixtures"
    / load_catalog().active_version
    / "WE-1-never-shipped.json"
)


def test_the_example_decides_like_the_worked_example_fixture() -> None:
    expected = orjson.loads(FIXTURE.read_bytes())["expected"]
    decision = decide(WORKED_EXAMPLE_1).to_dict()
    assert decision["outcome"] == expected["outcome"] == "upheld_full"
    assert decision["refund"]["amount"] == expected["refund"] == "20000.00"
    assert [r["code"] for r in decision["reasons"]] == expected["reason_codes"]
