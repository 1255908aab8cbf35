"""Hostile clients (issue 10, point 3): what a client picks never grows the service's state."""

from __future__ import annotations

import random
import string

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families


def _series(client: FlaskClient) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_random_methods_add_no_metric_series(client: FlaskClient) -> None:
    rng = random.Random(10)
    client.open("/healthz", method="BREW")  # the "other" series exists from here on
    client.open("/nowhere", method="BREW")
    _series(client)  # and the scrape's own series
    before = _series(client)
    for _ in range(50_000):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        response = client.open(rng.choice(("/healthz", "/nowhere")), method=method)
        assert response.status_code in (404, 405)
    after = _series(client)
    assert after == before
    methods = {dict(labels).get("method") for _, labels in after} - {None}
    assert "other" in methods and methods <= {"GET", "HEAD", "POST", "PUT", "PATCH",
                                               "DELETE", "OPTIONS", "other"}
