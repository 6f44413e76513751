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
