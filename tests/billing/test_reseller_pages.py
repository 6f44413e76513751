"""The reseller console pages: customers, one customer, price book, margins (+ CSV), statements."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from octopushx.billing import clock, invoices, resellers
from octopushx.billing.models import PriceBook, Statement
from octopushx.core.context import Actor
from octopushx.tenancy.models import Organization, OrgKind
from tests.conftest import make_member, make_org


@pytest.fixture
def web(client, reseller):
    client.force_login(make_member(reseller, "admin", email="admin@resell.test").user)
    return client


def test_settings_show_the_console_tabs_to_reseller_admins(web):
    page = web.get(reverse("reseller:customers")).content.decode()
    assert "Customers" in page and "Price book" in page and "Margins" in page


def test_create_a_customer_from_the_console(web, reseller):
    response = web.post(reverse("reseller:customers"), {"name": "Page Ltd", "admin_email": "own@page.test",
                                                        "plan": "team", "seats": "3", "trial": "on"})  # fmt: skip
    assert response.status_code == 302
    customer = Organization.objects.get(name="Page Ltd")
    assert customer.parent == reseller
    page = web.get(reverse("reseller:customers")).content.decode()
    assert "Page Ltd" in page and "own@page.test (invited)" in page


def test_a_bad_form_says_why_and_creates_nothing(web):
    response = web.post(reverse("reseller:customers"), {"name": "Bad", "admin_email": "x@bad.test",
                                                        "plan": "nope", "seats": "-2"})  # fmt: skip
    assert response.status_code == 422
    assert "Unknown plan" in response.content.decode() and "at least 1" in response.content.decode()
    assert not Organization.objects.filter(name="Bad").exists()


def test_change_suspend_reinstate_and_close_a_customer(web, reseller):
    customer = make_org("Paged", kind=OrgKind.CUSTOMER, parent=reseller)
    url = reverse("reseller:customer", args=[customer.pk])
    assert "Paged" in web.get(url).content.decode()
    assert web.post(url, {"action": "change", "plan": "enterprise", "seats": "5"}).status_code == 302
    assert resellers.customer_out(customer)["plan"] == "enterprise"
    web.post(url, {"action": "suspend", "note": "Unpaid"})
    customer.refresh_from_db()
    assert customer.suspended_at is not None
    web.post(url, {"action": "reinstate"})
    customer.refresh_from_db()
    assert customer.suspended_at is None
    web.post(url, {"action": "close"})
    assert resellers.customer_out(customer)["cancel_at_period_end"] is True


def test_price_book_page_saves_and_refuses_below_wholesale(web, reseller):
    url = reverse("reseller:price_book")
    assert "Team" in web.get(url).content.decode()
    refused = web.post(url, {"currency": "GBP", "plan:team:month": "20.00"})
    assert refused.status_code == 422 and "below the wholesale price" in refused.content.decode()
    assert not PriceBook.objects.exists()
    assert web.post(url, {"currency": "GBP", "plan:team:month": "45.00"}).status_code == 302
    assert resellers.current_book(reseller).prices == {"plans": {"team": {"month": "45.00"}}, "addons": {}}


def test_margins_page_csv_and_statement(web, reseller):
    resellers.set_price_book(reseller, Actor.system("test"), plans={"team": {"month": "45.00"}})
    make_org("Margin Ltd", kind=OrgKind.CUSTOMER, parent=reseller)
    for day in (date(2026, 4, 19), date(2026, 5, 1)):
        with clock.frozen(day):
            invoices.run()
    page = web.get(reverse("reseller:margins")).content.decode()
    assert "Margin Ltd" in page and "10.00" in page
    csv_body = web.get(reverse("reseller:margins_csv") + "?month=2026-04").content.decode()
    assert "2026-04,Margin Ltd,GBP,1,45.00,35.00,10.00" in csv_body
    statement = Statement.objects.get()
    detail = web.get(reverse("reseller:statement", args=[statement.pk])).content.decode()
    assert "Margin Ltd" in detail and "42.00" in detail


def test_customers_and_non_admins_cannot_open_the_console(client, reseller, customer):
    client.force_login(make_member(customer, "owner").user)
    assert client.get(reverse("reseller:customers")).status_code == 404
    client.force_login(make_member(reseller, "agent").user)
    assert client.get(reverse("reseller:customers")).status_code == 403


def test_the_customer_page_offers_entry_only_while_support_access_is_granted(web, reseller):
    from octopushx.tenancy import support

    customer = make_org("Helped Ltd", kind=OrgKind.CUSTOMER, parent=reseller)
    url = reverse("reseller:customer", args=[customer.pk])
    assert "Enter for support" not in web.get(url).content.decode()
    support.grant(customer, Actor.system("test"), hours=2)
    assert "Enter for support" in web.get(url).content.decode()
    assert web.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)}).status_code == 302
    assert web.get("/api/v1/me").json()["tenant"]["id"] == str(customer.pk)
