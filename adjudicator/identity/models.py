"""Who acts: the API keys table, and the console's user accounts table
(staff, auditors, admins).

Only an Argon2id hash of the password is stored. ``failed_logins`` counts the
failures since the last success; ``locked_until`` is set when the fifth one
locks the account. A user's role and lock are recorded in the audit chain too
(``user.created``, ``user.locked``), so ``audit verify`` can tell when either
was changed in the database behind the chain's back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.db.models import Base


class UserRow(Base):
    """One console user: a unique name, a role, a password hash and the lockout state."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    """An API key: its public id, who holds it, its role, and only a hash of the secret."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"))
