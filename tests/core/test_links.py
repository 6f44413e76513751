"""Emailed links point at the address the person is using, or at the configured base URL outside a request."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client

from octopushx import cli
from octopushx.core import jobs, links
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member

LINK = re.compile(r"(https?://[^/\s]+)/")


def test_invitation_link_uses_the_host_of_the_request(org, django_capture_on_commit_callbacks, settings):
    settings.ALLOWED_HOSTS = ["crm.example.test"]
    settings.BASE_URL = "http://127.0.0.1:8000"
    api = ApiClient(make_member(org, Role.ADMIN))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.client.post(
            "/api/v1/invitations",
            {"email": "new@example.test", "role": "agent"},
            content_type="application/json",
            HTTP_HOST="crm.example.test:8123",
        )
    assert response.status_code == 201, response.content
    assert LINK.search(mail.outbox[0].body).group(1) == "http://crm.example.test:8123"


def test_privacy_verification_link_uses_the_host_of_the_request(org, settings, mailoutbox):
    settings.ALLOWED_HOSTS = ["localhost"]
    response = Client().post(
        "/privacy/request/",
        {"org": str(org.pk), "kind": "access", "email": "grace@example.test"},
        HTTP_HOST="localhost:8555",
    )
    assert response.status_code == 200
    assert LINK.search(mailoutbox[0].body).group(1) == "http://localhost:8555"


def test_password_reset_link_uses_the_host_of_the_request(org, settings, mailoutbox):
    settings.ALLOWED_HOSTS = ["localhost"]
    member = make_member(org, Role.AGENT)
    Client().post("/accounts/password-reset/", {"email": member.user.email}, HTTP_HOST="localhost:8555")
    jobs.drain()  # the email goes out from a job, with the address the request came to
    assert LINK.search(mailoutbox[-1].body).group(1) == "http://localhost:8555"


def test_outside_a_request_links_use_the_base_url(settings):
    settings.BASE_URL = "https://crm.example.test/"
    assert links.absolute_url("/privacy/verify/?token=x") == "https://crm.example.test/privacy/verify/?token=x"


def test_serve_points_the_default_base_url_at_its_own_port(settings):
    settings.BASE_URL_CONFIGURED = False
    settings.BASE_URL = "http://127.0.0.1:8000"
    assert cli._align_base_url("0.0.0.0", 8123) is None
    assert settings.BASE_URL == "http://127.0.0.1:8123"


def test_serve_warns_when_the_configured_base_url_is_another_local_port(settings):
    settings.BASE_URL_CONFIGURED = True
    settings.BASE_URL = "http://127.0.0.1:8000"
    warning = cli._align_base_url("127.0.0.1", 8123)
    assert "8000" in warning and "8123" in warning
    assert settings.BASE_URL == "http://127.0.0.1:8000"


def test_serve_accepts_a_public_base_url_behind_a_proxy(settings):
    settings.BASE_URL_CONFIGURED = True
    settings.BASE_URL = "https://crm.example.test"
    assert cli._align_base_url("127.0.0.1", 8000) is None
