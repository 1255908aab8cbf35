"""The store: one database, the key secret and the clock, built once per process.

``open_store(config)`` is the composition root's call; every service function
takes the :class:`Store` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adjudicator.db.config import Clock, StoreConfig, utc_now
from adjudicator.db.database import Database


@dataclass(frozen=True)
class Store:
    """What the service functions need: the database, the key secret, the clock."""

    db: Database
    key_secret: bytes = field(repr=False)
    clock: Clock = utc_now

    def close(self) -> None:
        """Release the database connections."""
        self.db.close()


def open_store(config: StoreConfig) -> Store:
    """Connect to the configured database (no migrations: see ``Database.migrate``)."""
    return Store(
        db=Database(config.database_url, config.timeouts),
        key_secret=config.key_secret,
        clock=config.clock,
    )
