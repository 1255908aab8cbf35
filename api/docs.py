"""``GET /docs``: the API reference (Swagger UI) over ``/v1/openapi.json``, with no CDN.

The Swagger UI files come from the ``flask-swagger-ui`` package (its ``dist/``
folder is Swagger UI's own release, vendored on PyPI) and are served by this
app, so the page works on a network with no way out. The UI's online
validator (a call to a third-party site) is turned off.
"""

from __future__ import annotations

from flask import Flask
from flask_swagger_ui import get_swaggerui_blueprint  # type: ignore[import-untyped]

DOCS_PATH = "/docs"


def register(app: Flask, openapi_url: str) -> None:
    """Serve the reference UI at ``/docs`` for the document at ``openapi_url``."""
    blueprint = get_swaggerui_blueprint(
        DOCS_PATH,
        openapi_url,
        config={
            "app_name": app.config.get("API_TITLE", "API reference"),
            "validatorUrl": None,
            "tryItOutEnabled": False,
        },
        blueprint_name="reference_ui",
    )
    app.register_blueprint(blueprint)
