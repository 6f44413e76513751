"""Under a reseller's brand the platform's name appears nowhere a customer can see.

Sign-in page (on the brand's domain), the app shell (home page) and an invitation email for a
customer of a branded reseller: no "OctopushX", in any spelling, in text, attributes or headers.
Only the paths of the shell's own static files (``/static/octopushx/...``) may carry the package
name; they are stripped before the check.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from octopushx.core.context import Actor
from octopushx.tenancy import branding, services
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org
from tests.tenancy.branding_helpers import SYSTEM, PublishedResolver, image_bytes, make_reseller

HOST = "crm.northwind.example"
STATIC_PATH = re.compile(r"/static/[^\"'\s)]+")
PLATFORM_NAME = re.compile(r"octopush", re.IGNORECASE)


def leaks(text: str) -> list[str]:
    visible = STATIC_PATH.sub("/static/…", text)
    return [visible[max(0, m.start() - 60) : m.end() + 60] for m in PLATFORM_NAME.finditer(visible)]


@pytest.fixture
def customer(db, settings):
    settings.DEFAULT_FROM_EMAIL = "OctopushX <no-reply@octopushx.local>"  # the operator's default, as shipped
    reseller = make_reseller(
        support_email="help@northwind.example",
        support_url="https://help.northwind.example",
        sender_name="Northwind Voice",
        sender_email="hello@northwind.example",
        primary_color="#4338ca",
    )
    branding.set_image(reseller, SYSTEM, "logo", image_bytes())
    branding.set_image(reseller, SYSTEM, "favicon", image_bytes("ICO", (32, 32)))
    record = branding.add_domain(reseller, SYSTEM, HOST)
    branding.verify_domain(record, SYSTEM, resolver=PublishedResolver())
    return make_org("Their customer", parent=reseller)


def test_sign_in_page_on_the_brand_domain_never_names_the_platform(customer, client):
    response = client.get("/accounts/login/", HTTP_HOST=HOST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Northwind Voice" in html and "/brand-assets/" in html
    assert leaks(html) == []


def test_app_shell_of_a_branded_customer_never_names_the_platform(customer, client):
    client.force_login(make_member(customer, Role.OWNER).user)
    for host in (HOST, "testserver"):  # on the brand's domain and on the platform's own address
        response = client.get("/", HTTP_HOST=host)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Northwind Voice" in html
        assert leaks(html) == [], host


def test_invitation_email_of_a_branded_customer_never_names_the_platform(customer, django_capture_on_commit_callbacks):
    owner = make_member(customer, Role.OWNER)
    actor = Actor(user=owner.user, role=Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, link = services.invite(customer, actor, email="new.agent@example.test", role=Role.AGENT)
    [message] = mail.outbox
    assert message.from_email == "Northwind Voice <hello@northwind.example>"
    assert "Northwind Voice" in message.subject and link in message.body
    assert link.startswith(f"https://{HOST}/invitations/")  # the brand's own address
    headers = "\n".join(f"{k}: {v}" for k, v in message.message().items())
    assert leaks(f"{headers}\n{message.subject}\n{message.body}") == []


def test_the_check_finds_the_platform_name(db, client):
    """The control: without a brand, the same pages do name the platform."""
    assert leaks(client.get("/accounts/login/").content.decode())


def test_password_reset_email_asked_on_the_brand_domain_never_names_the_platform(customer, client):
    from octopushx.core import jobs

    member = make_member(customer, Role.AGENT)
    response = client.post("/accounts/password-reset/", {"email": member.user.email}, HTTP_HOST=HOST)
    assert response.status_code == 302
    jobs.drain()  # the email goes out from a job
    [message] = mail.outbox
    assert message.subject == "Reset your Northwind Voice password"
    assert message.from_email == "Northwind Voice <hello@northwind.example>"
    assert f"http://{HOST}/accounts/" in message.body
    headers = "\n".join(f"{k}: {v}" for k, v in message.message().items())
    assert leaks(f"{headers}\n{message.subject}\n{message.body}") == []


def test_authenticator_apps_name_the_brand(customer):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    member = make_member(customer, Role.AGENT)
    device = TOTPDevice.objects.create(user=member.user, name="phone", confirmed=False)
    assert "issuer=Northwind%20Voice" in device.config_url
    assert leaks(device.config_url) == []


def test_error_pages_and_the_cookie_banner_on_the_brand_domain_never_name_the_platform(customer, client):
    missing = client.get("/no-such-page/", HTTP_HOST=HOST)
    assert missing.status_code == 404
    assert leaks(missing.content.decode()) == []
    client.force_login(make_member(customer, Role.AGENT).user)
    for path in ("/crm/contacts/00000000-0000-0000-0000-000000000000/", "/settings/billing/"):
        response = client.get(path, HTTP_HOST=HOST)
        assert response.status_code in (403, 404), path  # an unknown record; a page the role may not open
        assert leaks(response.content.decode()) == [], path
    signed_out = client.__class__()
    page = signed_out.get("/accounts/login/", HTTP_HOST=HOST).content.decode()
    assert "cookie" in page.lower() and leaks(page) == []
