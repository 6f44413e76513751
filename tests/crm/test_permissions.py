"""Who sees and changes which CRM rows (acceptance 9)."""

import pytest

from octopushx.crm.models import Contact
from octopushx.tenancy.models import Team
from tests.conftest import make_member

from .conftest import make_contact, make_deal


@pytest.fixture
def teams(org):
    support = Team.objects.create(tenant=org, name="Support")
    sales = Team.objects.create(tenant=org, name="Sales")
    return support, sales


def _in_team(membership, team):
    membership.team = team
    membership.save(update_fields=["team"])
    return membership


def _names(client, path="/api/v1/contacts"):
    return sorted(c["first_name"] for c in client.get(path).json()["items"])


def test_agent_sees_only_what_they_own(api_as, org, teams):
    agent = api_as("agent")
    _in_team(agent.membership, teams[0])
    teammate = _in_team(make_member(org, "agent", email="mate@example.test"), teams[0])
    make_contact(org, owner=agent.membership, first_name="Mine")
    make_contact(org, owner=teammate, first_name="Mate")
    make_contact(org, first_name="Nobody")
    assert _names(agent) == ["Mine"]


def test_agent_sees_team_when_tenant_opens_visibility_to_team(api_as, org, teams):
    agent = api_as("agent")
    _in_team(agent.membership, teams[0])
    teammate = _in_team(make_member(org, "agent", email="mate@example.test"), teams[0])
    stranger = _in_team(make_member(org, "agent", email="far@example.test"), teams[1])
    make_contact(org, owner=agent.membership, first_name="Mine")
    make_contact(org, owner=teammate, first_name="Mate")
    make_contact(org, owner=stranger, first_name="Far")
    assert api_as("admin").patch("/api/v1/crm/settings", {"agent_visibility": "team"}).status_code == 200
    assert _names(agent) == ["Mate", "Mine"]


def test_agent_sees_everything_when_tenant_opens_visibility_to_all(api_as, org):
    agent = api_as("agent")
    make_contact(org, first_name="Nobody")
    api_as("admin").patch("/api/v1/crm/settings", {"agent_visibility": "all"})
    assert _names(agent) == ["Nobody"]


def test_manager_sees_their_team(api_as, org, teams):
    manager = api_as("manager")
    _in_team(manager.membership, teams[0])
    teammate = _in_team(make_member(org, "agent", email="mate@example.test"), teams[0])
    stranger = _in_team(make_member(org, "agent", email="far@example.test"), teams[1])
    make_contact(org, owner=teammate, first_name="Mate")
    make_contact(org, owner=stranger, first_name="Far")
    assert _names(manager) == ["Mate"]


@pytest.mark.parametrize("role", ["owner", "admin", "auditor"])
def test_owner_admin_auditor_see_everything(api_as, org, role):
    make_contact(org, first_name="Nobody")
    make_contact(org, owner=make_member(org, "agent", email="x@example.test"), first_name="Someone")
    assert _names(api_as(role)) == ["Nobody", "Someone"]


def test_hidden_record_is_404_for_read_write_and_delete(api_as, org):
    agent = api_as("agent")
    hidden = make_contact(org, first_name="Hidden")
    assert agent.get(f"/api/v1/contacts/{hidden.pk}").status_code == 404
    assert agent.patch(f"/api/v1/contacts/{hidden.pk}", {"first_name": "X"}).status_code == 404
    hidden.refresh_from_db()
    assert hidden.first_name == "Hidden"


def test_agent_cannot_link_a_hidden_company_or_contact(api_as, org):
    from .conftest import make_company

    agent = api_as("agent")
    company = make_company(org)
    response = agent.post("/api/v1/contacts", {"first_name": "A", "company_id": str(company.pk)})
    assert response.status_code == 422 and "company_id" in response.json()["errors"]


def test_auditor_is_read_only(api_as, org):
    auditor = api_as("auditor")
    contact = make_contact(org)
    assert auditor.get(f"/api/v1/contacts/{contact.pk}").status_code == 200
    assert auditor.post("/api/v1/contacts", {"first_name": "No"}).status_code == 403
    assert auditor.patch(f"/api/v1/contacts/{contact.pk}", {"first_name": "No"}).status_code == 403
    assert auditor.delete(f"/api/v1/contacts/{contact.pk}").status_code == 403
    assert auditor.post("/api/v1/deals", {"name": "No"}).status_code == 403
    assert auditor.post("/api/v1/tasks", {"title": "No"}).status_code == 403
    assert auditor.post("/api/v1/notes", {"body": "No"}).status_code == 403
    assert Contact.objects.for_tenant(org).count() == 1


def test_agent_cannot_delete_even_their_own(api_as, org):
    agent = api_as("agent")
    contact = make_contact(org, owner=agent.membership)
    deal = make_deal(org, owner=agent.membership)
    assert agent.delete(f"/api/v1/contacts/{contact.pk}").status_code == 403
    assert agent.delete(f"/api/v1/deals/{deal.pk}").status_code == 403


def test_agent_edits_their_own(api_as, org):
    agent = api_as("agent")
    contact = make_contact(org, owner=agent.membership)
    response = agent.patch(f"/api/v1/contacts/{contact.pk}", {"job_title": "Boss"})
    assert response.status_code == 200 and response.json()["job_title"] == "Boss"


def test_other_tenants_records_are_404(api_as, org, other_org):
    client = api_as("owner")
    foreign = make_contact(other_org)
    foreign_deal = make_deal(other_org)
    assert client.get(f"/api/v1/contacts/{foreign.pk}").status_code == 404
    assert client.patch(f"/api/v1/contacts/{foreign.pk}", {"first_name": "X"}).status_code == 404
    assert client.delete(f"/api/v1/contacts/{foreign.pk}").status_code == 404
    assert client.get(f"/api/v1/deals/{foreign_deal.pk}").status_code == 404
    assert client.get("/api/v1/contacts/not-a-uuid").status_code == 404
    assert client.get("/api/v1/contacts").json()["items"] == []


def test_only_admins_change_crm_settings(api_as):
    assert api_as("manager").patch("/api/v1/crm/settings", {"agent_visibility": "all"}).status_code == 403
    response = api_as("admin").patch("/api/v1/crm/settings", {"agent_visibility": "everyone"})
    assert response.status_code == 422 and "agent_visibility" in response.json()["errors"]


def test_tasks_assigned_to_agent_are_visible_to_them(api_as, org):
    agent = api_as("agent")
    admin = api_as("admin")
    task = admin.post("/api/v1/tasks", {"title": "For agent", "assignee_id": str(agent.membership.user.pk)}).json()
    admin.post("/api/v1/tasks", {"title": "For admin"})
    assert [t["title"] for t in agent.get("/api/v1/tasks").json()["items"]] == ["For agent"]
    assert agent.post(f"/api/v1/tasks/{task['id']}/complete").status_code == 200
