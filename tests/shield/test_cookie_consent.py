"""The cookie banner on public pages: essential/analytics, remembered in a signed cookie."""

from __future__ import annotations

import json

import pytest
from django.core import signing
from django.test import Client

from octopushx.shield.legal import consent

SCRIPT = "/static/octopushx/analytics-test.js"


@pytest.fixture(autouse=True)
def analytics(settings):
    settings.ANALYTICS_SCRIPT_URL = SCRIPT


def test_banner_is_shown_until_a_choice_is_made(db):
    content = Client().get("/accounts/login/").content
    assert b'data-testid="cookie-banner"' in content
    assert SCRIPT.encode() not in content


def test_essential_only_hides_the_banner_and_loads_no_analytics(db):
    client = Client()
    response = client.post("/legal/cookie-choices/", {"choice": "essential", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert response.cookies[consent.COOKIE]["httponly"]
    content = client.get("/accounts/login/").content
    assert b"cookie-banner" not in content and SCRIPT.encode() not in content


def test_analytics_consent_loads_the_script(db):
    client = Client()
    client.post("/legal/cookie-choices/", {"choice": "analytics"})
    assert SCRIPT.encode() in client.get("/accounts/login/").content


def test_tampered_cookie_is_ignored(db):
    client = Client()
    client.post("/legal/cookie-choices/", {"choice": "essential"})
    signed = client.cookies[consent.COOKIE].value
    forged = signed.replace("false", "true ")
    client.cookies[consent.COOKIE] = forged
    content = client.get("/accounts/login/").content
    assert b"cookie-banner" in content and SCRIPT.encode() not in content


def test_unsigned_value_is_ignored(db):
    client = Client()
    client.cookies[consent.COOKIE] = json.dumps({"analytics": True})
    content = client.get("/accounts/login/").content
    assert b"cookie-banner" in content and SCRIPT.encode() not in content


def test_value_signed_for_something_else_is_ignored(db):
    client = Client()
    client.cookies[consent.COOKIE] = signing.get_cookie_signer(salt=consent.COOKIE + "other").sign(
        json.dumps({"analytics": True})
    )
    assert SCRIPT.encode() not in client.get("/accounts/login/").content


def test_unknown_choice_is_422_and_sets_nothing(db):
    response = Client().post("/legal/cookie-choices/", {"choice": "everything"})
    assert response.status_code == 422 and consent.COOKIE not in response.cookies


def test_offsite_next_is_not_followed(db):
    response = Client().post("/legal/cookie-choices/", {"choice": "essential", "next": "https://evil.example/"})
    assert response["Location"] == "/accounts/login/"


def test_choices_page_shows_and_changes_the_choice(db):
    client = Client()
    assert b"not chosen yet" in client.get("/legal/cookie-choices/").content
    client.post("/legal/cookie-choices/", {"choice": "analytics"})
    assert b"essential and analytics" in client.get("/legal/cookie-choices/").content
    client.post("/legal/cookie-choices/", {"choice": "essential"})
    assert b"essential only" in client.get("/legal/cookie-choices/").content
