"""The service's settings: the one place the process environment is read.

Each composition root — ``adjudicator serve``, the worker, a command of the
CLI, ``api.create_app`` — calls :meth:`Settings.from_env` once and passes the
:class:`Settings` (or the part a component needs) down; worker jobs get theirs
from :func:`adjudicator.worker.all_jobs`. Nothing else reads ``os.environ``
(a test looks). Each part is parsed, and refused with :class:`SettingsError`,
when it is first asked for, so a command that needs no database is not
stopped by a bad ``DATABASE_URL``. Every variable, with its default, is
listed in ``docs/reference.md`` ("Configuration").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from adjudicator.audit.signing import AuditSettings
from adjudicator.core.errors import SettingsError as SettingsError  # raised here, named here
from adjudicator.db.config import (
    DatabaseTimeouts,
    StoreConfig,
    database_url_from_env,
    key_secret_from_env,
)

DEFAULT_MAX_BODY = 1024 * 1024

_LEVELS = ("debug", "info", "warning", "error", "critical")


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is outside {low}..{high}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, low: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not value >= low or value == float("inf"):
        raise SettingsError(f"{name}={raw} must be a finite number >= {low}")
    return value


@dataclass(frozen=True)
class ServiceSettings:
    """How the HTTP service runs: bind, processes, limits, logs, metrics."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 2
    timeout: int = 30
    graceful_timeout: int = 30
    max_body_bytes: int = DEFAULT_MAX_BODY
    log_level: str = "info"
    rate_limit: float = 2000.0  # requests per second per key, the whole service; 0: off
    rate_burst: int = 4000
    webhook_retention_days: int = 30  # finished deliveries and dispatched outbox rows
    metrics_dir: str | None = None  # None: ``serve`` makes a temporary one
    multiprocess_dir: str | None = None  # set by ``serve`` for its workers

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServiceSettings:
        """Read the ``ADJUDICATOR_*`` variables; unset or empty ones keep their default."""
        level = (environ.get("ADJUDICATOR_LOG_LEVEL") or "info").strip().lower()
        if level not in _LEVELS:
            raise SettingsError(f"ADJUDICATOR_LOG_LEVEL={level!r} is not one of {_LEVELS}")
        return cls(
            host=(environ.get("ADJUDICATOR_HOST") or "").strip() or cls.host,
            port=_int(environ, "ADJUDICATOR_PORT", cls.port, 0, 65535),
            workers=_int(environ, "ADJUDICATOR_WORKERS", cls.workers, 1, 64),
            threads=_int(environ, "ADJUDICATOR_THREADS", cls.threads, 1, 64),
            timeout=_int(environ, "ADJUDICATOR_TIMEOUT", cls.timeout, 1, 3600),
            graceful_timeout=_int(
                environ, "ADJUDICATOR_GRACEFUL_TIMEOUT", cls.graceful_timeout, 1, 3600
            ),
            max_body_bytes=_int(
                environ, "ADJUDICATOR_MAX_BODY_BYTES", cls.max_body_bytes, 1024, 1 << 30
            ),
            log_level=level,
            rate_limit=_float(environ, "ADJUDICATOR_RATE_LIMIT", cls.rate_limit, 0.0),
            rate_burst=_int(environ, "ADJUDICATOR_RATE_BURST", cls.rate_burst, 1, 1 << 30),
            webhook_retention_days=_int(
                environ, "ADJUDICATOR_WEBHOOK_RETENTION_DAYS", cls.webhook_retention_days, 1, 3650
            ),
            metrics_dir=(environ.get("ADJUDICATOR_METRICS_DIR") or "").strip() or None,
            multiprocess_dir=(environ.get("PROMETHEUS_MULTIPROC_DIR") or "").strip() or None,
        )


def rules_dir_from_env(environ: Mapping[str, str]) -> Path | None:
    """``ADJUDICATOR_RULES_DIR``: another rules directory (a rules repository of its own).

    ``None`` when unset: the rules shipped inside the package. Read by the
    composition roots (``api.create_app``, the command line), never by the core.
    """
    raw = (environ.get("ADJUDICATOR_RULES_DIR") or "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not (path / "trade_assurance" / "ruleset.toml").is_file():
        raise SettingsError(
            f"ADJUDICATOR_RULES_DIR={raw}: no trade_assurance/ruleset.toml under it"
        )
    return path


API_KEY_ENV = "ADJUDICATOR_API_KEY"
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, read once and passed down."""

    environ: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> Settings:
        """The process environment (or ``environ``), snapshotted; ``cwd`` places the SQLite file."""
        return cls(dict(os.environ if environ is None else environ), cwd or Path.cwd())

    @cached_property
    def service(self) -> ServiceSettings:
        """How the HTTP service runs (``ADJUDICATOR_HOST``, ``_PORT``, ``_WORKERS``...)."""
        return ServiceSettings.from_env(self.environ)

    @cached_property
    def database_url(self) -> str:
        """``DATABASE_URL``, or the SQLite file in ``cwd``."""
        return database_url_from_env(self.environ, self.cwd)

    @cached_property
    def store(self) -> StoreConfig:
        """The database, the key secret and the database timeouts."""
        return StoreConfig.from_env(self.environ, self.cwd)

    @cached_property
    def key_secret(self) -> bytes:
        """``ADJUDICATOR_KEY_SECRET`` or its file (made beside a SQLite file on first use)."""
        return key_secret_from_env(self.environ, self.database_url)

    @cached_property
    def db_timeouts(self) -> DatabaseTimeouts:
        """``ADJUDICATOR_DB_CONNECT_TIMEOUT``, ``..._STATEMENT_TIMEOUT``, ``..._POOL_TIMEOUT``."""
        return DatabaseTimeouts.from_env(self.environ)

    @cached_property
    def audit(self) -> AuditSettings:
        """The checkpoint signing key, the log's origin, how often the worker signs."""
        return AuditSettings.from_env(self.environ, self.database_url)

    @cached_property
    def rules_dir(self) -> Path | None:
        """``ADJUDICATOR_RULES_DIR`` (``None``: the rules shipped in the package)."""
        return rules_dir_from_env(self.environ)

    @cached_property
    def replay_jobs(self) -> int:
        """``ADJUDICATOR_REPLAY_JOBS``: processes of one replay (default: the CPU count)."""
        return _int(self.environ, "ADJUDICATOR_REPLAY_JOBS", os.cpu_count() or 1, 1, 256)

    @cached_property
    def secure_cookies(self) -> bool:
        """``ADJUDICATOR_SECURE_COOKIES``: the console's cookies only over HTTPS."""
        return self.environ.get("ADJUDICATOR_SECURE_COOKIES", "").strip().lower() in _TRUE

    @cached_property
    def api_key(self) -> str | None:
        """``ADJUDICATOR_API_KEY``: the admin key governance commands act with (else asked)."""
        return (self.environ.get(API_KEY_ENV) or "").strip() or None

    @cached_property
    def database_url_shown(self) -> str:
        """``DATABASE_URL`` as given, for error messages (the password hidden by the caller)."""
        return self.environ.get("DATABASE_URL", "")
