"""The Branding settings page: a reseller admin edits texts, colour, images and domains; a live preview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from octopushx.tenancy import branding
from octopushx.tenancy.models import Brand, BrandDomain
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org
from tests.tenancy.branding_helpers import PublishedResolver, image_bytes, make_reseller, upload

URL = reverse("tenancy:branding")


@pytest.fixture
def reseller(db):
    return make_reseller()


@pytest.fixture
def admin(reseller, client):
    client.force_login(make_member(reseller, Role.ADMIN).user)
    return client


def test_page_shows_the_form_preview_and_domains(admin):
    response = admin.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Northwind Voice"' in html
    assert "data-brand-preview" in html and "tenancy/branding.js" in html
    assert "Custom domains" in html
    assert 'aria-current="page">Branding</a>' in html  # in the settings navigation


def test_saving_changes_the_brand(admin, reseller):
    response = admin.post(
        URL,
        {
            "action": "save",
            "product_name": "Northwind Talk",
            "primary_color": "#112233",
            "support_email": "help@northwind.example",
            "support_url": "https://help.northwind.example",
            "sender_name": "Northwind",
            "sender_email": "hello@northwind.example",
        },
    )
    assert response.status_code == 302
    reseller.refresh_from_db()
    assert (reseller.brand_name, reseller.brand_color) == ("Northwind Talk", "#112233")
    assert Brand.objects.get(tenant=reseller).sender_email == "hello@northwind.example"


def test_bad_colour_shows_a_message_and_changes_nothing(admin, reseller):
    response = admin.post(URL, {"action": "save", "product_name": "Changed", "primary_color": "blue"})
    assert response.status_code == 200
    assert "Use a colour like #0f766e" in response.content.decode()
    reseller.refresh_from_db()
    assert reseller.brand_name == "Northwind Voice"


def test_logo_upload_and_removal(admin, reseller):
    assert admin.post(URL, {"action": "logo", "logo": upload(image_bytes())}).status_code == 302
    record = Brand.objects.get(tenant=reseller)
    assert record.logo_id is not None
    assert "Current logo" in admin.get(URL).content.decode()
    assert admin.post(URL, {"action": "remove_logo"}).status_code == 302
    record.refresh_from_db()
    assert record.logo_id is None


def test_non_image_logo_is_refused(admin, reseller):
    response = admin.post(URL, {"action": "logo", "logo": upload(b"MZ\x90\x00 an executable", "logo.png")})
    assert response.status_code == 200 and "Not an image" in response.content.decode()
    assert Brand.objects.get(tenant=reseller).logo_id is None


def test_domains_are_added_verified_and_removed(admin, reseller, monkeypatch):
    monkeypatch.setattr(branding, "make_resolver", PublishedResolver)
    admin.post(URL, {"action": "add_domain", "domain": "crm.northwind.example"})
    record = BrandDomain.objects.get(tenant=reseller)
    html = admin.get(URL).content.decode()
    assert record.record_name in html and record.record_value in html and "Waiting for DNS" in html
    assert admin.post(URL, {"action": "verify_domain", "domain_id": str(record.pk)}).status_code == 302
    record.refresh_from_db()
    assert record.verified_at is not None
    assert admin.post(URL, {"action": "remove_domain", "domain_id": str(record.pk)}).status_code == 302
    assert not BrandDomain.objects.exists()


def test_another_resellers_domain_is_404_on_the_page(admin):
    from tests.tenancy.branding_helpers import SYSTEM

    rival = make_reseller("Southwind", "Southwind Talk")
    record = branding.add_domain(rival, SYSTEM, "crm.southwind.example")
    response = admin.post(URL, {"action": "remove_domain", "domain_id": str(record.pk)})
    assert response.status_code == 404
    assert BrandDomain.objects.filter(pk=record.pk).exists()


def test_customers_have_no_branding_page(reseller, client):
    customer = make_org("Their customer", parent=reseller)
    client.force_login(make_member(customer, Role.OWNER).user)
    assert client.get(URL).status_code == 403
    assert ">Branding</a>" not in client.get(reverse("tenancy:settings")).content.decode()


def test_reseller_agents_cannot_open_it(reseller, client):
    client.force_login(make_member(reseller, Role.AGENT).user)
    assert client.get(URL).status_code == 403
