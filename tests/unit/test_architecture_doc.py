"""docs/architecture.md draws the package graph the code has (``make docs`` redraws it)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import architecture  # noqa: E402


def test_the_committed_drawing_is_the_code_s() -> None:
    committed = architecture.DOC.read_text(encoding="utf-8")
    assert architecture.render(committed) == committed, "run `make docs` and commit the result"


def test_the_drawing_shows_the_layers() -> None:
    drawn = architecture.mermaid()
    assert "claims --> ledger" in drawn and "claims --> audit" in drawn
    assert "core -->" not in drawn  # the core imports none of the boxes
    assert "audit --> claims" not in drawn  # verification lists the checks, audit imports none
