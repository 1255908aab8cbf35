"""The staff console: server-rendered pages at ``/console/`` in the API's own app.

:func:`install` adds it to an app built by :func:`api.create_app`: Flask-Login
sessions for console users (:mod:`adjudicator.identity.users`), Flask-WTF CSRF on
every console form, and the ``console`` blueprint (:mod:`api.console.blueprint`,
its pages declared at import by :mod:`.views` and :mod:`.claims`: pages,
partials for htmx, the vendored htmx file and the CSS under ``/console/static/``).

Views hold no business rules: each parses its form, calls the service
function the API calls (``get_decision``, ``verify_audit``, the claims
functions...) with the user as actor, and renders. Templates are one per page
(``templates/console/<page>.html``) plus partials (``partials/``) that the
same route returns when htmx asks (``HX-Request``).

Settings (``config`` keys; environment variable in brackets):

- ``CONSOLE_SECURE_COOKIES`` [``ADJUDICATOR_SECURE_COOKIES`` = ``1``/``true``]:
  mark the session cookie ``Secure`` (serve behind HTTPS). Default off, so the
  console works on ``http://127.0.0.1`` out of the box.
- ``SECRET_KEY``: signs the session cookie and CSRF tokens; by default derived
  from the key secret (HMAC with a label), so every worker agrees.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask
from flask_login import LoginManager  # type: ignore[import-untyped]
from flask_wtf.csrf import CSRFProtect  # type: ignore[import-untyped]

from api.console import auth, claims, views  # noqa: F401 - their pages join blp at import
from api.console.blueprint import blp
from api.services import EXTENSION, Services


def install(app: Flask) -> None:
    """Add the console to ``app`` (after its services are in ``app.extensions``)."""
    services: Services = app.extensions[EXTENSION]
    key_secret = getattr(services.store, "key_secret", None)  # a test double may have none
    secret = (
        hmac.new(key_secret, b"console-session", hashlib.sha256).hexdigest()
        if key_secret
        else secrets.token_hex(32)
    )
    secure = app.config.get("CONSOLE_SECURE_COOKIES")  # create_app's, from the settings
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret
    app.config.update(
        SESSION_COOKIE_NAME="adjudicator_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(secure),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=bool(secure),
        WTF_CSRF_CHECK_DEFAULT=False,  # the API is keyed, not cookie-based: only the console
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    CSRFProtect(app)  # the blueprint's before_request hook asks it to check each request
    manager = LoginManager(app)
    manager.login_view = "console.login"
    manager.login_message = "Log in to use the console."
    manager.login_message_category = "info"
    manager.session_protection = "strong"
    manager.user_loader(auth.load_user)
    app.register_blueprint(blp)
