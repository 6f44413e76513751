"""Dunning: due dates, past due, reminders on days 1, 7 and 14, suspension for non-payment, reinstatement.

Customers made on DAY_ONE (2 March 2026) are first invoiced for 16 March – 15 April; the run of
19 April issues INV-000001, due 14 days later (3 May). Day 1 overdue is 4 May, day 7 is 10 May,
day 14 is 17 May; with the default 21 days the organisation is suspended on 24 May.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.test import Client

from octopushx.billing import clock, credits, dunning, invoices
from octopushx.billing.models import Invoice, InvoiceNotice, InvoiceStatus, NoticeKind, Status, Subscription
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.suspension.services import reinstate_tenant, suspend_tenant
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, ApiClient, make_member

ISSUED_ON, DUE_ON = date(2026, 4, 19), date(2026, 5, 3)


def _run(day: date) -> dict[str, int]:
    """The day's billing run, then the jobs it queued (the billing emails)."""
    with clock.frozen(day):
        counts = invoices.run()
        jobs.drain()
    return counts


@pytest.fixture
def owner(customer):
    return make_member(customer, Role.OWNER, email="owner@billed.example")


@pytest.fixture
def invoice(customer, owner):
    _run(ISSUED_ON)
    return Invoice.objects.get(tenant=customer, number="INV-000001")


def _status(customer) -> str:
    return Subscription.objects.get(tenant=customer).status


def _kinds(invoice) -> list[str]:
    return list(
        InvoiceNotice.objects.filter(invoice=invoice).order_by("sent_at", "created_at").values_list("kind", flat=True)
    )


def test_an_issued_invoice_is_due_after_the_payment_terms(invoice, owner):
    assert invoice.due_on == DUE_ON  # 19 April + 14 days (OCTOPUSHX_BILLING_PAYMENT_TERMS_DAYS default)
    data = ApiClient(owner).get(f"/api/v1/billing/invoices/{invoice.pk}").json()
    assert (data["due_on"], data["amount_due"], data["credited"]) == ("2026-05-03", "42.00", "0.00")


def test_an_invoice_issued_before_due_dates_existed_is_due_terms_after_its_issue(invoice, customer):
    Invoice.objects.filter(pk=invoice.pk).update(due_on=None)
    invoice.refresh_from_db()
    assert dunning.due_date(invoice) == DUE_ON
    _run(date(2026, 5, 4))
    assert _status(customer) == Status.PAST_DUE


def test_the_payment_terms_are_configurable(customer, owner, settings):
    settings.BILLING_PAYMENT_TERMS_DAYS = 30
    _run(ISSUED_ON)
    assert Invoice.objects.get(tenant=customer).due_on == date(2026, 5, 19)


def test_an_invoice_is_emailed_once_when_issued(invoice):
    assert _kinds(invoice) == [NoticeKind.ISSUED]
    [message] = mail.outbox
    assert message.to == ["owner@billed.example"]
    assert "INV-000001" in message.subject and "42.00 GBP" in message.subject
    assert "due on 3 May 2026" in message.body
    [(name, content, mimetype)] = message.attachments
    assert name == "invoice-INV-000001.pdf" and mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert _run(ISSUED_ON)["emailed"] == 0
    assert len(mail.outbox) == 1


def test_nothing_happens_up_to_the_due_date(invoice, customer):
    mail.outbox.clear()
    counts = _run(DUE_ON)
    assert (counts["past_due"], counts["reminded"], counts["suspended"]) == (0, 0, 0)
    assert _status(customer) == Status.ACTIVE and mail.outbox == []


def test_the_day_after_the_due_date_the_subscription_is_past_due_and_reminded(invoice, customer):
    mail.outbox.clear()
    counts = _run(date(2026, 5, 4))
    assert counts["past_due"] == 1 and counts["reminded"] == 1
    assert _status(customer) == Status.PAST_DUE
    [message] = mail.outbox
    assert message.subject.startswith("Reminder:") and "1 day overdue" in message.body
    assert message.attachments[0][0] == "invoice-INV-000001.pdf"
    assert AuditEntry.objects.filter(tenant=customer, action="subscription.past_due").count() == 1


def test_reminders_go_out_on_days_1_7_and_14_each_once(invoice, customer):
    for day in (date(2026, 5, 4), date(2026, 5, 4), date(2026, 5, 9), date(2026, 5, 10), date(2026, 5, 10)):
        _run(day)
    _run(date(2026, 5, 17))
    _run(date(2026, 5, 18))
    assert _kinds(invoice) == [
        NoticeKind.ISSUED,
        NoticeKind.REMINDER_1,
        NoticeKind.REMINDER_7,
        NoticeKind.REMINDER_14,
    ]
    reminders = [m for m in mail.outbox if m.subject.startswith("Reminder:")]
    assert ["1 day overdue" in reminders[0].body, "7 days" in reminders[1].body, "14 days" in reminders[2].body] == [
        True,
        True,
        True,
    ]
    assert customer.suspended_at is None


def test_a_run_that_missed_days_sends_only_the_latest_reminder(invoice):
    mail.outbox.clear()
    _run(date(2026, 5, 12))  # 9 days overdue: the day-7 reminder, not day 1's as well
    assert _kinds(invoice) == [NoticeKind.ISSUED, NoticeKind.REMINDER_7]
    assert len(mail.outbox) == 1


def test_after_the_grace_the_organisation_is_suspended_for_non_payment(invoice, customer):
    _run(date(2026, 5, 23))
    customer.refresh_from_db()
    assert customer.suspended_at is None
    counts = _run(date(2026, 5, 24))  # 21 days after the due date
    customer.refresh_from_db()
    assert counts["suspended"] == 1
    assert customer.suspension_reason == "non_payment" and "INV-000001" in customer.suspension_note
    assert _status(customer) == Status.SUSPENDED
    assert NoticeKind.SUSPENDED in _kinds(invoice)
    assert any("suspended for non-payment" in m.subject for m in mail.outbox)
    assert _run(date(2026, 5, 25))["suspended"] == 0
    assert AuditEntry.objects.filter(tenant=customer, action="organization.suspended").count() == 1


def test_the_suspension_grace_is_configurable(invoice, customer, settings):
    settings.BILLING_SUSPEND_AFTER_DAYS = 10
    _run(date(2026, 5, 13))
    customer.refresh_from_db()
    assert customer.suspension_reason == "non_payment"


def test_payment_reinstates_at_once(invoice, customer, staff):
    _run(date(2026, 5, 24))
    with clock.frozen(date(2026, 5, 25)):
        response = staff.post(f"/api/v1/billing/invoices/{invoice.pk}/mark-paid")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.suspended_at is None and customer.suspension_reason == ""
    assert _status(customer) == Status.ACTIVE
    assert AuditEntry.objects.filter(tenant=customer, action="organization.reinstated").count() == 1
    assert AuditEntry.objects.filter(tenant=customer, action="subscription.paid_up").count() == 1


def test_payment_before_suspension_makes_the_subscription_active_again(invoice, customer):
    _run(date(2026, 5, 4))
    with clock.frozen(date(2026, 5, 5)):
        invoices.mark_paid(invoice, Actor.system("test"))
    assert _status(customer) == Status.ACTIVE
    assert _run(date(2026, 5, 10))["reminded"] == 0


def test_payment_does_not_lift_a_suspension_for_another_reason(invoice, customer):
    suspend_tenant(customer, Actor.system("test"), reason="security")
    _run(date(2026, 5, 24))
    with clock.frozen(date(2026, 5, 25)):
        invoices.mark_paid(invoice, Actor.system("test"))
    customer.refresh_from_db()
    assert customer.suspension_reason == "security"


def test_staff_reinstating_by_hand_is_not_undone_by_the_next_run(invoice, customer):
    _run(date(2026, 5, 24))
    customer.refresh_from_db()
    reinstate_tenant(customer, Actor.system("test"), note="Promised to pay on Friday")
    _run(date(2026, 5, 26))
    customer.refresh_from_db()
    assert customer.suspended_at is None


def test_a_credit_note_lowers_what_dunning_chases(invoice, customer):
    credits.issue_credit_note(
        invoice, Actor.system("test"), reason="Goodwill", lines=[{"description": "Outage", "amount": "10.00"}]
    )
    assert credits.amount_due(invoice) == 30  # 42.00 − (10.00 + 2.00 VAT)
    mail.outbox.clear()
    _run(date(2026, 5, 4))
    [reminder] = [m for m in mail.outbox if m.subject.startswith("Reminder:")]
    assert "30.00 GBP is still unpaid" in reminder.body


def test_a_credit_note_that_leaves_nothing_due_ends_dunning(invoice, customer):
    _run(date(2026, 5, 24))
    with clock.frozen(date(2026, 5, 25)):
        credits.issue_credit_note(invoice, Actor.system("test"), reason="Billed in error", full=True)
    customer.refresh_from_db()
    assert customer.suspended_at is None and _status(customer) == Status.ACTIVE
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED  # never edited: the credit note says it
    assert dunning.overdue(customer, date(2026, 5, 25)) == []


def test_sign_in_while_suspended_for_non_payment_says_what_is_owed_and_how_to_pay(invoice, customer, owner):
    _run(date(2026, 5, 24))
    response = Client().post("/accounts/login/", {"email": owner.user.email, "password": PASSWORD})
    html = response.content.decode()
    assert "Unpaid invoices" in html
    assert "INV-000001, 42.00 GBP due on 3 May 2026" in html
    assert "quoting the invoice number" in html and "reinstated at once" in html


def test_the_suspended_page_explains_non_payment(invoice, customer, owner):
    _run(date(2026, 5, 24))
    client = Client()
    client.force_login(owner.user)
    with clock.frozen(date(2026, 5, 24)):
        response = client.get("/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="suspension-explanation"' in html and "INV-000001" in html


def test_billing_off_means_no_dunning(invoice, customer, settings):
    settings.BILLING_ENABLED = False
    assert dunning.run(date(2026, 6, 30))["suspended"] == 0
    customer.refresh_from_db()
    assert customer.suspended_at is None


def test_the_billing_page_warns_owners_of_an_overdue_invoice(invoice, customer, owner):
    _run(date(2026, 5, 4))
    client = Client()
    client.force_login(owner.user)
    with clock.frozen(date(2026, 5, 4)):
        html = client.get("/settings/billing/").content.decode()
    assert 'data-testid="overdue"' in html
    assert "Invoice INV-000001: 42.00 GBP was due on 3 May 2026" in html and "Past due" in html


def test_the_cli_run_reports_dunning_and_is_idempotent(invoice, customer, capsys):
    from octopushx import cli

    capsys.readouterr()
    assert cli.main(["billing", "run", "--at", "2026-05-24"]) == 0
    out = capsys.readouterr().out
    assert "1 reminder(s)" in out and "1 suspended for non-payment" in out
    assert cli.main(["billing", "run", "--at", "2026-05-24"]) == 0
    out = capsys.readouterr().out
    assert "0 reminder(s)" in out and "0 suspended for non-payment" in out


def test_the_daily_scheduled_run_includes_dunning(invoice, customer):
    from octopushx.billing import tasks

    with clock.frozen(date(2026, 5, 4)):
        tasks.daily_billing_run.call_local()
    assert _status(customer) == Status.PAST_DUE


@pytest.mark.parametrize(
    "variable", ["OCTOPUSHX_BILLING_PAYMENT_TERMS_DAYS=-1", "OCTOPUSHX_BILLING_SUSPEND_AFTER_DAYS=0"]
)
def test_settings_refuse_negative_terms_and_no_grace(variable, tmp_path):
    import os
    import subprocess
    import sys

    name, value = variable.split("=")
    env = {**os.environ, name: value, "OCTOPUSHX_DATA_DIR": str(tmp_path)}
    probe = "import octopushx.settings"
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and name in result.stderr
