"""Credit notes: POST /billing/invoices/{id}/credit-notes, GET /billing/credit-notes (+ one, + PDF).

The issued invoice (Team, one seat: 35.00 + VAT 20 % = 42.00 GBP) is never edited; credit notes
are numbered CN-000001… per issuer, credit tax at the invoice's rule and never exceed it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from octopushx.billing import credits, invoices
from octopushx.billing.models import BillingProfile, CreditNote, CreditNoteCounter, Invoice, InvoiceStatus
from octopushx.core import events
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.billing.factories import issued_invoice
from tests.conftest import ApiClient, make_member, make_org
from tests.pdf_text import pdf_text

URL = "/api/v1/billing"


@pytest.fixture
def invoice(customer):
    return issued_invoice(customer)


def _credit(client, invoice, body):
    return client.post(f"{URL}/invoices/{invoice.pk}/credit-notes", body)


def _nothing_written(invoice) -> None:
    assert not CreditNote.objects.exists()
    assert not CreditNoteCounter.objects.filter(last_number__gt=0).exists()
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.status, fresh.total, fresh.subtotal) == (invoice.status, invoice.total, invoice.subtotal)


def test_staff_credit_part_of_an_invoice_with_tax_at_its_rule(invoice, staff):
    response = _credit(
        staff, invoice, {"reason": "Outage on 2 April", "lines": [{"description": "Outage", "amount": "10.00"}]}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"] == "CN-000001" and data["invoice"] == {"id": str(invoice.pk), "number": "INV-000001"}
    assert data["lines"] == [{"description": "Outage", "amount": "10.00"}]
    assert (data["subtotal"], data["tax"], data["total"]) == ("10.00", "2.00", "12.00")
    assert data["tax_rule"] == "VAT 20 % (GB)" and data["reason"] == "Outage on 2 April"


def test_the_invoice_shows_what_was_credited_and_what_is_left_due(invoice, customer, staff):
    _credit(staff, invoice, {"reason": "Outage", "lines": [{"description": "Outage", "amount": "10.00"}]})
    owner = ApiClient(make_member(customer, Role.OWNER))
    data = owner.get(f"{URL}/invoices/{invoice.pk}").json()
    assert (data["total"], data["credited"], data["amount_due"]) == ("42.00", "12.00", "30.00")
    assert [note["number"] for note in data["credit_notes"]] == ["CN-000001"]
    assert data["lines"][0]["amount"] == "35.00" and data["status"] == "issued"  # the invoice itself is unchanged


def test_a_full_credit_takes_everything_left_to_the_penny(invoice, staff):
    _credit(staff, invoice, {"reason": "Part", "lines": [{"description": "Part", "amount": "0.03"}]})  # tax 0.01
    data = _credit(staff, invoice, {"reason": "Cancelled", "full": True}).json()
    assert (data["number"], data["subtotal"], data["tax"], data["total"]) == ("CN-000002", "34.97", "6.99", "41.96")
    assert data["lines"] == [{"description": "Full credit of invoice INV-000001", "amount": "34.97"}]
    assert credits.credited(invoice).total == invoice.total


def test_more_than_is_left_is_a_clear_400_and_nothing_changes(invoice, staff):
    response = _credit(staff, invoice, {"reason": "Too much", "lines": [{"description": "All", "amount": "35.01"}]})
    assert response.status_code == 400
    assert response.json()["errors"]["lines"] == [
        "At most 35.00 GBP before tax is left to credit on invoice INV-000001 (asked 35.01)"
    ]
    _nothing_written(invoice)


def test_what_is_left_shrinks_with_each_credit_note(invoice, staff):
    _credit(staff, invoice, {"reason": "One", "lines": [{"description": "One", "amount": "30.00"}]})
    response = _credit(staff, invoice, {"reason": "Two", "lines": [{"description": "Two", "amount": "5.01"}]})
    assert response.status_code == 400 and "At most 5.00 GBP" in response.json()["errors"]["lines"][0]
    _credit(staff, invoice, {"reason": "All", "full": True})
    response = _credit(staff, invoice, {"reason": "Again", "full": True})
    assert response.status_code == 400 and "Nothing is left to credit" in response.json()["errors"]["full"][0]
    assert CreditNote.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": " ", "full": True}, "reason"),
        ({"reason": "x", "lines": []}, "lines"),
        ({"reason": "x"}, "lines"),
        ({"reason": "x", "lines": [{"description": "a", "amount": "-1"}]}, "lines.0.amount"),
        ({"reason": "x", "lines": [{"description": "a", "amount": "0"}]}, "lines.0.amount"),
        ({"reason": "x", "lines": [{"description": "a", "amount": "1.001"}]}, "lines.0.amount"),
        ({"reason": "x", "lines": [{"description": "a", "amount": "ten"}]}, "lines.0.amount"),
        ({"reason": "x", "lines": [{"description": "", "amount": "1"}]}, "lines.0.description"),
        ({"reason": "x", "full": True, "lines": [{"description": "a", "amount": "1"}]}, "full"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_changes(invoice, staff, body, field):
    response = _credit(staff, invoice, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    _nothing_written(invoice)


def test_a_malformed_body_is_a_422(invoice, staff):
    assert _credit(staff, invoice, {"lines": "all"}).status_code == 422
    _nothing_written(invoice)


def test_a_draft_is_not_credited(invoice, staff):
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.DRAFT)
    response = _credit(staff, invoice, {"reason": "x", "full": True})
    assert response.status_code == 400 and "A draft is not credited" in response.json()["errors"]["invoice"][0]
    assert not CreditNote.objects.exists()


def test_a_paid_invoice_can_be_credited_as_a_refund(invoice, staff):
    invoices.mark_paid(invoice, Actor.system("test"))
    assert _credit(staff, invoice, {"reason": "Refund", "full": True}).status_code == 201
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and credits.amount_due(invoice) == 0


def test_reverse_charge_credits_no_tax(db, billing_on, staff):
    customer = make_org("Berlin GmbH")
    BillingProfile.objects.create(tenant=customer, country="DE", business=True, vat_number="DE811907980")
    invoice = issued_invoice(customer)
    data = _credit(staff, invoice, {"reason": "x", "lines": [{"description": "a", "amount": "10"}]}).json()
    assert (data["tax"], data["total"]) == ("0.00", "10.00") and data["tax_rule"].startswith("Reverse charge")


def test_numbers_are_gapless_per_issuer_and_apart_from_invoice_numbers(invoice, staff):
    other = issued_invoice(make_org("Second Billed"))
    assert other.number == "INV-000002"
    numbers = [
        _credit(staff, target, {"reason": "x", "lines": [{"description": "a", "amount": "1"}]}).json()["number"]
        for target in (invoice, other, invoice)
    ]
    assert numbers == ["CN-000001", "CN-000002", "CN-000003"]


def test_a_credit_note_is_audited_and_emits_its_event(invoice, customer, staff, monkeypatch):
    emitted = []
    original = events.emit
    monkeypatch.setattr(
        events, "emit", lambda tenant, name, payload=None: emitted.append(name) or original(tenant, name, payload)
    )
    _credit(staff, invoice, {"reason": "x", "full": True})
    assert "credit_note.issued" in emitted
    entry = AuditEntry.objects.get(tenant=customer, action="credit_note.issued")
    assert entry.object_type == "credit_note"
    assert AuditEntry.objects.filter(tenant=platform_org(), action="credit_note.issued").count() == 1  # the issuer's


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_a_customer_never_credits_its_own_invoice(invoice, customer, role):
    response = _credit(ApiClient(make_member(customer, role)), invoice, {"reason": "x", "full": True})
    assert response.status_code == 403
    assert not CreditNote.objects.exists()


def test_platform_members_below_admin_cannot_credit(invoice):
    client = ApiClient(make_member(platform_org(), Role.MANAGER, email="manager@platform.example"))
    assert _credit(client, invoice, {"reason": "x", "full": True}).status_code == 403
    assert not CreditNote.objects.exists()


def test_another_organisations_invoice_is_404(invoice, db):
    stranger = ApiClient(make_member(make_org("Stranger Ltd"), Role.OWNER))
    assert _credit(stranger, invoice, {"reason": "x", "full": True}).status_code == 404
    assert stranger.post(f"{URL}/invoices/not-an-id/credit-notes", {"reason": "x", "full": True}).status_code == 404
    assert not CreditNote.objects.exists()


def test_a_resellers_admins_credit_the_invoices_it_issued_and_no_other(db, billing_on):
    reseller = make_org("Northwind Partners", kind=OrgKind.RESELLER)
    rival = make_org("Rival Partners", kind=OrgKind.RESELLER)
    invoice = issued_invoice(make_org("Their Customer", parent=reseller))
    Invoice.objects.filter(pk=invoice.pk).update(issuer=reseller)  # a reseller's retail invoice
    rival_admin = ApiClient(make_member(rival, Role.ADMIN, email="admin@rival.example"))
    assert _credit(rival_admin, invoice, {"reason": "x", "full": True}).status_code == 404
    agent = ApiClient(make_member(reseller, Role.AGENT, email="agent@northwind.example"))
    assert _credit(agent, invoice, {"reason": "x", "full": True}).status_code == 403
    admin = ApiClient(make_member(reseller, Role.ADMIN, email="admin@northwind.example"))
    response = _credit(admin, invoice, {"reason": "x", "full": True})
    assert response.status_code == 201 and response.json()["number"] == "CN-000001"  # the reseller's own series
    assert admin.get(f"{URL}/credit-notes").json()["items"][0]["number"] == "CN-000001"
    assert rival_admin.get(f"{URL}/credit-notes").json()["items"] == []


def test_billing_off_answers_404(invoice, staff, settings):
    settings.BILLING_ENABLED = False
    assert _credit(staff, invoice, {"reason": "x", "full": True}).status_code == 404
    assert not CreditNote.objects.exists()


# --- reading --------------------------------------------------------------------------------------


@pytest.fixture
def note(invoice):
    return credits.issue_credit_note(
        invoice, Actor.system("test"), reason="Outage", lines=[{"description": "Outage", "amount": "10.00"}]
    )


def test_owners_and_admins_read_their_credit_notes(note, customer):
    for role in (Role.OWNER, Role.ADMIN):
        client = ApiClient(make_member(customer, role))
        items = client.get(f"{URL}/credit-notes").json()["items"]
        assert [item["number"] for item in items] == ["CN-000001"]
        data = client.get(f"{URL}/credit-notes/{note.pk}").json()
        assert (data["number"], data["total"], data["reason"]) == ("CN-000001", "12.00", "Outage")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_other_roles_are_refused_credit_notes(note, customer, role):
    client = ApiClient(make_member(customer, role))
    for path in (f"{URL}/credit-notes", f"{URL}/credit-notes/{note.pk}", f"{URL}/credit-notes/{note.pk}/pdf"):
        assert client.get(path).status_code == 403


def test_another_organisations_credit_notes_are_invisible(note, db, billing_on):
    stranger = ApiClient(make_member(make_org("Stranger Ltd"), Role.OWNER))
    assert stranger.get(f"{URL}/credit-notes").json()["items"] == []
    for path in (f"{URL}/credit-notes/{note.pk}", f"{URL}/credit-notes/{note.pk}/pdf", f"{URL}/credit-notes/nope"):
        assert stranger.get(path).status_code == 404


def test_the_credit_note_pdf_states_invoice_reason_tax_and_total(note, customer):
    response = ApiClient(make_member(customer, Role.OWNER)).get(f"{URL}/credit-notes/{note.pk}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="credit-note-CN-000001.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    for expected in ("Credit note CN-000001", "INV-000001", "Outage", "VAT 20 % (GB)", "12.00"):
        assert expected in text


def test_the_invoice_pdf_shows_its_credit_notes_and_the_amount_due(note, invoice, customer):
    response = ApiClient(make_member(customer, Role.OWNER)).get(f"{URL}/invoices/{invoice.pk}/pdf")
    text = pdf_text(response.content)
    assert "Credit note CN-000001" in text and "-12.00" in text and "30.00" in text


def test_the_billing_page_lists_credit_notes_and_the_amount_due(note, customer):
    client = Client()
    client.force_login(make_member(customer, Role.OWNER).user)
    html = client.get("/settings/billing/").content.decode()
    assert "CN-000001" in html and "12.00 GBP" in html and "30.00 GBP due" in html
    link = f"/settings/billing/credit-notes/{note.pk}.pdf"
    assert f'href="{link}"' in html
    assert client.get(link).content.startswith(b"%PDF")


def test_the_credit_note_pdf_page_is_404_for_another_organisation(note, db, billing_on):
    client = Client()
    client.force_login(make_member(make_org("Stranger Ltd"), Role.OWNER).user)
    assert client.get(f"/settings/billing/credit-notes/{note.pk}.pdf").status_code == 404


def test_amounts_are_decimal(note):
    assert note.total == Decimal("12.00") and isinstance(note.total, Decimal)


def test_the_billing_contact_is_emailed_the_credit_note_with_its_pdf(invoice, customer, staff):
    from django.core import mail

    from octopushx.core import jobs

    make_member(customer, Role.OWNER, email="owner@billed.example")
    _credit(staff, invoice, {"reason": "Outage", "lines": [{"description": "Outage", "amount": "10.00"}]})
    jobs.drain()
    jobs.drain()
    [message] = mail.outbox
    assert message.to == ["owner@billed.example"]
    assert message.subject == "OctopushX credit note CN-000001 for invoice INV-000001: 12.00 GBP"
    assert "Still due on invoice INV-000001: 30.00 GBP" in message.body
    [(name, content, mimetype)] = message.attachments
    assert name == "credit-note-CN-000001.pdf" and content.startswith(b"%PDF")
