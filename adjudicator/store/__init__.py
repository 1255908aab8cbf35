"""Persistence and audit: the service layer the API and the CLI call.

This package is the imperative shell around the pure core. It may import
SQLAlchemy and Alembic, never Flask or ``api``; the core never imports it.

- :mod:`.store`      ``Store`` / ``open_store``: one database, the key secret, the clock
- :mod:`.database`   engines, serialised write transactions, migrations
- :mod:`.models`     the tables (SQLAlchemy 2.0 typed ORM); :mod:`.migrations` owns the schema
- :mod:`.webhook_models`  the webhook tables (the jobs and services are in ``adjudicator.webhooks``)
- :mod:`.decisions`  decide and store a case; override a decision
- :mod:`.queries`    read decisions back: by id, or a filtered page
- :mod:`.records`    ``StoredDecision`` and the column checks
- :mod:`.overrides`  what a staff override must satisfy
- :mod:`.chain`      appending to the hash-chained audit log (one statement on PostgreSQL)
- :mod:`.audit`      reading the audit log: list, verify
- :mod:`.keys`       API keys: create, list, revoke, authenticate
- :mod:`.readiness`  ``/readyz``'s probe: the database takes a write, answered within 1 s
- :mod:`.hardening_models` the readiness probe's table
- :mod:`.replays`    replay jobs (impact analysis) as records; :mod:`.replay_job` runs one
- :mod:`.active`     the active ruleset version, read with a short per-process cache
- :mod:`.activation` the gated acts that change it: request, approval, rollback
"""

from adjudicator.store.actor import Actor
from adjudicator.store.audit import (
    AuditEntry,
    VerifyReport,
    chain_length,
    list_audit,
    verify_audit,
)
from adjudicator.store.config import StoreConfig, utc_now
from adjudicator.store.decisions import Decider, create_decision, override_decision
from adjudicator.store.errors import (
    DatabaseUnavailable,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    StoreError,
)
from adjudicator.store.keys import ROLES, KeyInfo, authenticate, create_key, list_keys, revoke_key
from adjudicator.store.overrides import Determination
from adjudicator.store.pagination import MAX_LIMIT, Page
from adjudicator.store.queries import DecisionFilter, get_decision, list_decisions
from adjudicator.store.records import StoredDecision
from adjudicator.store.store import Store, open_store

__all__ = [
    "MAX_LIMIT",
    "ROLES",
    "Actor",
    "AuditEntry",
    "DatabaseUnavailable",
    "Decider",
    "DecisionFilter",
    "Determination",
    "IdempotencyConflict",
    "InvalidRequest",
    "KeyInfo",
    "NotFound",
    "Page",
    "Store",
    "StoreConfig",
    "StoreError",
    "StoredDecision",
    "VerifyReport",
    "authenticate",
    "chain_length",
    "create_decision",
    "create_key",
    "get_decision",
    "list_audit",
    "list_decisions",
    "list_keys",
    "open_store",
    "override_decision",
    "revoke_key",
    "utc_now",
    "verify_audit",
]
