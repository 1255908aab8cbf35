"""Where the store's settings come from: the environment, read once by the caller.

``DATABASE_URL`` selects the database (``postgresql+psycopg://...``); without
it the service keeps a SQLite file ``adjudicator.db`` in the working directory.
A value SQLAlchemy cannot use stops the caller with a message naming the
variable (:class:`adjudicator.settings.SettingsError`), never echoing a password.

API keys are stored as HMAC-SHA256 under a server secret, which lives at ONE
place: ``ADJUDICATOR_KEY_SECRET`` when set, otherwise the file
``ADJUDICATOR_KEY_SECRET_FILE``, by default ``.adjudicator-secret`` beside the
SQLite database (never the working directory, which changes with whoever
starts the process). With PostgreSQL there is no file to sit beside: one of
the two variables is required, and every host must point at the same secret.
The file is created once (mode 0600) holding 32 random bytes in hex; a secret
shorter than 32 bytes is refused. Every process that checks keys (each
``serve`` worker, the CLI) must see the same secret.

Timeouts (seconds; ``ADJUDICATOR_DB_*_TIMEOUT``) bound every wait on the
database, so a stalled database makes requests fail fast with a 503 instead of
hanging a worker: connecting, one statement (including the wait for a lock),
and waiting for a pooled connection.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from adjudicator.core.errors import SettingsError

DEFAULT_DATABASE_FILE = "adjudicator.db"
DEFAULT_SECRET_FILE = ".adjudicator-secret"
MIN_SECRET_BYTES = 32

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the service's only clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the store waits on the database, in seconds, before giving up."""

    connect: float = 5.0
    statement: float = 5.0
    pool: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DatabaseTimeouts:
        """``ADJUDICATOR_DB_CONNECT_TIMEOUT``, ``..._STATEMENT_TIMEOUT``, ``..._POOL_TIMEOUT``."""
        values = {}
        for name in ("connect", "statement", "pool"):
            variable = f"ADJUDICATOR_DB_{name.upper()}_TIMEOUT"
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            try:
                value = float(raw)
            except ValueError:
                raise SettingsError(f"{variable}={raw!r} is not a number of seconds") from None
            if not 0.1 <= value <= 600:
                raise SettingsError(f"{variable}={raw} is outside 0.1..600 seconds")
            values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class StoreConfig:
    """The database URL, the key secret, the clock and the timeouts of one store."""

    database_url: str
    key_secret: bytes = field(repr=False)
    clock: Clock = utc_now
    timeouts: DatabaseTimeouts = DatabaseTimeouts()

    @classmethod
    def from_env(cls, environ: Mapping[str, str], cwd: Path) -> StoreConfig:
        """Read ``DATABASE_URL``, the key secret and the timeouts (see the module docstring)."""
        url = database_url_from_env(environ, cwd)
        return cls(
            database_url=url,
            key_secret=key_secret_from_env(environ, url),
            timeouts=DatabaseTimeouts.from_env(environ),
        )


def shown_url(url: str) -> str:
    """``url`` fit for a message: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable>"


def database_url_from_env(environ: Mapping[str, str], cwd: Path) -> str:
    """``DATABASE_URL`` checked, or the SQLite file in ``cwd``; unusable: :class:`SettingsError`."""
    raw = environ.get("DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{cwd / DEFAULT_DATABASE_FILE}"
    example = "e.g. postgresql+psycopg://user@host/db or sqlite:////path/to/adjudicator.db"
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingsError(f"DATABASE_URL is not a database URL ({example})") from None
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise SettingsError(
            f"DATABASE_URL names a database this service has no driver for: "
            f"{url.drivername!r} ({example})"
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingsError(f"DATABASE_URL must be PostgreSQL or SQLite, not {url.drivername!r}")
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        raise SettingsError(
            f"DATABASE_URL must use the psycopg driver: postgresql+psycopg://, "
            f"not {url.drivername!r}"
        )
    return raw


def secret_path(environ: Mapping[str, str], database_url: str) -> Path | None:
    """Where the key secret file is: the configured path, or beside the SQLite file.

    ``None`` when ``ADJUDICATOR_KEY_SECRET`` holds the secret itself.
    """
    if environ.get("ADJUDICATOR_KEY_SECRET", ""):
        return None
    configured = environ.get("ADJUDICATOR_KEY_SECRET_FILE", "").strip()
    if configured:
        return Path(configured)
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise SettingsError(
            "the key secret has no default place without a SQLite file: set "
            "ADJUDICATOR_KEY_SECRET_FILE (the same file on every host) or ADJUDICATOR_KEY_SECRET"
        )
    return Path(url.database).resolve().parent / DEFAULT_SECRET_FILE


def _checked(secret: bytes, where: str) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"the key secret in {where} is {len(secret)} bytes; at least {MIN_SECRET_BYTES} "
            f"are required (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return secret


def key_secret_from_env(environ: Mapping[str, str], database_url: str) -> bytes:
    """``ADJUDICATOR_KEY_SECRET``, else the secret file (created once, 0600)."""
    value = environ.get("ADJUDICATOR_KEY_SECRET", "")
    if value:
        return _checked(value.encode(), "ADJUDICATOR_KEY_SECRET")
    path = secret_path(environ, database_url)
    assert path is not None
    where = f"{path} (ADJUDICATOR_KEY_SECRET_FILE)"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):  # another process may be writing it right now
            if secret := path.read_bytes().strip():
                return _checked(secret, where)
            time.sleep(0.01)
        raise SettingsError(f"the key secret file {where} is empty") from None
    except OSError as exc:
        raise SettingsError(f"cannot create the key secret file {where}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()
