"""The ``console`` blueprint: its templates and static files, and what every page shares.

Every unsafe request is checked for the session's CSRF token; every answer
carries the security headers; the template filters show times and JSON; a
refused form, a role that may not, and a missing record are error pages.
The pages themselves are declared on :data:`blp` by :mod:`api.console.views`
and :mod:`api.console.claims`.
"""

from __future__ import annotations

import orjson
from flask import Blueprint, current_app, request
from flask_login import current_user  # type: ignore[import-untyped]
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as WerkzeugResponse

from adjudicator.db.errors import NotFound
from api.console import present
from api.console.auth import console_user
from api.console.rendering import Page, render

blp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@blp.before_request
def _protect() -> None:
    """A POST without the session's token is refused (400)."""
    current_app.extensions["csrf"].protect()  # the app's CSRFProtect (api.console.install)


@blp.after_request
def _headers(response: WerkzeugResponse) -> WerkzeugResponse:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    )
    if request.endpoint != "console.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@blp.app_template_filter("local_time")
def _local_time(value: object) -> str:
    return present.local_time(value)


@blp.app_template_filter("iso_time")
def _iso_time(value: object) -> str:
    return present.iso_time(value)


@blp.app_template_filter("pretty_json")
def _pretty_json(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


@blp.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError) -> Page:
    return render("error", status=400, title="Form refused", message=(
        "This form was not sent from a console page you opened (its security token "
        "is missing or out of date). Go back, reload the page and try again."
    ))  # fmt: skip


@blp.errorhandler(Forbidden)
def _forbidden(_error: Forbidden) -> Page:
    role = console_user().role if current_user.is_authenticated else "none"
    message = f"Your role ({role}) may not open this page."
    return render("error", status=403, title="Not allowed", message=message)


@blp.errorhandler(NotFound)
def _not_found(error: NotFound) -> Page:
    message = f"There is no {error.kind} with the id {error.ident[:80]!r}."
    return render("error", status=404, title="Not found", message=message)
