"""``docs/contract.md`` is generated from the schemas, and the committed file is fresh."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from api.contractdoc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def test_the_committed_contract_is_what_the_schemas_generate(client: FlaskClient) -> None:
    spec = client.get("/v1/openapi.json").get_json()
    assert DOC.read_text(encoding="utf-8") == render(spec), "stale: run `make docs`"


def test_the_contract_shows_every_field_and_limit(client: FlaskClient) -> None:
    text = DOC.read_text(encoding="utf-8")
    spec = client.get("/v1/openapi.json").get_json()
    for name in ("Case", "Order", "Line", "Payment", "Claim", "Decision", "Override"):
        for field in spec["components"]["schemas"][name]["properties"]:
            assert f"| `{field}` |" in text, (name, field)
    for limit in ("1,048,576 bytes", "≤ 1000 items", "1 to 255 characters", "up to 200"):
        assert limit in text
