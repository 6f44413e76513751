"""Browser tests: Playwright drives the Debian chromium against a live test server.

Every page a test opens is watched: a Content-Security-Policy violation, an uncaught script
error or a sub-resource (stylesheet, script, icon) that fails to load fails the test.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest

# Playwright's sync API runs an event loop; Django must still allow ORM calls in fixtures.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("OCTOPUSHX_CHROMIUM", "/usr/bin/chromium")
ASSET_TYPES = {"stylesheet", "script", "image", "font"}


@dataclass
class BrowserLog:
    """What went wrong in the browser while a test ran."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_resources: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)

    def _on_console(self, message) -> None:
        # A document answered with 4xx (a 429 lockout page, a 404) is logged as "Failed to
        # load resource"; sub-resources are checked precisely by _on_response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def _on_response(self, response) -> None:
        # Only assets: a 4xx answer to a page or to an htmx request can be the point of a test.
        if response.status >= 400 and response.request.resource_type in ASSET_TYPES:
            self.failed_resources.append(f"{response.status} {response.url}")

    def _on_request_failed(self, request) -> None:
        # ERR_ABORTED is the browser cancelling loads of a page it navigates away from; an
        # asset that is really missing shows up in _on_response as a 4xx.
        if request.resource_type in ASSET_TYPES and "ERR_ABORTED" not in (request.failure or ""):
            self.failed_resources.append(f"{request.failure} {request.url}")

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.console_errors if "Content Security Policy" in m]

    def problems(self) -> list[str]:
        return self.console_errors + self.page_errors + self.failed_resources


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (see README)", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_log():
    log = BrowserLog()
    yield log
    if log.problems():
        pytest.fail("browser reported problems:\n" + "\n".join(log.problems()), pytrace=False)


@pytest.fixture
def new_page(browser, live_server, browser_log):
    """``new_page(**context_options)`` → a page in a fresh browser context (its own cookies)."""
    contexts = []

    def build(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)  # generous: CI machines are sometimes busy
        browser_log.watch(page)
        return page

    yield build
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def signed_in(live_server):
    """``signed_in(page, user)``: the browser holds a session for ``user`` and is on the home
    page. For tests about something else; the sign-in form has its own tests."""
    from django.conf import settings
    from django.test import Client

    def sign(page, user) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        page.goto("/")
        page.get_by_role("heading", name="Welcome").wait_for()

    return sign


def sign_in(page, email: str, password: str, keep_next: bool = False) -> None:
    """Fill in the sign-in form; ``keep_next`` uses the form already open (with its ?next=)."""
    if not keep_next:
        page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page) -> None:
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


def api_get(base_url: str, path: str, token: str) -> tuple[int, dict]:
    """GET an API path with a Bearer token and no cookies, as an integration would."""
    request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our live server)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
