"""API keys: shown once, stored as an HMAC only, looked up by id, revocable, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adjudicator.audit.log import list_audit
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.db.store import Store
from adjudicator.identity.keys import authenticate, create_key, list_keys, revoke_key
from adjudicator.identity.models import ApiKeyRow

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


def test_a_key_authenticates_as_its_holder_and_role(store: Store) -> None:
    info, token = create_key(store, role="auditor", name="Ann Auditor", actor=OPERATOR)
    assert token.startswith(f"adj_{info.key_id}_")
    actor = authenticate(store, token)
    assert actor == Actor(key_id=info.key_id, name="Ann Auditor", role="auditor")


def test_only_an_hmac_is_stored(store: Store) -> None:
    info, token = create_key(store, role="system", name="orders", actor=OPERATOR)
    with store.db.read() as session:
        row = session.execute(select(ApiKeyRow)).scalar_one()
    secret_part = token.split("_", 2)[2]  # adj_<id>_<secret>; the secret may hold "_" itself
    assert secret_part not in row.key_hash and token not in row.key_hash
    assert len(row.key_hash) == 64
    other = Store(db=store.db, key_secret=b"another server secret", clock=store.clock)
    assert authenticate(other, token) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t.replace("adj_", "xyz_"),
        lambda t: "adj_" + "0" * 12 + t[16:],
        lambda t: t + "x",
        lambda t: "",
        lambda t: "\x00" * 60,
    ],
)
def test_a_wrong_key_does_not_authenticate(store: Store, mangle: object) -> None:
    _, token = create_key(store, role="staff", name="s", actor=OPERATOR)
    assert authenticate(store, mangle(token)) is None  # type: ignore[operator]


def test_a_revoked_key_no_longer_authenticates(store: Store) -> None:
    info, token = create_key(store, role="staff", name="bob", actor=OPERATOR)
    revoked, now = revoke_key(store, info.key_id, actor=OPERATOR)
    assert now and revoked.revoked_at is not None
    assert authenticate(store, token) is None
    _, again = revoke_key(store, info.key_id, actor=OPERATOR)
    assert not again
    assert [e.action for e in list_audit(store).items] == ["key.created", "key.revoked"]
    (listed,) = list_keys(store)
    assert listed.revoked_at is not None
    assert "key_hash" not in listed.to_dict()


def test_keys_are_validated(store: Store) -> None:
    with pytest.raises(InvalidRequest):
        create_key(store, role="root", name="x", actor=OPERATOR)
    with pytest.raises(InvalidRequest):
        create_key(store, role="staff", name="  ", actor=OPERATOR)
    with pytest.raises(NotFound):
        revoke_key(store, "nosuchkey000", actor=OPERATOR)
