"""Console users: create, log in (with lockout), log out, look up.

Console accounts are separate from API keys. A password is stored only as an
Argon2id hash (argon2-cffi's defaults, RFC 9106's second recommended set);
an unknown name costs the same verification as a known one. Five failed
logins in a row lock the account for 15 minutes; while locked, even the right
password is refused with the time the lock ends.

Every change a user's standing depends on is an audit entry whose subject is
``user:<id>``: ``user.created`` (by the operator), ``user.locked`` (by the
failed logins), ``user.unlocked`` (by an operator), and ``user.login`` /
``user.logout`` (by the user). The state entries carry the name, the role, the
lock and a digest of the password hash, so
:mod:`adjudicator.identity.crosscheck` can name a row changed behind the
chain's back. Console actions are recorded with :func:`user_actor` as actor.

Errors (under :class:`~adjudicator.db.errors.StoreError`):
:class:`LoginRefused` (wrong name or password, or locked: ``locked_until``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adjudicator.audit import chain
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest, NotFound, StoreError
from adjudicator.db.store import Store
from adjudicator.identity.models import UserRow

USER_ROLES = ("staff", "auditor", "admin")
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
PASSWORD_MIN = 10
PASSWORD_MAX = 1024
_NAME_MAX = 200
_HASHER = PasswordHasher()  # Argon2id, t=3, m=64 MiB, p=4
_DUMMY_HASH = _HASHER.hash("an unused password to spend the same time on unknown names")


class LoginRefused(StoreError):
    """The name and password do not match a usable account (or it is locked)."""

    def __init__(self, locked_until: datetime | None = None) -> None:
        self.locked_until = locked_until
        message = "the account is locked" if locked_until else "unknown name or wrong password"
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class UserInfo:
    """What may be shown about a user: never the password hash."""

    user_id: int
    name: str
    role: str
    created_at: datetime
    locked_until: datetime | None

    def locked_at(self, now: datetime) -> bool:
        """True while the account's lock lasts."""
        return self.locked_until is not None and self.locked_until > now

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "locked_until": None if self.locked_until is None else self.locked_until.isoformat(),
        }


def user_subject(user_id: int) -> str:
    """The audit subject (and actor key id) naming a user: ``user:<id>``."""
    return f"user:{user_id}"


def user_actor(user: UserInfo) -> Actor:
    """The actor of a console action: the user, with their role."""
    return Actor(
        key_id=user_subject(user.user_id), name=user.name, role=user.role, user_id=user.user_id
    )


def password_digest(password_hash: str) -> str:
    """``sha256:<hex>`` of a stored password hash: what the log keeps of it (never the hash)."""
    return "sha256:" + hashlib.sha256(password_hash.encode("utf-8")).hexdigest()


def state_payload(row: UserRow) -> dict[str, Any]:
    """What a user's state entries record: id, name, role, lock and a digest of the password hash.

    :mod:`adjudicator.identity.crosscheck` holds the row to the latest of them.
    """
    until = row.locked_until
    return {
        "user_id": row.id,
        "name": row.name,
        "role": row.role,
        "locked_until": None if until is None else chain.format_time(until),
        "password_digest": password_digest(row.password_hash),
    }


def _info(row: UserRow) -> UserInfo:
    return UserInfo(row.id, row.name, row.role, row.created_at, row.locked_until)


def _check(name: str, role: str, password: str) -> str:
    errors: dict[str, list[str]] = {}
    if role not in USER_ROLES:
        errors["role"] = [f"Must be one of: {', '.join(USER_ROLES)}."]
    name = name.strip()
    if not name or len(name) > _NAME_MAX or not name.isprintable():
        errors["name"] = [f"Must be 1 to {_NAME_MAX} printable characters."]
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        errors["password"] = [f"Must be {PASSWORD_MIN} to {PASSWORD_MAX} characters."]
    if errors:
        raise InvalidRequest("invalid user", errors)
    return name


def create_user(
    store: Store,
    *,
    name: str,
    role: str,
    password: str,
    actor: Actor,
    request_id: str | None = None,
) -> UserInfo:
    """Create a console user; ``user.created`` is recorded in the same transaction."""
    name = _check(name, role, password)
    password_hash = _HASHER.hash(password)
    now = store.clock()
    try:
        with store.db.write() as session:
            head = chain.lock_head(session)
            row = UserRow(
                name=name,
                role=role,
                password_hash=password_hash,
                failed_logins=0,
                locked_until=None,
                created_at=now,
            )
            session.add(row)
            session.flush()
            chain.append(
                session, head, at=now, actor=actor, action="user.created",
                subject=user_subject(row.id), request_id=request_id, payload=state_payload(row),
            )  # fmt: skip
    except IntegrityError:
        raise InvalidRequest("invalid user", {"name": ["A user with this name exists."]}) from None
    return _info(row)


def get_user(store: Store, user_id: int) -> UserInfo | None:
    """The user with ``user_id``, or ``None``."""
    with store.db.autocommit() as session:
        row = session.get(UserRow, user_id)
        return None if row is None else _info(row)


def list_users(store: Store) -> list[UserInfo]:
    """Every user, oldest first."""
    with store.db.autocommit() as session:
        rows = session.execute(select(UserRow).order_by(UserRow.id)).scalars()
        return [_info(row) for row in rows]


def count_users(store: Store) -> int:
    """How many console users exist (the login page says how to make the first)."""
    with store.db.autocommit() as session:
        return int(session.execute(select(func.count()).select_from(UserRow)).scalar_one())


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def log_in(store: Store, name: str, password: str, *, request_id: str | None = None) -> UserInfo:
    """The user ``name`` when ``password`` is theirs and the account is not locked.

    Raises :class:`LoginRefused`. A failure counts towards the lockout; the
    fifth in a row locks the account for :data:`LOCKOUT` (``user.locked``). A
    success resets the count and is recorded as ``user.login``.
    """
    name = name.strip()
    with store.db.autocommit() as session:
        found = session.execute(
            select(UserRow.password_hash).where(UserRow.name == name)
        ).scalar_one_or_none()
    valid = _verify(found or _DUMMY_HASH, password[:PASSWORD_MAX]) and found is not None
    if found is None:
        raise LoginRefused()
    now = store.clock()
    outcome: UserInfo | LoginRefused
    with store.db.write() as session:
        head = chain.lock_head(session)
        row = session.execute(select(UserRow).where(UserRow.name == name)).scalar_one_or_none()
        if row is None:
            outcome = LoginRefused()
        elif row.locked_until is not None and row.locked_until > now:
            outcome = LoginRefused(row.locked_until)
        elif not valid or row.password_hash != found:
            outcome = _count_failure(session, head, row, now, request_id)
        else:
            row.failed_logins = 0
            outcome = _info(row)
            chain.append(
                session, head, at=now, actor=user_actor(outcome), action="user.login",
                subject=user_subject(row.id), request_id=request_id, payload={"user_id": row.id},
            )  # fmt: skip
    if isinstance(outcome, LoginRefused):
        raise outcome
    return outcome


def _count_failure(
    session: Session, head: chain.Head, row: UserRow, now: datetime, request_id: str | None
) -> LoginRefused:
    """One more failed login; the fifth in a row locks the account (``user.locked``)."""
    row.failed_logins += 1
    if row.failed_logins < MAX_FAILED_LOGINS:
        return LoginRefused()
    row.failed_logins = 0
    row.locked_until = now + LOCKOUT
    chain.append(
        session, head, at=now, actor=user_actor(_info(row)), action="user.locked",
        subject=user_subject(row.id), request_id=request_id,
        payload={**state_payload(row), "failed_logins": MAX_FAILED_LOGINS},
    )  # fmt: skip
    return LoginRefused(row.locked_until)


def log_out(store: Store, user: UserInfo, *, request_id: str | None = None) -> None:
    """Record that ``user`` ended their console session (``user.logout``)."""
    now = store.clock()
    with store.db.write() as session:
        head = chain.lock_head(session)
        chain.append(
            session, head, at=now, actor=user_actor(user), action="user.logout",
            subject=user_subject(user.user_id), request_id=request_id,
            payload={"user_id": user.user_id},
        )  # fmt: skip


def unlock_user(
    store: Store, name: str, *, actor: Actor, request_id: str | None = None
) -> UserInfo:
    """Lift a user's lock now (``user.unlocked``); a no-op entry-wise when not locked."""
    now = store.clock()
    with store.db.write() as session:
        head = chain.lock_head(session)
        row = session.execute(select(UserRow).where(UserRow.name == name)).scalar_one_or_none()
        if row is None:
            raise NotFound("user", name)
        if row.locked_until is None:
            return _info(row)
        row.locked_until = None
        row.failed_logins = 0
        chain.append(
            session, head, at=now, actor=actor, action="user.unlocked",
            subject=user_subject(row.id), request_id=request_id, payload=state_payload(row),
        )  # fmt: skip
    return _info(row)
