"""The Studio API: every endpoint, the wrong tenant, the wrong role and bad input."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from octopushx.crm.models import Note
from octopushx.studio.models import Run, Workflow, WorkflowVersion
from octopushx.tenancy.roles import Role
from tests.crm.conftest import make_contact
from tests.studio.conftest import run_all

pytestmark = pytest.mark.django_db

MANUAL = {
    "name": "Note on demand",
    "trigger": {"type": "manual", "record_type": "contact"},
    "steps": [{"type": "create_note", "body": "Hello {{ contact.first_name }}"}],
}


@pytest.fixture
def admin(api_as):
    return api_as(Role.ADMIN)


def create(api, body=MANUAL, **extra):
    response = api.post("/api/v1/workflows", {**body, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_the_workflow_and_its_secret_once(admin):
    data = create(admin, enabled=True)
    assert data["version"] == 1 and data["enabled"] is True
    assert data["secret"].startswith("whsec_")
    assert data["steps"][0]["id"] == "s1"
    again = admin.get(f"/api/v1/workflows/{data['id']}").json()
    assert "secret" not in again
    assert admin.get("/api/v1/workflows").json()["items"][0]["runs_7d"] == 0


def test_idempotency_key_creates_once(admin):
    first = admin.post("/api/v1/workflows", MANUAL, HTTP_IDEMPOTENCY_KEY="k1")
    second = admin.post("/api/v1/workflows", MANUAL, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Workflow.objects.count() == 1


def test_patch_publishes_a_version_and_keeps_the_old_one(admin):
    data = create(admin)
    changed = admin.patch(f"/api/v1/workflows/{data['id']}", {"steps": [{"type": "create_note", "body": "v2"}]})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    versions = admin.get(f"/api/v1/workflows/{data['id']}/versions").json()["items"]
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[1]["definition"]["steps"][0]["body"] == "Hello {{ contact.first_name }}"
    same = admin.patch(f"/api/v1/workflows/{data['id']}", {"name": "Note on demand"})
    assert same.json()["version"] == 2  # nothing changed: no new version


BAD_BODIES = [
    ({"steps": [{"type": "teleport"}]}, "steps.s1.type", "unknown step type"),
    ({"steps": [{"type": "create_note", "body": "{{ contact.frist_name }}"}]}, "steps.s1.body", "contact.frist_name"),
    ({"trigger": {"type": "schedule", "cron": "every day"}}, "trigger.cron", "not a cron"),
    ({"steps": [{"type": "http_request", "method": "POST"}]}, "steps.s1.url", "URL is required"),
    ({"steps": [{"type": "branch", "conditions": [], "then": []}]}, "steps.s1.conditions", "at least one condition"),
    ({"steps": [{"id": "a", "type": "branch", "conditions": [{"field": "contact.email", "op": "is_empty"}],
                 "then": [{"id": "a", "type": "create_note", "body": "x"}]}]}, "steps.a.id", "loop back"),
    ({"steps": [{"type": "http_request", "url": "file:///etc/passwd"}]}, "steps.s1.url", "not allowed"),
    ({"steps": [{"type": "http_request", "url": "http://169.254.169.254/latest"}]}, "steps.s1.url", "link-local"),
    ({"steps": [{"type": "http_request", "url": "http://localhost:8000/"}]}, "steps.s1.url", "localhost"),
    ({"steps": [{"type": "create_note", "body": "{{ steps.s2.x }}"}, {"type": "create_note", "body": "y"}]},
     "steps.s1.body", "steps.s2.x"),
    ({"steps": [{"type": "create_task", "title": "T", "assignee": "nobody"}]}, "steps.s1.assignee", "member"),
    ({"trigger": {"type": "event", "event": "contact.exploded"}}, "trigger.event", "Unknown event"),
    ({"steps": [{"type": "create_note", "body": "{{ contact.__class__ }}"}]}, "steps.s1.body", "unknown variable"),
    ({"steps": []}, "steps", "at least one step"),
]  # fmt: skip


@pytest.mark.parametrize("change, key, words", BAD_BODIES, ids=[b[1] + ":" + b[2] for b in BAD_BODIES])
def test_bad_body_is_422_naming_the_step_and_field_and_saves_nothing(admin, change, key, words):
    response = admin.post("/api/v1/workflows", {**MANUAL, **change})
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert key in errors, errors
    assert words.lower() in " ".join(errors[key]).lower()
    assert not Workflow.objects.exists()
    validate = admin.post("/api/v1/workflows/validate", {**MANUAL, **change})
    assert validate.status_code == 422 and key in validate.json()["errors"]


def test_validate_answers_the_normal_form_and_next_schedule_times(admin):
    body = {"name": "Daily", "trigger": {"type": "schedule", "cron": "0 9 * * 1-5", "timezone": "Europe/London"},
            "steps": [{"type": "create_note", "body": "x"}]}  # fmt: skip
    response = admin.post("/api/v1/workflows/validate", body)
    assert response.status_code == 200
    data = response.json()
    assert len(data["next_runs"]) == 5 and all("T09:00:00" in t for t in data["next_runs"])
    assert data["definition"]["steps"][0]["id"] == "s1"


def test_json_schema_of_the_body_is_in_the_openapi_document(admin):
    schema = Client().get("/api/v1/openapi.json").json()
    names = set(schema["components"]["schemas"])
    assert {"WorkflowIn", "Step", "Trigger", "Condition"} <= names
    step = schema["components"]["schemas"]["Step"]
    assert "create_task" in json.dumps(step)


def test_test_run_shows_each_step_and_changes_nothing(admin, org):
    data = create(admin)
    contact = make_contact(org, first_name="Tess")
    response = admin.post(f"/api/v1/workflows/{data['id']}/test", {"record_id": str(contact.pk)})
    assert response.status_code == 200, response.content
    step = response.json()["steps"][0]
    assert step["status"] == "would_run" and step["input"]["body"] == "Hello Tess"
    assert step["output"]["note_id"]  # the note it would create…
    assert not Note.objects.exists()  # …is not there
    sample = admin.post(f"/api/v1/workflows/{data['id']}/test", {"sample": {"first_name": "Sam"}}).json()
    assert sample["steps"][0]["input"]["body"] == "Hello Sam"
    assert not Run.objects.exists()


def test_manual_runs_run_and_read_back(admin, org, studio_settings):
    data = create(admin, enabled=True)
    contact = make_contact(org, first_name="Mia")
    started = admin.post(f"/api/v1/workflows/{data['id']}/runs", {"record_ids": [str(contact.pk)]})
    assert started.status_code == 202, started.content
    run_all()
    run_id = started.json()["items"][0]["id"]
    run = admin.get(f"/api/v1/workflow-runs/{run_id}").json()
    assert run["status"] == "succeeded" and run["workflow_id"] == data["id"] and run["version"] == 1
    assert run["record"]["id"] == str(contact.pk)
    step = run["steps"][0]
    assert {"step_id", "type", "status", "attempts", "started_at", "finished_at", "input", "output", "error"} <= set(
        step
    )
    assert step["input"]["body"] == "Hello Mia" and step["attempts"] == 1
    listed = admin.get(f"/api/v1/workflows/{data['id']}/runs?status=succeeded").json()["items"]
    assert [r["id"] for r in listed] == [run_id]
    assert admin.get("/api/v1/workflow-runs?status=failed").json()["items"] == []
    assert admin.get("/api/v1/workflow-runs?status=nonsense").status_code == 422


def test_manual_run_refuses_unknown_records_and_other_triggers(admin, other_org):
    data = create(admin, enabled=True)
    foreign = make_contact(other_org)
    refused = admin.post(f"/api/v1/workflows/{data['id']}/runs", {"record_ids": [str(foreign.pk)]})
    assert refused.status_code == 422 and "record_ids" in refused.json()["errors"]
    event = create(admin, {**MANUAL, "trigger": {"type": "event", "event": "contact.created"}}, enabled=True)
    assert admin.post(f"/api/v1/workflows/{event['id']}/runs", {"record_ids": []}).status_code == 422
    assert not Run.objects.exists()


def test_retry_and_cancel(admin, org, studio_settings):
    body = {**MANUAL, "steps": [{"type": "create_note", "body": "{{ contact.custom.later }}"}]}
    data = create(admin, body, enabled=True)
    contact = make_contact(org)
    admin.post(f"/api/v1/workflows/{data['id']}/runs", {"record_ids": [str(contact.pk)]})
    run_all()
    failed = Run.objects.get()
    assert failed.status == "failed"
    for mode in ("failed_step", "start", "latest"):
        again = admin.post(f"/api/v1/workflow-runs/{failed.pk}/retry", {"mode": mode})
        assert again.status_code == 201 and again.json()["retry_of"] == str(failed.pk)
    assert admin.post(f"/api/v1/workflow-runs/{failed.pk}/retry", {"mode": "sideways"}).status_code == 422
    queued = Run.objects.filter(status="queued").first()
    cancelled = admin.post(f"/api/v1/workflow-runs/{queued.pk}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert admin.post(f"/api/v1/workflow-runs/{failed.pk}/cancel").status_code == 422


def test_enable_disable_delete(admin):
    data = create(admin)
    assert admin.post(f"/api/v1/workflows/{data['id']}/enable").json()["enabled"] is True
    assert admin.post(f"/api/v1/workflows/{data['id']}/disable").json()["enabled"] is False
    secret = admin.post(f"/api/v1/workflows/{data['id']}/rotate-secret").json()["secret"]
    assert secret.startswith("whsec_") and secret != data["secret"]
    assert admin.delete(f"/api/v1/workflows/{data['id']}").status_code == 204
    assert admin.get(f"/api/v1/workflows/{data['id']}").status_code == 404


def test_roles(api_as, admin):
    data = create(admin)
    wid = data["id"]
    for role in (Role.MANAGER, Role.AUDITOR):
        reader = api_as(role)
        assert reader.get("/api/v1/workflows").status_code == 200
        assert reader.get(f"/api/v1/workflows/{wid}/versions").status_code == 200
        assert reader.post("/api/v1/workflows", MANUAL).status_code == 403
        assert reader.patch(f"/api/v1/workflows/{wid}", {"name": "x"}).status_code == 403
        assert reader.post(f"/api/v1/workflows/{wid}/enable").status_code == 403
        assert reader.delete(f"/api/v1/workflows/{wid}").status_code == 403
    agent = api_as(Role.AGENT)
    for path in ("/api/v1/workflows", f"/api/v1/workflows/{wid}", "/api/v1/workflow-runs", "/api/v1/studio/catalog"):
        assert agent.get(path).status_code == 403, path
    assert WorkflowVersion.objects.count() == 1


def test_another_tenants_workflow_is_404(api_as, admin, other_org):
    data = create(admin)
    outsider = api_as(Role.OWNER, tenant=other_org)
    assert outsider.get(f"/api/v1/workflows/{data['id']}").status_code == 404
    assert outsider.patch(f"/api/v1/workflows/{data['id']}", {"name": "x"}).status_code == 404
    assert outsider.post(f"/api/v1/workflows/{data['id']}/test", {}).status_code == 404
    assert outsider.get("/api/v1/workflows").json()["items"] == []


def test_catalog_and_record_search(admin, org):
    catalog = admin.get("/api/v1/studio/catalog").json()
    events = {t.get("event") for t in catalog["triggers"]}
    assert {"contact.created", "contact.updated", "deal.stage_changed", "task.completed", "call.analysed",
            "call.reviewed", "privacy_request.created"} <= events  # fmt: skip
    assert {s["type"] for s in catalog["steps"]} >= {"branch", "delay", "http_request", "ai", "create_task"}
    make_contact(org, first_name="Findme")
    found = admin.get("/api/v1/studio/records?type=contact&q=findm").json()["items"]
    assert [f["label"] for f in found] == ["Findme Lovelace"]
    assert admin.get("/api/v1/studio/records?type=spaceship").status_code == 422


def test_schedules_run_in_the_organisations_time_zone_unless_named(admin, org):
    assert admin.patch("/api/v1/organization", {"time_zone": "Mars/Olympus"}).status_code == 422
    assert (
        admin.patch("/api/v1/organization", {"time_zone": "America/New_York"}).json()["time_zone"] == "America/New_York"
    )
    body = {
        "name": "Daily",
        "trigger": {"type": "schedule", "cron": "0 9 * * *"},
        "steps": [{"type": "create_note", "body": "x"}],
    }
    data = admin.post("/api/v1/workflows/validate", body).json()
    assert data["trigger"]["timezone"] == "America/New_York"
    assert all(t.endswith("-05:00") or t.endswith("-04:00") for t in data["next_runs"])
