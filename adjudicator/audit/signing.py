"""The checkpoint signing key and the checkpoint settings, from the environment.

- ``ADJUDICATOR_AUDIT_KEY_FILE``: the Ed25519 private key (PKCS#8 PEM), made
  with mode ``0600`` on first use. Default: beside a SQLite database file
  (``<database>.audit-key.pem``); a PostgreSQL deployment must set it, and
  every process that signs (the worker, the CLI, on every host) must see the
  same file.
- ``ADJUDICATOR_AUDIT_ORIGIN``: the log's name in its checkpoints and the key
  name (a schema-less URL is best, e.g. ``disputes.example.com/audit``).
- ``ADJUDICATOR_CHECKPOINT_ENTRIES`` / ``ADJUDICATOR_CHECKPOINT_SECONDS``: the
  worker signs a checkpoint once this many entries are unsigned, or once the
  newest entry has waited this long.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy.engine import make_url

from adjudicator.audit.checkpoint_note import Signer, check_name

KEY_FILE_ENV = "ADJUDICATOR_AUDIT_KEY_FILE"
ORIGIN_ENV = "ADJUDICATOR_AUDIT_ORIGIN"
ENTRIES_ENV = "ADJUDICATOR_CHECKPOINT_ENTRIES"
SECONDS_ENV = "ADJUDICATOR_CHECKPOINT_SECONDS"
DEFAULT_ORIGIN = "adjudicator.local/audit-log"
DEFAULT_ENTRIES = 1000
DEFAULT_SECONDS = 300.0
KEY_SUFFIX = ".audit-key.pem"


class SigningKeyError(RuntimeError):
    """The signing key cannot be found, made or read; the message says what to set."""


def default_key_file(database_url: str) -> Path | None:
    """``<database file>.audit-key.pem`` for a SQLite file; None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + KEY_SUFFIX)


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Where the signing key lives, the log's origin, and how often the worker signs."""

    key_file: Path | None
    origin: str = DEFAULT_ORIGIN
    every_entries: int = DEFAULT_ENTRIES
    every_seconds: float = DEFAULT_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str], database_url: str) -> AuditSettings:
        """Read the variables the module docstring lists."""
        configured = environ.get(KEY_FILE_ENV)
        try:
            entries = int(environ.get(ENTRIES_ENV) or DEFAULT_ENTRIES)
            seconds = float(environ.get(SECONDS_ENV) or DEFAULT_SECONDS)
        except ValueError as exc:
            raise SigningKeyError(f"{ENTRIES_ENV}/{SECONDS_ENV}: {exc}") from None
        if entries < 1 or seconds <= 0:
            raise SigningKeyError(f"{ENTRIES_ENV} and {SECONDS_ENV} must be positive")
        return cls(
            key_file=Path(configured) if configured else default_key_file(database_url),
            origin=check_name(environ.get(ORIGIN_ENV) or DEFAULT_ORIGIN),
            every_entries=entries,
            every_seconds=seconds,
        )

    def signer(self) -> Signer:
        """The signing key, made (``0600``) on first use."""
        if self.key_file is None:
            raise SigningKeyError(
                f"set {KEY_FILE_ENV} to the checkpoint signing key's path "
                "(there is no default beside a non-file database)"
            )
        return Signer(self.origin, load_or_create_key(self.key_file))


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key in ``path``; a new one written there first (mode 0600) if none."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        message = f"cannot create the signing key {path} ({KEY_FILE_ENV}): {exc}"
        raise SigningKeyError(message) from None
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return _read_key(path)


def _read_key(path: Path) -> Ed25519PrivateKey:
    for _ in range(100):  # another process may be writing it right now
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"cannot read the signing key {path}: {exc}") from None
        if pem.strip():
            break
        time.sleep(0.01)
    try:
        key = load_pem_private_key(pem, password=None)
    except ValueError as exc:
        raise SigningKeyError(f"the signing key {path} is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"the signing key {path} is not an Ed25519 key")
    return key
