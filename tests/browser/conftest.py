"""A live console in a real browser: Debian's Chromium driven by Playwright, axe-core checks.

The server is the real app (``create_app``) on a fresh SQLite database, served
by werkzeug in a thread on a free loopback port. Chromium is Debian's
``/usr/bin/chromium`` (Playwright's own browser download is not available
here); ``make test`` installs it when missing. These tests never skip: a
missing browser is a failure that names the package.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from browserkit import (  # noqa: E402
    OPERATOR,
    PASSWORD,
    SCREENSHOTS_SETTING,
    USERS,
    LiveServer,
    OffsetClock,
    Screenshots,
)
from servicekit import KEY_SECRET, reset  # noqa: E402

from adjudicator import Adjudicator  # noqa: E402
from adjudicator.identity import users as users_module  # noqa: E402
from adjudicator.identity.users import create_user  # noqa: E402
from api import create_app  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Argon2id with light parameters: the journeys log in often."""
    saved = users_module._HASHER
    users_module._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    users_module._HASHER = saved


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'console.db'}"
    app = create_app({"DATABASE_URL": url, "KEY_SECRET": KEY_SECRET, "ADJUDICATOR": Adjudicator(),
                      "CLOCK": OffsetClock()})  # fmt: skip
    server = LiveServer(app)
    server.store.db.migrate()
    server.start()
    yield server
    server.stop()
    server.store.close()


@pytest.fixture
def server(live: LiveServer) -> LiveServer:
    """The live server with an empty database and the console users of :data:`USERS`."""
    live.app.config["CLOCK"].offset = timedelta(0)
    reset(live.store)
    for name, role in USERS:
        create_user(live.store, name=name, role=role, password=PASSWORD, actor=OPERATOR)
    return live


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Screenshots:
    """Takes pictures of pages: into the folder ``make screenshots`` names, else a temporary one."""
    chosen = os.environ.get(SCREENSHOTS_SETTING)
    return Screenshots(Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots"))


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
