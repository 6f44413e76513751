"""Billing details: who is invoiced and where, for tax; the API, the page form and the next invoice."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from octopushx.billing import clock, invoices
from octopushx.billing.models import BillingProfile, Invoice
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.billing.factories import issued_invoice
from tests.conftest import ApiClient, make_member

URL = "/api/v1/billing/profile"


@pytest.fixture
def owner_api(customer):
    return ApiClient(make_member(customer, Role.OWNER, email="owner@billed.test"))


def test_the_defaults_are_the_organisation_s_region_until_someone_fills_them_in(customer, owner_api):
    assert owner_api.get(URL).json() == {
        "legal_name": "",
        "country": "GB",
        "business": False,
        "vat_number": "",
        "email": "",
    }
    assert not BillingProfile.objects.exists()


def test_owners_set_the_details_and_the_change_is_audited(customer, owner_api):
    body = {"legal_name": "Billed Ltd GmbH", "country": "de", "business": True, "vat_number": "de 123.456-789",
            "email": "accounts@billed.test"}  # fmt: skip
    response = owner_api.patch(URL, body)
    assert response.status_code == 200, response.content
    assert response.json() == {**body, "country": "DE", "vat_number": "DE123456789"}
    entry = AuditEntry.objects.get(tenant=customer, action="billing_profile.changed")
    assert entry.object_type == "billingprofile"
    assert owner_api.patch(URL, {"email": "accounts@billed.test"}).status_code == 200  # no change: no entry
    assert AuditEntry.objects.filter(tenant=customer, action="billing_profile.changed").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": ""}, "country"),
        ({"vat_number": "DE12 3456 7890 1234 5678"}, "vat_number"),
        ({"vat_number": "DE-12/34"}, "vat_number"),
        ({"email": "not-an-address"}, "email"),
        ({"legal_name": "x" * 201}, "legal_name"),
        ({"business": None}, "business"),
    ],
)
def test_bad_details_are_422_naming_the_field_and_change_nothing(customer, owner_api, body, field):
    owner_api.patch(URL, {"legal_name": "Kept Ltd"})
    response = owner_api.patch(URL, {"country": "FR", **body})
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert BillingProfile.objects.get(tenant=customer).country == "GB"


def test_agents_may_not_read_or_change_them(customer):
    agent = ApiClient(make_member(customer, Role.AGENT, email="agent@billed.test"))
    assert agent.get(URL).status_code == 403
    assert agent.patch(URL, {"country": "DE"}).status_code == 403
    assert not BillingProfile.objects.exists()


def test_with_billing_off_or_outside_a_customer_there_are_none(customer, owner_api, settings, db):
    staff = ApiClient(make_member(platform_org(), Role.ADMIN, email="staff@example.test"))
    assert staff.patch(URL, {"country": "DE"}).status_code == 404
    settings.BILLING_ENABLED = False
    assert owner_api.get(URL).status_code == 404


def test_the_next_invoice_uses_them_and_an_issued_one_keeps_its_own(customer, owner_api):
    first = issued_invoice(customer)
    assert first.customer["country"] == "GB" and "20" in first.tax_rule
    owner_api.patch(URL, {"country": "DE", "business": True, "vat_number": "DE123456789", "legal_name": "Billed AG"})
    with clock.frozen(date(2026, 6, 1)):
        invoices.run()
    later = Invoice.objects.filter(tenant=customer).exclude(pk=first.pk).order_by("period_start").first()
    assert later.customer == {"name": "Billed AG", "country": "DE", "business": True, "vat_number": "DE123456789"}
    assert "everse charge" in later.tax_rule and later.tax == 0
    first.refresh_from_db()
    assert first.customer["country"] == "GB"


def test_the_page_form_saves_them_and_names_a_wrong_field(customer):
    browser = Client()
    browser.force_login(make_member(customer, Role.ADMIN, email="admin@billed.test").user)
    page = browser.get("/settings/billing/").content.decode()
    assert "Billing details" in page and 'name="vat_number"' in page
    response = browser.post("/settings/billing/details", {"legal_name": "Billed plc", "country": "gb"}, follow=True)
    assert "Billing details saved" in response.content.decode()
    assert BillingProfile.objects.get(tenant=customer).legal_name == "Billed plc"
    response = browser.post("/settings/billing/details", {"country": "ZZ"}, follow=True)
    assert "two-letter country code" in response.content.decode()
    assert BillingProfile.objects.get(tenant=customer).country == "GB"
