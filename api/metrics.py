"""``GET /metrics``: the service's Prometheus metrics, in the text exposition format.

- ``adjudicator_decisions_total{outcome, ruleset}``: engine decisions stored (201)
- ``adjudicator_request_duration_seconds{endpoint, method, status}``: every request
  (``endpoint`` is the route's rule, ``unmatched`` for a 404, never the raw path;
  ``method`` one of :data:`METHODS` or ``other``: a client picks the method, and a
  label a client picks would let it add series without end)
- ``adjudicator_decision_duration_seconds``: the engine's ``decide`` call
- ``adjudicator_audit_chain_length``: entries in the audit chain, read from the
  chain head (one row) when scraped
- ``adjudicator_money_discrepancies``, ``adjudicator_money_reconciled_timestamp_seconds``:
  the worker's latest hourly ``money reconcile`` (read from its stored run when scraped)

Under ``adjudicator serve`` each worker writes its samples to the
``PROMETHEUS_MULTIPROC_DIR`` that ``serve`` made, and a scrape merges every
worker's files, so any worker answers for all. Without that directory (tests,
one process) the app keeps its own registry.

Who may read it: anyone who can reach the bind address, as for ``/healthz``.
The metrics hold counts and timings only: no key, key id, case or request id.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from flask import Flask, Response, g
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from adjudicator.audit.log import chain_length
from adjudicator.claims.reconcile import last_run
from adjudicator.db.store import Store
from adjudicator.decisions.service import Decider

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ENGINE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """The ``method`` label: a standard method as itself, anything else ``other``."""
    return method if method in METHODS else "other"


class AuditChainCollector:
    """Reads the audit chain's length from the store at scrape time."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "adjudicator_audit_chain_length", "Entries in the audit log's hash chain."
        )

    def describe(self) -> Iterator[Metric]:
        """The gauge without a sample (registering must not query the database)."""
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        """One gauge sample: the head's seq."""
        gauge = self._family()
        gauge.add_metric([], chain_length(self._store))
        yield gauge


class MoneyReconcileCollector:
    """The worker's latest ``money reconcile``: its discrepancies and when it ran.

    No sample until a reconciliation has run (a fresh service, or no worker).
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "adjudicator_money_discrepancies",
                "Disagreements the latest money reconcile found between claim events, "
                "ledger rows and claim rows (0: every order's ledger agrees).",
            ),
            GaugeMetricFamily(
                "adjudicator_money_reconciled_timestamp_seconds",
                "When the latest money reconcile ran (Unix time).",
            ),
        )

    def describe(self) -> Iterator[Metric]:
        """The gauges without samples (registering must not query the database)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        """The latest run's count and time, when there is one."""
        found, when = self._families()
        run = last_run(self._store)
        if run is not None:
            found.add_metric([], run.discrepancies)
            when.add_metric([], run.at.timestamp())
        yield found
        yield when


class Metrics:
    """The metrics of one app, and the registry a scrape reads."""

    def __init__(self, store: Store, multiprocess_dir: str | None) -> None:
        own = CollectorRegistry()
        self.decisions = Counter(
            "adjudicator_decisions",
            "Engine decisions stored, by outcome and ruleset version.",
            ["outcome", "ruleset"],
            registry=own,
        )
        self.requests = Histogram(
            "adjudicator_request_duration_seconds",
            "Time to answer a request, by endpoint, method and status.",
            ["endpoint", "method", "status"],
            buckets=REQUEST_BUCKETS,
            registry=own,
        )
        self.engine = Histogram(
            "adjudicator_decision_duration_seconds",
            "Time the rules engine took to decide one case.",
            buckets=ENGINE_BUCKETS,
            registry=own,
        )
        if multiprocess_dir:
            self.registry = CollectorRegistry()
            MultiProcessCollector(self.registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        else:
            self.registry = own
        self.registry.register(AuditChainCollector(store))
        self.registry.register(MoneyReconcileCollector(store))

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Record one answered request (and the decision it stored, if any)."""
        self.requests.labels(endpoint, method_label(method), str(status)).observe(seconds)
        decided = g.get("decided")
        if decided is not None and status == 201:
            self.decisions.labels(*decided).inc()

    def scrape(self) -> Response:
        """The exposition of every metric (all workers' under ``serve``)."""
        return Response(generate_latest(self.registry), content_type=CONTENT_TYPE_LATEST)


class TimedDecider:
    """The adjudicator, timed; notes the outcome and ruleset of this request's decision."""

    def __init__(self, inner: Decider, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def decide(
        self,
        case: Mapping[str, Any],
        ruleset: str | None = None,
        *,
        decision_id: str | None = None,
        decided_at: datetime | None = None,
    ) -> Any:
        """Decide through the wrapped adjudicator and time it."""
        started = time.perf_counter()
        try:
            decision = self._inner.decide(
                case, ruleset, decision_id=decision_id, decided_at=decided_at
            )
        finally:
            self._metrics.engine.observe(time.perf_counter() - started)
        version = getattr(getattr(decision, "ruleset", None), "version", None)
        g.decided = (str(getattr(decision, "outcome", "unknown")), str(version or "unknown"))
        return decision


def register(app: Flask, metrics: Metrics) -> None:
    """Serve ``GET /metrics`` (no key: see the module docstring)."""
    app.add_url_rule("/metrics", "metrics", metrics.scrape, methods=["GET"])
