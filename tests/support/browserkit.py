"""Helpers for the browser tests: the live server, logging in, axe-core, screenshots."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import make_server

from adjudicator.store import Actor, Store

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
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


def screenshot(page: Page, name: str) -> None:
    """Write ``docs/screenshots/<name>.png`` (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


SYSTEM = Actor(key_id="orders-sys", name="orders", role="system")


def escalated_claim(server: LiveServer, case: dict[str, Any]) -> str:
    """A claim an order system opened and its buyer escalated (awaiting staff)."""
    from adjudicator.store.claims import act, open_claim

    decider = server.app.extensions["adjudicator"].decider
    with server.app.app_context():
        record, _ = open_claim(server.store, decider, case, SYSTEM)
        act(server.store, decider, record.ref, "escalate", {}, SYSTEM, party="buyer")
    return record.ref


def tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)",
                         selector):  # fmt: skip
            return
    raise AssertionError(f"Tab never reached {selector}")
