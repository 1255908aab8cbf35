"""``/docs``: the API reference UI, served by the app itself, with nothing from a CDN."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def test_the_reference_ui_is_served_without_a_cdn(client: FlaskClient) -> None:
    page = client.get("/docs", follow_redirects=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/v1/openapi.json" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/docs/"), asset  # nothing from another host
        with client.get(asset) as response:
            assert response.status_code == 200 and response.content_length, asset
    assert "https://" not in html.split("<body>")[0]
    assert '"validatorUrl": null' in html  # no call to an online validator


def test_the_document_it_shows_is_served(client: FlaskClient) -> None:
    spec = client.get("/v1/openapi.json").get_json()
    assert spec["paths"]["/v1/decisions"]["post"]
