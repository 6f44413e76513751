"""Issued invoices are charged to the saved card: off-session, once, and hooked to ``invoice.issued``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from octopushx.billing import invoices, payments, services
from octopushx.billing.models import Invoice, Payment, PaymentAccount
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from tests.billing.factories import issued_invoice


def _save_card(customer, stripe_fake, brand="visa", last4="4242") -> PaymentAccount:
    url = payments.start_checkout(
        customer, Actor.system("test"), success_url="https://app.example/", cancel_url="https://app.example/"
    )
    session = stripe_fake.complete_setup(url.rsplit("/", 1)[-1], brand=brand, last4=last4)
    with transaction.atomic():
        payments._on_checkout_completed(session)
    return PaymentAccount.objects.get(tenant=customer)


@pytest.fixture
def card(customer, stripe_fake) -> PaymentAccount:
    return _save_card(customer, stripe_fake)


def test_an_issued_invoice_is_charged_off_session_and_marked_paid(customer, stripe_fake, card):
    invoice = issued_invoice(customer)
    payment = payments.charge_invoice(invoice)
    assert payment.status == "succeeded"
    ((params, headers),) = stripe_fake.calls("POST", "/v1/payment_intents")
    assert int(params["amount"]) == int(invoice.total * 100) and params["currency"] == "gbp"
    assert params["off_session"] == "true" and params["confirm"] == "true"
    assert params["customer"] == card.stripe_customer and params["payment_method"] == card.payment_method
    assert params["metadata"]["invoice_id"] == str(invoice.pk)
    assert headers["idempotency-key"] == f"octopushx-invoice-{invoice.pk}-charge-1"
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    entry = AuditEntry.objects.get(tenant=customer, action="invoice.paid")
    assert entry.personal.actor_label == "stripe"


def test_charging_twice_charges_once(customer, stripe_fake, card):
    invoice = issued_invoice(customer)
    first = payments.charge_invoice(invoice)
    second = payments.charge_invoice(invoice)
    assert first.pk == second.pk
    assert len(stripe_fake.calls("POST", "/v1/payment_intents")) == 1
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_a_retried_charge_after_a_crash_reuses_the_idempotency_key(customer, stripe_fake, card):
    """The worker died after Stripe charged but before the answer was stored: the retry gets that charge back."""
    invoice = issued_invoice(customer)
    payment = payments.charge_invoice(invoice)
    Payment.objects.filter(pk=payment.pk).update(status="pending", stripe_payment_intent="")
    Invoice.objects.filter(pk=invoice.pk).update(status="issued", paid_at=None)
    again = payments.charge_invoice(invoice)
    keys = [headers["idempotency-key"] for _, headers in stripe_fake.calls("POST", "/v1/payment_intents")]
    assert keys == [keys[0], keys[0]]
    intents = [obj for obj in stripe_fake.objects.values() if obj["object"] == "payment_intent"]
    assert len(intents) == 1  # Stripe answered the replay with the first PaymentIntent
    assert again.pk == payment.pk and again.stripe_payment_intent == intents[0]["id"]


def test_a_declined_card_leaves_the_invoice_unpaid_for_dunning(customer, stripe_fake, card):
    stripe_fake.declining.add(card.payment_method)
    invoice = issued_invoice(customer)
    payment = payments.charge_invoice(invoice)
    assert payment.status == "failed"
    assert payment.failure_message == "Your card was declined."
    assert payment.stripe_payment_intent.startswith("pi_")
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert AuditEntry.objects.filter(tenant=customer, action="payment.failed").exists()
    # the same card is not charged again; a new card gets a new attempt
    payments.charge_invoice(invoice)
    assert len(stripe_fake.calls("POST", "/v1/payment_intents")) == 1


def test_saving_a_new_card_charges_the_open_invoices(customer, stripe_fake, card):
    stripe_fake.declining.add(card.payment_method)
    invoice = issued_invoice(customer)
    payments.charge_invoice(invoice)
    _save_card(customer, stripe_fake, brand="mastercard", last4="4444")
    jobs.drain()
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    attempts = list(Payment.objects.filter(invoice=invoice).order_by("attempt").values_list("attempt", "status"))
    assert attempts == [(1, "failed"), (2, "succeeded")]


def test_nothing_is_charged_without_a_saved_card(customer, stripe_fake):
    invoice = issued_invoice(customer)
    assert payments.charge_invoice(invoice) is None
    assert not stripe_fake.calls("POST", "/v1/payment_intents")


def test_a_paid_invoice_is_not_charged(customer, stripe_fake, card):
    invoice = invoices.mark_paid(issued_invoice(customer), Actor.system("test"))
    assert payments.charge_invoice(invoice) is None
    assert not stripe_fake.calls("POST", "/v1/payment_intents")


def test_the_billing_run_charges_what_it_issues(customer, stripe_fake, card):
    """``invoice.issued`` is delivered to the charge (a job): the run issues, the card pays."""
    subscription = services.current_subscription(customer)
    anchor = invoices.anchor_of(subscription)
    invoices.run(invoices.invoicing.add_months(anchor, 1, anchor.day) + timedelta(days=10))
    issued = Invoice.objects.filter(tenant=customer).exclude(status="draft")
    assert issued.exists()
    jobs.drain()
    assert set(issued.values_list("status", flat=True)) == {"paid"}
    assert Payment.objects.filter(tenant=customer, status="succeeded").count() == issued.count()


def test_issuing_queues_no_charge_without_a_saved_card(customer, stripe_fake):
    from octopushx.core.models import Job

    issued_invoice(customer)
    assert not Job.objects.filter(kind="billing.charge_invoice").exists()


def test_issuing_queues_one_charge_for_a_saved_card(customer, stripe_fake, card):
    from octopushx.core.models import Job

    invoice = issued_invoice(customer)
    job = Job.objects.get(kind="billing.charge_invoice")
    assert job.payload == {"invoice_id": str(invoice.pk)}
