"""Swagger UI in a real headless Chromium: every operation listed, Authorize with a real token
or by logging in at auth (OAuth2's password flow, from every service's page), "Try it out" on
a protected operation answered 2xx, and not one request leaving loopback.

The browser is the one tools/ensure-browser finds (CHROMIUM_PATH, chromium, chromium-browser,
google-chrome, Playwright's own), driven by Playwright's Python API; no browser is downloaded
here. Without one the tests fail, saying how to get one: they are never skipped. Screenshots
go to artifacts/browser/ (CI keeps them; git ignores artifacts/).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import BrowserContext, Locator, Page, Route, sync_playwright
from pymongo import MongoClient
from tests.support.accounts import Account, registered
from tests.support.devdb import ROOT
from tests.support.gunicorn import GunicornServer
from tests.support.openapi import operations
from tests.support.services import auth_and_todo

pytestmark = [pytest.mark.browser, pytest.mark.gunicorn]

ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
]


@dataclass
class Services:
    auth: GunicornServer
    todo: GunicornServer


@pytest.fixture(scope="module")
def services(
    mongo_uri: str,
    mongo_client: MongoClient[dict[str, object]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Services]:
    directory = tmp_path_factory.mktemp("browser-services")
    # Todo's page logs in at auth, another origin: auth allows the local pages (as make run).
    with auth_and_todo(
        mongo_client,
        mongo_uri=mongo_uri,
        directory=directory,
        db_names=(
            f"test_browser_auth_{directory.name[-6:]}",
            f"test_browser_todo_{directory.name[-6:]}",
        ),
        auth={"CORS_ORIGINS": [r"^http://127\.0\.0\.1:[0-9]+$"]},
    ) as (auth, todo):
        yield Services(auth, todo)


@pytest.fixture(scope="module")
def account(services: Services) -> Account:
    return registered(services.auth.url)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser's path (`make test` installs one where it can); a failure says how."""
    found = subprocess.run(
        [str(ROOT / "tools" / "ensure-browser"), "--no-install"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.fail(found.stderr.strip())
    return found.stdout.strip()


@pytest.fixture
def browser(tmp_path: Path, chromium: str) -> Iterator[BrowserContext]:
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile for every test
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        try:
            yield context
        finally:
            context.close()


class LoopbackOnly:
    """Routes every request of a page: loopback ones go through, others are recorded, aborted."""

    def __init__(self) -> None:
        self.loopback: list[str] = []
        self.blocked: list[str] = []

    def __call__(self, route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if host == "127.0.0.1" or url.startswith(("data:", "blob:", "about:")):
            self.loopback.append(url)
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


def _operations(server: GunicornServer) -> list[tuple[str, str, bool]]:
    spec = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    return [
        (method, path, bool(operation.get("security")))
        for method, path, operation in operations(spec)
    ]


def _open_docs(page: Page, server: GunicornServer) -> None:
    page.goto(f"{server.url}/docs", wait_until="networkidle")
    page.wait_for_selector(".opblock", timeout=20_000)


def _scheme(page: Page, name: str) -> Locator:
    """The Authorize dialog's section of the scheme ``name``, which heads it (another scheme's
    description may mention it)."""
    heading = page.locator("h4", has_text=re.compile(rf"^{name}\s+\("))  # "name (type, ...)"
    return page.locator(".dialog-ux .modal-ux .auth-container", has=heading)


def _authorize(page: Page, token: str) -> None:
    page.click("button.authorize")
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.wait_for(timeout=10_000)
    section = _scheme(page, "bearerAuth")
    section.locator("input").fill(token)
    section.get_by_role("button", name="Authorize").click()
    # Swagger UI swaps the Authorize button of an authorized scheme for "Logout".
    section.get_by_role("button", name="Logout").wait_for(timeout=10_000)
    dialog.locator("button.close-modal").click()


def _log_in(page: Page, account: Account) -> None:
    """Authorize by logging in: the oauth2Password scheme's form posts to auth's /auth/token."""
    page.click("button.authorize")
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.wait_for(timeout=10_000)
    section = _scheme(page, "oauth2Password")
    section.locator("#oauth_username").fill(account.username)
    section.locator("#oauth_password").fill(account.password)
    section.get_by_role("button", name="Authorize").click()
    logged_in = section.get_by_role("button", name="Logout")
    logged_in.or_(section.locator(".errors")).first.wait_for(timeout=10_000)
    assert logged_in.is_visible(), section.inner_text()
    dialog.locator("button.close-modal").click()


def _try_it_out(page: Page, method: str, path: str) -> tuple[str, dict[str, object]]:
    block = page.locator(f".opblock-{method.lower()}", has=page.locator(f'[data-path="{path}"]'))
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=15_000)
    body = block.locator(".live-responses-table .response-col_description pre").first.inner_text()
    return status.inner_text().strip(), json.loads(body)


#: Each service's page, and an operation there that needs an access token.
PROTECTED = {"auth": ("GET", "/auth/me"), "todo": ("GET", "/todos")}
EVERY_PAGE = pytest.mark.parametrize("service", list(PROTECTED))


@pytest.fixture
def traffic(browser: BrowserContext) -> LoopbackOnly:
    """Every request the browser makes, seen (and any leaving loopback refused)."""
    routed = LoopbackOnly()
    browser.route("**/*", routed)
    return routed


@pytest.fixture
def page(browser: BrowserContext, traffic: LoopbackOnly) -> Page:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return browser.new_page()


def _assert_answered_for(account: Account, service: str, status: str, body: Any) -> None:
    """The protected operation answered 200 with the account's own data."""
    assert status == "200", body
    if service == "auth":
        assert body["username"] == account.username
    else:
        assert body == []


@EVERY_PAGE
def test_swagger_ui_lists_authorizes_and_tries_an_operation(
    service: str,
    services: Services,
    account: Account,
    page: Page,
    traffic: LoopbackOnly,
) -> None:
    server: GunicornServer = getattr(services, service)
    _open_docs(page, server)
    served = _operations(server)
    shown = {
        (
            block.get_attribute("class") or "",
            block.locator("[data-path]").first.get_attribute("data-path"),
        )
        for block in page.locator(".opblock").all()
    }
    for method, path, _secured in served:
        assert any(
            f"opblock-{method.lower()}" in classes and shown_path == path
            for classes, shown_path in shown
        ), f"{method} {path} is not in Swagger UI"
    assert len(shown) == len(served)
    page.screenshot(path=str(ARTIFACTS / f"{service}-docs.png"), full_page=True)

    assert any(secured for *_, secured in served)
    _authorize(page, account.access_token)
    status, body = _try_it_out(page, *PROTECTED[service])
    page.screenshot(path=str(ARTIFACTS / f"{service}-try-it-out.png"), full_page=True)
    _assert_answered_for(account, service, status, body)
    assert traffic.loopback, "the page made no requests at all"
    assert not traffic.blocked, f"requests left loopback: {traffic.blocked}"


@EVERY_PAGE
def test_authorize_logs_in_at_auth_from_every_service_s_page(
    service: str,
    services: Services,
    account: Account,
    page: Page,
    traffic: LoopbackOnly,
) -> None:
    server: GunicornServer = getattr(services, service)
    _open_docs(page, server)
    _log_in(page, account)
    # Nothing of the login outlives the page: no password or token in the browser's storage.
    stored = page.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")
    assert account.password not in stored
    assert "authorized" not in json.loads(stored)
    status, body = _try_it_out(page, *PROTECTED[service])
    page.screenshot(path=str(ARTIFACTS / f"{service}-logged-in.png"), full_page=True)
    _assert_answered_for(account, service, status, body)
    # The token came from auth's token endpoint (todo's page: across origins), not a paste.
    assert f"{services.auth.url}/auth/token" in traffic.loopback
    assert not traffic.blocked, f"requests left loopback: {traffic.blocked}"
