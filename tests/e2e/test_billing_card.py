"""The Billing page's card payment: the saved card, Add a card / Pay by card, attempts under invoices."""

from __future__ import annotations

import os

import pytest
from django.db import transaction

from octopushx.billing import payments
from octopushx.core.context import Actor
from octopushx.tenancy.roles import Role
from tests.billing.factories import issued_invoice
from tests.billing.stripe_fake import stripe_fake  # noqa: F401 (fixture)
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("OCTOPUSHX_SCREENSHOTS")  # a folder: keep photographs of the page


@pytest.fixture
def card_customer(stripe_fake):  # noqa: F811
    customer = make_org("Card Customer Ltd")
    owner = make_member(customer, Role.OWNER)
    url = payments.start_checkout(
        customer, Actor.system("test"), success_url="https://a.example/", cancel_url="https://a.example/"
    )
    session = stripe_fake.complete_setup(url.rsplit("/", 1)[-1], brand="visa", last4="4242")
    with transaction.atomic():
        payments._on_checkout_completed(session)
    account = payments.account_of(customer)
    stripe_fake.declining.add(account.payment_method)
    payments.charge_invoice(issued_invoice(customer))  # declined: the attempt shows under the invoice
    return owner


@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_billing_page_shows_the_card_and_the_failed_attempt(new_page, signed_in, card_customer, viewport):
    width, height = viewport
    page = new_page(viewport={"width": width, "height": height})
    signed_in(page, card_customer.user)
    page.goto("/settings/billing/")
    payment = page.get_by_role("region", name="Payment")
    payment.get_by_text("ending 4242").wait_for()
    assert payment.get_by_role("button", name="Replace the card").is_visible()
    attempt = page.get_by_test_id("payment-attempt").first
    assert "failed" in attempt.inner_text() and "declined" in attempt.inner_text()
    pay = page.get_by_test_id("pay-by-card").first
    pay.scroll_into_view_if_needed()
    assert pay.is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"billing-card-{width}.png"), full_page=True)
        page.locator("section[aria-labelledby=invoices-heading]").screenshot(
            path=os.path.join(SHOTS, f"invoices-{width}.png")
        )
