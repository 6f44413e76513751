"""Billing emails: to the billing contact, with the invoice PDF, in the brand the customer works under."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.utils import timezone

from octopushx.billing import clock, dunning, emails, invoices
from octopushx.billing.models import BillingProfile, Invoice, InvoiceNotice, NoticeKind
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import Job, JobState
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org
from tests.pdf_text import pdf_text
from tests.tenancy.branding_helpers import make_reseller
from tests.tenancy.test_white_label_leaks import leaks


def _run(day: date) -> dict[str, int]:
    """The day's billing run, then the jobs it queued (the billing emails)."""
    with clock.frozen(day):
        counts = invoices.run()
        jobs.drain()
    return counts


def test_the_billing_contact_is_the_profiles_email(customer):
    make_member(customer, Role.OWNER, email="owner@billed.example")
    BillingProfile.objects.create(tenant=customer, email="accounts@billed.example")
    assert emails.recipients(customer) == ["accounts@billed.example"]


def test_without_a_billing_email_every_owner_is_the_contact(customer):
    make_member(customer, Role.OWNER, email="b-owner@billed.example")
    make_member(customer, Role.OWNER, email="a-owner@billed.example")
    make_member(customer, Role.ADMIN, email="admin@billed.example")
    BillingProfile.objects.create(tenant=customer)
    assert emails.recipients(customer) == ["a-owner@billed.example", "b-owner@billed.example"]


def test_an_invoice_with_nobody_to_send_to_is_recorded_and_not_retried(customer):
    _run(date(2026, 4, 19))
    invoice = Invoice.objects.get(tenant=customer)
    notice = InvoiceNotice.objects.get(invoice=invoice, kind=NoticeKind.ISSUED)
    assert notice.recipients == [] and mail.outbox == []
    assert _run(date(2026, 4, 20))["emailed"] == 0


def test_a_failed_send_is_retried_by_its_job(customer, monkeypatch):
    make_member(customer, Role.OWNER, email="owner@billed.example")

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(emails.EmailMessage, "send", broken)
    assert _run(date(2026, 4, 19))["emailed"] == 1
    notice = InvoiceNotice.objects.get(kind=NoticeKind.ISSUED)
    assert notice.sent_at is None and mail.outbox == []
    job = Job.objects.get(kind="billing.email")
    assert job.state == JobState.QUEUED and "mail server down" in job.last_error
    monkeypatch.undo()
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())  # its back-off has passed
    assert _run(date(2026, 4, 20))["emailed"] == 0  # decided once; the job sends it
    notice.refresh_from_db()
    assert notice.sent_at is not None and notice.recipients == ["owner@billed.example"]
    assert len(mail.outbox) == 1


def test_the_email_job_sends_once_even_when_run_twice(customer):
    make_member(customer, Role.OWNER, email="owner@billed.example")
    _run(date(2026, 4, 19))
    job = Job.objects.get(kind="billing.email")
    dunning.send_notice(job)
    assert len(mail.outbox) == 1


def test_a_reminder_decided_before_payment_is_not_sent_after_it(customer):
    make_member(customer, Role.OWNER, email="owner@billed.example")
    _run(date(2026, 4, 19))
    mail.outbox.clear()
    with clock.frozen(date(2026, 5, 4)):
        invoices.run()  # decides the day-1 reminder; its job has not run yet
        invoices.mark_paid(Invoice.objects.get(tenant=customer), Actor.system("test"))
        jobs.drain()
    assert mail.outbox == []
    assert InvoiceNotice.objects.get(kind=NoticeKind.REMINDER_1).recipients == []


def test_the_platforms_own_customers_get_the_platforms_brand(customer, settings):
    settings.DEFAULT_FROM_EMAIL = "OctopushX <no-reply@octopushx.local>"
    make_member(customer, Role.OWNER, email="owner@billed.example")
    _run(date(2026, 4, 19))
    [message] = mail.outbox
    assert message.from_email == "OctopushX <no-reply@octopushx.local>"
    assert "OctopushX invoice INV-000001" in message.subject


@pytest.fixture
def branded_customer(db, billing_on, settings):
    settings.DEFAULT_FROM_EMAIL = "OctopushX <no-reply@octopushx.local>"  # the operator's default, as shipped
    reseller = make_reseller(
        support_email="help@northwind.example",
        sender_name="Northwind Voice",
        sender_email="hello@northwind.example",
    )
    customer = make_org("Their customer", parent=reseller)
    make_member(customer, Role.OWNER, email="owner@their.example")
    return customer


def test_under_a_reseller_brand_no_billing_email_names_the_platform(branded_customer):
    for day in (date(2026, 4, 19), date(2026, 5, 4), date(2026, 5, 24)):  # issued, reminder, suspension
        _run(day)
    subjects = [m.subject for m in mail.outbox]
    assert subjects[0].startswith("Northwind Voice invoice INV-000001")
    assert subjects[1].startswith("Reminder: Northwind Voice invoice INV-000001 is overdue")
    assert any("is suspended for non-payment" in subject for subject in subjects)
    for message in mail.outbox:
        assert message.from_email == "Northwind Voice <hello@northwind.example>"
        assert "help@northwind.example" in message.body
        headers = "\n".join(f"{k}: {v}" for k, v in message.message().items())
        [(_name, content, _type)] = message.attachments
        text = pdf_text(content)
        assert "Northwind Voice" in text
        assert leaks(f"{headers}\n{message.subject}\n{message.body}\n{text}") == []


def test_under_a_reseller_brand_the_credit_note_email_never_names_the_platform(branded_customer):
    from octopushx.billing import credits

    _run(date(2026, 4, 19))
    mail.outbox.clear()
    invoice = Invoice.objects.get(tenant=branded_customer)
    with clock.frozen(date(2026, 4, 20)):
        credits.issue_credit_note(invoice, Actor.system("test"), reason="Goodwill", full=True)
        jobs.drain()
    [message] = mail.outbox
    assert message.subject.startswith("Northwind Voice credit note CN-000001")
    headers = "\n".join(f"{k}: {v}" for k, v in message.message().items())
    text = pdf_text(message.attachments[0][1])
    assert "Northwind Voice" in text
    assert leaks(f"{headers}\n{message.subject}\n{message.body}\n{text}") == []
