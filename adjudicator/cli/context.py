"""What every command shares: the settings, the store, the operator, the rules.

Each command module imports this one and nothing of its siblings'; the
``adjudicator`` group itself lists the commands (:mod:`adjudicator.cli`). The
settings are read once per process (:func:`settings`), here and nowhere else
in the command line.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from adjudicator.core.decide import Adjudicator
from adjudicator.core.errors import AdjudicatorError
from adjudicator.core.rules.model import Catalog
from adjudicator.db.actor import Actor
from adjudicator.db.config import StoreConfig, secret_path, shown_url
from adjudicator.db.errors import DatabaseUnavailable
from adjudicator.db.store import Store, open_store
from adjudicator.identity.keys import count_keys
from adjudicator.settings import Settings, SettingsError

_SETTINGS = "adjudicator.settings"


def settings() -> Settings:
    """The environment, read once per invocation of the command line (kept on its context)."""
    current = click.get_current_context(silent=True)
    if current is None:
        return Settings.from_env()
    meta = current.find_root().meta
    found = meta.get(_SETTINGS)
    if not isinstance(found, Settings):
        found = meta[_SETTINGS] = Settings.from_env()
    return found


def config() -> StoreConfig:
    """The store's settings, refusing a key secret that would orphan the database's keys."""
    found = settings()
    try:
        _refuse_a_second_secret(found.database_url)
        return found.store
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    except DatabaseUnavailable as exc:
        where = f"DATABASE_URL={shown_url(found.database_url_shown)}"
        raise click.ClickException(f"{exc} ({where}): {exc.__cause__}") from exc


def _refuse_a_second_secret(url: str) -> None:
    """Stop before making a new key secret for a database whose keys were made under another.

    A new secret would silently invalidate every existing key (each is stored as an
    HMAC under the secret it was made with), so a run that would create the secret
    file while the database already holds keys stops and says where it looked.
    """
    path = secret_path(settings().environ, url)
    if path is None or path.exists():
        return
    throwaway = StoreConfig(database_url=url, key_secret=b"\0" * 32)
    store = open_store(throwaway)
    try:
        keys = count_keys(store)
    finally:
        store.close()
    if keys:
        raise SettingsError(
            f"no key secret at {path}, but the database holds {keys} API key(s) made under "
            f"a secret: a new one would invalidate them all. Point ADJUDICATOR_KEY_SECRET_FILE "
            f"at the secret they were made with (or set ADJUDICATOR_KEY_SECRET)."
        )


def operator() -> Actor:
    """The person at the command line, as the audit log names them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(key_id=None, name=f"cli:{user}", role="admin")


@contextmanager
def store(*, migrate: bool) -> Iterator[Store]:
    """The store the settings name (migrated first when ``migrate``), closed afterwards."""
    opened = open_store(config())
    try:
        if migrate:
            opened.db.migrate()
        yield opened
    except DatabaseUnavailable as exc:
        hint = "" if migrate else " (has `adjudicator db upgrade` been run?)"
        where = f" (DATABASE_URL={shown_url(opened.db.engine.url.render_as_string())})"
        raise click.ClickException(f"{exc}{where}: {exc.__cause__}{hint}") from exc
    except AdjudicatorError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        opened.close()


def rules_root() -> Path | None:
    """The rules directory: ``ADJUDICATOR_RULES_DIR``, else the one shipped in the package."""
    try:
        return settings().rules_dir
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def load_rules_catalog() -> Catalog:
    """Every version under :func:`rules_root`, broken ones kept with their errors."""
    from adjudicator.core.loader import load_catalog

    return load_catalog(rules_root())


def make_adjudicator() -> Adjudicator:
    """An adjudicator over :func:`rules_root` (refuses a broken active version)."""
    return Adjudicator(load_rules_catalog())
