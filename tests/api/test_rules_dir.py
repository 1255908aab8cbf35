"""``create_app`` reads ``ADJUDICATOR_RULES_DIR`` (the composition root, not the core)
and refuses to build a service on a broken active version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from servicekit import KEY_SECRET

from adjudicator import RulesetError, load_catalog
from adjudicator.core.loader import default_rules_dir
from api import create_app

ACTIVE = load_catalog().active_version


def _rules(tmp_path: Path, active: str, broken: bool = False) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), root)
    folder = root / "trade_assurance" / active
    shutil.copytree(root / "trade_assurance" / ACTIVE, folder)
    if broken:
        rules = folder / "rules.toml"
        text = rules.read_text(encoding="utf-8")
        rules.write_text(text.replace('reason = "D_ON_TIME"', 'reason = "D_LATE"'), "utf-8")
    meta = root / "trade_assurance" / "ruleset.toml"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(text.replace(f'active = "{ACTIVE}"', f'active = "{active}"'), "utf-8")
    return root


def _config(tmp_path: Path) -> dict[str, object]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'api.db'}", "KEY_SECRET": KEY_SECRET}


def test_create_app_decides_with_the_rules_directory_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADJUDICATOR_RULES_DIR", str(_rules(tmp_path, "2099.1")))
    app = create_app(_config(tmp_path))
    try:
        catalog = app.extensions["adjudicator"].adjudicator.catalog
        assert catalog.active_version == "2099.1"
        assert set(catalog.versions) == {*load_catalog().versions, "2099.1"}
    finally:
        app.extensions["adjudicator"].store.close()


def test_create_app_refuses_a_broken_active_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADJUDICATOR_RULES_DIR", str(_rules(tmp_path, "2099.1", broken=True)))
    with pytest.raises(RulesetError, match="the active version 2099.1 is broken"):
        create_app(_config(tmp_path))
