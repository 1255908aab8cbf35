"""The pure parts of the webhooks: event selection, the retry schedule, sealing, signing."""

from __future__ import annotations

import ast
import base64
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from standardwebhooks import Webhook

from adjudicator.webhooks import CLAIM_EVENTS, DELIVERABLE_EVENTS, event_body, signed_headers
from adjudicator.webhooks.events import normalise_selection, selection_errors, wanted
from adjudicator.webhooks.retry import BASE, CAP, MAX_AGE, backoff, next_retry
from adjudicator.webhooks.sealing import SealError, bound_to, new_secret, seal, unseal
from adjudicator.webhooks.subscriptions import url_errors

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_the_event_list_is_the_issues() -> None:
    assert len(CLAIM_EVENTS) == len(set(CLAIM_EVENTS)) == 18
    assert "claim.noted" in CLAIM_EVENTS
    assert "claim.noted" not in DELIVERABLE_EVENTS
    assert len(DELIVERABLE_EVENTS) == 17


@pytest.mark.parametrize(
    ("selection", "errors"),
    [
        (["*"], 0),
        (["claim.opened", "claim.escalated"], 0),
        ([], 1),
        (["claim.noted"], 1),
        (["claim.opened", "claim.bogus", "claim.noted"], 2),
    ],
)
def test_selection_errors(selection: list[str], errors: int) -> None:
    assert len(selection_errors(selection)) == errors


def test_a_selection_is_stored_without_repeats_and_star_wins() -> None:
    assert normalise_selection(["claim.opened", "claim.opened"]) == ["claim.opened"]
    assert normalise_selection(["claim.opened", "*"]) == ["*"]


def test_wanted() -> None:
    assert wanted(["*"], "claim.settled")
    assert wanted(["claim.settled"], "claim.settled")
    assert not wanted(["claim.opened"], "claim.settled")
    assert not wanted(["*"], "claim.noted")
    assert not wanted(["claim.noted"], "claim.noted")
    assert not wanted(["*"], "decision.created")


def test_backoff_doubles_within_its_jitter_band_up_to_the_cap() -> None:
    rng = random.Random(1)
    for failures in range(1, 40):
        ceiling = min(CAP, BASE * 2 ** (failures - 1))
        for _ in range(50):
            assert ceiling / 2 <= backoff(failures, rng) <= ceiling
    with pytest.raises(ValueError):
        backoff(0, rng)


def test_backoff_is_jittered() -> None:
    rng = random.Random(2)
    assert len({backoff(3, rng) for _ in range(20)}) > 10


def test_no_retry_is_scheduled_past_the_expiry() -> None:
    rng = random.Random(3)
    expires = T0 + MAX_AGE
    assert next_retry(T0, 1, expires, rng) is not None
    assert next_retry(expires - timedelta(seconds=10), 1, expires, rng) is None


def test_the_whole_schedule_fits_in_24_hours() -> None:
    rng = random.Random(4)
    at, failures, expires = T0, 0, T0 + MAX_AGE
    while True:
        failures += 1
        retry = next_retry(at, failures, expires, rng)
        if retry is None:
            break
        at = retry
    assert at <= expires
    assert 25 <= failures <= 55


def test_a_secret_is_in_the_standard_webhooks_form() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    Webhook(secret)
    assert new_secret() != secret


def test_sealing_round_trips_only_with_the_same_key_and_row() -> None:
    secret = new_secret()
    row = bound_to("row-1", "https://orders.example/hooks", ["*"])
    sealed = seal(b"key-one", row, secret)
    assert secret not in sealed
    assert unseal(b"key-one", row, sealed) == secret
    assert seal(b"key-one", row, secret) != sealed  # a fresh nonce each time
    for key, bound, value in [
        (b"key-two", row, sealed),
        (b"key-one", bound_to("row-2", "https://orders.example/hooks", ["*"]), sealed),
        (b"key-one", bound_to("row-1", "https://attacker.example/hooks", ["*"]), sealed),
        (b"key-one", bound_to("row-1", "https://orders.example/hooks", ["claim.opened"]), sealed),
        (b"key-one", row, sealed[:-4] + "AAAA"),
        (b"key-one", row, "v0." + sealed[3:]),
        (b"key-one", row, "v1.!!!"),
    ]:
        with pytest.raises(SealError):
            unseal(key, bound, value)


def test_a_signed_body_verifies_with_the_standard_webhooks_library() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    body = event_body("evt-1", "claim.opened", T0, {"claim_ref": "c-1", "amount": "1.00"})
    headers = signed_headers(secret, "evt-1", now, body)
    assert orjson.loads(body) == {
        "id": "evt-1",
        "type": "claim.opened",
        "created": "2026-12-02T12:00:00Z",
        "claim": {"claim_ref": "c-1", "amount": "1.00"},
    }
    assert headers["webhook-id"] == "evt-1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(secret).verify(body, headers)["id"] == "evt-1"
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body.replace(b"1.00", b"9.00"), headers)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://orders.example/hooks", True),
        ("http://127.0.0.1:8080/hooks?x=1", True),
        ("HTTPS://ORDERS.EXAMPLE/", True),
        ("ftp://orders.example/", False),
        ("https:///path", False),
        ("https://u:p@orders.example/", False),
        ("https://orders.example/#frag", False),
        ("https://orders.example:0/", False),
        ("https://orders.example:99999/", False),
        ("https://orders.example/ space", False),
        ("", False),
    ],
)
def test_url_errors(url: str, ok: bool) -> None:
    assert (url_errors(url) == []) is ok


def test_no_request_handler_can_deliver() -> None:
    """The API package never names the delivery jobs or an HTTP client: sending is the worker's."""
    api = Path(__file__).resolve().parents[2] / "api"
    sources = {path.name: path.read_text(encoding="utf-8") for path in api.rglob("*.py")}
    assert "webhooks.py" in sources
    for name, source in sources.items():
        names = {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Name | ast.Attribute)
        }
        imported = {
            alias.name
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        modules = {
            node.module
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        found = (names | imported) & {"deliver_due", "dispatch_outbox", "JOBS", "httpx"}
        assert not found, f"api/{name} names {sorted(found)}"
        assert not {m for m in modules if m.startswith(("adjudicator.webhooks.d", "httpx"))}, name


def test_the_lifecycle_writes_exactly_the_event_types_subscribers_can_name() -> None:
    from adjudicator.core.lifecycle import EVENT_TYPES
    from adjudicator.webhooks.events import CLAIM_EVENTS

    assert set(EVENT_TYPES) == set(CLAIM_EVENTS)
