"""Browser tests: Debian's Chromium driven by Playwright's sync API against pytest-django's
live_server. Without /usr/bin/chromium they skip, unless KAUKO_REQUIRE_BROWSER=1 (CI), where
they fail. Never `playwright install`: the browser is the system's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config.celery import app

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a
# thread with a running loop unless told it is safe (it is: the loop only drives the browser).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 15_000


def _require_browser() -> bool:
    return os.environ.get("KAUKO_REQUIRE_BROWSER", "") == "1"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if _require_browser():
            pytest.fail(f"KAUKO_REQUIRE_BROWSER=1 but {message}.")
        pytest.skip(f"Browser tests need Debian's Chromium: {message}.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def login(page, live_server, username: str, password: str) -> None:
    """Log in through the login form, with the keyboard only."""
    page.goto(f"{live_server.url}/login/")
    wait_for_focus(page, "#id_username")  # autofocus; typing before it lands loses keys
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login/" not in page.url, f"Logging in as {username} failed."


def wait_for_focus(page, selector: str) -> None:
    """Wait until the element matching `selector` has the keyboard focus."""
    page.wait_for_function(
        "s => document.activeElement && document.activeElement.matches(s)", arg=selector)


@pytest.fixture(autouse=True)
def _tasks_run_in_process(settings):
    """Overrides tests/e2e/conftest.py: the browser tests run tasks in-process, as the unit
    tests do. With a broker they would publish before the ISO 18626 tests' worker sets its
    own queue, and Celery keeps the first queue it published to."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
