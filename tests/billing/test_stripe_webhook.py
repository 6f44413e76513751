"""POST /api/v1/billing/stripe/webhook: Stripe's signature scheme, each event once, what each event does."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from octopushx.billing import payments
from octopushx.billing.models import Invoice, Payment, PaymentAccount, StripeEvent
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from tests.billing.factories import issued_invoice
from tests.billing.stripe_fake import event, sign

WEBHOOK = "/api/v1/billing/stripe/webhook"


def post(payload: bytes, signature: str | None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return Client().post(WEBHOOK, data=payload, content_type="application/json", **headers)


def _checkout(customer, invoice=None) -> str:
    url = payments.start_checkout(
        customer,
        Actor.system("test"),
        invoice=invoice,
        success_url="https://app.example/billing/",
        cancel_url="https://app.example/billing/",
    )
    return url.rsplit("/", 1)[-1]


@pytest.fixture
def paid_checkout(customer, stripe_fake):
    """An issued invoice the customer paid on Stripe's page; returns (invoice, the session event)."""
    invoice = issued_invoice(customer)
    session = stripe_fake.complete_payment(_checkout(customer, invoice))
    return invoice, event("checkout.session.completed", session, "evt_checkout_1")


def test_a_signed_checkout_event_marks_the_invoice_paid_by_card(paid_checkout, customer):
    invoice, payload = paid_checkout
    response = post(payload, sign(payload))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "paid"
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    entry = AuditEntry.objects.filter(tenant=customer, action="invoice.paid").get()
    assert entry.personal.actor_label == "stripe"
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "succeeded" and payment.stripe_payment_intent.startswith("pi_")
    account = PaymentAccount.objects.get(tenant=customer)
    assert account.card_last4 == "4242"  # the card that paid is kept for the next invoices


def test_a_bad_signature_is_a_400_and_changes_nothing(paid_checkout):
    invoice, payload = paid_checkout
    response = post(payload, sign(payload, secret="whsec_someone_else"))
    assert response.status_code == 400
    assert "signature" in response.json()["detail"].lower()
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert not StripeEvent.objects.exists()


def test_a_missing_signature_is_a_400_and_changes_nothing(paid_checkout):
    invoice, payload = paid_checkout
    response = post(payload, None)
    assert response.status_code == 400
    assert response.json()["detail"] == "Missing Stripe-Signature header"
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_a_tampered_body_is_a_400(paid_checkout):
    invoice, payload = paid_checkout
    signature = sign(payload)
    response = post(payload.replace(b"checkout.session.completed", b"checkout.session.expired"), signature)
    assert response.status_code == 400
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_an_old_signature_is_a_400(paid_checkout):
    invoice, payload = paid_checkout
    response = post(payload, sign(payload, timestamp=int(time.time()) - 3600))
    assert response.status_code == 400
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_a_replayed_event_does_nothing(paid_checkout, customer):
    invoice, payload = paid_checkout
    assert post(payload, sign(payload)).json()["outcome"] == "paid"
    audit_entries = AuditEntry.objects.filter(tenant=customer).count()
    replay = post(payload, sign(payload))
    assert replay.status_code == 200
    assert replay.json()["outcome"] == "duplicate"
    assert AuditEntry.objects.filter(tenant=customer).count() == audit_entries
    assert StripeEvent.objects.count() == 1


def test_payment_intent_succeeded_after_checkout_changes_nothing_more(paid_checkout, stripe_fake, customer):
    invoice, payload = paid_checkout
    post(payload, sign(payload))
    intent = stripe_fake.objects[Payment.objects.get(invoice=invoice).stripe_payment_intent]
    second = event("payment_intent.succeeded", intent, "evt_pi_1")
    assert post(second, sign(second)).json()["outcome"] == "paid_already"
    assert AuditEntry.objects.filter(tenant=customer, action="invoice.paid").count() == 1
    assert not AuditEntry.objects.filter(tenant=customer, action="payment.reconciliation_alert").exists()


def test_payment_intent_succeeded_alone_marks_the_invoice_paid(paid_checkout, stripe_fake):
    """The checkout event was lost; the PaymentIntent's own event still pays the invoice."""
    invoice, _ = paid_checkout
    session = stripe_fake.objects[Payment.objects.get(invoice=invoice).stripe_checkout_session]
    intent = stripe_fake.objects[session["payment_intent"]]
    payload = event("payment_intent.succeeded", intent, "evt_pi_2")
    assert post(payload, sign(payload)).json()["outcome"] == "paid"
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_payment_failed_records_the_failure_and_leaves_the_invoice_unpaid(customer, stripe_fake):
    invoice = issued_invoice(customer)
    _checkout(customer)  # the organisation's Stripe customer
    account = PaymentAccount.objects.get(tenant=customer)
    intent = {
        "id": "pi_declined_1",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "amount": 100,
        "currency": "gbp",
        "customer": account.stripe_customer,
        "metadata": {"invoice_id": str(invoice.pk)},
        "last_payment_error": {"message": "Your card has insufficient funds."},
    }
    payload = event("payment_intent.payment_failed", intent, "evt_failed_1")
    response = post(payload, sign(payload))
    assert response.json()["outcome"] == "failed"
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    payment = Payment.objects.get(invoice=invoice, stripe_payment_intent="pi_declined_1")
    assert payment.status == "failed" and payment.failure_message == "Your card has insufficient funds."
    assert AuditEntry.objects.filter(tenant=customer, action="payment.failed").exists()


def test_an_intent_of_another_customer_never_pays_the_invoice(customer, stripe_fake):
    invoice = issued_invoice(customer)
    _checkout(customer)
    intent = {
        "id": "pi_foreign",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 100,
        "amount_received": 100,
        "currency": "gbp",
        "customer": "cus_somebody_else",
        "metadata": {"invoice_id": str(invoice.pk)},
    }
    payload = event("payment_intent.succeeded", intent, "evt_foreign")
    assert post(payload, sign(payload)).json()["outcome"] == "unknown_invoice"
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_a_setup_checkout_saves_the_card(customer, stripe_fake):
    session = stripe_fake.complete_setup(_checkout(customer), brand="amex", last4="0005")
    payload = event("checkout.session.completed", session, "evt_setup_1")
    assert post(payload, sign(payload)).json()["outcome"] == "card_saved"
    account = PaymentAccount.objects.get(tenant=customer)
    assert (account.card_brand, account.card_last4, account.card_exp_year) == ("amex", "0005", 2030)
    assert account.payment_method.startswith("pm_")


def test_unknown_event_types_are_acknowledged_and_ignored(customer, stripe_fake):
    payload = event("customer.updated", {"id": "cus_x", "object": "customer"}, "evt_other")
    response = post(payload, sign(payload))
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert not Invoice.objects.filter(status="paid").exists()


def test_the_webhook_answers_404_when_card_payment_is_not_set_up(customer, settings):
    payload = event("customer.updated", {"id": "cus_x"}, "evt_off")
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_octopushx"
    assert post(payload, sign(payload)).status_code == 404
    assert not StripeEvent.objects.exists()


def test_the_webhook_needs_no_csrf_token(paid_checkout):
    invoice, payload = paid_checkout
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload))
    assert response.status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_the_invoice_api_lists_its_card_payments(paid_checkout, customer):
    from octopushx.tenancy.roles import Role
    from tests.conftest import ApiClient, make_member

    invoice, payload = paid_checkout
    post(payload, sign(payload))
    answer = ApiClient(make_member(customer, Role.OWNER)).get(f"/api/v1/billing/invoices/{invoice.pk}").json()
    assert answer["status"] == "paid"
    assert [(p["status"], p["source"], p["amount"]) for p in answer["payments"]] == [
        ("succeeded", "checkout", answer["total"])
    ]
