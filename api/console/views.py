"""The console's pages but the claims: log in and out, decisions, a new claim, audit, rules.

Each is declared on the console blueprint (:mod:`api.console.blueprint`) at
import; the queue and the claim pages are :mod:`api.console.claims`.

Every view parses its input, calls the service function its API twin calls,
and renders a page, or only the partial htmx asked for. Console actions are
recorded with the logged-in user as actor (:func:`api.console.auth.console_actor`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
from flask import flash, g, redirect, request, stream_with_context, url_for
from flask_login import current_user, login_user, logout_user  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as WerkzeugResponse

from adjudicator.audit.checkpoints import list_checkpoints, verifier_keys
from adjudicator.audit.log import AuditEntry, export_bounds, iter_entries, list_audit
from adjudicator.core.errors import InvalidCase
from adjudicator.db import pagination
from adjudicator.decisions.preview import preview_decision
from adjudicator.decisions.queries import get_decision
from adjudicator.governance.impact_reports import list_replays
from adjudicator.identity.users import LoginRefused, count_users, log_in, log_out
from adjudicator.verification import verify_audit
from api.blueprints import audit as api_audit
from api.console import caseform, claims, present
from api.console.auth import ConsoleUser, console_user, requires
from api.console.blueprint import blp
from api.console.rendering import Page, card_of, render
from api.services import services


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never another site (open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/console/"):
            return target
    return url_for("console.home")


@blp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    """Log in with a name and a password; a locked account says until when."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    username = request.form.get("username", "")
    error = None
    if request.method == "POST":
        try:
            user = log_in(
                services().store,
                username,
                request.form.get("password", ""),
                request_id=g.request_id,
            )
        except LoginRefused as refused:
            error = _refusal(refused)
        else:
            login_user(ConsoleUser(user))
            return redirect(_safe_next(request.args.get("next")))
    no_users = count_users(services().store) == 0
    status = 200 if error is None else 401
    return render("login", status=status, error=error, username=username, no_users=no_users)


@blp.route("/logout", methods=["POST"])
@requires("staff", "auditor")
def logout() -> Page:
    """End the session (recorded in the audit log)."""
    log_out(services().store, console_user().info, request_id=g.request_id)
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("console.login"))


@blp.route("/decisions/<decision_id>")
@requires("staff", "auditor")
def decision(decision_id: str) -> Page:
    """A decision's card and the case it decided."""
    stored = get_decision(services().store, decision_id)
    document = stored.to_dict(with_case=True)
    case = document.pop("case", None)
    return render("decision", card=card_of(document), case=case, decision_id=decision_id)


@blp.route("/audit")
@requires("auditor")
def audit() -> Page:
    """The audit log, 50 entries a page, with the newest checkpoints."""
    cursor = request.args.get("cursor") or None
    entries = list_audit(services().store, cursor=cursor, limit=50)
    return render("audit", report=None, **_audit_context(entries))


@blp.route("/audit/verify")
@requires("auditor")
def audit_verify() -> Page:
    """Walk the hash chain and show the result above the log."""
    report = verify_audit(services().store)
    entries = list_audit(services().store, limit=50)
    return render("audit", "partials/verify_result", report=report, **_audit_context(entries))


@blp.route("/audit/export")
@requires("auditor")
def audit_export() -> WerkzeugResponse:
    """The whole log as a download (NDJSON, or CSV with ``?format=csv``)."""
    kind = "csv" if request.args.get("format") == "csv" else "ndjson"
    store = services().store
    first, last = export_bounds(store, None, None)
    entries = iter_entries(store, first=first, last=last)
    if kind == "csv":
        body: Iterator[str] = api_audit.csv_lines(entries)
    else:
        body = (orjson.dumps(e.to_dict()).decode() + "\n" for e in entries)
    response = WerkzeugResponse(stream_with_context(body), content_type=_EXPORTS[kind])
    filename = f"audit-{first}-{'head' if last is None else last}.{kind}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/rules")
@requires("staff", "auditor")
def rules() -> Page:
    """The loaded ruleset versions, their rules, and the latest replays."""
    catalog = services().adjudicator.catalog
    versions = [catalog.get(version) for version in catalog.versions]
    replays = list_replays(services().store, limit=20)
    return render("rules", versions=versions, active=catalog.active.version, replays=replays)


_EXPORTS = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


def _audit_context(entries: pagination.Page[AuditEntry]) -> dict[str, Any]:
    store = services().store
    return {"entries": entries, "checkpoints": list_checkpoints(store, limit=10),
            "verifier_keys": verifier_keys(store)}  # fmt: skip


def _refusal(refused: LoginRefused) -> str:
    if refused.locked_until is None:
        return "The name or the password is not right."
    until = present.local_time(refused.locked_until)
    return (
        "This account is locked after five failed logins in a row. "
        f"It opens again at {until}; an admin can unlock it sooner."
    )


@blp.route("/claims/new", methods=["GET", "POST"])
@requires("staff")
def new_claim() -> Page:
    """The new-claim form: add rows, upload a case, preview its decision, open the claim."""
    form = request.form
    action = form.get("action", "")
    counts = caseform.row_counts(form, action.removeprefix("add:") or None)
    values: dict[str, str] = dict(form)
    errors: dict[str, list[str]] = {}
    card = None
    case: dict[str, Any] | None = None
    if request.method == "POST" and action == "upload":
        case, upload_error = _uploaded_case()
        if upload_error:
            errors["case_file"] = [upload_error]
        else:
            assert case is not None
            values, counts = caseform.form_from_case(case)
    elif request.method == "POST" and action in ("preview", "open"):
        case = caseform.case_from_form(form)
    if case is not None and action == "open":
        try:
            return claims.open_from_case(case)
        except InvalidCase as invalid:
            errors = invalid.errors
        except claims.ClaimExists:
            errors = {"claim.claim_id": ["This order already has an open claim with this id."]}
    if case is not None and not errors:
        try:
            document = preview_decision(services().store, services().decider, case)
        except InvalidCase as invalid:
            errors = invalid.errors
        else:
            card = card_of(document)
    return render(
        "new_claim",
        "partials/new_claim_work",
        status=422 if errors else 200,
        groups=caseform.GROUPS,
        name=caseform.name,
        counts=counts,
        values=values,
        errors=errors,
        card=card,
        posted=request.method == "POST",
    )


def _uploaded_case() -> tuple[dict[str, Any] | None, str | None]:
    upload = request.files.get("case_file")
    if upload is None or not upload.filename:
        return None, "Choose a case document (a JSON file) to upload."
    try:
        found = orjson.loads(upload.read())
    except orjson.JSONDecodeError:
        return None, "This file is not JSON."
    if isinstance(found, dict) and isinstance(found.get("case"), dict):
        found = found["case"]  # a fixture file: {"description", "case", "expected"}
    if not isinstance(found, dict):
        return None, "A case document is a JSON object."
    return found, None
