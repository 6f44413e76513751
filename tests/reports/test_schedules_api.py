"""API of scheduled reports: CRUD, who may do what, and bad input as 422 naming the field."""

from __future__ import annotations

import pytest

from octopushx.core.models import AuditEntry
from octopushx.reports.models import Report, ReportSchedule
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org):
    return {role: make_member(org, role, email=f"{role}@sched.test") for role in Role.values}


def body(*members, **extra):
    data = {
        "dashboard": "sales",
        "format": "pdf",
        "frequency": "weekly",
        "weekday": "monday",
        "time": "08:00",
        "recipient_ids": [str(m.user_id) for m in members],
    }
    data.update(extra)
    return data


def test_manager_schedules_a_dashboard_for_two_members(people, org):
    manager, agent = people["manager"], people["agent"]
    response = ApiClient(manager).post("/api/v1/report-schedules", body(manager, agent, name="Monday pipeline"))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["target"] == {"kind": "dashboard", "dashboard": "sales", "report_id": None, "title": "Sales dashboard"}
    assert data["weekday"] == 0 and data["time"] == "08:00" and data["enabled"] is True
    assert {r["email"] for r in data["recipients"]} == {"manager@sched.test", "agent@sched.test"}
    assert all(r["next_at"] and r["time_zone"] == "Europe/London" for r in data["recipients"])
    assert data["description"].startswith("Weekly on Monday at 08:00")
    assert AuditEntry.objects.filter(tenant=org, action="report_schedule.created").count() == 1


def test_list_has_items_and_next(people):
    client = ApiClient(people["admin"])
    for _ in range(3):
        assert client.post("/api/v1/report-schedules", body(people["admin"])).status_code == 201
    page = client.get("/api/v1/report-schedules?limit=2").json()
    assert len(page["items"]) == 2 and page["next"]
    rest = client.get(f"/api/v1/report-schedules?limit=2&cursor={page['next']}").json()
    assert len(rest["items"]) == 1 and rest["next"] is None


def test_get_patch_delete(people, org):
    client = ApiClient(people["admin"])
    created = client.post("/api/v1/report-schedules", body(people["admin"])).json()
    url = f"/api/v1/report-schedules/{created['id']}"
    assert client.get(url).json()["id"] == created["id"]
    changed = client.patch(url, {"frequency": "monthly", "day_of_month": 31, "time": "18:30", "enabled": False})
    assert changed.status_code == 200, changed.content
    assert changed.json()["day_of_month"] == 31 and changed.json()["weekday"] is None
    assert changed.json()["enabled"] is False and changed.json()["next_at"] is None
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    actions = set(AuditEntry.objects.filter(tenant=org).values_list("action", flat=True))
    assert {"report_schedule.created", "report_schedule.updated", "report_schedule.deleted"} <= actions


def test_saved_report_target(people, org):
    admin = people["admin"]
    report = Report.objects.create(tenant=org, name="Won deals", spec={"dataset": "deals"}, owner=admin.user)
    response = ApiClient(admin).post(
        "/api/v1/report-schedules", body(admin, dashboard=None, report_id=str(report.pk), format="csv")
    )
    assert response.status_code == 201, response.content
    assert response.json()["target"]["title"] == "Won deals"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time": "25:00"}, "time"),
        ({"time": "8am"}, "time"),
        ({"weekday": None}, "weekday"),
        ({"weekday": 7}, "weekday"),
        ({"frequency": "monthly", "weekday": None}, "day_of_month"),
        ({"frequency": "monthly", "weekday": None, "day_of_month": 32}, "day_of_month"),
        ({"frequency": "hourly"}, "frequency"),
        ({"format": "docx"}, "format"),
        ({"period": "forever"}, "period"),
        ({"recipient_ids": []}, "recipient_ids"),
        ({"recipient_ids": ["not-a-uuid"]}, "recipient_ids.0"),
        ({"recipient_ids": ["6f1c8a52-8a0e-4c55-9d39-1f2d2b3c4d5e"]}, "recipient_ids.0"),
        ({"dashboard": None}, "dashboard"),
        ({"report_id": "6f1c8a52-8a0e-4c55-9d39-1f2d2b3c4d5e"}, "report_id"),
        ({"dashboard": None, "report_id": "6f1c8a52-8a0e-4c55-9d39-1f2d2b3c4d5e"}, "report_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_422_naming_the_field(people, change, field):
    response = ApiClient(people["admin"]).post("/api/v1/report-schedules", body(people["admin"], **change))
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert not ReportSchedule.objects.exists()


def test_a_member_of_another_organisation_is_not_a_recipient(people, other_org):
    outsider = make_member(other_org, Role.AGENT)
    response = ApiClient(people["admin"]).post("/api/v1/report-schedules", body(people["admin"], outsider))
    assert response.status_code == 422
    assert "recipient_ids.1" in response.json()["errors"]


def test_recipient_who_cannot_open_the_dashboard_is_422(people):
    admin, agent = people["admin"], people["agent"]
    response = ApiClient(admin).post("/api/v1/report-schedules", body(admin, agent, dashboard="compliance"))
    assert response.status_code == 422
    assert "recipient_ids.1" in response.json()["errors"]


def test_agent_schedules_to_themselves_only(people):
    agent = people["agent"]
    client = ApiClient(agent)
    assert client.post("/api/v1/report-schedules", body(agent)).status_code == 201
    assert client.post("/api/v1/report-schedules", body(agent, people["manager"])).status_code == 403


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_a_dashboard_the_role_cannot_see_is_403(people, role):
    member = people[role]
    response = ApiClient(member).post("/api/v1/report-schedules", body(member, dashboard="compliance"))
    assert response.status_code == 403


def test_auditors_read_but_do_not_schedule(people):
    auditor = people["auditor"]
    client = ApiClient(auditor)
    assert client.post("/api/v1/report-schedules", body(auditor)).status_code == 403
    assert client.get("/api/v1/report-schedules").status_code == 200


def test_others_see_only_what_they_own_or_receive(people):
    manager, agent, other = people["manager"], people["agent"], people["auditor"]
    created = ApiClient(manager).post("/api/v1/report-schedules", body(manager, agent)).json()
    url = f"/api/v1/report-schedules/{created['id']}"
    assert ApiClient(agent).get(url).status_code == 200  # a recipient reads it
    assert ApiClient(agent).patch(url, {"time": "09:00"}).status_code == 403  # but does not change it
    assert ApiClient(agent).delete(url).status_code == 403
    assert ApiClient(other).get(url).status_code == 404
    assert ApiClient(other).get("/api/v1/report-schedules").json()["items"] == []
    assert ApiClient(people["admin"]).patch(url, {"time": "09:00"}).status_code == 200


def test_another_tenants_schedule_is_404(people, other_org):
    owner = make_member(other_org, Role.OWNER)
    theirs = ApiClient(owner).post("/api/v1/report-schedules", body(owner)).json()
    client = ApiClient(people["owner"])
    for method in ("get", "patch", "delete"):
        call = getattr(client, method)
        url = f"/api/v1/report-schedules/{theirs['id']}"
        response = call(url, {"time": "09:00"}) if method == "patch" else call(url)
        assert response.status_code == 404, method


def test_a_change_naming_the_other_kind_of_target_switches_to_it(people, org):
    admin = people["admin"]
    report = Report.objects.create(tenant=org, name="Pipeline", spec={"dataset": "deals"}, owner=admin.user)
    client = ApiClient(admin)
    created = client.post("/api/v1/report-schedules", body(admin)).json()
    url = f"/api/v1/report-schedules/{created['id']}"
    switched = client.patch(url, {"report_id": str(report.pk)})
    assert switched.status_code == 200, switched.content
    assert switched.json()["target"]["kind"] == "report" and switched.json()["target"]["dashboard"] is None
    back = client.patch(url, {"dashboard": "activity"}).json()
    assert back["target"] == {
        "kind": "dashboard",
        "dashboard": "activity",
        "report_id": None,
        "title": "Activity dashboard",
    }
