"""``/v1/audit``: the audit log, a check of its hash chain, checkpoints, receipts, export.

- ``GET /v1/audit``, ``/verify``, ``/export`` (auditors): the log, its check, a stream of it;
- ``GET /v1/audit/checkpoints`` (any key): the signed checkpoints and the keys that signed
  them, so anyone can keep one and check the log against it later;
- ``GET /v1/audit/entries/{seq}/proof`` (staff, auditors): a receipt proving an entry is in
  the log a signed checkpoint commits to, checkable offline.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from flask import Response, stream_with_context
from flask.views import MethodView

from adjudicator.audit.checkpoints import list_checkpoints, receipt, verifier_keys
from adjudicator.audit.log import (
    CSV_COLUMNS,
    AuditEntry,
    csv_row,
    export_bounds,
    iter_entries,
    list_audit,
)
from adjudicator.verification import verify_audit
from api.auth import ANY_ROLE
from api.openapi import Blueprint
from api.problems import Problem
from api.schemas import (
    AuditPageSchema,
    AuditQuerySchema,
    CheckpointListSchema,
    CheckpointQuerySchema,
    ExportQuerySchema,
    ReceiptSchema,
    VerifyReportSchema,
)
from api.services import services

_EXPORT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
_EXPORT_DOC = {
    "description": "The entries, oldest first, streamed: NDJSON (one entry a line) or CSV.",
    "content": {
        "application/x-ndjson": {"schema": {"type": "string"}},
        "text/csv": {"schema": {"type": "string"}},
    },
}


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The entries as CSV text, a header line first, one chunk per entry (for streaming)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(csv_row(entry))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


blp = Blueprint("audit", __name__, url_prefix="/v1/audit", description="The audit log.")


@blp.route("")
class Audit(MethodView):
    @blp.secured("auditor")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    @blp.problems(422)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Entries in chain order; follow ``next_cursor`` for more."""
        page = list_audit(
            services().store,
            cursor=query.get("cursor"),
            limit=query["limit"],
            action=query.get("action"),
            subject=query.get("subject"),
        )
        return {"items": [e.to_dict() for e in page.items], "next_cursor": page.next_cursor}


@blp.route("/verify")
class Verify(MethodView):
    @blp.secured("auditor")
    @blp.response(200, VerifyReportSchema)
    def get(self) -> dict[str, Any]:
        """Walk the chain; name the first entry that was changed, deleted or reordered."""
        return verify_audit(services().store).to_dict()


@blp.route("/export")
class Export(MethodView):
    @blp.secured("auditor")
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(responses={"200": _EXPORT_DOC})
    @blp.problems(422)
    def get(self, query: dict[str, Any]) -> Response:
        """Stream the entries (``from``/``to``: a seq, inclusive, or an ISO 8601 time)."""
        store = services().store
        first, last = export_bounds(store, query.get("from_"), query.get("to"))
        entries = iter_entries(store, first=first, last=last)
        if query["format"] == "csv":
            body: Iterator[str] = csv_lines(entries)
        else:
            body = (orjson.dumps(e.to_dict()).decode() + "\n" for e in entries)
        response = Response(stream_with_context(body), content_type=_EXPORT_TYPES[query["format"]])
        filename = f"audit-{first}-{'head' if last is None else last}.{query['format']}"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@blp.route("/checkpoints")
class Checkpoints(MethodView):
    @blp.secured(*ANY_ROLE)
    @blp.arguments(CheckpointQuerySchema, location="query")
    @blp.response(200, CheckpointListSchema)
    @blp.problems(422)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The newest signed checkpoints, and the verifier keys that signed them."""
        store = services().store
        items = [c.to_dict() for c in list_checkpoints(store, limit=query["limit"])]
        return {"items": items, "verifier_keys": verifier_keys(store)}


@blp.route("/entries/<int:seq>/proof")
class Proof(MethodView):
    @blp.secured("staff", "auditor")
    @blp.response(200, ReceiptSchema)
    @blp.problems(404)
    def get(self, seq: int) -> dict[str, Any]:
        """A receipt: the entry, its leaf index, the audit path, and the signed checkpoint."""
        found = receipt(services().store, seq) if 1 <= seq < 2**63 else None
        if found is None:
            detail = (
                f"No entry {seq}, or no signed checkpoint covers it yet "
                "(the worker signs one every few minutes)."
            )
            raise Problem(404, "not-found", detail)
        return found
