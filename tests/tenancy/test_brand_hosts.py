"""Host-based brand: a verified custom domain serves its brand; any other Host never shows another reseller's."""

from __future__ import annotations

import pytest
from django.test import Client

from octopushx.tenancy import branding
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org
from tests.tenancy.branding_helpers import SYSTEM, PublishedResolver, make_reseller

HOST = "crm.northwind.example"


@pytest.fixture
def reseller(db):
    reseller = make_reseller(support_email="help@northwind.example")
    record = branding.add_domain(reseller, SYSTEM, HOST)
    branding.verify_domain(record, SYSTEM, resolver=PublishedResolver())
    return reseller


def page(client: Client, path: str = "/accounts/login/", host: str = HOST, **extra) -> str:
    response = client.get(path, HTTP_HOST=host, **extra)
    assert response.status_code in (200, 404), response.status_code
    return response.content.decode()


def test_sign_in_page_on_a_verified_domain_shows_its_brand(reseller, client):
    html = page(client)
    assert "Sign in to Northwind Voice" in html
    assert "OctopushX" not in html


def test_port_in_the_host_is_allowed(reseller, client):
    assert "Northwind Voice" in page(client, host=f"{HOST}:8443")


def test_a_claimed_but_unverified_domain_is_not_a_host(reseller, client, settings):
    rival = make_reseller("Southwind", "Southwind Talk")
    branding.add_domain(rival, SYSTEM, "crm.southwind.example")
    response = client.get("/accounts/login/", HTTP_HOST="crm.southwind.example")
    assert response.status_code == 400  # Django's DisallowedHost: not one of ours
    # Behind a proxy that allows any host: the default brand, never a reseller's.
    settings.ALLOWED_HOSTS = ["*"]
    html = page(client, host="crm.southwind.example")
    assert "Southwind Talk" not in html and "Northwind Voice" not in html
    assert "Sign in to OctopushX" in html


def test_unknown_host_gets_the_default_brand(reseller, client, settings):
    settings.ALLOWED_HOSTS = ["*"]
    html = page(client, host="unknown.example")
    assert "Northwind Voice" not in html and "Sign in to OctopushX" in html


def test_removed_domain_stops_being_a_host(reseller, client):
    assert client.get("/accounts/login/", HTTP_HOST=HOST).status_code == 200
    branding.remove_domain(reseller.brand_domains.get(), SYSTEM)
    assert client.get("/accounts/login/", HTTP_HOST=HOST).status_code == 400


def test_error_pages_on_the_domain_show_its_brand(reseller, client):
    response = client.get("/no-such-page/", HTTP_HOST=HOST)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Northwind Voice" in html and "OctopushX" not in html


def test_app_shell_on_the_domain_shows_its_brand(reseller, client):
    customer = make_org("Their customer", parent=reseller)
    client.force_login(make_member(customer, Role.OWNER).user)
    html = page(client, "/", host=HOST)
    assert "Northwind Voice" in html and "OctopushX" not in html


def test_forms_posted_on_the_domain_pass_csrf(reseller):
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/", HTTP_HOST=HOST, secure=True)
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/",
        {"email": "nobody@example.test", "password": "wrong", "csrfmiddlewaretoken": token},
        HTTP_HOST=HOST,
        HTTP_ORIGIN=f"https://{HOST}",
        secure=True,
    )
    assert response.status_code != 403


def test_forms_posted_on_the_domain_over_https_without_origin_pass_the_referer_check(reseller):
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/", HTTP_HOST=HOST, secure=True)
    token = client.cookies["csrftoken"].value
    form = {"email": "nobody@example.test", "password": "wrong", "csrfmiddlewaretoken": token}
    response = client.post(
        "/accounts/login/", form, HTTP_HOST=HOST, HTTP_REFERER=f"https://{HOST}/accounts/login/", secure=True
    )
    assert response.status_code != 403


def test_a_brand_domain_cannot_post_into_another_host(reseller):
    """Its owner controls its DNS: it is trusted for itself only, never for the platform's address."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/", secure=True)
    token = client.cookies["csrftoken"].value
    form = {"email": "nobody@example.test", "password": "wrong", "csrfmiddlewaretoken": token}
    response = client.post("/accounts/login/", form, HTTP_ORIGIN=f"https://{HOST}", secure=True)
    assert response.status_code == 403


def test_host_lookups_are_cached(reseller, client, django_assert_num_queries):
    from octopushx.tenancy.models import BrandDomain

    branding.invalidate_hosts()
    assert branding.owner_for_host(HOST) == str(reseller.pk)
    with django_assert_num_queries(0):
        for _ in range(3):
            assert branding.owner_for_host(HOST) == str(reseller.pk)
    assert BrandDomain.objects.count() == 1


def test_legal_documents_on_the_domain_are_the_brands(reseller, client):
    from octopushx.shield.legal.services import publish
    from octopushx.tenancy.services import platform_org

    publish(platform_org(), SYSTEM, kind="terms", title="Terms", body="platform terms")
    publish(reseller, SYSTEM, kind="terms", title="Terms", body="northwind terms")
    assert "northwind terms" in page(client, "/legal/terms/")
    assert "platform terms" in client.get("/legal/terms/").content.decode()
