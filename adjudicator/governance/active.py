"""Which ruleset version is active: read from the database, cached for a few seconds per process.

The active version lives in ``ruleset_activations`` (newest row wins); the
ruleset file's ``active`` is only the default while no version was ever
activated. Every process reads it through :class:`ActiveVersionCache`, a
read with a short TTL, so all workers on all hosts follow a change within
``ACTIVE_TTL`` seconds without a restart. :mod:`.activation` changes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from adjudicator.core.dates import rfc3339
from adjudicator.db.store import Store
from adjudicator.governance.models import RulesetActivationRow

ACTIVE_TTL = 2.0  # seconds a process trusts its last read of the active version


class Versions(Protocol):
    """What governance needs of the core's catalog: ``get(version)`` (``None``: the file's)."""

    def get(self, version: str | None) -> Any: ...


@dataclass(frozen=True, slots=True)
class ActiveVersion:
    """The active version, its digest, how it became active (``kind``) and since when."""

    version: str
    digest: str
    kind: str
    since: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "digest": self.digest,
            "kind": self.kind,
            "since": rfc3339(self.since) if self.since else None,
        }


def newest(session: Session) -> RulesetActivationRow | None:
    """The newest row of the activation history (``None`` while it is empty)."""
    query = select(RulesetActivationRow).order_by(RulesetActivationRow.id.desc()).limit(1)
    return session.execute(query).scalar_one_or_none()


def current(
    session: Session, versions: Versions
) -> tuple[ActiveVersion, RulesetActivationRow | None]:
    """The active version and its history row (``None``: the file default), in ``session``."""
    row = newest(session)
    if row is None:
        default = versions.get(None)
        return ActiveVersion(default.version, default.digest, "default", None), None
    return ActiveVersion(row.version, row.digest, row.kind, row.activated_at), row


def active_version(store: Store, versions: Versions) -> ActiveVersion:
    """The active version as stored now (the catalog's default while none was activated)."""
    with store.db.read() as session:
        return current(session, versions)[0]


class ActiveVersionCache:
    """This process's view of the active version name, re-read after ``ttl`` seconds."""

    def __init__(
        self,
        store: Store,
        versions: Versions,
        ttl: float = ACTIVE_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._versions = versions
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value: str | None = None
        self._read_at = 0.0

    def get(self) -> str:
        """The active version's name (from the database at most ``ttl`` seconds ago)."""
        with self._lock:
            now = self._monotonic()
            if self._value is None or now - self._read_at >= self._ttl:
                self._value = active_version(self._store, self._versions).version
                self._read_at = now
            return self._value
