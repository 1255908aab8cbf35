"""API keys: created once and shown once, stored only as an HMAC, revocable.

A key reads ``adj_<id>_<secret>``. The 12-character id is not secret: it names
the row and appears in the audit log. Only ``HMAC-SHA256(server secret, key)``
is stored; a presented key is looked up by its id and its HMAC compared with
:func:`hmac.compare_digest`. An unknown id costs the same HMAC as a known one.
Creating and revoking a key are audit entries.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, inspect, select
from sqlalchemy.exc import DBAPIError

from adjudicator.audit import chain
from adjudicator.db.actor import Actor
from adjudicator.db.errors import DatabaseUnavailable, InvalidRequest, NotFound
from adjudicator.db.store import Store
from adjudicator.identity.models import ApiKeyRow, UserRow

ROLES = ("system", "staff", "auditor", "admin")
PREFIX = "adj_"
_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID_LENGTH = 12
_TOKEN = re.compile(r"adj_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")
_NAME_MAX = 200
_KEYS = cast(Table, ApiKeyRow.__table__)
_FIND_KEY = select(
    _KEYS.c.name, _KEYS.c.role, _KEYS.c.key_hash, _KEYS.c.revoked_at, _KEYS.c.user_id
).where(_KEYS.c.id == bindparam("key_id"))
_ROLE_RANK = {"auditor": 0, "staff": 1, "admin": 2}


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What may be shown about a key: never its secret or its hash."""

    key_id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    user_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "key_id": self.key_id,
            "name": self.name,
            "role": self.role,
            "user_id": self.user_id,
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


def _info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(row.id, row.name, row.role, row.created_at, row.revoked_at, row.user_id)


def _hash(secret: bytes, token: str) -> str:
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()


def _bound_user(
    store: Store, user: str | None, role: str, errors: dict[str, list[str]]
) -> int | None:
    """The id of the console user ``user`` (a name) a new key of ``role`` belongs to."""
    if user is None:
        return None
    with store.db.autocommit() as session:
        found = session.execute(
            select(UserRow.id, UserRow.role).where(UserRow.name == user.strip())
        ).one_or_none()
    if found is None:
        errors["user"] = [f"No console user is named {user.strip()!r}."]
        return None
    if role not in _ROLE_RANK or _ROLE_RANK[role] > _ROLE_RANK.get(found.role, -1):
        errors["user"] = [f"A {found.role} user cannot hold a {role} key."]
        return None
    return int(found.id)


def create_key(
    store: Store,
    *,
    role: str,
    name: str,
    actor: Actor,
    user: str | None = None,
    request_id: str | None = None,
) -> tuple[KeyInfo, str]:
    """Create a key for ``role``; return its info and the key itself (shown this once).

    ``user`` (a console user's name) binds the key to that person: four eyes on
    money treats the key and the user's console login as one pair of eyes, and
    a staff or admin key must be bound to propose, approve or decline.
    """
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    name = name.strip()
    if not name or len(name) > _NAME_MAX or "\x00" in name:
        errors["name"] = [f"Must be 1 to {_NAME_MAX} printable characters."]
    user_id = _bound_user(store, user, role, errors) if role in ROLES else None
    if errors:
        raise InvalidRequest("invalid key", errors)
    key_id = "".join(secrets.choice(_ID_CHARS) for _ in range(_ID_LENGTH))
    token = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    now = store.clock()
    row = {
        "id": key_id,
        "name": name,
        "role": role,
        "key_hash": _hash(store.key_secret, token),
        "created_at": now,
        "revoked_at": None,
        "user_id": user_id,
    }
    chain.record(
        store.db,
        _KEYS,
        row,
        at=now,
        actor=actor,
        action="key.created",
        subject=key_id,
        request_id=request_id,
        payload={"key_id": key_id, "name": name, "role": role, "user_id": user_id},
    )
    return KeyInfo(key_id, name, role, now, None, user_id), token


def count_keys(store: Store) -> int:
    """How many keys the database holds (0 when its tables are not there yet)."""
    try:
        if not inspect(store.db.engine).has_table("api_keys"):
            return 0
    except DBAPIError as exc:
        raise DatabaseUnavailable("the database is unavailable") from exc
    with store.db.autocommit() as session:
        return int(session.execute(select(func.count()).select_from(_KEYS)).scalar_one())


def list_keys(store: Store) -> list[KeyInfo]:
    """Every key, oldest first, revoked ones included."""
    with store.db.autocommit() as session:
        rows = session.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).scalars()
        return [_info(row) for row in rows]


def revoke_key(
    store: Store, key_id: str, *, actor: Actor, request_id: str | None = None
) -> tuple[KeyInfo, bool]:
    """Revoke a key; return its info and whether it was revoked just now."""
    now = store.clock()
    with store.db.write() as session:
        head = chain.lock_head(session)
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise NotFound("api key", key_id)
        if row.revoked_at is not None:
            return _info(row), False
        row.revoked_at = now
        chain.append(
            session,
            head,
            at=now,
            actor=actor,
            action="key.revoked",
            subject=key_id,
            request_id=request_id,
            payload={"key_id": key_id, "name": row.name, "role": row.role},
        )
    return _info(row), True


def authenticate(store: Store, token: str) -> Actor | None:
    """The actor holding ``token``, or ``None`` for a malformed, unknown or revoked key."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    presented = _hash(store.key_secret, token)
    with store.db.autocommit() as session:
        found = session.execute(_FIND_KEY, {"key_id": match.group(1)}).one_or_none()
    stored = found.key_hash if found is not None else _hash(store.key_secret, "")
    valid = hmac.compare_digest(presented, stored)
    if found is None or not valid or found.revoked_at is not None:
        return None
    return Actor(key_id=match.group(1), name=found.name, role=found.role, user_id=found.user_id)
