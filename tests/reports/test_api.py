"""API of reports: queries per role, saved reports, exports; wrong tenant 404, wrong role 403, bad input 422."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member
from tests.crm.conftest import make_deal

SPEC = {
    "dataset": "deals",
    "measures": [{"agg": "sum", "field": "value"}, {"agg": "count"}],
    "group_by": [{"field": "stage"}],
}


@pytest.fixture
def deals(org):
    admin = make_member(org, Role.ADMIN)
    agent = make_member(org, Role.AGENT)
    make_deal(org, owner=agent, value="100")
    make_deal(org, owner=agent, value="50", currency="EUR")
    make_deal(org, owner=admin, value="1000")
    return admin, agent


@pytest.mark.django_db
def test_query_counts_what_the_role_sees(deals):
    admin, agent = deals
    as_admin = ApiClient(admin).post("/api/v1/reports/query", SPEC)
    as_agent = ApiClient(agent).post("/api/v1/reports/query", SPEC)
    assert as_admin.status_code == 200, as_admin.content
    assert as_admin.json()["totals"] == {"count": 3, "sum_value": {"EUR": "50.00", "GBP": "1100.00"}}
    assert as_agent.json()["totals"] == {"count": 2, "sum_value": {"EUR": "50.00", "GBP": "100.00"}}
    assert {c["key"] for c in as_admin.json()["columns"]} == {"stage", "currency", "sum_value", "count"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"dataset": "nope"}, "dataset"),
        ({"dataset": "deals", "measures": [{"agg": "sum", "field": "name_of"}]}, "measures.0.field"),
        ({"dataset": "deals", "measures": [{"agg": "sum", "field": "status"}]}, "measures.0.field"),
        ({"dataset": "deals", "measures": [{"agg": "median"}]}, "measures.0.agg"),
        (
            {"dataset": "deals", "group_by": [{"field": "stage"}, {"field": "created_at", "grain": "year"}]},
            "group_by.1.grain",
        ),
        ({"dataset": "deals", "group_by": [{"field": "stage", "grain": "week"}]}, "group_by.0.grain"),
        (
            {"dataset": "deals", "period": {"field": "created_at", "from": "2026-13-01", "to": "2026-12-31"}},
            "period.from",
        ),
        ({"dataset": "deals", "period": {"field": "created_at", "from": "2026-01-01", "to": "soon"}}, "period.to"),
        ({"dataset": "deals", "filters": [{"field": "value", "op": "gt", "value": "lots"}]}, "filters.0.value"),
        ({"dataset": "deals", "filters": [{"field": "status", "op": "gt", "value": "open"}]}, "filters.0.op"),
    ],
)
def test_bad_specs_are_422_naming_the_field(api_as, spec, field):
    answer = api_as(Role.ADMIN).post("/api/v1/reports/query", spec)
    assert answer.status_code == 422, answer.content
    assert field in answer.json()["errors"], answer.json()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_privacy_requests_are_403_for_roles_that_do_not_audit(api_as, role):
    answer = api_as(role).post("/api/v1/reports/query", {"dataset": "privacy_requests"})
    assert answer.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN, Role.OWNER])
def test_privacy_requests_answer_roles_that_audit(api_as, role):
    answer = api_as(role).post(
        "/api/v1/reports/query", {"dataset": "privacy_requests", "group_by": [{"field": "kind"}]}
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["totals"] == {"count": 0}


@pytest.mark.django_db
def test_saved_report_crud_and_visibility(org, other_org, deals):
    admin, agent = deals
    manager = make_member(org, Role.MANAGER)
    mine = ApiClient(agent)
    created = mine.post("/api/v1/reports", {"name": "My pipeline", "spec": SPEC, "view": "bar"})
    assert created.status_code == 201, created.content
    report_id = created.json()["id"]
    assert created.json()["shared"] is False
    # not shared: another member does not see it (404), not even an admin listing
    assert ApiClient(manager).get(f"/api/v1/reports/{report_id}").status_code == 404
    # an agent may not share
    assert mine.patch(f"/api/v1/reports/{report_id}", {"shared": True}).status_code == 403
    # the manager shares their own with managers only
    shared = ApiClient(manager).post(
        "/api/v1/reports", {"name": "Team", "spec": SPEC, "shared": True, "roles": ["manager", "admin"]}
    )
    assert shared.status_code == 201, shared.content
    shared_id = shared.json()["id"]
    assert ApiClient(admin).get(f"/api/v1/reports/{shared_id}").status_code == 200
    assert mine.get(f"/api/v1/reports/{shared_id}").status_code == 404
    assert [r["name"] for r in mine.get("/api/v1/reports").json()["items"]] == ["My pipeline"]
    # the same report gives each viewer their own numbers
    as_admin = ApiClient(admin).get(f"/api/v1/reports/{shared_id}/data").json()
    assert as_admin["totals"]["count"] == 3
    # changes and deletion
    renamed = mine.patch(f"/api/v1/reports/{report_id}", {"name": "Renamed", "view": "pie"})
    assert renamed.status_code == 200 and renamed.json()["view"] == "pie"
    assert ApiClient(admin).patch(f"/api/v1/reports/{shared_id}", {"view": "nope"}).status_code == 422
    assert ApiClient(admin).delete(f"/api/v1/reports/{shared_id}").status_code == 204
    # another tenant's member (even an owner) gets 404 for this tenant's report
    outsider = ApiClient(make_member(other_org, Role.OWNER))
    for call in (outsider.get, outsider.delete):
        assert call(f"/api/v1/reports/{report_id}").status_code == 404
    assert outsider.get(f"/api/v1/reports/{report_id}/data").status_code == 404
    assert outsider.patch(f"/api/v1/reports/{report_id}", {"name": "x"}).status_code == 404


@pytest.mark.django_db
def test_saved_report_bad_input_is_422(deals):
    admin, _agent = deals
    api = ApiClient(admin)
    answer = api.post(
        "/api/v1/reports", {"name": "", "spec": {"dataset": "deals", "measures": [{"agg": "avg", "field": "x"}]}}
    )
    assert answer.status_code == 422
    assert {"name", "spec.measures.0.field"} <= set(answer.json()["errors"])
    assert api.post("/api/v1/reports", {"name": "R", "spec": SPEC, "roles": ["boss"]}).status_code == 422


@pytest.mark.django_db
def test_exports_state_filters_period_time_zone_and_time(org, deals):
    admin, _agent = deals
    api = ApiClient(admin)
    spec = {
        **SPEC,
        "filters": [{"field": "status", "op": "eq", "value": "open"}],
        "period": {"field": "created_at", "from": "2026-01-01", "to": "2026-12-31"},
    }
    report_id = api.post("/api/v1/reports", {"name": "Pipeline =cmd", "spec": spec}).json()["id"]
    answer = api.get(f"/api/v1/reports/{report_id}/data?format=csv")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    head = {line[0]: line[1] for line in lines if len(line) == 2}
    assert head["Report"] == "'Pipeline =cmd" or head["Report"] == "Pipeline =cmd"
    assert head["Filters"] == "status eq open"
    assert head["Period"] == "created_at 2026-01-01 to 2026-12-31"
    assert head["Time zone"] == org.time_zone
    assert head["Generated at"]
    assert ["Stage", "Currency", "Sum of value", "Count"] in lines
    xlsx = api.get(f"/api/v1/reports/{report_id}/data?format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert ["Time zone", org.time_zone] in [list(v[:2]) for v in values]
    assert head["Prepared for"].endswith("counts the whole organisation's records")
    pdf = api.get(f"/api/v1/reports/{report_id}/data?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert api.get(f"/api/v1/reports/{report_id}/data?format=docx").status_code == 422


@pytest.mark.django_db
def test_report_with_a_removed_custom_field_says_so(org, deals):
    from octopushx.crm.models import CustomField

    admin, _agent = deals
    field = CustomField.objects.create(tenant=org, object_type="deal", key="seats", label="Seats", field_type="number")
    api = ApiClient(admin)
    spec = {"dataset": "deals", "measures": [{"agg": "sum", "field": "cf.seats"}]}
    report_id = api.post("/api/v1/reports", {"name": "Seats", "spec": spec}).json()["id"]
    assert api.get(f"/api/v1/reports/{report_id}/data").status_code == 200
    field.delete()
    answer = api.get(f"/api/v1/reports/{report_id}/data")
    assert answer.status_code == 422
    assert "removed" in answer.json()["errors"]["spec"][0]


@pytest.mark.django_db
def test_datasets_offered_per_role(api_as):
    agent = {d["name"] for d in api_as(Role.AGENT).get("/api/v1/reports/datasets").json()["items"]}
    auditor = {d["name"] for d in api_as(Role.AUDITOR).get("/api/v1/reports/datasets").json()["items"]}
    assert "privacy_requests" not in agent and {"deals", "calls", "tasks"} <= agent
    assert "privacy_requests" in auditor


@pytest.mark.django_db
def test_a_shared_report_over_a_dataset_the_role_may_not_read_is_403(org):
    admin = ApiClient(make_member(org, Role.ADMIN))
    agent = ApiClient(make_member(org, Role.AGENT))
    report_id = admin.post(
        "/api/v1/reports", {"name": "Requests", "spec": {"dataset": "privacy_requests"}, "shared": True}
    ).json()["id"]
    assert admin.get(f"/api/v1/reports/{report_id}/data").status_code == 200
    assert agent.get(f"/api/v1/reports/{report_id}/data").status_code == 403
    assert agent.get(f"/api/v1/reports/{report_id}/data?format=csv").status_code == 403


@pytest.mark.django_db
def test_auditors_read_reports_but_do_not_save_them(org):
    admin = ApiClient(make_member(org, Role.ADMIN))
    auditor = ApiClient(make_member(org, Role.AUDITOR))
    assert auditor.post("/api/v1/reports", {"name": "Mine", "spec": SPEC}).status_code == 403
    report_id = admin.post("/api/v1/reports", {"name": "Shared", "spec": SPEC, "shared": True}).json()["id"]
    assert auditor.get(f"/api/v1/reports/{report_id}/data").status_code == 200
    assert auditor.patch(f"/api/v1/reports/{report_id}", {"name": "x"}).status_code == 403
    assert auditor.delete(f"/api/v1/reports/{report_id}").status_code == 403
    assert auditor.post("/api/v1/reports/query", SPEC).status_code == 200
