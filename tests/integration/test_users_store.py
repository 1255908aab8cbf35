"""Console users: Argon2id passwords, lockout after five failures, audit entries, tampering."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from servicekit import KEY_SECRET, StepClock, open_test_store
from sqlalchemy import delete, insert, update

from adjudicator.audit.log import list_audit
from adjudicator.cli import main
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest
from adjudicator.db.store import Store
from adjudicator.identity.models import UserRow
from adjudicator.identity.users import (
    LOCKOUT,
    LoginRefused,
    create_user,
    log_in,
    log_out,
    unlock_user,
    user_actor,
)
from adjudicator.verification import verify_audit

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")
PASSWORD = "correct horse battery"


def _alice(store: Store, role: str = "staff") -> int:
    return create_user(store, name="alice", role=role, password=PASSWORD, actor=OPERATOR).user_id


def test_a_user_is_created_with_an_argon2id_hash_and_an_audit_entry(store: Store) -> None:
    user_id = _alice(store)
    with store.db.read() as session:
        row = session.get(UserRow, user_id)
        assert row is not None
        assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
        digest = "sha256:" + hashlib.sha256(row.password_hash.encode("utf-8")).hexdigest()
    (entry,) = list_audit(store, action="user.created").items
    assert entry.subject == f"user:{user_id}"
    assert entry.payload == {"user_id": user_id, "name": "alice", "role": "staff",
                             "locked_until": None, "password_digest": digest}  # fmt: skip
    assert verify_audit(store).ok


def test_bad_users_are_refused_with_field_errors(store: Store) -> None:
    with pytest.raises(InvalidRequest) as caught:
        create_user(store, name=" ", role="system", password="short", actor=OPERATOR)
    assert set(caught.value.errors) == {"name", "role", "password"}
    _alice(store)
    with pytest.raises(InvalidRequest) as again:
        _alice(store)
    assert again.value.errors == {"name": ["A user with this name exists."]}


def test_log_in_checks_the_password_and_records_the_login(store: Store) -> None:
    user_id = _alice(store)
    with pytest.raises(LoginRefused) as wrong:
        log_in(store, "alice", "not the password")
    assert wrong.value.locked_until is None
    with pytest.raises(LoginRefused):
        log_in(store, "nobody", PASSWORD)
    user = log_in(store, "alice", PASSWORD, request_id="r-1")
    assert (user.user_id, user.role) == (user_id, "staff")
    log_out(store, user)
    actions = [(e.action, e.actor_key_id, e.actor_name) for e in list_audit(store).items]
    assert actions[1:] == [
        ("user.login", f"user:{user_id}", "alice"),
        ("user.logout", f"user:{user_id}", "alice"),
    ]
    assert user_actor(user) == Actor(
        key_id=f"user:{user_id}", name="alice", role="staff", user_id=user_id
    )


def test_five_failures_lock_the_account_for_15_minutes(store: Store, clock: StepClock) -> None:
    _alice(store)
    for _ in range(4):
        with pytest.raises(LoginRefused) as refused:
            log_in(store, "alice", "wrong password")
        assert refused.value.locked_until is None
    with pytest.raises(LoginRefused) as locked:
        log_in(store, "alice", "wrong password")
    until = locked.value.locked_until
    assert until is not None
    with pytest.raises(LoginRefused) as still:
        log_in(store, "alice", PASSWORD)  # even the right password, while locked
    assert still.value.locked_until == until
    (entry,) = list_audit(store, action="user.locked").items
    assert entry.payload["locked_until"] is not None and entry.actor_name == "alice"
    clock.advance(LOCKOUT)
    assert log_in(store, "alice", PASSWORD).name == "alice"
    assert verify_audit(store).ok


def test_a_success_resets_the_failure_count(store: Store) -> None:
    _alice(store)
    for _ in range(4):
        with pytest.raises(LoginRefused):
            log_in(store, "alice", "wrong password")
    log_in(store, "alice", PASSWORD)
    for _ in range(4):
        with pytest.raises(LoginRefused) as refused:
            log_in(store, "alice", "wrong password")
        assert refused.value.locked_until is None


def test_an_operator_can_unlock(store: Store) -> None:
    _alice(store)
    for _ in range(5):
        with pytest.raises(LoginRefused):
            log_in(store, "alice", "wrong password")
    assert unlock_user(store, "alice", actor=OPERATOR).locked_until is None
    assert log_in(store, "alice", PASSWORD).name == "alice"
    assert verify_audit(store).ok


def test_verify_names_a_role_changed_behind_the_chains_back(store: Store) -> None:
    user_id = _alice(store, role="auditor")
    with store.db.write() as session:
        session.execute(update(UserRow).values(role="admin"))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (1, "changed")
    assert f"user {user_id} (alice)" in report.broken.detail and "'admin'" in report.broken.detail


def test_verify_names_a_lock_lifted_behind_the_chains_back(store: Store) -> None:
    _alice(store)
    for _ in range(5):
        with pytest.raises(LoginRefused):
            log_in(store, "alice", "wrong password")
    with store.db.write() as session:
        session.execute(update(UserRow).values(locked_until=None))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (2, "changed")


def test_verify_names_an_unrecorded_and_a_deleted_user(store: Store, clock: StepClock) -> None:
    user_id = _alice(store)
    with store.db.write() as session:
        session.execute(
            insert(UserRow).values(
                id=user_id + 100, name="mallory", role="admin", password_hash="x",
                failed_logins=0, locked_until=None, created_at=clock(),
            )
        )  # fmt: skip
    report = verify_audit(store)
    assert report.broken is not None and report.broken.problem == "unrecorded"
    assert "mallory" in report.broken.detail
    with store.db.write() as session:
        session.execute(delete(UserRow))
    report = verify_audit(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (1, "deleted")


def test_cli_creates_a_user_from_stdin_and_refuses_a_short_password(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode()}  # fmt: skip
    runner = CliRunner()
    args = ["users", "create", "--name", "bob", "--role", "auditor", "--password-stdin"]
    result = runner.invoke(main, args, input=PASSWORD + "\n", env=env)
    assert result.exit_code == 0, result.output
    assert "created console user bob (auditor)" in result.stderr
    short = runner.invoke(main, [*args[:3], "carol", *args[4:]], input="short\n", env=env)
    assert short.exit_code == 1 and "password" in short.output
    listed = runner.invoke(main, ["users", "list"], env=env)
    assert "bob\tauditor" in listed.stdout and "carol" not in listed.stdout
    store = open_test_store(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        assert log_in(store, "bob", PASSWORD).role == "auditor"
        assert verify_audit(store).ok
    finally:
        store.close()


def test_cli_unlock(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode()}  # fmt: skip
    runner = CliRunner()
    create = ["users", "create", "--name", "bob", "--role", "staff", "--password-stdin"]
    assert runner.invoke(main, create, input=PASSWORD + "\n", env=env).exit_code == 0
    store = open_test_store(f"sqlite:///{tmp_path / 'cli.db'}", StepClock(step=timedelta(0)))
    try:
        for _ in range(5):
            with pytest.raises(LoginRefused):
                log_in(store, "bob", "wrong password")
        assert runner.invoke(main, ["users", "unlock", "bob"], env=env).exit_code == 0
        assert runner.invoke(main, ["users", "unlock", "zed"], env=env).exit_code == 1
        assert log_in(store, "bob", PASSWORD).name == "bob"
    finally:
        store.close()
