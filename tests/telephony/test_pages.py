"""The call flow pages: list, new, a flow's page with its checks and the simulator; roles and tenants."""

from __future__ import annotations

import json

from django.urls import reverse

from octopushx.core.context import Actor
from octopushx.telephony import services
from octopushx.telephony.models import CallFlow
from octopushx.tenancy.roles import Role
from tests.telephony.samples import support_line


def _flow(org):
    row, _ = services.create_flow(org, Actor.system("test"), support_line())
    return row


def test_the_list_shows_the_organisations_flows(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.MANAGER)
    page = client.get(reverse("telephony:list"))
    assert page.status_code == 200
    assert row.name in page.content.decode()
    assert "New call flow" not in page.content.decode()  # managers read only


def test_an_agent_has_no_flow_pages(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.AGENT)
    assert client.get(reverse("telephony:list")).status_code == 403
    assert client.get(reverse("telephony:flow", args=[row.pk])).status_code == 403


def test_another_organisations_flow_page_is_404(line_org, other_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.OWNER, tenant=other_org)
    assert client.get(reverse("telephony:flow", args=[row.pk])).status_code == 404
    assert client.post(reverse("telephony:simulate", args=[row.pk]), {"from": "+447700900123"}).status_code == 404


def test_the_flow_page_shows_each_block_and_its_exits(line_org, web_as):
    row = _flow(line_org)
    html = web_as(Role.ADMIN).get(reverse("telephony:flow", args=[row.pk])).content.decode()
    for block_id in ("hours", "menu", "billing", "support", "vm"):
        assert f'data-block="{block_id}"' in html
    assert "Press 1 →" in html


def test_check_names_the_block_and_the_key_of_a_broken_option(line_org, web_as):
    definition = support_line()
    definition["blocks"][1]["options"]["3"] = "sales"
    html = web_as(Role.ADMIN).post(reverse("telephony:check"), {"definition": json.dumps(definition)}).content.decode()
    assert "Press 3: No block called &#x27;sales&#x27;" in html
    assert "1 problem to fix before saving" in html


def test_check_reports_json_that_does_not_parse(line_org, web_as):
    html = web_as(Role.ADMIN).post(reverse("telephony:check"), {"definition": '{"name": '}).content.decode()
    assert "Not valid JSON" in html


def test_an_admin_creates_a_flow_from_the_page(line_org, web_as):
    response = web_as(Role.ADMIN).post(reverse("telephony:new"), {"definition": json.dumps(support_line())})
    row = CallFlow.objects.get(tenant=line_org)
    assert response.status_code == 302 and response["Location"] == reverse("telephony:flow", args=[row.pk])


def test_saving_a_broken_flow_shows_the_errors_and_saves_nothing(line_org, web_as):
    row = _flow(line_org)
    definition = support_line()
    definition["blocks"][2]["members"] = []
    response = web_as(Role.ADMIN).post(reverse("telephony:flow", args=[row.pk]),
                                       {"definition": json.dumps(definition), "is_active": "on"})  # fmt: skip
    assert response.status_code == 422
    assert "The ring group has no members and no team" in response.content.decode()
    row.refresh_from_db()
    assert row.revision == 1


def test_a_manager_cannot_save_from_the_page(line_org, web_as):
    row = _flow(line_org)
    response = web_as(Role.MANAGER).post(reverse("telephony:flow", args=[row.pk]),
                                         {"definition": json.dumps(support_line())})  # fmt: skip
    assert response.status_code == 403


def test_the_simulator_shows_the_steps(line_org, web_as):
    row = _flow(line_org)
    data = {"from": "+447700900123", "date": "2026-12-25", "time": "10:30", "digits": "1"}
    html = web_as(Role.MANAGER).post(reverse("telephony:simulate", args=[row.pk]), data,
                                     HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
    assert "Christmas Day" in html
    assert 'data-testid="simulation-steps"' in html


def test_the_simulator_refuses_a_local_number(line_org, web_as):
    row = _flow(line_org)
    data = {"from": "07700 900123", "date": "2026-12-07", "time": "10:30", "digits": ""}
    response = web_as(Role.ADMIN).post(reverse("telephony:simulate", args=[row.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "international" in response.content.decode()
