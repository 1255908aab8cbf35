"""A live console in a real browser: Debian's Chromium driven by Playwright, axe-core checks.

The server is the real app (``create_app``) on a fresh SQLite database, served
by werkzeug in a thread on a free loopback port. Chromium is Debian's
``/usr/bin/chromium`` (Playwright's own browser download is not available
here); ``make test`` installs it when missing. These tests never skip: a
missing browser is a failure that names the package.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from servicekit import KEY_SECRET, reset  # noqa: E402

from adjudicator import Adjudicator  # noqa: E402
from adjudicator.store import Actor, Store  # noqa: E402
from adjudicator.store import users as users_module  # noqa: E402
from adjudicator.store.users import create_user  # noqa: E402
from api import create_app  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
OPERATOR = Actor(key_id=None, name="cli:test", role="admin")
PASSWORD = "correct horse battery"
USERS = (("sam", "staff"), ("kim", "staff"), ("avery", "auditor"), ("ada", "admin"))
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Argon2id with light parameters: the journeys log in often."""
    saved = users_module._HASHER
    users_module._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    users_module._HASHER = saved


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


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'console.db'}"
    app = create_app({"DATABASE_URL": url, "KEY_SECRET": KEY_SECRET, "ADJUDICATOR": Adjudicator()})
    server = LiveServer(app)
    server.store.db.migrate()
    server.start()
    yield server
    server.stop()
    server.store.close()


@pytest.fixture
def server(live: LiveServer) -> LiveServer:
    """The live server with an empty database and the console users of :data:`USERS`."""
    reset(live.store)
    for name, role in USERS:
        create_user(live.store, name=name, role=role, password=PASSWORD, actor=OPERATOR)
    return live


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(`apt-get install chromium`; `make test` does it when run as root)"
        )
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai", locale="en-GB"
    )
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


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
