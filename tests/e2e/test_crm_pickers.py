"""The type-ahead pickers in a real browser: among three namesakes the second line tells them apart,
and the one picked is the one linked."""

import pytest

from octopushx.core.context import Actor
from octopushx.crm import services
from octopushx.crm.models import Deal
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner():
    return make_member(make_org("Acme Support"), "owner", email="picker-owner@example.test")


def test_typing_a_name_among_namesakes_links_the_one_picked(page, signed_in, owner):
    actor = Actor(user=owner.user)
    tenant = owner.tenant
    silver = services.create_company(tenant, actor, {"name": "Silver Print"})
    north = services.create_company(tenant, actor, {"name": "North Mills"})
    services.create_contact(
        tenant,
        actor,
        {"first_name": "Amelia", "last_name": "Baker", "emails": ["amelia@silver.test"], "company_id": str(silver.pk)},
    )
    wanted = services.create_contact(
        tenant,
        actor,
        {"first_name": "Amelia", "last_name": "Baker", "emails": ["amelia@north.test"], "company_id": str(north.pk)},
    )
    services.create_contact(tenant, actor, {"first_name": "Amelia", "last_name": "Baker", "emails": ["ab@home.test"]})
    signed_in(page, owner.user)
    page.goto("/crm/deals/new/")
    page.get_by_label("Name").fill("Mill refit")
    box = page.get_by_role("combobox", name="Contacts")
    box.click()
    box.fill("Amelia Baker")
    options = page.locator(".ts-dropdown .option")
    options.filter(has_text="amelia@north.test").wait_for()
    assert options.count() == 3
    details = sorted(options.locator(".picker-detail").all_inner_texts())
    assert details == ["ab@home.test", "amelia@north.test · North Mills", "amelia@silver.test · Silver Print"]
    options.filter(has_text="North Mills").click()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Mill refit").wait_for()
    deal = Deal.objects.get(name="Mill refit")
    assert list(deal.contacts.all()) == [wanted]
    assert deal.owner_id == owner.user_id  # the creator, without choosing


LONG_FIRST = "Wolfeschlegelsteinhausenbergerdorff-Maximilian"  # 46 letters
LONG_LAST = "Featherstonehaugh-Cholmondeley-Marjoribanks-Smytheson"  # 53: with the space, 100


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_a_100_character_name_wraps_inside_the_contact_page(new_page, signed_in, owner, width, height):
    actor = Actor(user=owner.user)
    contact = services.create_contact(
        owner.tenant,
        actor,
        {
            "first_name": LONG_FIRST,
            "last_name": LONG_LAST,
            "emails": ["bartholomew.featherstonehaugh-cholmondeley@averyveryverylongdomainname-example.co.uk"],
        },
    )
    assert len(contact.full_name) == 100
    page = new_page(viewport={"width": width, "height": height})
    signed_in(page, owner.user)
    page.goto(f"/crm/contacts/{contact.pk}/")
    page.get_by_role("heading", name=contact.full_name).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The timeline tells the creation in words, with no empty fields and no ids.
    created = page.locator(".timeline-event", has_text="Contact created")
    assert created.get_by_text(f"First name set to {LONG_FIRST}").is_visible()
    assert str(contact.pk) not in created.inner_text() and "∅" not in created.inner_text()
    page.goto(f"/crm/contacts/{contact.pk}/edit/")
    page.get_by_role("button", name="Save").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
