"""``/v1/audit``: the audit log, and a check of its hash chain (auditors)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from adjudicator.store import list_audit, verify_audit
from api.openapi import Blueprint
from api.schemas import AuditPageSchema, AuditQuerySchema, VerifyReportSchema
from api.services import services


def blueprint() -> Blueprint:
    """The audit blueprint."""
    blp = Blueprint("audit", __name__, url_prefix="/v1/audit", description="The audit log.")

    @blp.route("")
    class Audit(MethodView):  # type: ignore[misc]
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
    class Verify(MethodView):  # type: ignore[misc]
        @blp.secured("auditor")
        @blp.response(200, VerifyReportSchema)
        def get(self) -> dict[str, Any]:
            """Walk the chain; name the first entry that was changed, deleted or reordered."""
            return verify_audit(services().store).to_dict()

    return blp
