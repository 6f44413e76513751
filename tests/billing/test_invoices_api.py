"""/api/v1/billing/invoices: the organisation's invoices, one invoice, its PDF, and marking it paid."""

from __future__ import annotations

import pytest
from django.test import Client

from octopushx.billing.models import Invoice, InvoiceStatus
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.billing.factories import issued_invoice
from tests.conftest import ApiClient, make_member, make_org
from tests.pdf_text import pdf_text

URL = "/api/v1/billing/invoices"


@pytest.fixture
def invoice(customer):
    return issued_invoice(customer)


@pytest.fixture
def owner_api(customer):
    return ApiClient(make_member(customer, Role.OWNER))


def test_an_invoice_answers_its_lines_and_totals_as_decimal_strings(invoice, owner_api):
    response = owner_api.get(f"{URL}/{invoice.pk}")
    assert response.status_code == 200
    data = response.json()
    assert {k: data[k] for k in ("id", "number", "status", "currency", "period_start", "period_end")} == {
        "id": str(invoice.pk),
        "number": "INV-000001",
        "status": "issued",
        "currency": "GBP",
        "period_start": "2026-03-16",
        "period_end": "2026-04-15",
    }
    assert data["lines"] == [
        {"description": "Team plan, per seat", "quantity": "1", "unit_price": "35", "amount": "35.00"}
    ]
    assert (data["subtotal"], data["tax"], data["total"]) == ("35.00", "7.00", "42.00")
    assert data["tax_rule"] == "VAT 20 % (GB)"


def test_the_list_shows_the_organisations_invoices_only(invoice, owner_api):
    other = issued_invoice(make_org("Other Billed"))
    items = owner_api.get(URL).json()["items"]
    assert [item["id"] for item in items] == [str(invoice.pk)]
    assert str(other.pk) not in owner_api.get(URL).content.decode()


def test_another_organisations_invoice_is_404(customer, owner_api):
    other = issued_invoice(make_org("Other Billed"))
    for path in (f"{URL}/{other.pk}", f"{URL}/{other.pk}/pdf"):
        assert owner_api.get(path).status_code == 404
    assert owner_api.post(f"{URL}/{other.pk}/mark-paid").status_code == 404
    assert owner_api.get(f"{URL}/not-an-id").status_code == 404


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_only_owners_and_admins_read_invoices(invoice, customer, role):
    client = ApiClient(make_member(customer, role))
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/{invoice.pk}").status_code == 403


def test_the_pdf_states_number_lines_tax_rule_and_total(invoice, owner_api):
    response = owner_api.get(f"{URL}/{invoice.pk}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="invoice-INV-000001.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    for expected in ("Invoice INV-000001", "Team plan, per seat", "VAT 20 % (GB)", "42.00", "Billed Ltd"):
        assert expected in text


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_customers_cannot_mark_their_own_invoice_paid(invoice, customer, role):
    response = ApiClient(make_member(customer, role)).post(f"{URL}/{invoice.pk}/mark-paid")
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED and invoice.paid_at is None


def test_platform_staff_mark_an_invoice_paid_once(invoice, customer, staff):
    response = staff.post(f"{URL}/{invoice.pk}/mark-paid")
    assert response.status_code == 200 and response.json()["status"] == "paid"
    assert AuditEntry.objects.filter(tenant=customer, action="invoice.paid").count() == 1
    again = staff.post(f"{URL}/{invoice.pk}/mark-paid")
    assert again.status_code == 422 and "was paid already" in again.json()["errors"]["status"][0]
    assert AuditEntry.objects.filter(tenant=customer, action="invoice.paid").count() == 1


def test_a_draft_cannot_be_marked_paid(invoice, staff):
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.DRAFT)
    response = staff.post(f"{URL}/{invoice.pk}/mark-paid")
    assert response.status_code == 422 and "A draft cannot be paid" in response.json()["errors"]["status"][0]
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.DRAFT


def test_the_billing_page_lists_invoices_with_their_pdf(invoice, customer):
    client = Client()
    client.force_login(make_member(customer, Role.OWNER).user)
    html = client.get("/settings/billing/").content.decode()
    assert "INV-000001" in html and "42.00 GBP" in html
    link = f"/settings/billing/invoices/{invoice.pk}.pdf"
    assert f'href="{link}"' in html
    response = client.get(link)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_pdf_page_is_404_for_another_organisations_invoice(customer):
    other = issued_invoice(make_org("Other Billed"))
    client = Client()
    client.force_login(make_member(customer, Role.OWNER).user)
    assert client.get(f"/settings/billing/invoices/{other.pk}.pdf").status_code == 404


def test_a_resellers_customer_gets_its_invoice_in_the_resellers_brand(db, billing_on):
    from octopushx.tenancy.models import OrgKind

    reseller = make_org("Northwind Partners", kind=OrgKind.RESELLER)
    reseller.brand_name = "Northwind Voice"
    reseller.save(update_fields=["brand_name"])
    customer = make_org("Branded Customer", parent=reseller)
    invoice = issued_invoice(customer)
    response = ApiClient(make_member(customer, Role.OWNER)).get(f"{URL}/{invoice.pk}/pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Northwind Voice" in text
    assert "octopush" not in text.lower()
