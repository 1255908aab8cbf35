"""Where the store's settings come from: the environment, read once by the caller.

``DATABASE_URL`` selects the database (``postgresql+psycopg://...``); without
it the service keeps a SQLite file ``adjudicator.db`` in the working directory.
API keys are stored as HMAC-SHA256 under a server secret: ``ADJUDICATOR_KEY_SECRET``
when set, otherwise a random secret kept in ``.adjudicator-secret`` (mode 0600)
beside the default database, created on first use. Every process that checks
keys (each ``serve`` worker, the CLI) must see the same secret.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_DATABASE_FILE = "adjudicator.db"
DEFAULT_SECRET_FILE = ".adjudicator-secret"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the service's only clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoreConfig:
    """The database URL, the key secret and the clock of one store."""

    database_url: str
    key_secret: bytes = field(repr=False)
    clock: Clock = utc_now

    @classmethod
    def from_env(cls, environ: Mapping[str, str], cwd: Path) -> StoreConfig:
        """Read ``DATABASE_URL`` and the key secret as the module docstring says."""
        url = environ.get("DATABASE_URL") or f"sqlite:///{cwd / DEFAULT_DATABASE_FILE}"
        return cls(database_url=url, key_secret=key_secret_from_env(environ, cwd))


def key_secret_from_env(environ: Mapping[str, str], cwd: Path) -> bytes:
    """``ADJUDICATOR_KEY_SECRET``, else the secret file (created once, 0600)."""
    value = environ.get("ADJUDICATOR_KEY_SECRET", "")
    if value:
        return value.encode()
    path = Path(environ.get("ADJUDICATOR_KEY_SECRET_FILE") or cwd / DEFAULT_SECRET_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):  # another process may be writing it right now
            if secret := path.read_bytes().strip():
                return secret
            time.sleep(0.01)
        raise RuntimeError(f"key secret file {path} is empty") from None
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()
