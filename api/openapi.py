"""flask-smorest set up for this API: problem+json errors in the OpenAPI document,
bearer-key security, and a body parser that answers 400 for non-JSON bodies.

The OpenAPI document (``GET /v1/openapi.json``) is generated from the same
marshmallow schemas the views load and dump with.

flask-smorest ships no type information, so :class:`Blueprint` also restates
the signatures of the decorators the views use (``route``, ``arguments``,
``response``, ``alt_response``, ``doc``): a decorated view keeps its own type
under ``mypy --strict``.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest  # type: ignore[import-untyped]
import marshmallow as ma
from flask import Request
from flask_smorest.utils import prepare_response  # type: ignore[import-untyped]
from webargs.flaskparser import FlaskParser

from api.auth import requires
from api.jsonio import json_object_body
from api.problems import PROBLEM_JSON

F = TypeVar("F", bound=Callable[..., Any])
BEARER = "bearerAuth"
SchemaLike = type[ma.Schema] | ma.Schema | dict[str, Any]


class ProblemSchema(ma.Schema):
    """An error response (RFC 9457 problem details)."""

    type = ma.fields.String(required=True, metadata={"description": "stable URN of the problem"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        required=True,
        metadata={"description": "dotted field path -> messages"},
    )
    request_id = ma.fields.String(allow_none=True)
    case_digest = ma.fields.String(
        metadata={"description": "no-outcome: sha256 of the case's canonical JSON"}
    )
    ruleset = ma.fields.String(metadata={"description": "no-outcome: the ruleset version"})
    stage = ma.fields.String(
        metadata={"description": "no-outcome: the stage the case waited for (breach, loss)"}
    )


class BodyParser(FlaskParser):
    """webargs parser reading JSON bodies with orjson, whatever the Content-Type."""

    def _raw_load_json(self, req: Request) -> Any:
        return json_object_body()


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest's Api with problem+json error responses (handlers live in api.problems)."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all ``default`` response: every status an operation can return is
    # listed on it, so clients (and the schemathesis conformance run) can rely on the list.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        """Errors are handled by :func:`api.problems.register`, not flask-smorest."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint with the orjson body parser and error documentation."""

    ARGUMENTS_PARSER = BodyParser()

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register a view function or a ``MethodView`` at ``rule`` (and in the document)."""
        decorator: Callable[[F], F] = super().route(rule, **options)
        return decorator

    def arguments(self, schema: SchemaLike, **options: Any) -> Callable[[F], F]:
        """Load a part of the request (``location``) through ``schema``; pass it to the view."""
        decorator: Callable[[F], F] = super().arguments(schema, **options)
        return decorator

    def response(
        self, status_code: int, schema: SchemaLike | None = None, **options: Any
    ) -> Callable[[F], F]:
        """Dump what the view returns through ``schema``, answered with ``status_code``."""
        decorator: Callable[[F], F] = super().response(status_code, schema, **options)
        return decorator

    def alt_response(self, status_code: int, **options: Any) -> Callable[[F], F]:
        """Document another response the view may give."""
        decorator: Callable[[F], F] = super().alt_response(status_code, **options)
        return decorator

    def doc(self, **fields: Any) -> Callable[[F], F]:
        """Copy ``fields`` into the operation's OpenAPI document."""
        decorator: Callable[[F], F] = super().doc(**fields)
        return decorator

    def problems(self, *statuses: int) -> Callable[[F], F]:
        """Document the problem+json responses a view may return."""

        def decorator(func: F) -> F:
            for status in statuses:
                func = self.alt_response(
                    status,
                    schema=ProblemSchema,
                    content_type=PROBLEM_JSON,
                    description=http.HTTPStatus(status).phrase,
                )(func)
            return func

        return decorator

    def secured(self, *roles: str) -> Callable[[F], F]:
        """Require a key with one of ``roles`` (admin always), and document it.

        Place it above ``arguments`` so the key is checked before the request is read.
        """
        allowed = sorted(set(roles) | {"admin"})

        def decorator(func: F) -> F:
            func = requires(*roles)(func)
            func = self.doc(security=[{BEARER: []}], **{"x-roles": allowed})(func)
            # 401/403: the key; 429: the per-key rate limit; 500: a fault of the service
            # (e.g. the rules engine), identified by its request id; 503: the database.
            return self.problems(401, 403, 429, 500, 503)(func)

        return decorator
