"""Custom dashboards over the API: CRUD, sharing by role, arranging widgets, numbers run for the
viewer, deleted reports and removed fields shown as messages; wrong tenant 404, wrong role 403,
bad input 422 naming the field; the ready slugs still answer beside the ids."""

from __future__ import annotations

import uuid

import pytest

from octopushx.core.models import AuditEntry
from octopushx.reports import dashboards
from octopushx.reports.models import Dashboard, Report
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member
from tests.crm.conftest import make_deal

pytestmark = pytest.mark.django_db

SPEC = {"dataset": "deals", "measures": [{"agg": "count"}], "group_by": [{"field": "stage"}]}


@pytest.fixture
def team(org):
    admin = make_member(org, Role.ADMIN)
    manager = make_member(org, Role.MANAGER)
    agent = make_member(org, Role.AGENT)
    auditor = make_member(org, Role.AUDITOR)
    make_deal(org, owner=agent, value="100")
    make_deal(org, owner=agent, value="50")
    make_deal(org, owner=admin, value="1000")
    return {"admin": admin, "manager": manager, "agent": agent, "auditor": auditor}


def _report(api, **extra) -> str:
    answer = api.post("/api/v1/reports", {"name": "Deals by stage", "spec": SPEC, "view": "bar", **extra})
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def test_create_personal_dashboard_with_a_report_and_a_ready_widget(team):
    api = ApiClient(team["admin"])
    report_id = _report(api)
    answer = api.post(
        "/api/v1/dashboards",
        {"name": "Monday", "widgets": [{"report_id": report_id, "size": "lg"}, {"widget": "sales.win_rate"}]},
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["shared"] is False and body["editable"] is True
    assert [(w["kind"], w["size"], w["position"]) for w in body["widgets"]] == [
        ("report", "lg", 0),
        ("ready", "sm", 1),
    ]
    assert body["widgets"][0]["title"] == "Deals by stage"
    assert AuditEntry.objects.filter(tenant=team["admin"].tenant, action="dashboard.created").count() == 1


def test_get_runs_every_widget_for_the_viewer(org, team):
    admin = ApiClient(team["admin"])
    report_id = _report(admin, shared=True)
    dashboard_id = admin.post(
        "/api/v1/dashboards", {"name": "Team", "shared": True, "widgets": [{"report_id": report_id}]}
    ).json()["id"]
    as_admin = admin.get(f"/api/v1/dashboards/{dashboard_id}").json()["data"]
    as_agent = ApiClient(team["agent"]).get(f"/api/v1/dashboards/{dashboard_id}").json()["data"]
    assert as_admin["widgets"][0]["data"]["totals"]["count"] == 3
    assert as_agent["widgets"][0]["data"]["totals"]["count"] == 2
    assert as_admin["title"] == "Team" and as_admin["widgets"][0]["view"] == "bar"


def test_build_takes_a_custom_dashboards_id_and_returns_the_ready_shape(org, team):
    api = ApiClient(team["admin"])
    report_id = _report(api)
    dashboard_id = api.post(
        "/api/v1/dashboards", {"name": "Mine", "widgets": [{"report_id": report_id}, {"widget": "sales.deals_won"}]}
    ).json()["id"]
    ready = dashboards.build(org, team["admin"], "sales", "this_month")
    custom = dashboards.build(org, team["admin"], dashboard_id, "this_month")
    assert set(ready) <= set(custom)
    assert set(ready["widgets"][0]) <= set(custom["widgets"][0])
    assert custom["widgets"][1]["title"] == "Deals won" and custom["widgets"][1]["period"]["key"] == "this_month"
    assert custom["widgets"][0]["period"]["key"] == "all"  # the report has no period: all time


def test_a_report_with_a_period_follows_the_dashboards_period(org, team):
    api = ApiClient(team["admin"])
    spec = {**SPEC, "period": {"field": "created_at", "from": "2020-01-01", "to": "2020-01-31"}}
    report_id = api.post("/api/v1/reports", {"name": "Old", "spec": spec}).json()["id"]
    dashboard_id = api.post("/api/v1/dashboards", {"name": "P", "widgets": [{"report_id": report_id}]}).json()["id"]
    widget = dashboards.build(org, team["admin"], dashboard_id, "this_year")["widgets"][0]
    assert widget["period"]["key"] == "this_year"
    assert widget["data"]["totals"]["count"] == 3


def test_ready_slugs_still_answer_beside_custom_ids(team):
    api = ApiClient(team["admin"])
    assert api.post("/api/v1/dashboards", {"name": "sales"}).status_code == 201
    answer = api.get("/api/v1/dashboards/sales")
    assert answer.status_code == 200 and answer.json()["slug"] == "sales"
    assert api.get("/api/v1/dashboards/not-a-dashboard").status_code == 404
    assert api.get(f"/api/v1/dashboards/{uuid.uuid4()}").status_code == 404


def test_deleted_report_and_removed_field_show_a_message(org, team):
    from octopushx.crm.models import CustomField

    field = CustomField.objects.create(tenant=org, object_type="deal", key="seats", label="Seats", field_type="number")
    api = ApiClient(team["admin"])
    gone = _report(api)
    seats = api.post(
        "/api/v1/reports",
        {"name": "Seats", "spec": {"dataset": "deals", "measures": [{"agg": "sum", "field": "cf.seats"}]}},
    ).json()["id"]
    dashboard_id = api.post(
        "/api/v1/dashboards", {"name": "D", "widgets": [{"report_id": gone}, {"report_id": seats}]}
    ).json()["id"]
    assert api.delete(f"/api/v1/reports/{gone}").status_code == 204
    field.delete()
    answer = api.get(f"/api/v1/dashboards/{dashboard_id}")
    assert answer.status_code == 200
    first, second = answer.json()["data"]["widgets"]
    assert "deleted" in first["data"]["unavailable"]
    assert "'seats' was removed" in second["data"]["unavailable"]
    # the page shows both messages too
    client = ApiClient(team["admin"]).client
    client.force_login(team["admin"].user)
    page = client.get(f"/reports/dashboards/{dashboard_id}/").content.decode()
    assert "This report was deleted" in page and "was removed" in page


def test_a_widget_over_a_dataset_the_viewer_may_not_read_says_so(org, team):
    admin = ApiClient(team["admin"])
    report_id = admin.post(
        "/api/v1/reports", {"name": "Privacy", "spec": {"dataset": "privacy_requests"}, "shared": True}
    ).json()["id"]
    dashboard_id = admin.post(
        "/api/v1/dashboards",
        {"name": "Mixed", "shared": True, "widgets": [{"report_id": report_id}, {"widget": "compliance.privacy_open"}]},
    ).json()["id"]
    widgets = ApiClient(team["agent"]).get(f"/api/v1/dashboards/{dashboard_id}").json()["data"]["widgets"]
    assert all(w["data"]["unavailable"] for w in widgets)


def test_sharing_by_role(team):
    admin = ApiClient(team["admin"])
    personal = admin.post("/api/v1/dashboards", {"name": "Personal"}).json()["id"]
    managers = admin.post("/api/v1/dashboards", {"name": "Managers", "shared": True, "roles": ["manager"]}).json()["id"]
    agent, manager = ApiClient(team["agent"]), ApiClient(team["manager"])
    assert agent.get(f"/api/v1/dashboards/{personal}").status_code == 404
    assert agent.get(f"/api/v1/dashboards/{managers}").status_code == 403
    assert manager.get(f"/api/v1/dashboards/{managers}").status_code == 200
    assert {d["name"] for d in manager.get("/api/v1/dashboards").json()["items"]} == {"Managers"}
    assert manager.patch(f"/api/v1/dashboards/{managers}", {"name": "Mine now"}).status_code == 403
    assert manager.delete(f"/api/v1/dashboards/{managers}").status_code == 403


def test_arrange_reorder_resize_and_remove(team):
    api = ApiClient(team["admin"])
    report_id = _report(api)
    body = api.post(
        "/api/v1/dashboards",
        {
            "name": "A",
            "widgets": [{"report_id": report_id}, {"widget": "sales.win_rate"}, {"widget": "sales.deals_won"}],
        },
    ).json()
    first, second, third = (w["id"] for w in body["widgets"])
    answer = api.patch(
        f"/api/v1/dashboards/{body['id']}", {"widgets": [{"id": third, "size": "lg"}, {"id": first, "size": "sm"}]}
    )
    assert answer.status_code == 200, answer.content
    widgets = answer.json()["widgets"]
    assert [(w["id"], w["size"]) for w in widgets] == [(third, "lg"), (first, "sm")]
    assert widgets[1]["report_id"] == report_id
    entry = AuditEntry.objects.filter(tenant=team["admin"].tenant, action="dashboard.updated").latest("seq")
    assert entry.object_id == body["id"]
    del second


def test_add_a_report_to_a_dashboard(team):
    api = ApiClient(team["admin"])
    report_id = _report(api)
    dashboard_id = api.post("/api/v1/dashboards", {"name": "A"}).json()["id"]
    answer = api.post(f"/api/v1/dashboards/{dashboard_id}/widgets", {"report_id": report_id, "size": "lg"})
    assert answer.status_code == 201, answer.content
    assert answer.json()["dashboard"]["widgets"][0]["report_id"] == report_id
    assert Dashboard.objects.get(pk=dashboard_id).widgets[0]["size"] == "lg"


def test_another_tenants_dashboard_and_report_are_404(org, other_org, team):
    theirs = make_member(other_org, Role.ADMIN)
    their_report = Report.objects.create(tenant=other_org, name="B", spec=SPEC, owner=theirs.user, shared=True)
    their_board = Dashboard.objects.create(tenant=other_org, name="B", owner=theirs.user, shared=True)
    api = ApiClient(team["admin"])
    for method in ("get", "patch", "delete"):
        assert (
            getattr(api, method)(f"/api/v1/dashboards/{their_board.pk}", {} if method == "patch" else None).status_code
            == 404
        )
    assert api.post(f"/api/v1/dashboards/{their_board.pk}/widgets", {"widget": "sales.win_rate"}).status_code == 404
    mine = api.post("/api/v1/dashboards", {"name": "Mine"}).json()["id"]
    answer = api.post(f"/api/v1/dashboards/{mine}/widgets", {"report_id": str(their_report.pk)})
    assert answer.status_code == 422 and "report_id" in answer.json()["errors"]
    answer = api.post("/api/v1/dashboards", {"name": "X", "widgets": [{"report_id": str(their_report.pk)}]})
    assert answer.status_code == 422 and "widgets.0.report_id" in answer.json()["errors"]


def test_a_report_not_shared_with_me_cannot_be_added(team):
    private = _report(ApiClient(team["admin"]))
    manager = ApiClient(team["manager"])
    mine = manager.post("/api/v1/dashboards", {"name": "Mine"}).json()["id"]
    answer = manager.post(f"/api/v1/dashboards/{mine}/widgets", {"report_id": private})
    assert answer.status_code == 422 and "report_id" in answer.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "colour": "red"}, "colour"),
        ({"name": "A", "roles": ["boss"]}, "roles"),
        ({"name": "A", "widgets": "all"}, "widgets"),
        ({"name": "A", "widgets": [{"widget": "sales.nope"}]}, "widgets.0.widget"),
        ({"name": "A", "widgets": [{"widget": "sales.win_rate", "size": "xl"}]}, "widgets.0.size"),
        ({"name": "A", "widgets": [{}]}, "widgets.0.report_id"),
        ({"name": "A", "widgets": [{"report_id": "not-an-id"}]}, "widgets.0.report_id"),
    ],
)
def test_bad_input_is_422_naming_the_field(team, body, field):
    answer = ApiClient(team["admin"]).post("/api/v1/dashboards", body)
    assert answer.status_code == 422, answer.content
    assert field in answer.json()["errors"], answer.json()


def test_roles_that_may_not_write_or_share_are_403(team):
    assert ApiClient(team["auditor"]).post("/api/v1/dashboards", {"name": "A"}).status_code == 403
    assert ApiClient(team["agent"]).post("/api/v1/dashboards", {"name": "A", "shared": True}).status_code == 403
    assert ApiClient(team["agent"]).post("/api/v1/dashboards", {"name": "A"}).status_code == 201


def test_compliance_widgets_are_refused_to_roles_that_may_not_see_them(team):
    answer = ApiClient(team["manager"]).post(
        "/api/v1/dashboards", {"name": "A", "widgets": [{"widget": "compliance.privacy_open"}]}
    )
    assert answer.status_code == 422 and "widgets.0.widget" in answer.json()["errors"]


def test_delete_leaves_an_audit_entry(team):
    api = ApiClient(team["admin"])
    dashboard_id = api.post("/api/v1/dashboards", {"name": "Gone"}).json()["id"]
    assert api.delete(f"/api/v1/dashboards/{dashboard_id}").status_code == 204
    assert not Dashboard.objects.filter(pk=dashboard_id).exists()
    assert AuditEntry.objects.filter(action="dashboard.deleted", object_id=dashboard_id).exists()
