"""/api/v1/telephony/flows: CRUD, validate, simulate, compiled; roles, tenants and bad input."""

from __future__ import annotations

from xml.etree import ElementTree

from octopushx.core.models import AuditEntry
from octopushx.telephony.models import CallFlow
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member
from tests.telephony.samples import support_line

FLOWS = "/api/v1/telephony/flows"


def _create(api, definition=None):
    response = api.post(FLOWS, {"definition": definition or support_line()})
    assert response.status_code == 201, response.json()
    return response.json()


def test_an_admin_creates_a_flow_and_it_is_audited(line_org, api_as):
    api = api_as(Role.ADMIN)
    data = _create(api)
    assert (data["name"], data["revision"], data["is_active"], data["blocks"]) == ("Support line", 1, True, 5)
    assert data["definition"]["blocks"][2]["members"] == ["owner@acme.test"]
    assert data["definition"]["recording"]["enabled"] is True  # defaults are filled in
    assert AuditEntry.objects.filter(tenant=line_org, action="call_flow.created", object_id=data["id"]).exists()


def test_a_flow_with_an_option_to_nowhere_is_422_naming_the_block_and_nothing_is_saved(line_org, api_as):
    definition = support_line()
    definition["blocks"][1]["options"]["3"] = "sales"
    response = api_as(Role.ADMIN).post(FLOWS, {"definition": definition})
    assert response.status_code == 422
    assert response.json()["errors"] == {"definition.blocks.menu.options.3": ["No block called 'sales'"]}
    assert not CallFlow.objects.exists()


def test_a_member_who_is_not_in_the_organisation_is_422(line_org, api_as):
    definition = support_line()
    definition["blocks"][2]["members"] = ["stranger@elsewhere.test"]
    response = api_as(Role.ADMIN).post(FLOWS, {"definition": definition})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "definition.blocks.billing.members": ["stranger@elsewhere.test is not a member"]
    }


def test_an_unknown_team_is_422(line_org, api_as):
    definition = support_line()
    definition["blocks"][3]["team"] = "Night shift"
    response = api_as(Role.ADMIN).post(FLOWS, {"definition": definition})
    assert response.json()["errors"] == {"definition.blocks.support.team": ["No team called 'Night shift'"]}


def test_a_schedule_that_never_opens_is_saved_with_a_warning(line_org, api_as):
    definition = support_line()
    definition["blocks"][0]["schedule"] = {}
    data = _create(api_as(Role.ADMIN), definition)
    assert data["warnings"] == {"blocks.hours.schedule": ["The schedule never opens: every call goes to 'closed'"]}


def test_a_second_flow_with_the_same_name_is_422(line_org, api_as):
    api = api_as(Role.ADMIN)
    _create(api)
    response = api.post(FLOWS, {"definition": support_line()})
    assert response.status_code == 422
    assert "definition.name" in response.json()["errors"]


def test_changing_the_definition_raises_the_revision_and_names_the_changed_blocks(line_org, api_as):
    api = api_as(Role.OWNER)
    flow_id = _create(api)["id"]
    definition = support_line()
    definition["blocks"][1]["say"] = "Press 1 for billing, 2 for support."
    response = api.patch(f"{FLOWS}/{flow_id}", {"definition": definition})
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    entry = AuditEntry.objects.get(tenant=line_org, action="call_flow.updated")
    assert entry.personal.changes["blocks"] == [None, ["menu"]]


def test_switching_a_flow_off_keeps_its_revision(line_org, api_as):
    api = api_as(Role.ADMIN)
    flow_id = _create(api)["id"]
    data = api.patch(f"{FLOWS}/{flow_id}", {"is_active": False}).json()
    assert (data["is_active"], data["revision"]) == (False, 1)


def test_a_bad_change_is_422_and_leaves_the_flow_as_it_was(line_org, api_as):
    api = api_as(Role.ADMIN)
    flow_id = _create(api)["id"]
    definition = support_line()
    definition["blocks"][2]["members"] = []
    response = api.patch(f"{FLOWS}/{flow_id}", {"definition": definition})
    assert response.status_code == 422
    assert "definition.blocks.billing.members" in response.json()["errors"]
    assert CallFlow.objects.get(pk=flow_id).revision == 1


def test_list_get_and_delete(line_org, api_as):
    api = api_as(Role.ADMIN)
    flow_id = _create(api)["id"]
    assert [f["id"] for f in api.get(FLOWS).json()["items"]] == [flow_id]
    assert api.get(f"{FLOWS}/{flow_id}").json()["definition"]["start"] == "hours"
    assert api.delete(f"{FLOWS}/{flow_id}").status_code == 204
    assert api.get(f"{FLOWS}/{flow_id}").status_code == 404
    assert AuditEntry.objects.filter(tenant=line_org, action="call_flow.deleted").count() == 1


def test_a_manager_reads_but_cannot_change_flows(line_org, api_as):
    flow_id = _create(api_as(Role.ADMIN))["id"]
    manager = api_as(Role.MANAGER)
    assert manager.get(f"{FLOWS}/{flow_id}").status_code == 200
    assert manager.post(FLOWS, {"definition": support_line()}).status_code == 403
    assert manager.patch(f"{FLOWS}/{flow_id}", {"is_active": False}).status_code == 403
    assert manager.delete(f"{FLOWS}/{flow_id}").status_code == 403
    assert CallFlow.objects.get(pk=flow_id).is_active


def test_an_agent_has_no_flows(line_org, api_as):
    flow_id = _create(api_as(Role.ADMIN))["id"]
    agent = api_as(Role.AGENT)
    assert agent.get(FLOWS).status_code == 403
    assert agent.get(f"{FLOWS}/{flow_id}").status_code == 403
    body = {"from": "+447700900123", "at": "2026-12-07T10:30:00"}
    assert agent.post(f"{FLOWS}/{flow_id}/simulate", body).status_code == 403


def test_another_organisations_flow_is_404(line_org, other_org, api_as):
    flow_id = _create(api_as(Role.ADMIN))["id"]
    stranger = ApiClient(make_member(other_org, Role.OWNER))
    assert stranger.get(f"{FLOWS}/{flow_id}").status_code == 404
    assert stranger.patch(f"{FLOWS}/{flow_id}", {"is_active": False}).status_code == 404
    assert stranger.delete(f"{FLOWS}/{flow_id}").status_code == 404
    body = {"from": "+447700900123", "at": "2026-12-07T10:30:00"}
    assert stranger.post(f"{FLOWS}/{flow_id}/simulate", body).status_code == 404
    assert stranger.get(f"{FLOWS}/{flow_id}/compiled?provider=twilio&block=menu").status_code == 404
    assert CallFlow.objects.get(pk=flow_id).is_active


def test_validate_answers_errors_and_warnings_without_saving(line_org, api_as):
    definition = support_line()
    definition["blocks"].append({"id": "bye", "type": "hangup"})
    data = api_as(Role.MANAGER).post(f"{FLOWS}/validate", {"definition": definition}).json()
    assert data == {"ok": False, "errors": {"blocks.bye": ["Block 'bye' cannot be reached from 'hours'"]},
                    "warnings": {}}  # fmt: skip
    assert not CallFlow.objects.exists()


def test_simulate_the_issue_example(line_org, api_as):
    flow_id = _create(api_as(Role.ADMIN))["id"]
    body = {"from": "+447700900123", "at": "2026-12-07T10:30:00", "digits": ["1"]}
    data = api_as(Role.MANAGER).post(f"{FLOWS}/{flow_id}/simulate", body).json()
    # Nobody has set a presence yet: everyone is offline, so billing falls through to voicemail.
    assert data["path"] == ["hours", "menu", "billing", "vm"]
    assert data["steps"][2]["outcome"] == "all_busy"
    assert "owner@acme.test (offline)" in data["steps"][2]["detail"]


def test_simulate_rings_a_member_who_is_available(line_org, api_as):
    from octopushx.accounts.models import User
    from octopushx.core.context import Actor
    from octopushx.telephony import services

    services.set_presence(line_org, Actor.system("test"), User.objects.get(email="owner@acme.test"), "available")
    admin = api_as(Role.ADMIN)
    flow_id = _create(admin)["id"]
    body = {"from": "+447700900123", "at": "2026-12-07T10:30:00", "digits": ["1"]}
    data = admin.post(f"{FLOWS}/{flow_id}/simulate", body).json()
    assert (data["path"], data["steps"][2]["outcome"], data["ends"]) == (["hours", "menu", "billing"], "ringing",
                                                                          "answered")  # fmt: skip


def test_simulate_with_bad_input_is_422(line_org, api_as):
    api = api_as(Role.ADMIN)
    flow_id = _create(api)["id"]
    response = api.post(f"{FLOWS}/{flow_id}/simulate", {"from": "07700 900123", "at": "2026-12-07T10:30:00"})
    assert response.status_code == 422
    assert "from" in response.json()["errors"]
    response = api.post(f"{FLOWS}/{flow_id}/simulate", {"from": "+447700900123", "at": "Saturday",
                                                          "digits": ["12"]})  # fmt: skip
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"at", "digits.0"}


def test_compiled_twiml_and_ncco_of_a_block(line_org, api_as):
    api = api_as(Role.MANAGER)
    flow_id = _create(api_as(Role.ADMIN))["id"]
    twilio = api.get(f"{FLOWS}/{flow_id}/compiled?provider=twilio&block=menu").json()
    assert twilio["twiml"].startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Gather')
    assert f"/hooks/telephony/twilio/voice/{flow_id}/menu?step=choice" in twilio["twiml"]
    vonage = api.get(f"{FLOWS}/{flow_id}/compiled?provider=vonage&block=menu").json()
    assert [a["action"] for a in vonage["ncco"]] == ["talk", "input"]


def test_compiled_with_an_unknown_provider_or_block_is_422(line_org, api_as):
    api = api_as(Role.ADMIN)
    flow_id = _create(api)["id"]
    assert api.get(f"{FLOWS}/{flow_id}/compiled?provider=plivo&block=menu").json()["errors"] == {
        "provider": ["One of twilio, vonage"]
    }
    assert api.get(f"{FLOWS}/{flow_id}/compiled?provider=twilio&block=nope").status_code == 422


def test_the_openapi_document_carries_the_definitions_schema(api_as, line_org):
    schema = api_as(Role.ADMIN).get("/api/v1/openapi.json").json()
    definition = schema["components"]["schemas"]["FlowIn"]["properties"]["definition"]
    assert definition["properties"]["blocks"]["items"]["discriminator"] == {"propertyName": "type"}


def test_compiled_ring_group_rings_only_members_available_now(line_org, api_as):
    from octopushx.core.context import Actor
    from octopushx.telephony import services
    from octopushx.telephony.models import Presence
    from octopushx.tenancy.models import Membership

    members = {m.user.email: m for m in Membership.objects.filter(tenant=line_org).select_related("user")}
    services.set_presence(line_org, Actor.system("test"), members["ann@acme.test"].user, "available")
    services.set_presence(line_org, Actor.system("test"), members["bob@acme.test"].user, "available")
    Presence.objects.filter(user=members["ann@acme.test"].user).update(phone_number="+447700900201")
    Presence.objects.filter(user=members["bob@acme.test"].user).update(sip_uri="sip:bob@acme.sip.example")
    services.apply_call_status(line_org, members["bob@acme.test"].user, call_ref="CA9", state="in-progress")
    admin = api_as(Role.ADMIN)
    flow_id = _create(admin)["id"]
    twiml = admin.get(f"{FLOWS}/{flow_id}/compiled?provider=twilio&block=support").json()["twiml"]
    dialled = ElementTree.fromstring(twiml.encode()).findall("Dial/Number")
    assert [n.text for n in dialled] == ["+447700900201"]  # ann rings on her own line
    assert "bob@acme" not in twiml  # on a call: skipped
    ncco = admin.get(f"{FLOWS}/{flow_id}/compiled?provider=vonage&block=billing").json()["ncco"]
    # owner@acme.test is offline: billing falls through to voicemail, inline.
    assert [a["action"] for a in ncco] == ["talk", "record", "talk"]
