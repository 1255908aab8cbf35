"""Per request: its id, one access line, and its latency in the metrics.

The request id is the server's own, new for every request. It lives in
``g.request_id`` (problem bodies, audit entries' ``request_id``) and in
:data:`adjudicator.logs.REQUEST_ID` (every log line written while the request
is served), and is returned in the ``X-Request-Id`` response header. A sane
incoming ``X-Request-Id`` (1-64 of ``[A-Za-z0-9._-]``) is the client's word,
not the server's: it is kept apart as ``g.client_request_id``, written on the
access line as ``client_request_id`` and into audit payloads, and echoed in
``X-Client-Request-Id``; it never replaces the server's id, so two clients
sending the same id (or one replaying an id) cannot make two requests look
like one in the audit log.

The access line (logger ``adjudicator.access``) holds the method, the path
without its query string (which could carry anything a client typed), the
status, the duration in ms and the key id (never the key).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, g, request

from adjudicator.logs import REQUEST_ID
from api.metrics import Metrics

_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
access_log = logging.getLogger("adjudicator.access")


def _begin() -> None:
    g.started = time.perf_counter()
    given = request.headers.get("X-Request-Id", "")
    g.client_request_id = given if _SANE_ID.fullmatch(given) else None
    g.request_id = uuid.uuid4().hex
    g.request_id_token = REQUEST_ID.set(g.request_id)


def _end_of(metrics: Metrics) -> Callable[[Response], Response]:
    def end(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        client_id = g.get("client_request_id")
        if client_id is not None:
            response.headers["X-Client-Request-Id"] = client_id
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else "unmatched"
        metrics.observe_request(endpoint, request.method, response.status_code, seconds)
        if access_log.isEnabledFor(logging.INFO):
            actor = g.get("actor")
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                    "key_id": None if actor is None else actor.key_id,
                    "client_request_id": client_id,
                },
            )
        return response

    return end


def _teardown(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        REQUEST_ID.reset(token)


def install(app: Flask, metrics: Metrics) -> None:
    """Register the hooks; install them before any other ``after_request`` hook."""
    app.before_request(_begin)
    app.after_request(_end_of(metrics))
    app.teardown_request(_teardown)
