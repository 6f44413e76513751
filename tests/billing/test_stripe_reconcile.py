"""Nightly reconciliation: never trust webhooks alone. Missed payments are repaired; disagreements alert."""

from __future__ import annotations

from octopushx import cli
from octopushx.billing import invoices, payments
from octopushx.billing.models import Payment
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from tests.billing.factories import issued_invoice


def _pay_on_stripe_page(customer, stripe_fake):
    """The customer paid on Stripe's checkout page, and every webhook about it was lost."""
    invoice = issued_invoice(customer)
    url = payments.start_checkout(
        customer,
        Actor.system("test"),
        invoice=invoice,
        success_url="https://a.example/",
        cancel_url="https://a.example/",
    )
    stripe_fake.complete_payment(url.rsplit("/", 1)[-1])
    return invoice


def test_a_missed_webhook_is_repaired(customer, stripe_fake):
    invoice = _pay_on_stripe_page(customer, stripe_fake)
    counts = payments.reconcile()
    assert counts == {"checked": 1, "repaired": 1, "alerted": 0, "errors": 0}
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    entry = AuditEntry.objects.get(tenant=customer, action="invoice.paid")
    assert entry.personal.actor_label == "stripe"
    assert Payment.objects.get(invoice=invoice).status == "succeeded"


def test_reconciling_twice_repairs_once(customer, stripe_fake):
    _pay_on_stripe_page(customer, stripe_fake)
    payments.reconcile()
    assert payments.reconcile()["repaired"] == 0
    assert AuditEntry.objects.filter(tenant=customer, action="invoice.paid").count() == 1


def test_an_unpaid_checkout_stays_open(customer, stripe_fake):
    invoice = issued_invoice(customer)
    payments.start_checkout(
        customer,
        Actor.system("test"),
        invoice=invoice,
        success_url="https://a.example/",
        cancel_url="https://a.example/",
    )
    assert payments.reconcile() == {"checked": 1, "repaired": 0, "alerted": 0, "errors": 0}
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_paid_here_but_not_on_stripe_alerts_and_changes_nothing(customer, stripe_fake, caplog):
    invoice = _pay_on_stripe_page(customer, stripe_fake)
    payments.reconcile()
    intent_id = Payment.objects.get(invoice=invoice).stripe_payment_intent
    stripe_fake.objects[intent_id]["status"] = "canceled"  # refunded or reversed on Stripe's side
    Payment.objects.filter(invoice=invoice).update(reconciled_at=None)
    counts = payments.reconcile()
    assert counts["alerted"] == 1 and counts["repaired"] == 0
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert AuditEntry.objects.filter(tenant=customer, action="payment.reconciliation_alert").exists()
    assert "Stripe says the payment is 'canceled'" in caplog.text


def test_a_confirmed_payment_is_not_asked_about_again(customer, stripe_fake):
    _pay_on_stripe_page(customer, stripe_fake)
    payments.reconcile()  # repaired
    payments.reconcile()  # confirmed: Stripe agrees
    asked = len(stripe_fake.requests)
    assert payments.reconcile()["checked"] == 0
    assert len(stripe_fake.requests) == asked


def test_an_unreachable_stripe_is_counted_and_changes_nothing(customer, stripe_fake, settings):
    invoice = _pay_on_stripe_page(customer, stripe_fake)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    assert payments.reconcile()["errors"] == 1
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_cli_reconcile_reports_counts(customer, stripe_fake, capsys):
    invoice = _pay_on_stripe_page(customer, stripe_fake)
    assert cli.main(["billing", "reconcile"]) == 0
    out = capsys.readouterr().out
    assert "1 payment(s) checked, 1 repaired, 0 alert(s)" in out
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_cli_reconcile_with_billing_off_says_so(customer, settings, capsys):
    settings.BILLING_ENABLED = False
    assert cli.main(["billing", "reconcile"]) != 0
    assert "OCTOPUSHX_BILLING=1" in capsys.readouterr().err


def test_cli_reconcile_without_a_key_says_so(customer, settings, capsys):
    settings.STRIPE_SECRET_KEY = ""
    assert cli.main(["billing", "reconcile"]) != 0
    assert "OCTOPUSHX_STRIPE_SECRET_KEY" in capsys.readouterr().err


def test_the_nightly_task_reconciles(customer, stripe_fake):
    from octopushx.billing import tasks

    invoice = _pay_on_stripe_page(customer, stripe_fake)
    tasks.nightly_stripe_reconciliation.call_local()
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert invoices.invoices_of(customer).filter(status="paid").count() == 1
