"""The report builder, its live preview, the saved list and the custom dashboard page: who sees what,
bad input 422 naming the field, another tenant's ids 404."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from octopushx.reports.models import Dashboard, Report
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.crm.conftest import make_deal

pytestmark = pytest.mark.django_db

SPEC = {"dataset": "deals", "measures": [{"agg": "count"}], "group_by": [{"field": "stage"}]}


def _client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def _preview(client, body):
    return client.post("/reports/preview/", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "agent", "auditor"])
def test_every_role_opens_the_builder_and_the_saved_list(web_as, role):
    client = web_as(role)
    page = client.get("/reports/new/").content.decode()
    assert 'id="rb-catalog"' in page
    assert ("Save report" in page) is (role != "auditor")
    assert client.get("/reports/saved/").status_code == 200


def test_the_builder_offers_only_datasets_the_role_reads(web_as):
    agent = web_as("agent").get("/reports/new/").content.decode()
    assert '"privacy_requests"' not in agent and '"deals"' in agent


def test_preview_draws_the_card_with_links_to_the_records(org):
    admin = make_member(org, Role.ADMIN)
    make_deal(org, owner=admin, value="100")
    answer = _preview(_client(admin), {"spec": SPEC, "view": "bar", "name": "By stage"})
    assert answer.status_code == 200, answer.content
    html = answer.json()["html"]
    assert "data-report-chart" in html and "/crm/deals/?" in html


def test_preview_shows_the_change_against_the_previous_period(org):
    admin = make_member(org, Role.ADMIN)
    make_deal(org, owner=admin, value="100")
    spec = {**SPEC, "period": {"field": "created_at", "from": "2000-01-01", "to": "2100-12-31"}}
    answer = _preview(_client(admin), {"spec": {**spec, "compare": "previous_period"}, "view": "bar"})
    html = answer.json()["html"]
    assert "report-delta" in html and "+1" in html


def test_preview_of_a_bad_spec_is_422_naming_the_field(org):
    admin = make_member(org, Role.ADMIN)
    bad = {"dataset": "deals", "measures": [{"agg": "sum", "field": "status"}]}
    answer = _preview(_client(admin), {"spec": bad, "view": "bar"})
    assert answer.status_code == 422
    assert "measures.0.field" in answer.json()["errors"]
    assert _preview(_client(admin), ["not", "an", "object"]).status_code == 422


def test_preview_of_a_dataset_the_role_may_not_read_is_403(org):
    agent = make_member(org, Role.AGENT)
    assert _preview(_client(agent), {"spec": {"dataset": "privacy_requests"}}).status_code == 403


def test_preview_needs_post(web_as):
    assert web_as("admin").get("/reports/preview/").status_code == 405


def test_a_report_not_shared_is_404_in_the_builder(org):
    owner = make_member(org, Role.ADMIN)
    report = Report.objects.create(tenant=org, name="Mine", spec=SPEC, owner=owner.user)
    agent = make_member(org, Role.AGENT)
    assert _client(agent).get(f"/reports/{report.pk}/").status_code == 404
    assert _client(owner).get(f"/reports/{report.pk}/").status_code == 200


def test_a_shared_report_opens_read_only_for_others(org):
    owner = make_member(org, Role.ADMIN)
    report = Report.objects.create(tenant=org, name="Team", spec=SPEC, owner=owner.user, shared=True)
    page = _client(make_member(org, Role.AGENT)).get(f"/reports/{report.pk}/").content.decode()
    assert "saving is for its owner" in page and 'data-open-dialog="save-report"' not in page


def test_saved_list_shows_mine_and_shared_with_downloads(org):
    me = make_member(org, Role.MANAGER)
    other = make_member(org, Role.ADMIN)
    mine = Report.objects.create(tenant=org, name="Mine", spec=SPEC, owner=me.user)
    Report.objects.create(tenant=org, name="Their private one", spec=SPEC, owner=other.user)
    Dashboard.objects.create(tenant=org, name="Shared board", owner=other.user, shared=True, roles=["manager"])
    Dashboard.objects.create(tenant=org, name="Admins only", owner=other.user, shared=True, roles=["admin"])
    page = _client(me).get("/reports/saved/").content.decode()
    assert "Mine" in page and "Shared board" in page
    assert "Their private one" not in page and "Admins only" not in page
    assert f"/api/v1/reports/{mine.pk}/data?format=csv" in page
    assert f"/api/v1/reports/{mine.pk}/data?format=xlsx" in page


def test_custom_dashboard_page_for_viewers_and_editors(org):
    owner = make_member(org, Role.MANAGER)
    board = Dashboard.objects.create(
        tenant=org,
        name="Team board",
        owner=owner.user,
        shared=True,
        widgets=[{"id": "w1", "widget": "sales.deals_created", "size": "sm"}],
    )
    mine = _client(owner).get(f"/reports/dashboards/{board.pk}/").content.decode()
    assert 'data-widget-id="w1"' in mine and "data-drag-handle" in mine
    theirs = _client(make_member(org, Role.AGENT)).get(f"/reports/dashboards/{board.pk}/").content.decode()
    assert 'data-widget-id="w1"' in theirs and "data-drag-handle" not in theirs


def test_custom_dashboard_of_another_tenant_or_not_shared_is_404(org, other_org):
    me = make_member(org, Role.ADMIN)
    theirs = make_member(other_org, Role.ADMIN)
    foreign = Dashboard.objects.create(tenant=other_org, name="B", owner=theirs.user, shared=True)
    private = Dashboard.objects.create(tenant=org, name="P", owner=make_member(org, Role.MANAGER).user)
    assert _client(me).get(f"/reports/dashboards/{foreign.pk}/").status_code == 404
    assert _client(me).get(f"/reports/dashboards/{private.pk}/").status_code == 404


def test_custom_dashboard_period_picker(org):
    owner = make_member(org, Role.ADMIN)
    board = Dashboard.objects.create(tenant=org, name="B", owner=owner.user)
    page = _client(owner).get(f"/reports/dashboards/{board.pk}/?period=last_month").content.decode()
    assert '<option value="last_month" selected>' in page and "This dashboard is empty" in page


def test_a_report_saved_with_a_named_period_rolls_on(org):
    from octopushx.reports import dashboards, services

    admin = make_member(org, Role.ADMIN)
    make_deal(org, owner=admin, value="100")
    spec = {
        **SPEC,
        "period": {"field": "created_at", "from": "2020-01-01", "to": "2020-01-31", "relative": "this_month"},
    }
    report = Report.objects.create(tenant=org, name="This month", spec=spec, owner=admin.user)
    data = services.report_data(org, admin, report)
    today = dashboards.resolve_period(org, "this_month")
    assert data["period"]["from"] == today.start.isoformat() and data["totals"]["count"] == 1
    page = _client(admin).get(f"/reports/{report.pk}/").content.decode()
    assert '"relative": "this_month"' in page  # the builder reopens it as "This month"


def test_custom_dashboard_shared_with_other_roles_is_403(org):
    owner = make_member(org, Role.ADMIN)
    board = Dashboard.objects.create(tenant=org, name="Managers", owner=owner.user, shared=True, roles=["manager"])
    assert _client(make_member(org, Role.AGENT)).get(f"/reports/dashboards/{board.pk}/").status_code == 403
    assert _client(make_member(org, Role.MANAGER)).get(f"/reports/dashboards/{board.pk}/").status_code == 200
