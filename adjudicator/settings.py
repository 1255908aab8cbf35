"""The service's settings from the environment, read once by the composition root.

``adjudicator serve`` and ``api.create_app`` call :meth:`ServiceSettings.from_env`
once; tests build :class:`ServiceSettings` (or pass ``create_app`` a config)
themselves. The database and the key secret are read by
:meth:`adjudicator.db.config.StoreConfig.from_env` (``DATABASE_URL``,
``ADJUDICATOR_KEY_SECRET``, ``ADJUDICATOR_KEY_SECRET_FILE``). Every variable,
with its default, is listed in the README's "Configuration".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BODY = 1024 * 1024

_LEVELS = ("debug", "info", "warning", "error", "critical")


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


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
