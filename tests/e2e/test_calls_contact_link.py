"""Linking a call to a contact from the call page with the type-ahead picker, in a real browser;
and the call page's phone layout (one column, nothing wider than the screen)."""

from __future__ import annotations

import pytest

from octopushx.calls.models import Call
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services as crm
from tests.calls.factories import analysed_call
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner():
    return make_member(make_org("Acme Support"), "owner", email="link-owner@example.test")


def test_link_a_call_to_a_contact_from_the_call_page(page, signed_in, owner):
    actor = Actor(user=owner.user)
    north = crm.create_company(owner.tenant, actor, {"name": "North Mills"})
    crm.create_contact(owner.tenant, actor, {"first_name": "Amelia", "last_name": "Baker", "emails": ["ab@home.test"]})
    wanted = crm.create_contact(
        owner.tenant,
        actor,
        {"first_name": "Amelia", "last_name": "Baker", "emails": ["amelia@north.test"], "company_id": str(north.pk)},
    )
    call = analysed_call(owner.tenant, agent=owner.user)
    signed_in(page, owner.user)
    page.goto(f"/calls/{call.pk}/")
    box = page.get_by_role("combobox", name="Link to a contact")
    box.click()
    box.fill("Amelia")
    options = page.locator(".ts-dropdown .option")
    options.filter(has_text="North Mills").wait_for()
    assert options.count() == 2
    options.filter(has_text="North Mills").click()
    page.get_by_test_id("link-contact").get_by_role("button", name="Link").click()
    page.get_by_text("The call is linked to Amelia Baker.").wait_for()
    assert Call.objects.get(pk=call.pk).contact_id == wanted.pk
    assert AuditEntry.objects.filter(tenant=owner.tenant, action="call.updated").exists()
    assert "Inbound call from Amelia Baker" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_test_id("call-contact").get_by_role("link", name="Amelia Baker").wait_for()


def test_call_page_on_a_phone_is_one_column(new_page, signed_in, owner):
    page = new_page(viewport={"width": 390, "height": 844})
    call = analysed_call(owner.tenant, agent=owner.user)
    signed_in(page, owner.user)
    page.goto(f"/calls/{call.pk}/")
    page.locator("[data-chart=sentiment] svg").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    transcript = page.get_by_role("heading", name="Transcript").bounding_box()
    summary = page.get_by_role("heading", name="Summary").bounding_box()
    assert abs(transcript["x"] - summary["x"]) < 2  # stacked, not side by side
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.call-layout *')].map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 390
