"""Helpers for the rules-governance tests: a rules root with a candidate version, seeded decisions.

The candidate is a copy of the file's default version with two parameters
changed in the data only (a tighter "about" tolerance and a one-day shorter
receipt window), so a replay has real changes to find: a shortage within the
old band becomes upheld in part, a claim on the 30th day after receipt
becomes out of window.
"""

from __future__ import annotations

import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from adjudicator import Adjudicator, load_catalog
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.decisions.service import create_decision

CANDIDATE = "candidate"
REPO = Path(__file__).resolve().parents[2]
SEEDER = Actor(key_id=None, name="seed", role="system")
# fixture name -> (outcome, refund) under the default version, and under the candidate
CHANGED = {
    "QTY-01b-about-within-band": (("denied", "0.00"), ("upheld_partial", "1800.00")),
    "WIN-01a-30th-day-after-receipt": (("upheld_full", "20000.00"), ("not_eligible", "0.00")),
}
UNCHANGED = ("WE-1-never-shipped", "WE-2-capped-at-ta-amount", "CAP-04-jpy-price-rounding")


def default_rules_root() -> Path:
    """The rules root the package decides with by default."""
    try:
        from adjudicator.core.loader import DEFAULT_RULES_DIR

        return Path(DEFAULT_RULES_DIR)
    except ImportError:  # pragma: no cover - moved by another change
        return REPO / "rules"


def _tighten(text: str, name: str, change: Any) -> str:
    pattern = re.compile(rf"^({name}\s*=\s*)(\d+)", re.MULTILINE)
    changed, count = pattern.subn(lambda m: f"{m.group(1)}{change(int(m.group(2)))}", text)
    assert count == 1, f"parameter {name} not found"
    return changed


def make_rules_root(dest: Path, *, extra: str | None = None) -> Path:
    """A rules root with every default version plus ``candidate`` (and ``extra``, a plain copy)."""
    source = default_rules_root()
    shutil.copytree(source, dest, dirs_exist_ok=True)
    name = "trade_assurance"
    base = load_catalog(source).get(None).version
    folder = dest / name / CANDIDATE
    shutil.copytree(dest / name / base, folder)
    params = folder / "parameters.toml"
    text = params.read_text(encoding="utf-8")
    text = _tighten(text, "about_tolerance_percent", lambda n: n // 2)
    text = _tighten(text, "receipt_window_days", lambda n: n - 1)
    params.write_text(text, encoding="utf-8")
    if extra:
        shutil.copytree(dest / name / base, dest / name / extra)
        with (dest / name / extra / "parameters.toml").open("a", encoding="utf-8") as out:
            out.write("\n# a copy with another digest\n")
    return dest


def fixture_case(name: str) -> dict[str, Any]:
    """The case document of the fixture file ``name`` (wherever under fixtures/ it lives)."""
    found = sorted((REPO / "fixtures").rglob(f"{name}.json"))
    assert found, name
    case: dict[str, Any] = orjson.loads(found[0].read_bytes())["case"]
    return case


def seed(store: Store, adjudicator: Adjudicator, names: tuple[str, ...] | None = None) -> list[str]:
    """Store one engine decision per named fixture (default: the changed and unchanged ones)."""
    ids = []
    for name in names or (*CHANGED, *UNCHANGED):
        stored, _ = create_decision(store, adjudicator, fixture_case(name), actor=SEEDER)
        ids.append(stored.decision_id)
    return ids


ALICE = Actor(key_id="k_alice", name="alice", role="admin")
BOB = Actor(key_id="k_bob", name="bob", role="admin")
EXTRA = "extra"  # the candidate version governed_adjudicator's rules root adds


class Clock:
    """A clock the test moves by hand (one microsecond per reading, so times stay ordered)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(microseconds=1)
            return self.now


def governed_adjudicator(rules: Path) -> Adjudicator:
    """An adjudicator over a rules root in ``rules`` holding the candidate version EXTRA."""
    return Adjudicator(load_catalog(make_rules_root(rules, extra=EXTRA)))
