"""The home page: an agent signs in and goes straight from an overdue task to its contact."""

from datetime import timedelta

import pytest
from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.crm import services as crm
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_agent_opens_an_overdue_task_contact_from_home(page, signed_in):
    agent = make_member(make_org("Acme Support"), "agent")
    actor = Actor(user=agent.user, role=agent.role)
    contact = crm.create_contact(agent.tenant, actor, {"first_name": "Priya", "last_name": "Shah"})
    due = (timezone.now() - timedelta(days=1)).isoformat()
    crm.create_task(agent.tenant, actor, {"title": "Send the quote", "due_at": due, "contact_id": str(contact.pk)})
    signed_in(page, agent.user)
    tasks = page.get_by_role("main").locator("section", has=page.get_by_role("heading", name="My tasks"))
    assert "1 overdue" in tasks.inner_text()
    tasks.get_by_role("link", name="Priya Shah").click()
    page.get_by_role("heading", name="Priya Shah").wait_for()
    assert page.url.endswith(f"/crm/contacts/{contact.pk}/")


def test_home_on_a_phone_stacks_its_panels_in_one_column(page, signed_in):
    owner = make_member(make_org("Acme Support"), "owner")
    actor = Actor(user=owner.user, role=owner.role)
    contact = crm.create_contact(owner.tenant, actor, {"first_name": "Priya", "last_name": "Shah"})
    due = (timezone.now() - timedelta(days=1)).isoformat()
    crm.create_task(owner.tenant, actor, {"title": "Send the quote", "due_at": due, "contact_id": str(contact.pk)})
    signed_in(page, owner.user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    main = page.get_by_role("main")
    tasks = main.locator("section", has=page.get_by_role("heading", name="My tasks"))
    calls = main.locator("section", has=page.get_by_role("heading", name="Calls"))
    first, second = tasks.bounding_box(), calls.bounding_box()
    # one column: each panel nearly as wide as the screen, the second below the first
    assert first["width"] >= 340 and second["width"] >= 340
    assert second["y"] >= first["y"] + first["height"]
    assert first["y"] < 844  # the first panel starts on the first screen
    assert page.get_by_role("button", name="Menu").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
