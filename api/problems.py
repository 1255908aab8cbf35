"""One error envelope on the wire: ``application/problem+json`` (RFC 9457).

Every error response is ``{"type", "title", "status", "detail", "errors",
"request_id"}``. ``type`` is a stable URN clients may branch on:

========================================  ======  =========================================
type                                      status  when
========================================  ======  =========================================
``urn:adjudicator:problem:malformed-json``  400   the body is not JSON, or not a JSON object
``urn:adjudicator:problem:bad-request``     400   any other unreadable request
``urn:adjudicator:problem:unauthorized``    401   no key, an unknown key, a revoked key
``urn:adjudicator:problem:forbidden``       403   the key's role may not do this
``urn:adjudicator:problem:not-found``       404   no such route, decision or ruleset version
``urn:adjudicator:problem:method-not-allowed`` 405 the route exists, the method does not
``urn:adjudicator:problem:idempotency-conflict`` 409 Idempotency-Key reused with another request
``urn:adjudicator:problem:invalid-transition`` 409 not an action the claim takes now (``allowed``)
``urn:adjudicator:problem:stale-proposal`` 409 approving a proposal made on an older case revision
``urn:adjudicator:problem:stale``          409   approve/decline named a proposal replaced since
``urn:adjudicator:problem:cap-exhausted``  409   the order's cap cannot cover it (``remaining``)
``urn:adjudicator:problem:claim-exists``    409  an open claim on the order has that claim_id
``urn:adjudicator:problem:stale-report``    409   activation: the report is older than 7 days or
                                                  measured against another active version
``urn:adjudicator:problem:report-mismatch`` 409   activation: the report is not a succeeded replay
                                                  of the version's exact digest
``urn:adjudicator:problem:request-closed``  409   activation: the request was already approved
``urn:adjudicator:problem:already-active``  409   activation: the version is already active
``urn:adjudicator:problem:nothing-to-roll-back`` 409 rollback: no earlier version to return to
``urn:adjudicator:problem:payload-too-large`` 413 the body is over the limit
``urn:adjudicator:problem:invalid-case``    422   the case document breaks the contract
``urn:adjudicator:problem:no-outcome``      422   a valid case the ruleset version reaches no
                                                  outcome for (a gap in its rules; ``case_digest``,
                                                  ``ruleset``, ``stage``): nothing was decided
``urn:adjudicator:problem:unknown-ruleset`` 422   ``?ruleset=`` names no loaded version
``urn:adjudicator:problem:invalid-request`` 422   bad parameters, override, cursor
``urn:adjudicator:problem:rate-limited``    429   the key is over its rate (``Retry-After``)
``urn:adjudicator:problem:unavailable``     503   the database is unreachable; retry
``urn:adjudicator:problem:internal``        500   a fault of the service (never the client's)
========================================  ======  =========================================

``errors`` maps a dotted field path (``order.lines.0.quantity``) to messages.
Exceptions of the core and the store are mapped here, at the boundary; no
stack trace or exception text of a third-party library reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus

import orjson
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from adjudicator.claims.service import ClaimExists, ClaimIdempotencyConflict
from adjudicator.core.contract import flatten_errors
from adjudicator.core.errors import (
    AdjudicatorError,
    EngineError,
    InvalidCase,
    NoOutcome,
    UnknownRuleset,
)
from adjudicator.core.lifecycle import (
    ActionForbidden,
    CapExhausted,
    InvalidAction,
    InvalidTransition,
    LifecycleError,
    ReplacedProposal,
    StaleProposal,
)
from adjudicator.db.errors import DatabaseUnavailable, IdempotencyConflict, InvalidRequest, NotFound
from adjudicator.governance.activation import GovernanceConflict, SelfApproval

PROBLEM_JSON = "application/problem+json"
_PREFIX = "urn:adjudicator:problem:"
_BY_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "idempotency-conflict",
    413: "payload-too-large",
    422: "invalid-request",
    503: "unavailable",
}
log = logging.getLogger("api")


class Problem(HTTPException):
    """An HTTP error raised by the API itself, rendered as problem+json."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.kind = kind
        self.errors = {k: list(v) for k, v in (errors or {}).items()}
        self.extra_headers = dict(headers or {})


def problem_response(
    status: int,
    kind: str,
    detail: str,
    errors: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Response:
    """The problem+json response; ``kind`` is the last part of the type URN."""
    body: dict[str, object] = {
        "type": _PREFIX + kind,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "errors": {k: list(v) for k, v in (errors or {}).items()},
        "request_id": g.get("request_id"),
        **(extra or {}),
    }
    response = Response(orjson.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, Problem):
        return problem_response(
            status, error.kind, str(error.description), error.errors, error.extra_headers
        )
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if isinstance(messages, Mapping):
        # webargs: {location: {field: [messages]}}; the location is not part of the path.
        errors: dict[str, list[str]] = {}
        for found in messages.values():
            for path, msgs in flatten_errors(found).items():
                errors.setdefault(path, []).extend(msgs)
        return problem_response(
            status, "invalid-request", "The request's parameters are invalid.", errors, headers
        )
    if status >= 500:
        return _internal(error)
    kind = _BY_STATUS.get(status, "bad-request")
    return problem_response(status, kind, str(error.description), None, headers)


def _internal(error: BaseException) -> Response:
    log.error(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.path,
        g.get("request_id"),
        exc_info=(type(error), error, error.__traceback__),
    )
    return problem_response(
        500, "internal", "The service failed; the request id identifies the failure."
    )


def _core_error(error: AdjudicatorError) -> Response:
    if isinstance(error, InvalidCase):
        return problem_response(
            422, "invalid-case", "The case document is not valid.", error.errors
        )
    if isinstance(error, UnknownRuleset):
        detail = f"No ruleset version {error.version[:40]!r} is loaded."
        errors = {"ruleset": [f"Unknown version; known: {', '.join(error.known)}."]}
        return problem_response(422, "unknown-ruleset", detail, errors)
    if isinstance(error, LifecycleError | ClaimExists | ClaimIdempotencyConflict):
        return _claim_refusal(error)
    if isinstance(error, IdempotencyConflict):
        detail = "This Idempotency-Key was already used with a different request."
        return problem_response(
            409,
            "idempotency-conflict",
            detail,
            None,
            {"Location": f"/v1/decisions/{error.decision_id}"},
        )
    if isinstance(error, NotFound):
        return problem_response(404, "not-found", f"No {error.kind} with that id.")
    if isinstance(error, SelfApproval):
        return problem_response(403, "forbidden", str(error))
    if isinstance(error, GovernanceConflict):
        return problem_response(409, error.kind, str(error))
    if isinstance(error, InvalidRequest):
        return problem_response(422, "invalid-request", str(error), error.errors)
    if isinstance(error, DatabaseUnavailable):
        return problem_response(
            503,
            "unavailable",
            "The database is unavailable; retry later.",
            None,
            {"Retry-After": "1"},
        )
    if isinstance(error, NoOutcome):
        return _no_outcome(error)
    if isinstance(error, EngineError):
        return _engine_fault(error)
    return _internal(error)


def _claim_refusal(error: AdjudicatorError) -> Response:
    """The claim lifecycle's refusals (409 with what is allowed now, 403, 422)."""
    if isinstance(error, InvalidTransition):
        return problem_response(
            409, "invalid-transition", error.reason, None, None, {"allowed": error.allowed}
        )
    if isinstance(error, StaleProposal):
        return problem_response(409, "stale-proposal", str(error))
    if isinstance(error, ReplacedProposal):
        extra = {"proposal_id": error.pending}
        return problem_response(409, "stale", str(error), None, None, extra)
    if isinstance(error, CapExhausted):
        remaining = {"amount": error.remaining, "currency": error.currency}
        owed: dict[str, object] = {"remaining": remaining, "order_id": error.order_id}
        return problem_response(409, "cap-exhausted", str(error), None, None, owed)
    if isinstance(error, ActionForbidden):
        return problem_response(403, "forbidden", error.reason)
    if isinstance(error, InvalidAction):
        return problem_response(422, "invalid-request", str(error), error.errors)
    if isinstance(error, ClaimExists):
        detail = "An open claim on this order has this claim_id."
        location = {"Location": f"/v1/claims/{error.claim_ref}"}
        return problem_response(
            409, "claim-exists", detail, None, location, {"claim_ref": error.claim_ref}
        )
    if isinstance(error, ClaimIdempotencyConflict):
        detail = "This Idempotency-Key was already used with a different request."
        location = {"Location": f"/v1/claims/{error.claim_ref}"}
        return problem_response(409, "idempotency-conflict", detail, None, location)
    return _internal(error)


def _engine_fault(error: EngineError) -> Response:
    """A 500 for this request only; logged with the case's digest, never the case itself."""
    if error.recycle:
        g.recycle_worker = True
    log.error(
        "engine fault on %s %s (request %s, case %s)%s",
        request.method,
        request.path,
        g.get("request_id"),
        error.case_digest,
        "; this worker will be recycled" if error.recycle else "",
        exc_info=(type(error), error, error.__traceback__),
        extra={"case_digest": error.case_digest, "recycle": error.recycle},
    )
    return problem_response(
        500, "internal", "The service failed; the request id identifies the failure."
    )


def _no_outcome(error: NoOutcome) -> Response:
    """A valid case the ruleset version reached no outcome for (spec v1.2, clarification 22).

    A gap in the version's rules, neither the client's error nor a fault of the
    service: never a bare 500. The problem names the case's digest, the version
    and the stage the case waited for, so the caller can route the claim to staff
    and an analyst can reproduce the gap; it is logged with the same, never the case.
    """
    log.error(
        "no outcome on %s %s (request %s, case %s): ruleset %s@%s, stage %s",
        request.method,
        request.path,
        g.get("request_id"),
        error.case_digest,
        error.name,
        error.version,
        error.stage,
        extra={"case_digest": error.case_digest, "stage": error.stage},
    )
    detail = (
        f"Ruleset version {error.version} reached no outcome for this case: no rule of its "
        f"{error.stage} stage held. This is a gap in the ruleset, not an error in the case; "
        "nothing was decided or stored."
    )
    extra = {"case_digest": error.case_digest, "ruleset": error.version, "stage": error.stage}
    return problem_response(422, "no-outcome", detail, None, None, extra)


def register(app: Flask) -> None:
    """Install the handlers that turn every error into problem+json."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(AdjudicatorError, _core_error)
    app.register_error_handler(Exception, _internal)
