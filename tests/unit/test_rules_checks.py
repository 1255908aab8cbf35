"""``adjudicator rules check`` and the loader refuse a version's mistakes, each with
the rule id and a sentence; one broken version never stops another from loading.

Each refusal edits a copy of the active version's files (one mistake an
analyst could make) and reads the catalog the loader builds from the copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from adjudicator import Adjudicator, RulesetError, load_catalog
from adjudicator.cli import main
from adjudicator.core.loader import default_rules_dir

ACTIVE = load_catalog().active_version
ROOT = Path(__file__).resolve().parents[2]
WE_1 = ROOT / "fixtures" / ACTIVE / "WE-1-never-shipped.json"


def _rules_copy(tmp_path: Path) -> Path:
    """A copy of the shipped rules directory; returns its root."""
    root = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), root)
    return root


def _edit(folder: Path, file_name: str, old: str, new: str, count: int = 1) -> None:
    path = folder / file_name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file_name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _broken_copy(tmp_path: Path, name: str, *edits: tuple[str, str, str]) -> Path:
    """The rules root with a copy of the active version named ``name``, edited."""
    root = _rules_copy(tmp_path)
    folder = root / "trade_assurance" / name
    shutil.copytree(root / "trade_assurance" / ACTIVE, folder)
    for file_name, old, new in edits:
        _edit(folder, file_name, old, new)
    return root


def test_every_shipped_version_passes_the_static_checks() -> None:
    catalog = load_catalog()
    assert catalog.broken == {}
    assert catalog.versions


REFUSALS = [
    pytest.param(
        (
            "rules.toml",
            'outcome = "denied"\nreason = "D_ON_TIME"',
            'outcome = "refused"\nreason = "D_ON_TIME"',
        ),
        "rule LATE-02: outcome 'refused' is not one of the contract's outcomes "
        "(not_eligible, denied, upheld_full, upheld_partial, manual_review)",
        id="outcome-outside-the-contract",
    ),
    pytest.param(
        ("rules.toml", 'reason = "D_ON_TIME"', 'reason = "D_ON_TIEM"'),
        "rule LATE-02: reason code D_ON_TIEM is not declared in the version's reasons.toml",
        id="undeclared-reason-code",
    ),
    pytest.param(
        (
            "reasons.toml",
            '[reasons.D_ON_TIME]\nkind = "denied"',
            '[reasons.D_ON_TIME]\nkind = "breach"',
        ),
        "rule LATE-02: reason code D_ON_TIME is declared as 'breach' in reasons.toml, "
        "but conclude gives a 'denied' reason",
        id="reason-of-the-wrong-kind",
    ),
    pytest.param(
        ("rules.toml", "params.receipt_window_days", "params.receipt_window_dayz"),
        "rule WIN-01a: argument figures names the parameter 'receipt_window_dayz', "
        "which parameters.toml does not define",
        id="unknown-parameter-in-an-argument",
    ),
    pytest.param(
        ("rules.toml", "short_lines > 0", "short_lines > params.min_short_lines"),
        "rule QTY-01c: the condition names params.min_short_lines, "
        "which parameters.toml does not define",
        id="unknown-parameter-in-a-condition",
    ),
    pytest.param(
        ("rules.toml", "ground == 'not_received' and not", "ground == 'not_recieved' and not"),
        "rule RECV-03: ground is compared with 'not_recieved', which is not one of its values "
        "(after_sales, cost_dispute, late_shipment, non_shipment, not_received, other, "
        "quality, quantity_shortage)",
        id="enum-literal-outside-the-contract",
    ),
    pytest.param(
        ("rules.toml", "breach == 'quality' and reach > 0", "breach == 'qualty' and reach > 0"),
        "rule LOSS-03a: breach is compared with 'qualty', which is not one of its values "
        "(late, non_delivery, none, not_shipped, quality, shortage)",
        id="state-literal-no-rule-writes",
    ),
    pytest.param(
        (
            "rules.toml",
            'message = "Every ordered unit had shipped by {completed_on}',
            'message = "Payment {payment_id}: every ordered unit had shipped by {completed_on}',
        ),
        "rule LATE-02: the message names {payment_id}, which no rule of this version fills",
        id="placeholder-no-rule-fills",
    ),
    pytest.param(
        ("rules.toml", 'id = "LATE-02"\n', 'id = "LATE-02"\noverrides = ["CAP-04a"]\n'),
        "rule LATE-02: overrides 'CAP-04a', which is not a rule of its stage 'breach'",
        id="overrides-outside-the-stage",
    ),
]


@pytest.mark.parametrize(("edit", "message"), REFUSALS)
def test_a_mistake_is_refused_with_the_rule_and_a_sentence(
    tmp_path: Path, edit: tuple[str, str, str], message: str
) -> None:
    catalog = load_catalog(_broken_copy(tmp_path, "2099.1", edit))
    assert "2099.1" not in catalog.by_version
    assert f"trade_assurance@2099.1: {message}" in catalog.broken["2099.1"]


def test_a_placeholder_loses_its_filler_when_no_rule_opens_a_window(tmp_path: Path) -> None:
    root = _broken_copy(tmp_path, "2099.1")
    folder = root / "trade_assurance" / "2099.1"
    _edit(folder, "rules.toml", 'figures.win_open = "ship_by_day + 1"\n', "", count=2)
    catalog = load_catalog(root)
    assert (
        "trade_assurance@2099.1: rule ELIG-08a: the message names {window_open}, "
        "which no rule of this version fills"
    ) in catalog.broken["2099.1"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    root = _broken_copy(
        tmp_path,
        "2099.1",
        ("rules.toml", 'reason = "D_ON_TIME"', 'reason = "D_ON_TIEM"'),
        ("rules.toml", "ground == 'not_received' and not", "ground == 'not_recieved' and not"),
    )
    errors = load_catalog(root).broken["2099.1"]
    assert len(errors) == 2
    assert any("LATE-02" in e for e in errors) and any("RECV-03" in e for e in errors)


def test_one_broken_version_never_stops_another(tmp_path: Path) -> None:
    root = _broken_copy(
        tmp_path, "2099.1", ("rules.toml", 'reason = "D_ON_TIME"', 'reason = "D_LATE"')
    )
    catalog = load_catalog(root)
    assert ACTIVE in catalog.versions and "2099.1" not in catalog.versions
    adjudicator = Adjudicator(catalog)
    case = orjson.loads(WE_1.read_bytes())["case"]
    assert adjudicator.decide(case).ruleset.version == ACTIVE
    with pytest.raises(RulesetError, match=r"version 2099.1 is broken: .*D_LATE"):
        adjudicator.decide(case, "2099.1")


def test_rules_list_and_check_show_a_broken_version_with_its_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _broken_copy(
        tmp_path, "2099.1", ("rules.toml", 'reason = "D_ON_TIME"', 'reason = "D_LATE"')
    )
    monkeypatch.setenv("ADJUDICATOR_RULES_DIR", str(root))
    listed = CliRunner().invoke(main, ["rules", "list"], terminal_width=250)
    assert listed.exit_code == 0, listed.output
    assert "broken" in listed.output and "D_LATE is not declared" in listed.output
    checked = CliRunner().invoke(main, ["rules", "check", "2099.1"])
    assert checked.exit_code == 1
    assert "2099.1: BROKEN" in checked.output
    assert "rule LATE-02: reason code D_LATE is not declared" in checked.output
    healthy = CliRunner().invoke(main, ["rules", "check", ACTIVE, "--no-search"])
    assert healthy.exit_code == 0, healthy.output


def test_a_broken_active_version_stops_the_service_from_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _broken_copy(
        tmp_path, "2099.1", ("rules.toml", 'reason = "D_ON_TIME"', 'reason = "D_LATE"')
    )
    _edit(root / "trade_assurance", "ruleset.toml", f'active = "{ACTIVE}"', 'active = "2099.1"')
    catalog = load_catalog(root)
    with pytest.raises(RulesetError, match="the active version 2099.1 is broken"):
        Adjudicator(catalog)
    monkeypatch.setenv("ADJUDICATOR_RULES_DIR", str(root))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    served = CliRunner().invoke(main, ["serve"])
    assert served.exit_code == 1
    assert "the active version 2099.1 is broken" in served.output
    assert not (tmp_path / "never.db").exists(), "refused before touching the database"
    listed = CliRunner().invoke(main, ["rules", "list"], terminal_width=250)
    assert "broken" in listed.output and "(active)" in listed.output


def test_rules_dir_points_the_command_line_at_another_rules_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _broken_copy(tmp_path, "2099.1")
    _edit(root / "trade_assurance", "ruleset.toml", f'active = "{ACTIVE}"', 'active = "2099.1"')
    monkeypatch.setenv("ADJUDICATOR_RULES_DIR", str(root))
    decided = CliRunner().invoke(main, ["decide", str(WE_1)])
    assert decided.exit_code == 0, decided.output
    assert orjson.loads(decided.stdout)["ruleset"]["version"] == "2099.1"
    monkeypatch.setenv("ADJUDICATOR_RULES_DIR", str(tmp_path / "nowhere"))
    refused = CliRunner().invoke(main, ["decide", str(WE_1)])
    assert refused.exit_code == 1
    assert "no trade_assurance/ruleset.toml under it" in refused.output


def test_rules_check_reports_an_overlap_with_its_smallest_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _broken_copy(
        tmp_path,
        "2099.1",
        (
            "rules.toml",
            "finding == 'priced' and loss_ceil <= cap and loss_ceil <= claim_limit",
            "finding == 'priced' and loss_ceil <= cap",
        ),
    )
    monkeypatch.setenv("ADJUDICATOR_RULES_DIR", str(root))
    result = CliRunner().invoke(
        main, ["rules", "check", "2099.1", "--stage", "refund", "--examples", "100"]
    )
    assert result.exit_code == 1, result.output
    assert "2099.1: loads; every static check passes" in result.output
    assert "OVERLAP stage refund: CAP-04a and CAP-04b both hold for one valid case" in result.output
    example = result.output.split("smallest example found: ", 1)[1].splitlines()[0]
    case = orjson.loads(example)
    assert Adjudicator(load_catalog(root)).decide(case, "2099.1").outcome.startswith("upheld")
