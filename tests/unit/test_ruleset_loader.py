"""The ruleset compiler refuses malformed rule data at load time, and the digest
follows every byte of the rule files."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from adjudicator import RulesetError, load_catalog, load_ruleset
from adjudicator.core.loader import DEFAULT_RULES_DIR, build_ruleset, load_version

ACTIVE = load_catalog().active_version
PARAMETERS: Mapping[str, Any] = load_ruleset().parameters
AQL = {"sample_sizes": [2, 3, 5], "acceptance": {"2.5": [0, 0, 0], "4.0": [0, 0, 0]}}


def _rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "TEST-01",
        "title": "a test rule",
        "source": "ours",
        "stage": "gates",
        "when": {"case": "ground == 'quality' and ship_day > ship_by_day + 2"},
        "action": "add_reason",
        "reason": "E_TEST",
        "gate": True,
        "message": "Order {order_id} filed {filed_on}.",
    }
    rule.update(changes)
    return rule


def _build(*rules: dict[str, Any], parameters: Mapping[str, Any] = PARAMETERS) -> Any:
    return build_ruleset(
        name="t",
        version="0",
        digest="sha256:0",
        rules_doc={"stages": ["figures", "gates"], "rules": list(rules)},
        parameters=parameters,
        aql_doc=AQL,
    )


def test_a_well_formed_rule_compiles() -> None:
    ruleset = _build(
        _rule(),
        _rule(id="TEST-02", when={"case": "", "state": "win_close < filed_day"}),
        _rule(id="TEST-03", when={"payment": "amount >= 100 and chargeback in ['pending']"}),
    )
    assert [spec.id for spec in ruleset.rules] == ["TEST-01", "TEST-02", "TEST-03"]
    assert ("case", "ship_by_day") in ruleset.rules[0].reads


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"case": "no_such_field == 1"}, "no field 'no_such_field'"),
        ({"payment": "ship_day > 3"}, "no field 'ship_day'"),
        ({"state": "mystery > 0", "case": ""}, "no field 'mystery'"),
        ({"case": "ship_day > ship_by_days"}, "no field 'ship_by_days'"),
        ({"widget": "x == 1"}, "exactly one fact"),
        ({"case": "", "payment": ""}, "exactly one fact"),
    ],
)
def test_unknown_fields_are_refused(when: dict[str, str], message: str) -> None:
    with pytest.raises(RulesetError, match=message):
        _build(_rule(when=when))


@pytest.mark.parametrize(
    "expression",
    ["ship_day > ship_by_day / 2", "ship_day > ship_by_day // 2", "ship_day > ship_by_day % 7"],
)
def test_division_is_refused(expression: str) -> None:
    with pytest.raises(RulesetError, match="no division"):
        _build(_rule(when={"case": expression}))


@pytest.mark.parametrize(
    "when",
    [
        {"case": "", "state": "win_close < case.filed_day"},
        {"case": "ship_day > payment.credited_day"},
    ],
)
def test_cross_fact_references_are_refused(when: dict[str, str]) -> None:
    with pytest.raises(RulesetError, match="only fields of its own fact"):
        _build(_rule(when=when))


def test_only_case_rules_join_the_state() -> None:
    with pytest.raises(RulesetError, match="only 'case' rules may join the state"):
        _build(_rule(when={"payment": "credited", "state": "inel == 0"}))


def test_unknown_parameter_and_wrong_constant_type_are_refused() -> None:
    with pytest.raises(RulesetError, match="names params.nope, which parameters.toml does not"):
        _build(_rule(when={"case": "ship_day > params.nope"}))
    with pytest.raises(RulesetError, match="is not a int"):
        _build(_rule(when={"case": "unshipped_qty > 'many'"}))


def test_a_message_naming_an_unknown_value_is_refused() -> None:
    with pytest.raises(RulesetError, match=r"message names unknown value \{shipping_date\}"):
        _build(_rule(message="Shipped {shipping_date}."))


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(RulesetError, match="unknown action 'explode'"):
        _build(_rule(action="explode"))


def test_action_arguments_are_checked() -> None:
    with pytest.raises(RulesetError, match="unexpected"):
        _build(_rule(severity="high"))
    rule = _rule()
    del rule["reason"]
    with pytest.raises(RulesetError, match="missing"):
        _build(rule)


def test_missing_key_and_unknown_stage_are_refused() -> None:
    rule = _rule()
    del rule["action"]
    with pytest.raises(RulesetError, match="missing 'action'"):
        _build(rule)
    with pytest.raises(RulesetError, match="unknown stage"):
        _build(_rule(stage="later"))


def test_a_duplicate_id_is_refused() -> None:
    with pytest.raises(RulesetError, match=r"duplicate rule ids \['TEST-01'\]"):
        _build(_rule(), _rule(when={"case": "sample_order"}))


# -- digest ------------------------------------------------------------------


def _copy_version(tmp_path: Path) -> Path:
    source = DEFAULT_RULES_DIR / "trade_assurance" / ACTIVE
    target = tmp_path / ACTIVE
    shutil.copytree(source, target)
    return target


def test_the_digest_is_the_same_for_the_same_bytes(tmp_path: Path) -> None:
    folder = _copy_version(tmp_path)
    assert load_version(folder).digest == load_ruleset(ACTIVE).digest


@pytest.mark.parametrize("file_name", ["rules.toml", "parameters.toml", "aql.toml", "reasons.toml"])
def test_one_changed_byte_changes_the_digest(tmp_path: Path, file_name: str) -> None:
    folder = _copy_version(tmp_path)
    before = load_version(folder).digest
    path = folder / file_name
    raw = bytearray(path.read_bytes())
    index = raw.index(b"#")  # a comment character: the rules themselves stay the same
    raw[index + 1 : index + 2] = b"X" if raw[index + 1 : index + 2] != b"X" else b"Y"
    path.write_bytes(bytes(raw))
    after = load_version(folder)
    assert after.digest != before
    assert after.digest.startswith("sha256:") and len(after.digest) == len("sha256:") + 64
    assert [s.id for s in after.rules] == [s.id for s in load_ruleset(ACTIVE).rules]


def test_a_malformed_rules_file_is_a_ruleset_error(tmp_path: Path) -> None:
    folder = _copy_version(tmp_path)
    (folder / "rules.toml").write_text("stages = [\n", encoding="utf-8")
    with pytest.raises(RulesetError):
        load_version(folder)


@pytest.mark.parametrize("key", ["mesage", "priority"])
def test_unknown_rule_keys_are_refused(key: str) -> None:
    with pytest.raises(RulesetError, match=key):
        _build(_rule(**{key: "x"}))
