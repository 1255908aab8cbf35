"""Unknown query parameters are a 422 naming them, on every documented endpoint.

webargs drops query parameters a schema does not know, and an endpoint without
a query schema never looks at its query string, so ``?outcom=denied`` (a typo)
would list every decision instead of the denied ones. This hook refuses any
parameter the OpenAPI document does not list for the route and method, before
the view runs; the document is generated from the views' schemas, so the
allowed names and the documented ones cannot drift apart. Routes outside the
OpenAPI document (``/metrics``) are left alone.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from flask import Flask, request

from api.problems import Problem

_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_METHODS = ("get", "put", "post", "delete", "patch")


def allowed_parameters(spec: dict[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """(OpenAPI path, method) -> the query parameter names it documents."""
    allowed: dict[tuple[str, str], frozenset[str]] = {}
    for path, item in spec.get("paths", {}).items():
        shared = [p for p in item.get("parameters", []) if p.get("in") == "query"]
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            names = {p["name"] for p in shared}
            names |= {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            allowed[(path, method)] = frozenset(names)
    return allowed


def install(app: Flask, spec: APISpec) -> None:
    """Check every request's query string against ``spec`` (the app's OpenAPI document)."""
    known: dict[tuple[str, str], frozenset[str]] = {}

    def check() -> None:
        if not request.args or request.url_rule is None:
            return
        if not known:
            known.update(allowed_parameters(spec.to_dict()))
        path = _CONVERTER.sub(r"{\1}", request.url_rule.rule)
        method = "get" if request.method == "HEAD" else request.method.lower()
        names = known.get((path, method))
        if names is None:
            return
        unknown = sorted(set(request.args) - names)
        if unknown:
            hint = f"Known: {', '.join(sorted(names))}." if names else "This takes none."
            errors = {name[:100]: [f"Unknown query parameter. {hint}"] for name in unknown[:20]}
            detail = f"Unknown query parameter(s): {', '.join(n[:100] for n in unknown[:20])}."
            raise Problem(422, "invalid-request", detail, errors)

    app.before_request(check)
