"""Linking a call to a contact, from the call page and through the API: only a contact of the
tenant that the member may see, audited; bad ids change nothing."""

from __future__ import annotations

import uuid

from django.urls import reverse

from octopushx.calls.models import Call
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services as crm
from tests.calls.factories import analysed_call
from tests.conftest import make_member


def _contact(tenant, name="Amelia Baker", owner=None):
    first, last = name.split()
    data = {"first_name": first, "last_name": last}
    if owner is not None:
        data["owner_id"] = str(owner.pk)
    return crm.create_contact(tenant, Actor.system("test"), data)


def test_page_links_the_call_and_audits_it(org, web_as):
    client = web_as("admin")
    call = analysed_call(org)
    contact = _contact(org)
    response = client.post(reverse("calls:link_contact", args=[call.pk]), {"contact_id": str(contact.pk)})
    assert response.status_code == 302
    assert Call.objects.get(pk=call.pk).contact_id == contact.pk
    entry = AuditEntry.objects.filter(tenant=org, action="call.updated").latest("seq")
    assert entry.object_id == str(call.pk) and entry.personal.changes["contact"] == [None, str(contact.pk)]
    page = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "The call is linked to Amelia Baker." in page and "Inbound call from Amelia Baker" in page


def test_page_unlinks_with_an_empty_choice(org, web_as):
    client = web_as("admin")
    contact = _contact(org)
    call = analysed_call(org)
    Call.objects.filter(pk=call.pk).update(contact=contact)
    client.post(reverse("calls:link_contact", args=[call.pk]), {"contact_id": ""})
    assert Call.objects.get(pk=call.pk).contact_id is None


def test_page_refuses_a_value_that_is_not_an_id_with_400(org, web_as):
    client = web_as("admin")
    call = analysed_call(org)
    response = client.post(reverse("calls:link_contact", args=[call.pk]), {"contact_id": "Amelia"})
    assert response.status_code == 400
    assert "Contact: Choose a contact from the list" in response.content.decode()
    assert Call.objects.get(pk=call.pk).contact_id is None


def test_page_answers_404_for_another_tenants_contact(org, other_org, web_as):
    client = web_as("admin")
    call = analysed_call(org)
    foreign = _contact(other_org)
    response = client.post(reverse("calls:link_contact", args=[call.pk]), {"contact_id": str(foreign.pk)})
    assert response.status_code == 404
    assert Call.objects.get(pk=call.pk).contact_id is None


def test_page_answers_404_for_another_tenants_call(org, other_org, web_as):
    call = analysed_call(other_org)
    contact = _contact(org)
    response = web_as("admin").post(reverse("calls:link_contact", args=[call.pk]), {"contact_id": str(contact.pk)})
    assert response.status_code == 404


def test_auditor_cannot_link(org, web_as):
    call = analysed_call(org)
    contact = _contact(org)
    response = web_as("auditor").post(reverse("calls:link_contact", args=[call.pk]), {"contact_id": str(contact.pk)})
    assert response.status_code == 403
    assert Call.objects.get(pk=call.pk).contact_id is None


def test_agent_cannot_link_a_contact_they_may_not_see(org, web_as, client):
    agent = make_member(org, "agent", email="agent-one@example.test")
    someone = make_member(org, "agent", email="agent-two@example.test")
    call = analysed_call(org, agent=agent.user)
    hidden = _contact(org, "Hidden Person", owner=someone.user)
    client.force_login(agent.user)
    response = client.post(reverse("calls:link_contact", args=[call.pk]), {"contact_id": str(hidden.pk)})
    assert response.status_code == 404
    own = _contact(org, "Own Person", owner=agent.user)
    assert client.post(reverse("calls:link_contact", args=[call.pk]), {"contact_id": str(own.pk)}).status_code == 302
    assert Call.objects.get(pk=call.pk).contact_id == own.pk


def test_api_links_and_unlinks(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    contact = _contact(org)
    body = client.put(f"/api/v1/calls/{call.pk}/contact", {"contact_id": str(contact.pk)}).json()
    assert body["contact"] == {"id": str(contact.pk), "name": "Amelia Baker"}
    assert AuditEntry.objects.filter(tenant=org, action="call.updated").count() == 1
    body = client.put(f"/api/v1/calls/{call.pk}/contact", {"contact_id": None}).json()
    assert body["contact"] is None and Call.objects.get(pk=call.pk).contact_id is None


def test_api_refuses_bad_and_foreign_ids(org, other_org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    bad = client.put(f"/api/v1/calls/{call.pk}/contact", {"contact_id": "not-an-id"})
    assert bad.status_code == 422 and bad.json()["errors"]["contact_id"] == ["Choose a contact from the list"]
    foreign = client.put(f"/api/v1/calls/{call.pk}/contact", {"contact_id": str(_contact(other_org).pk)})
    assert foreign.status_code == 404
    missing = client.put(f"/api/v1/calls/{call.pk}/contact", {"contact_id": str(uuid.uuid4())})
    assert missing.status_code == 404
    assert Call.objects.get(pk=call.pk).contact_id is None
    assert not AuditEntry.objects.filter(tenant=org, action="call.updated").exists()


def test_api_needs_the_write_right(org, api_as):
    call = analysed_call(org)
    response = api_as("auditor").put(f"/api/v1/calls/{call.pk}/contact", {"contact_id": str(_contact(org).pk)})
    assert response.status_code == 403
