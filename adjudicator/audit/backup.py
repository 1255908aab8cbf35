"""``adjudicator db backup``: a consistent copy of a SQLite database while it serves.

SQLite's online backup API (``sqlite3.Connection.backup``) copies the pages
under a read transaction, so writers may go on; the copy is a complete
database (the WAL folded in), created ``0600``. PostgreSQL is backed up with
``pg_dump`` (``docs/audit.md`` has the recipe): no Python code can do it as well.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from adjudicator.db.errors import StoreError
from adjudicator.db.store import Store

PG_DUMP_RECIPE = (
    'PostgreSQL: pg_dump --format=custom --file=FILE "$DATABASE_URL" (a libpq URL, '
    "without '+psycopg'); restore with pg_restore --clean --dbname=URL FILE"
)


class BackupRefused(StoreError):
    """The database cannot be backed up this way (not SQLite, or the target exists)."""


def backup(store: Store, target: Path) -> int:
    """Copy the SQLite database to ``target`` (which must not exist); return its pages."""
    if store.db.dialect != "sqlite":
        raise BackupRefused(PG_DUMP_RECIPE)
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupRefused(f"{target} exists: back up to a new file") from None
    pages = 0

    def progress(status: int, remaining: int, total: int) -> None:
        nonlocal pages
        pages = total

    raw: Any = store.db.engine.raw_connection()
    try:
        destination = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(destination, pages=1024, progress=progress)
        finally:
            destination.close()
    finally:
        raw.close()
    return pages
