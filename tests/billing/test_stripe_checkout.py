"""POST /api/v1/billing/stripe/checkout and the Billing page's card buttons, through the real SDK."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from octopushx.billing.models import Payment, PaymentAccount
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.billing.factories import issued_invoice
from tests.conftest import ApiClient, make_member, make_org

CHECKOUT = "/api/v1/billing/stripe/checkout"


def owner_of(org) -> ApiClient:
    return ApiClient(make_member(org, Role.OWNER))


def test_checkout_without_invoice_saves_a_card_in_setup_mode(customer, stripe_fake):
    response = owner_of(customer).post(CHECKOUT, {})
    assert response.status_code == 200, response.content
    url = response.json()["url"]
    assert url.startswith("https://checkout.stripe.test/c/pay/cs_test_")
    ((params, headers),) = stripe_fake.calls("POST", "/v1/checkout/sessions")
    assert params["mode"] == "setup"
    assert params["payment_method_types"] == ["card"]
    assert params["metadata"]["tenant_id"] == str(customer.pk)
    assert "?card=done&session={CHECKOUT_SESSION_ID}" in params["success_url"]
    assert headers["authorization"] == "Bearer sk_test_octopushx"
    account = PaymentAccount.objects.get(tenant=customer)
    assert account.stripe_customer.startswith("cus_") and params["customer"] == account.stripe_customer
    assert AuditEntry.objects.filter(tenant=customer, action="payment_account.linked").exists()


def test_checkout_reuses_the_organisations_stripe_customer(customer, stripe_fake):
    owner = owner_of(customer)
    owner.post(CHECKOUT, {})
    owner.post(CHECKOUT, {})
    assert len(stripe_fake.calls("POST", "/v1/customers")) == 1
    customers = {params["customer"] for params, _ in stripe_fake.calls("POST", "/v1/checkout/sessions")}
    assert len(customers) == 1


def test_checkout_for_an_invoice_takes_its_total_in_payment_mode(customer, stripe_fake):
    invoice = issued_invoice(customer)
    response = owner_of(customer).post(CHECKOUT, {"invoice_id": str(invoice.pk)})
    assert response.status_code == 200, response.content
    ((params, _),) = stripe_fake.calls("POST", "/v1/checkout/sessions")
    assert params["mode"] == "payment"
    line = params["line_items"][0]["price_data"]
    assert int(line["unit_amount"]) == int(invoice.total * 100) and line["currency"] == "gbp"
    assert params["payment_intent_data"]["metadata"]["invoice_id"] == str(invoice.pk)
    assert params["payment_intent_data"]["setup_future_usage"] == "off_session"
    payment = Payment.objects.get(invoice=invoice)
    assert (
        payment.status == "pending"
        and payment.stripe_checkout_session == stripe_fake.objects[response.json()["url"].rsplit("/", 1)[-1]]["id"]
    )


def test_checkout_refuses_an_invoice_paid_already(customer, stripe_fake):
    from octopushx.billing import invoices
    from octopushx.core.context import Actor

    invoice = invoices.mark_paid(issued_invoice(customer), Actor.system("test"))
    response = owner_of(customer).post(CHECKOUT, {"invoice_id": str(invoice.pk)})
    assert response.status_code == 422
    assert "paid already" in response.json()["errors"]["invoice_id"][0]
    assert not stripe_fake.calls("POST", "/v1/checkout/sessions")
    assert not Payment.objects.exists()


def test_checkout_refuses_an_agent(customer, stripe_fake):
    response = ApiClient(make_member(customer, Role.AGENT)).post(CHECKOUT, {})
    assert response.status_code == 403
    assert not stripe_fake.requests
    assert not PaymentAccount.objects.exists()


def test_checkout_answers_404_for_another_organisations_invoice(customer, stripe_fake):
    other = make_org("Elsewhere Ltd")
    invoice = issued_invoice(other)
    response = owner_of(customer).post(CHECKOUT, {"invoice_id": str(invoice.pk)})
    assert response.status_code == 404
    assert not stripe_fake.calls("POST", "/v1/checkout/sessions")
    assert not Payment.objects.exists()


def test_checkout_answers_404_with_billing_off(customer, stripe_fake, settings):
    settings.BILLING_ENABLED = False
    assert owner_of(customer).post(CHECKOUT, {}).status_code == 404
    assert not stripe_fake.requests


def test_checkout_answers_404_without_a_stripe_key(customer, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = owner_of(customer).post(CHECKOUT, {})
    assert response.status_code == 404


def test_checkout_answers_502_when_stripe_is_unreachable(customer, stripe_fake, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = owner_of(customer).post(CHECKOUT, {})
    assert response.status_code == 502
    assert "Stripe" in response.json()["detail"]
    assert not PaymentAccount.objects.exclude(stripe_customer="").exists()


def test_page_shows_add_a_card_and_pay_by_card(customer, stripe_fake):
    issued_invoice(customer)
    web = Client()
    web.force_login(make_member(customer, Role.OWNER).user)
    page = web.get(reverse("billing:subscription")).content.decode()
    assert "Add a card" in page and "Pay by card" in page
    response = web.post(reverse("billing:card_checkout"))
    assert response.status_code == 302 and response["Location"].startswith("https://checkout.stripe.test/")


def test_page_offers_bank_transfer_only_without_stripe(customer, settings):
    issued_invoice(customer)
    web = Client()
    web.force_login(make_member(customer, Role.OWNER).user)
    page = web.get(reverse("billing:subscription")).content.decode()
    assert "Add a card" not in page and "Pay by card" not in page
    assert "bank transfer" in page
    assert web.post(reverse("billing:card_checkout")).status_code == 404


def test_coming_back_from_stripe_saves_the_card_without_waiting_for_the_webhook(customer, stripe_fake):
    web = Client()
    web.force_login(make_member(customer, Role.OWNER).user)
    session_id = web.post(reverse("billing:card_checkout"))["Location"].rsplit("/", 1)[-1]
    stripe_fake.complete_setup(session_id, brand="mastercard", last4="4444")
    response = web.get(reverse("billing:subscription") + f"?card=done&session={session_id}", follow=True)
    page = response.content.decode()
    assert "Card saved" in page
    assert "ending 4444" in page
    account = PaymentAccount.objects.get(tenant=customer)
    assert (account.card_brand, account.card_last4) == ("mastercard", "4444")


def test_coming_back_with_another_organisations_session_changes_nothing(customer, stripe_fake):
    other = make_org("Elsewhere Ltd")
    other_web = Client()
    other_web.force_login(make_member(other, Role.OWNER).user)
    session_id = other_web.post(reverse("billing:card_checkout"))["Location"].rsplit("/", 1)[-1]
    stripe_fake.complete_setup(session_id)
    web = Client()
    web.force_login(make_member(customer, Role.OWNER).user)
    web.post(reverse("billing:card_checkout"))
    web.get(reverse("billing:subscription") + f"?card=done&session={session_id}")
    assert not PaymentAccount.objects.get(tenant=customer).payment_method
    assert not PaymentAccount.objects.get(tenant=other).payment_method


def test_coming_back_from_paying_an_invoice_marks_it_paid(customer, stripe_fake):
    invoice = issued_invoice(customer)
    web = Client()
    web.force_login(make_member(customer, Role.OWNER).user)
    location = web.post(reverse("billing:card_checkout"), {"invoice_id": str(invoice.pk)})["Location"]
    session_id = location.rsplit("/", 1)[-1]
    stripe_fake.complete_payment(session_id)
    page = web.get(reverse("billing:subscription") + f"?card=done&session={session_id}", follow=True)
    assert "the invoice is paid" in page.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert AuditEntry.objects.filter(tenant=customer, action="invoice.paid").count() == 1


def test_leaving_stripes_page_changes_nothing(customer, stripe_fake):
    invoice = issued_invoice(customer)
    web = Client()
    web.force_login(make_member(customer, Role.OWNER).user)
    web.post(reverse("billing:card_checkout"), {"invoice_id": str(invoice.pk)})
    page = web.get(reverse("billing:subscription") + "?card=cancelled", follow=True)
    assert "Nothing was charged" in page.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_the_page_refuses_another_organisations_invoice(customer, stripe_fake):
    other_invoice = issued_invoice(make_org("Elsewhere Ltd"))
    web = Client()
    web.force_login(make_member(customer, Role.OWNER).user)
    response = web.post(reverse("billing:card_checkout"), {"invoice_id": str(other_invoice.pk)})
    assert response.status_code == 404
    assert not stripe_fake.calls("POST", "/v1/checkout/sessions")
