"""Helpers for the browser tests: the live server, logging in, axe-core, screenshots."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import make_server

from adjudicator.db.actor import Actor
from adjudicator.db.store import Store

SCREENSHOTS_SETTING = "ADJUDICATOR_SCREENSHOTS"  # `make screenshots` sets it to docs/screenshots
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OPERATOR = Actor(key_id=None, name="cli:test", role="admin")
PASSWORD = "correct horse battery"
USERS = (("sam", "staff"), ("kim", "staff"), ("avery", "auditor"), ("ada", "admin"))
SERIOUS = ("serious", "critical")


class LiveServer:
    """The app served on 127.0.0.1:<free port> from a thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def store(self) -> Store:
        found: Store = self.app.extensions["adjudicator"].store
        return found

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def log_in(page: Page, server: LiveServer, name: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto(f"{server.url}/console/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/console/(?!login).*"))


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/console/login.*"))


def assert_accessible(page: Page, state: str) -> None:
    """axe-core on the page as it is now: no violation of impact serious or critical."""
    results = Axe().run(page)
    found: list[dict[str, Any]] = [
        v for v in results.response["violations"] if v.get("impact") in SERIOUS
    ]
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in found
    ]
    assert not found, f"axe violations on {state}:\n" + "\n".join(summary)


class Screenshots:
    """Pictures of the console, all into one folder.

    The folder is ``docs/screenshots`` (the README shows them) only when
    ``make screenshots`` names it in :data:`SCREENSHOTS_SETTING`; otherwise a
    temporary one, so that ``make test`` leaves the working tree as it found it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, page: Page, name: str) -> Path:
        """Write ``<folder>/<name>.png`` of the page as it is now, and check it is a PNG."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        path.unlink(missing_ok=True)  # so the check below sees this picture, not an older one
        page.screenshot(path=str(path), full_page=False)
        assert path.read_bytes().startswith(PNG_SIGNATURE), f"no PNG written at {path}"
        return path


class OffsetClock:
    """The live server's clock: the real time, moved on by ``offset`` when a test says so."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def system_key(server: LiveServer) -> str:
    """A new API key of an upstream order system (acts for the buyer and the supplier)."""
    from adjudicator.identity.keys import create_key

    return create_key(server.store, role="system", name="orders", actor=OPERATOR)[1]


def api(server: LiveServer, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` to the claims API as an upstream system would; the JSON answer."""
    response = httpx.post(f"{server.url}{path}", json=body,
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)  # fmt: skip
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def escalated_claim(server: LiveServer, case: dict[str, Any]) -> tuple[str, str]:
    """A claim an order system filed through the API and its buyer escalated: (ref, key)."""
    key = system_key(server)
    ref = str(api(server, key, "/v1/claims", case)["claim_ref"])
    api(server, key, f"/v1/claims/{ref}/escalate", {"as": "buyer"})
    return ref, key


def tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)",
                         selector):  # fmt: skip
            return
    raise AssertionError(f"Tab never reached {selector}")
