"""JSON in and out with orjson: Flask's JSON provider and the request-body reader."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from flask import Response, current_app, request
from flask.json.provider import JSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from api.problems import Problem


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps_bytes(value: Any) -> bytes:
    """``value`` as compact JSON bytes."""
    return orjson.dumps(value, default=_default)


class OrjsonProvider(JSONProvider):
    """Flask's JSON provider backed by orjson (``jsonify``, flask-smorest responses)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps_bytes(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        # current_app is this provider's app: jsonify is called inside its context
        return current_app.response_class(dumps_bytes(obj), mimetype="application/json")


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised straight to bytes (the hot path skips the provider)."""
    return Response(dumps_bytes(value), status=status, mimetype="application/json", headers=headers)


def json_object_body() -> dict[str, Any]:
    """The request body parsed as a JSON object, or a 400 problem; over the limit, 413.

    The Content-Type is not checked: a client that forgets the header (curl's
    default) still gets its JSON read. A chunked body (no ``Content-Length``) is
    read up to the limit by Werkzeug, which stops there without a word; one byte
    more on the server's stream means it was over the limit, a 413 like a body
    whose length said so.
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if (
        request.content_length is None
        and limit is not None
        and len(raw) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Problem(400, "malformed-json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Problem(400, "malformed-json", "The request body must be a JSON object.")
    return body
