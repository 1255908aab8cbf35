"""Webhook delivery end to end: outbox -> dispatch_outbox -> deliver_due -> a real receiver.

Each test runs on SQLite and, when configured, on PostgreSQL. The claim
lifecycle is not needed: events are written to the outbox with ``enqueue``,
as the lifecycle does, and the worker jobs are called directly.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import orjson
import pytest
from click.testing import CliRunner
from servicekit import KEY_SECRET, open_test_store, reset  # noqa: I001
from sqlalchemy import func, select
from standardwebhooks import Webhook
from webhookkit import (
    ADMIN,
    MovableClock,
    Receiver,
    closed_port_url,
    emit,
    receiver,
)

from adjudicator import worker
from adjudicator.cli import main
from adjudicator.db.store import Store
from adjudicator.settings import ServiceSettings, Settings
from adjudicator.webhooks import (
    DELIVERABLE_EVENTS,
    Timeouts,
    create_subscription,
    delete_subscription,
    deliver_due,
    dispatch_outbox,
    list_deliveries,
)
from adjudicator.webhooks import delivery as delivery_module
from adjudicator.webhooks.models import (
    OutboxRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)
from adjudicator.webhooks.retry import BASE, CAP, MAX_AGE
from adjudicator.webhooks.sealing import bound_to, unseal


@pytest.fixture
def moving() -> MovableClock:
    return MovableClock()


@pytest.fixture
def hooks(database_url: str, moving: MovableClock) -> Iterator[Store]:
    """An empty store whose clock starts now and moves only when the test moves it."""
    opened = open_test_store(database_url, moving)
    reset(opened)
    yield opened
    opened.close()


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def _run_jobs(store: Store, **kwargs: object) -> int:
    """Dispatch everything, then deliver everything due now; the attempts made."""
    while dispatch_outbox(store):
        pass
    attempts = 0
    while made := deliver_due(store, **kwargs):  # type: ignore[arg-type]
        attempts += made
    return attempts


def _subscribe(store: Store, url: str, events: list[str] | None = None) -> tuple[str, str]:
    sub, secret = create_subscription(store, url=url, events=events or ["*"], actor=ADMIN)
    return sub.webhook_id, secret


def test_every_event_reaches_the_receiver_once_and_every_signature_verifies(
    hooks: Store, rx: Receiver
) -> None:
    _, secret = _subscribe(hooks, rx.url)
    sent = {emit(hooks, kind): kind for kind in DELIVERABLE_EVENTS}
    noted = emit(hooks, "claim.noted")
    assert rx.requests == []  # writing an event sends nothing: only the worker's jobs do

    assert _run_jobs(hooks) == len(sent)
    assert _run_jobs(hooks) == 0  # nothing twice

    assert sorted(r.headers["webhook-id"] for r in rx.requests) == sorted(sent)
    assert noted not in {r.headers["webhook-id"] for r in rx.requests}
    for request in rx.requests:
        body = Webhook(secret).verify(request.body, request.headers)
        assert set(body) == {"id", "type", "created", "claim"}
        assert body["id"] == request.headers["webhook-id"]
        assert body["type"] == sent[body["id"]]
        assert body["claim"]["claim_ref"] == "c0ffee00-0000-4000-8000-000000000001"
        assert body["created"].endswith("Z")
        assert request.headers["content-type"] == "application/json"
    with hooks.db.read() as session:
        states = session.execute(select(WebhookDeliveryRow.status)).scalars().all()
        undispatched = session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.dispatched_at.is_(None))
        )
    assert Counter(states) == {"delivered": len(sent)}
    assert undispatched == 0


def test_a_signature_made_with_another_secret_does_not_verify(hooks: Store, rx: Receiver) -> None:
    _subscribe(hooks, rx.url)
    _, other = create_subscription(hooks, url=rx.url + "?x", events=["*"], actor=ADMIN)
    emit(hooks, "claim.opened")
    _run_jobs(hooks)
    (mine,) = rx.by_path("/hooks")
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(mine.body, mine.headers)


def test_an_event_answered_with_500_is_sent_again_after_the_backoff(
    hooks: Store, moving: MovableClock, rx: Receiver
) -> None:
    webhook_id, secret = _subscribe(hooks, rx.url)
    rx.statuses.append(500)
    event_id = emit(hooks, "claim.escalated")

    assert _run_jobs(hooks) == 1
    assert _run_jobs(hooks) == 0  # not due yet: the clock has not moved
    (delivery,) = list_deliveries(hooks, webhook_id).items
    assert delivery.status == "pending"
    (first,) = delivery.attempts
    assert (first.status_code, first.error) == (500, "HTTP 500")
    assert first.next_retry_at is not None
    assert BASE / 2 <= first.next_retry_at - first.at <= BASE

    moving.advance(BASE)
    assert _run_jobs(hooks) == 1
    assert [r.headers["webhook-id"] for r in rx.requests] == [event_id, event_id]
    bodies = [Webhook(secret).verify(r.body, r.headers) for r in rx.requests]
    assert bodies[0] == bodies[1]  # the same event, byte for byte the same body
    (delivery,) = list_deliveries(hooks, webhook_id).items
    assert delivery.status == "delivered"
    assert [(a.number, a.status_code, a.error) for a in delivery.attempts] == [
        (1, 500, "HTTP 500"),
        (2, 200, None),
    ]
    assert delivery.attempts[1].next_retry_at is None
    assert delivery.finished_at is not None and delivery.next_attempt_at is None


def test_a_receiver_that_is_down_is_retried_with_growing_waits_then_failed_after_24h(
    hooks: Store, moving: MovableClock, caplog: pytest.LogCaptureFixture
) -> None:
    webhook_id, _ = _subscribe(hooks, closed_port_url())
    emit(hooks, "claim.opened")
    start = moving()
    for _ in range(200):
        _run_jobs(hooks, rng=random.Random(7))
        (delivery,) = list_deliveries(hooks, webhook_id).items
        if delivery.status != "pending":
            break
        assert delivery.next_attempt_at is not None
        moving.advance(delivery.next_attempt_at - moving())
    assert delivery.status == "failed"
    attempts = delivery.attempts
    assert all(a.status_code is None and a.error for a in attempts)
    assert "ConnectError" in (attempts[0].error or "")
    waits = [b.at - a.at for a, b in zip(attempts, attempts[1:], strict=False)]
    for number, wait in enumerate(waits, start=1):
        ceiling = min(CAP, BASE * 2 ** (number - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert attempts[-1].at - start <= MAX_AGE
    assert attempts[-1].next_retry_at is None
    assert start + MAX_AGE - CAP <= attempts[-1].at
    assert 25 <= len(attempts) <= 55  # the schedule: ~8 growing waits, then about one an hour
    (logged,) = [r for r in caplog.records if r.name == "adjudicator.webhooks"]
    assert logged.levelname == "WARNING" and "failed for good" in logged.getMessage()


def test_a_redirect_is_not_followed_and_counts_as_a_failure(hooks: Store, rx: Receiver) -> None:
    webhook_id, _ = _subscribe(hooks, rx.url)
    rx.statuses.append(302)
    emit(hooks, "claim.opened")
    _run_jobs(hooks)
    assert len(rx.requests) == 1
    (delivery,) = list_deliveries(hooks, webhook_id).items
    assert (delivery.status, delivery.attempts[0].error) == ("pending", "HTTP 302")


def test_a_receiver_that_hangs_times_out_and_is_retried(hooks: Store, rx: Receiver) -> None:
    webhook_id, _ = _subscribe(hooks, rx.url)
    rx.hang = True
    emit(hooks, "claim.opened")
    _run_jobs(hooks, timeouts=Timeouts(connect=1, read=0.2, write=1))
    (delivery,) = list_deliveries(hooks, webhook_id).items
    assert delivery.status == "pending"
    assert (delivery.attempts[0].error or "").startswith("ReadTimeout")


def test_a_deleted_subscription_gets_nothing(
    hooks: Store, moving: MovableClock, rx: Receiver
) -> None:
    kept, _ = _subscribe(hooks, rx.url + "?kept")
    gone_early, _ = _subscribe(hooks, rx.url + "?early")
    gone_late, _ = _subscribe(hooks, rx.url + "?late")
    delete_subscription(hooks, gone_early, actor=ADMIN)
    emit(hooks, "claim.opened")
    while dispatch_outbox(hooks):
        pass
    delete_subscription(hooks, gone_late, actor=ADMIN)  # after the fan-out, before delivery
    _run_jobs(hooks)
    emit(hooks, "claim.responded")
    moving.advance(timedelta(hours=1))
    _run_jobs(hooks)

    assert len(rx.by_path("/hooks?kept")) == 2
    assert rx.by_path("/hooks?early") == rx.by_path("/hooks?late") == []
    with hooks.db.read() as session:
        rows = session.execute(
            select(WebhookDeliveryRow.subscription_id, WebhookDeliveryRow.status)
        ).all()
    assert Counter(rows) == {(kept, "delivered"): 2, (gone_late, "cancelled"): 1}


def test_only_the_chosen_types_are_delivered_and_claim_noted_never(
    hooks: Store, rx: Receiver
) -> None:
    _subscribe(hooks, rx.url + "?some", ["claim.escalated", "claim.determined"])
    _subscribe(hooks, rx.url + "?all", ["*"])
    for kind in ("claim.opened", "claim.escalated", "claim.noted", "claim.determined"):
        emit(hooks, kind)
    _run_jobs(hooks)
    types = {
        path: [orjson.loads(r.body)["type"] for r in rx.by_path(path)]
        for path in ("/hooks?some", "/hooks?all")
    }
    assert sorted(types["/hooks?some"]) == ["claim.determined", "claim.escalated"]
    assert sorted(types["/hooks?all"]) == ["claim.determined", "claim.escalated", "claim.opened"]


def test_racing_dispatchers_and_deliverers_attempt_each_delivery_once(
    hooks: Store, rx: Receiver
) -> None:
    subscriptions = [_subscribe(hooks, rx.url + f"?{n}")[0] for n in ("a", "b")]
    events = [emit(hooks, DELIVERABLE_EVENTS[i % len(DELIVERABLE_EVENTS)]) for i in range(120)]

    def race(job: object, total: list[int]) -> None:
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                start.wait()
                while done := job(hooks, batch=7):  # type: ignore[operator]
                    total.append(done)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors, errors

    dispatched: list[int] = []
    race(dispatch_outbox, dispatched)
    assert sum(dispatched) == len(events)
    attempted: list[int] = []
    race(deliver_due, attempted)
    assert sum(attempted) == len(events) * len(subscriptions)

    received = Counter((r.path, r.headers["webhook-id"]) for r in rx.requests)
    assert set(received.values()) == {1}
    assert set(received) == {(f"/hooks?{n}", e) for n in ("a", "b") for e in events}
    with hooks.db.read() as session:
        attempts = session.scalar(select(func.count()).select_from(WebhookAttemptRow))
        states = Counter(session.execute(select(WebhookDeliveryRow.status)).scalars())
    assert attempts == len(events) * len(subscriptions)
    assert states == {"delivered": len(events) * len(subscriptions)}


def test_the_signing_secret_is_sealed_at_rest(
    hooks: Store, database_url: str, rx: Receiver
) -> None:
    webhook_id, secret = _subscribe(hooks, rx.url)
    with hooks.db.read() as session:
        row = session.get(WebhookSubscriptionRow, webhook_id)
        assert row is not None
        sealed = row.secret_sealed
    assert secret.startswith("whsec_")
    assert secret not in sealed and secret.removeprefix("whsec_") not in sealed
    assert unseal(KEY_SECRET, bound_to(webhook_id, rx.url, ["*"]), sealed) == secret

    # A service with another key secret (a dump restored elsewhere) cannot sign with it.
    other = open_test_store(database_url, MovableClock())
    object.__setattr__(other, "key_secret", b"another-secret")
    try:
        emit(other, "claim.opened")
        _run_jobs(other)
    finally:
        other.close()
    assert rx.requests == []
    (delivery,) = list_deliveries(hooks, webhook_id).items
    assert "SealError" in (delivery.attempts[0].error or "")


def test_the_delivery_log_pages_newest_first(hooks: Store, rx: Receiver) -> None:
    webhook_id, _ = _subscribe(hooks, rx.url)
    events = [emit(hooks, "claim.assigned") for _ in range(5)]
    _run_jobs(hooks)
    first = list_deliveries(hooks, webhook_id, limit=3)
    assert first.next_cursor is not None
    second = list_deliveries(hooks, webhook_id, limit=3, cursor=first.next_cursor)
    assert second.next_cursor is None
    seen = [d.event_id for d in first.items + second.items]
    assert seen == list(reversed(events))
    assert list_deliveries(hooks, webhook_id, status="failed").items == []


def test_a_delivery_taken_by_a_worker_that_died_is_sent_when_its_lease_ends(
    hooks: Store, moving: MovableClock, rx: Receiver
) -> None:
    webhook_id, secret = _subscribe(hooks, rx.url)
    event_id = emit(hooks, "claim.settled")
    dispatch_outbox(hooks)
    (taken,) = delivery_module._take(hooks, 10)  # a worker takes it, then dies before sending
    assert taken.event_id == event_id
    assert deliver_due(hooks) == 0  # leased: no other worker takes it meanwhile
    moving.advance(delivery_module.LEASE)
    assert deliver_due(hooks) == 1
    (request,) = rx.requests
    assert Webhook(secret).verify(request.body, request.headers)["id"] == event_id
    (delivery,) = list_deliveries(hooks, webhook_id).items
    assert (delivery.status, len(delivery.attempts)) == ("delivered", 1)


def test_a_subscription_whose_url_was_changed_in_the_database_is_sent_nothing(
    hooks: Store, rx: Receiver
) -> None:
    """Someone who can write the database but lacks the key secret cannot redirect claims."""
    webhook_id, _ = _subscribe(hooks, closed_port_url())
    with hooks.db.write() as session:
        row = session.get(WebhookSubscriptionRow, webhook_id)
        assert row is not None
        row.url = rx.url
    emit(hooks, "claim.opened")
    _run_jobs(hooks)
    assert rx.requests == []
    (delivery,) = list_deliveries(hooks, webhook_id).items
    assert "SealError" in (delivery.attempts[0].error or "")


def test_the_log_keeps_what_is_owed_and_lets_finished_deliveries_go_after_retention(
    hooks: Store, rx: Receiver, moving: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finished deliveries and their dispatched events go after 30 days (the default);
    a delivery still owed and an event not yet dispatched stay, whatever their age."""
    monkeypatch.delenv("ADJUDICATOR_WEBHOOK_RETENTION_DAYS", raising=False)
    prune = {"webhooks.prune": worker.all_jobs(Settings.from_env({}))["webhooks.prune"]}
    webhook_id, _ = _subscribe(hooks, rx.url)
    for kind in ("claim.opened", "claim.responded", "claim.escalated"):
        emit(hooks, kind)
    assert _run_jobs(hooks) == 3
    down, _ = _subscribe(hooks, closed_port_url())
    shared = emit(hooks, "claim.settled")  # delivered to one, still owed to the other
    _run_jobs(hooks, timeouts=Timeouts(connect=0.5, read=0.5))

    moving.advance(timedelta(days=29, hours=23, minutes=30))
    assert worker.run_once(hooks, prune) == {"webhooks.prune": 0}  # nothing is 30 days old
    moving.advance(timedelta(minutes=45))
    assert worker.run_once(hooks, prune) == {"webhooks.prune": 0}  # once an hour at most
    moving.advance(timedelta(minutes=30))
    # four deliveries to the receiver, and the three events no delivery is owed
    assert worker.run_once(hooks, prune) == {"webhooks.prune": 7}
    with hooks.db.read() as session:
        deliveries = session.execute(
            select(WebhookDeliveryRow.subscription_id, WebhookDeliveryRow.status)
        ).all()
        events = session.execute(select(OutboxRow.event_id)).scalars().all()
        attempts = session.execute(select(WebhookAttemptRow.delivery_id)).scalars().all()
    assert deliveries == [(down, "pending")]
    assert events == [shared] and len(attempts) == 1
    assert list_deliveries(hooks, webhook_id).items == []

    waiting = emit(hooks, "claim.withdrawn")  # never dispatched
    moving.advance(timedelta(days=400))
    assert worker.run_once(hooks, prune) == {"webhooks.prune": 0}
    with hooks.db.read() as session:
        assert set(session.execute(select(OutboxRow.event_id)).scalars()) == {shared, waiting}


def test_a_bad_retention_stops_the_worker_at_start(database_url: str) -> None:
    env = {
        "DATABASE_URL": database_url,
        "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode(),
        "ADJUDICATOR_WEBHOOK_RETENTION_DAYS": "0",
    }
    result = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 1
    assert "ADJUDICATOR_WEBHOOK_RETENTION_DAYS=0 is outside 1..3650" in result.output
    days = ServiceSettings.from_env({"ADJUDICATOR_WEBHOOK_RETENTION_DAYS": "7"})
    assert days.webhook_retention_days == 7
