"""The reseller console in a real browser, on a desktop and a phone: every page opens without
browser errors and nothing spills sideways; a customer is created from the form."""

from __future__ import annotations

import os
from datetime import date

import pytest

from octopushx.billing import clock, invoices, resellers
from octopushx.core.context import Actor
from octopushx.tenancy.models import OrgKind
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
SHOTS = os.environ.get("OCTOPUSHX_SHOTS")  # a folder: save a screenshot of each page there


def _reseller_with_a_month_billed():
    reseller = make_org("Northwind Partners", kind=OrgKind.RESELLER)
    with clock.frozen(date(2026, 3, 2)):
        resellers.set_price_book(
            reseller, Actor.system("test"), plans={"team": {"month": "45.00"}, "starter": {"month": "19.00"}}
        )
        for name in ("Alder & Sons Accounting Ltd", "Birch Logistics", "Cedar Dental Practice"):
            make_org(name, kind=OrgKind.CUSTOMER, parent=reseller)
    for day in (date(2026, 4, 19), date(2026, 5, 1)):
        with clock.frozen(day):
            invoices.run()
    return reseller


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
def test_console_pages_fit_and_work(new_page, signed_in, settings, viewport):
    settings.BILLING_ENABLED = True
    reseller = _reseller_with_a_month_billed()
    admin = make_member(reseller, "admin", email="admin@northwind.test")
    page = new_page(viewport=VIEWPORTS[viewport])
    signed_in(page, admin.user)
    customer = reseller.children.order_by("name").first()
    statement = resellers.statements_of(reseller).first()
    for path in ("/settings/reseller/customers/", f"/settings/reseller/customers/{customer.pk}/",
                 "/settings/reseller/price-book/", "/settings/reseller/margins/",
                 f"/settings/reseller/statements/{statement.pk}/"):  # fmt: skip
        page.goto(path)
        page.get_by_role("heading", level=2).first.wait_for()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} spills {overflow}px sideways on the {viewport}"
        if SHOTS:
            name = path.strip("/").replace("/", "_")[:60]
            page.screenshot(path=os.path.join(SHOTS, f"{viewport}-{name}.png"), full_page=True)
    page.goto("/settings/reseller/customers/")
    page.get_by_label("Organisation name").fill("Dogwood Studio")
    page.get_by_label("Owner's email").fill("owner@dogwood.test")
    page.get_by_label("Seats").fill("2")
    page.get_by_role("button", name="Create customer").click()
    page.get_by_role("link", name="Dogwood Studio").wait_for()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
def test_support_access_granted_entered_and_left(new_page, signed_in, settings, viewport):
    settings.BILLING_ENABLED = True
    reseller = make_org("Northwind Partners", kind=OrgKind.RESELLER)
    customer = make_org("Cedar Dental Practice", kind=OrgKind.CUSTOMER, parent=reseller)
    owner = make_member(customer, "owner", email="owner@cedar.test")
    helper = make_member(reseller, "admin", email="helper@northwind.test")

    page = new_page(viewport=VIEWPORTS[viewport])
    signed_in(page, owner.user)
    page.goto("/settings/")
    page.get_by_role("button", name="Grant access").click()
    page.get_by_test_id("support-status").filter(has_text="Granted until").wait_for()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{viewport}-support-granted.png"), full_page=True)

    helper_page = new_page(viewport=VIEWPORTS[viewport])
    signed_in(helper_page, helper.user)
    helper_page.goto(f"/settings/reseller/customers/{customer.pk}/")
    helper_page.get_by_role("button", name="Enter for support").click()
    helper_page.get_by_test_id("support-banner").wait_for()
    overflow = helper_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    if SHOTS:
        helper_page.screenshot(path=os.path.join(SHOTS, f"{viewport}-support-inside.png"), full_page=True)
    helper_page.get_by_role("button", name="Back to Northwind Partners").click()
    helper_page.get_by_role("heading", name="Welcome").wait_for()
    assert helper_page.get_by_test_id("support-banner").count() == 0
