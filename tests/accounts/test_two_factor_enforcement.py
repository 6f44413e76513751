"""Mandatory two-factor sign-in holds on every path: a session that has not passed the second
factor reaches only enrolment/confirmation, the sign-in steps, sign-out, static files and the
health checks; API tokens of members without a second factor are refused."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from octopushx.accounts.models import ApiToken
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.crm.models import Contact
from octopushx.tenancy import services as tenancy_services
from octopushx.tenancy.roles import Role
from tests.accounts.test_two_factor import code, enrol
from tests.conftest import PASSWORD, ApiClient, make_member

TWO_FACTOR_PAGE = "/accounts/security/?required=1"


@pytest.fixture
def mandatory(org):
    org.require_2fa = True
    org.save()
    return org


@pytest.fixture
def password_only(mandatory, client):
    """A member of a 2FA-mandatory organisation signed in with the password alone (not enrolled)."""
    member = make_member(mandatory, Role.ADMIN)
    response = client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    client.member = member
    return client


def refused_as_api(response) -> None:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "2fa_required" and "Two-factor sign-in is mandatory" in body["detail"]


# --- the API through the browser session ------------------------------------------------------


def test_session_api_read_is_refused_without_the_second_factor(password_only, mandatory):
    Contact.objects.create(tenant=mandatory, first_name="Secret")
    response = password_only.get("/api/v1/contacts")
    refused_as_api(response)
    assert b"Secret" not in response.content


def test_session_api_write_is_refused_and_changes_nothing(password_only, mandatory):
    response = password_only.post("/api/v1/contacts", {"first_name": "Mallory"}, content_type="application/json")
    refused_as_api(response)
    assert not Contact.objects.for_tenant(mandatory).exists()


def test_session_api_refusal_holds_even_with_a_bogus_authorization_header(password_only):
    refused_as_api(password_only.get("/api/v1/contacts", HTTP_AUTHORIZATION="Bearer nonsense"))
    refused_as_api(password_only.get("/api/v1/me", HTTP_AUTHORIZATION="Basic eDp5"))


def test_session_cannot_create_a_token_through_the_api(password_only):
    response = password_only.post("/api/v1/tokens", {"name": "escape"}, content_type="application/json")
    refused_as_api(response)
    assert not ApiToken.objects.exists()


def _api_paths() -> list[tuple[str, str]]:
    from octopushx.api import api

    paths = []
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    concrete = re.sub(r"{[^}]+}", "00000000-0000-0000-0000-000000000000", prefix + path)
                    paths.append((method.lower(), "/api/v1/" + concrete.lstrip("/")))
    return sorted(set(paths))


def test_every_api_operation_refuses_the_unverified_session(password_only):
    operations = _api_paths()
    assert len(operations) > 50
    for method, path in operations:
        response = getattr(password_only, method)(path, content_type="application/json")
        assert response.status_code == 403, f"{method.upper()} {path}: {response.status_code}"


# --- pages, fragments, tokens -----------------------------------------------------------------


def _page_paths(resolver=None, prefix: str = "") -> list[str]:
    """Every UI route with made-up ids (the gate answers before any view looks at them)."""
    resolver = resolver or get_resolver()
    paths = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("api/"):
                continue
            paths += _page_paths(entry, route)
        elif isinstance(entry, URLPattern):
            concrete = re.sub(r"<uuid:[^>]+>", "00000000-0000-0000-0000-000000000000", route)
            concrete = re.sub(r"<int:[^>]+>", "1", concrete)
            concrete = re.sub(r"<[^>]+>", "x", concrete)
            concrete = re.sub(r"[\^$]", "", concrete)
            paths.append("/" + concrete)
    return sorted(set(paths))


# /brand-assets/: the brand's logo and favicon, public (the sign-in page shows them) and on the enrolment page too.
ALLOWED = (
    "/accounts/security/",
    "/accounts/login/",
    "/accounts/logout/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/brand-assets/",
)


def test_every_page_sends_the_unverified_session_to_enrolment(password_only):
    pages = [p for p in _page_paths() if not p.startswith(ALLOWED)]
    assert "/accounts/tokens/" in pages and "/accounts/sessions/" in pages and "/" in pages
    assert len(pages) > 60
    for path in pages:
        for method in ("get", "post"):
            response = getattr(password_only, method)(path)
            assert response.status_code == 302 and response["Location"] == TWO_FACTOR_PAGE, (
                f"{method.upper()} {path}: {response.status_code} {response.get('Location')}"
            )


def test_token_page_neither_shows_nor_creates_tokens(password_only):
    assert password_only.get(reverse("accounts:tokens"))["Location"] == TWO_FACTOR_PAGE
    response = password_only.post(reverse("accounts:tokens"), {"name": "escape", "expires_in_days": "30"})
    assert response["Location"] == TWO_FACTOR_PAGE
    assert not ApiToken.objects.exists()


def test_htmx_fragments_are_refused_with_a_redirect_for_htmx(password_only, mandatory):
    Contact.objects.create(tenant=mandatory, first_name="Secret")
    response = password_only.get("/crm/search/?q=Secret", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response["HX-Redirect"] == TWO_FACTOR_PAGE
    assert b"Secret" not in response.content


def test_enrolment_sign_out_static_and_health_stay_reachable(password_only):
    page = password_only.get(TWO_FACTOR_PAGE)
    assert page.status_code == 200 and b"requires two-factor" in page.content
    assert password_only.get("/healthz").status_code == 200
    static = password_only.get("/static/octopushx/app.css")
    assert static.status_code != 302
    response = password_only.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in password_only.session


def test_after_enrolling_the_same_session_reaches_everything(password_only, mandatory):
    password_only.get(TWO_FACTOR_PAGE)
    device = TOTPDevice.objects.get(user=password_only.member.user, confirmed=False)
    password_only.post(reverse("accounts:security"), {"code": code(device)})
    assert password_only.get("/api/v1/contacts").status_code == 200
    assert password_only.get(reverse("accounts:tokens")).status_code == 200
    response = password_only.post(reverse("accounts:tokens"), {"name": "ci", "expires_in_days": "30"})
    assert response.status_code == 302 and ApiToken.objects.filter(name="ci").exists()


def test_a_session_in_an_organisation_without_the_policy_is_not_affected(org, client):
    member = make_member(org, Role.AGENT)
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    assert client.get("/api/v1/contacts").status_code == 200
    assert client.get(reverse("accounts:tokens")).status_code == 200


# --- token creation needs a verified session ----------------------------------------------------


def test_a_session_not_confirmed_with_a_code_cannot_create_tokens_once_2fa_is_on(org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)  # signed in before 2FA was set up in another browser
    enrol(member.user)
    page = client.get(reverse("accounts:tokens"))
    assert page.status_code == 200 and b"token-refused" in page.content
    response = client.post(reverse("accounts:tokens"), {"name": "ci", "expires_in_days": "30"})
    assert response.status_code == 403
    api = client.post("/api/v1/tokens", {"name": "ci"}, content_type="application/json")
    assert api.status_code == 403 and "Confirm this browser" in api.json()["detail"]
    assert not ApiToken.objects.exists()


# --- API tokens -------------------------------------------------------------------------------


def test_tokens_of_members_without_2fa_stop_working_when_it_becomes_mandatory(org):
    api = ApiClient(make_member(org, Role.AGENT))
    assert api.get("/api/v1/me").status_code == 200
    org.require_2fa = True
    org.save()
    response = api.get("/api/v1/contacts")
    refused_as_api(response)
    assert "Turn it on under Security & 2FA" in response.json()["detail"]
    assert api.post("/api/v1/contacts", {"first_name": "X"}).status_code == 403
    assert not Contact.objects.for_tenant(org).exists()


def test_the_enrolment_page_says_the_members_tokens_wait_for_it(mandatory, client):
    member = make_member(mandatory, Role.AGENT)
    ApiClient(member)
    client.force_login(member.user)
    page = client.get(TWO_FACTOR_PAGE)
    assert b"Your 1 API token for Acme Support is refused until then" in page.content


def test_tokens_work_again_once_the_member_enrols(mandatory):
    member = make_member(mandatory, Role.AGENT)
    api = ApiClient(member)
    assert api.get("/api/v1/me").status_code == 403
    enrol(member.user)
    assert api.get("/api/v1/me").status_code == 200


def test_members_without_2fa_are_told_when_it_becomes_mandatory(org):
    owner = make_member(org, Role.OWNER)
    enrol(owner.user)
    agent = make_member(org, Role.AGENT)
    ApiClient(agent)  # holds a token
    tenancy_services.update_profile(org, Actor(user=owner.user, role=Role.OWNER), require_2fa=True)
    jobs.drain()
    assert [m.to for m in mail.outbox] == [[agent.user.email]]
    body = mail.outbox[0].body
    assert "now requires two-factor sign-in" in body and "API token(s)" in body and "/accounts/security/" in body
