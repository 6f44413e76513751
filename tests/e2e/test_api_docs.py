"""The API reference (/api/v1/docs) renders under the strict Content-Security-Policy."""

import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_api_reference_link_on_the_tokens_page_opens_working_docs(page, live_server, signed_in, browser_log):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    signed_in(page, make_member(make_org("Acme Support"), "agent").user)
    page.goto("/accounts/tokens/")

    page.get_by_role("link", name="API reference").click()

    page.wait_for_url("**/api/v1/docs")
    page.get_by_role("heading", name="OctopushX API").wait_for()
    contacts = page.locator(".opblock").filter(has_text="/api/v1/contacts").first
    contacts.wait_for()
    document = page.request.get("/api/v1/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())
    assert operations > 50
    # Swagger UI 5.33+ silently drew only the first eight operations of a document this size.
    assert page.locator(".opblock").count() == operations
    assert hosts == {urlsplit(live_server.url).netloc}, "the docs loaded something from another host"
    assert browser_log.csp_violations == []


def test_api_reference_try_it_out_uses_the_browser_session(page, signed_in):
    signed_in(page, make_member(make_org("Acme Support"), "agent").user)
    page.goto("/api/v1/docs")
    operation = (
        page.locator(".opblock")
        .filter(has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/me$")))
        .first
    )
    operation.wait_for()
    if "is-open" not in (operation.get_attribute("class") or ""):
        operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
