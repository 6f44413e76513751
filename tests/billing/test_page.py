"""The Billing page in Settings: owners and admins see and change the subscription; hidden when off."""

from __future__ import annotations

import pytest
from django.test import Client

from octopushx.billing.models import Subscription
from octopushx.tenancy.roles import Role
from tests.conftest import make_member

PAGE = "/settings/billing/"


def _signed_in(org, role) -> Client:
    client = Client()
    client.force_login(make_member(org, role).user)
    return client


def test_the_page_shows_plan_seats_trial_status_and_addons(customer):
    response = _signed_in(customer, Role.OWNER).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Team plan" in html and "Trial" in html and "16 March 2026" in html
    assert "1 of 1 (not capped during the trial)" in html
    assert "Extra storage 100 GB" in html and "15.00 GBP a month" in html
    assert 'href="/settings/billing/"' in html  # the Settings tab


def test_the_form_changes_the_subscription(customer):
    client = _signed_in(customer, Role.ADMIN)
    form = {
        "plan": "enterprise",
        "seats": "4",
        "interval": "year",
        "addons": ["minutes_1000"],
        "quantity_minutes_1000": "3",
        "auto_renew": "on",
    }
    response = client.post(PAGE, form, follow=True)
    assert "Subscription saved." in response.content.decode()
    subscription = Subscription.objects.get(tenant=customer)
    assert (subscription.plan.slug, subscription.seats, subscription.interval) == ("enterprise", 4, "year")
    assert [(a.addon.slug, a.quantity) for a in subscription.addons.all()] == [("minutes_1000", 3)]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"plan": "team", "seats": "-2", "interval": "month"}, "Seats must be a whole number of at least 1"),
        ({"plan": "team", "seats": "lots", "interval": "month"}, "Enter the number of seats as a whole number."),
        ({"plan": "gold", "seats": "2", "interval": "month"}, "Unknown plan"),
        (
            {
                "plan": "team",
                "seats": "2",
                "interval": "month",
                "addons": ["minutes_1000"],
                "quantity_minutes_1000": "x",
            },
            "Enter a whole number of units",
        ),
    ],
)
def test_bad_input_shows_the_reason_and_changes_nothing(customer, form, message):
    client = _signed_in(customer, Role.OWNER)
    before = Subscription.objects.get(tenant=customer).updated_at
    response = client.post(PAGE, form)
    assert response.status_code == 200 and message in response.content.decode()
    assert Subscription.objects.get(tenant=customer).updated_at == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_other_roles_neither_see_nor_open_it(customer, role):
    client = _signed_in(customer, role)
    assert 'href="/settings/billing/"' not in client.get("/settings/").content.decode()
    assert client.get(PAGE).status_code == 403


def test_with_billing_off_the_page_and_its_tab_are_gone(org):
    client = _signed_in(org, Role.OWNER)
    assert 'href="/settings/billing/"' not in client.get("/settings/").content.decode()
    assert client.get(PAGE).status_code == 404


def test_on_trial_the_form_offers_a_seat_for_everyone_in(customer):
    client = _signed_in(customer, Role.OWNER)
    for n in range(2):
        make_member(customer, Role.AGENT, email=f"agent-{n}@example.test")
    html = client.get(PAGE).content.decode()
    assert 'name="seats" type="number" min="1" value="3"' in html
    response = client.post(PAGE, {"plan": "starter", "seats": "3", "interval": "month"}, follow=True)
    assert "Subscription saved." in response.content.decode()
