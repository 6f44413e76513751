"""Studio's pages: who may open them, what the buttons do, and that readers only read."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from octopushx.crm.models import Task
from octopushx.studio.models import Run, RunStatus, Workflow, WorkflowVersion
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.crm.conftest import make_contact
from tests.studio.cross_tenant import BODY, failed_run

pytestmark = pytest.mark.django_db

READERS = [Role.OWNER, Role.ADMIN, Role.MANAGER, Role.AUDITOR]


def signed_in(org, role) -> Client:
    client = Client()
    client.force_login(make_member(org, role, email=f"{role}-{uuid.uuid4().hex[:8]}@example.test").user)
    return client


def make_workflow(org, body: dict | None = None, enabled: bool = False) -> Workflow:
    client = signed_in(org, Role.OWNER)
    response = client.post("/studio/new/", json.dumps(body or BODY), content_type="application/json")
    assert response.status_code == 201, response.content
    workflow = Workflow.objects.get(pk=response.json()["id"])
    if enabled:
        client.post(f"/studio/{workflow.pk}/enabled/", {"enabled": "1"})
        workflow.refresh_from_db()
    return workflow


def pages(workflow, run) -> list[str]:
    version = WorkflowVersion.objects.get(workflow=workflow, number=1)
    return [
        "/studio/",
        "/studio/templates/",
        "/studio/runs/",
        "/studio/runs/?status=failed",
        f"/studio/{workflow.pk}/",
        f"/studio/{workflow.pk}/runs/",
        f"/studio/{workflow.pk}/versions/",
        f"/studio/versions/{version.pk}/",
        f"/studio/runs/{run.pk}/",
    ]


@pytest.mark.parametrize("role", READERS)
def test_every_studio_page_opens_for_those_who_read_studio(org, role):
    workflow = make_workflow(org)
    run = failed_run(org, workflow)
    client = signed_in(org, role)
    for path in pages(workflow, run):
        assert client.get(path).status_code == 200, path


def test_agents_have_no_studio_pages_and_no_link(org):
    workflow = make_workflow(org)
    run = failed_run(org, workflow)
    client = signed_in(org, Role.AGENT)
    for path in [*pages(workflow, run), "/studio/new/"]:
        assert client.get(path).status_code == 403, path
    assert 'href="/studio/"' not in client.get("/").content.decode()


@pytest.mark.parametrize(("role", "shown"), [(Role.OWNER, True), (Role.AUDITOR, True), (Role.AGENT, False)])
def test_navigation_links_studio_for_readers(org, role, shown):
    html = signed_in(org, role).get("/").content.decode()
    assert ('href="/studio/"' in html) is shown
    assert 'Studio</span><span class="badge' not in html  # the "next" placeholder is gone


def test_another_organisations_workflow_and_run_are_404(org, other_org):
    workflow = make_workflow(other_org)
    run = failed_run(other_org, workflow)
    client = signed_in(org, Role.OWNER)
    for path in pages(workflow, run)[4:]:
        assert client.get(path).status_code == 404, path
    assert client.post(f"/studio/{workflow.pk}/enabled/", {"enabled": "1"}).status_code == 404
    assert client.post(f"/studio/runs/{run.pk}/retry/", {"mode": "start"}).status_code == 404


def test_empty_list_leads_to_the_gallery(org):
    html = signed_in(org, Role.ADMIN).get("/studio/").content.decode()
    assert "Start from a template" in html and 'href="/studio/templates/"' in html


def test_gallery_offers_at_least_six_templates(org):
    html = signed_in(org, Role.OWNER).get("/studio/templates/").content.decode()
    assert html.count('name="template"') >= 6


def test_choosing_a_template_creates_it_off_and_shows_the_secret_once(org):
    client = signed_in(org, Role.ADMIN)
    response = client.post("/studio/templates/", {"template": "vip_welcome"})
    workflow = Workflow.objects.get(tenant=org)
    assert response.status_code == 302 and response["Location"] == f"/studio/{workflow.pk}/"
    assert not workflow.enabled and workflow.template == "vip_welcome" and workflow.version == 1
    first = client.get(response["Location"]).content.decode()
    assert 'data-testid="workflow-secret">whsec_' in first
    assert "workflow-secret" not in client.get(response["Location"]).content.decode()


def test_unknown_template_is_404(org):
    assert signed_in(org, Role.OWNER).post("/studio/templates/", {"template": "nope"}).status_code == 404


def test_list_shows_trigger_in_words_counts_and_a_paused_reason(org):
    workflow = make_workflow(org, enabled=True)
    failed_run(org, workflow)
    Workflow.objects.filter(pk=workflow.pk).update(
        paused_at="2026-01-01T00:00:00Z", paused_reason="95 % of runs failed"
    )
    html = signed_in(org, Role.MANAGER).get("/studio/").content.decode()
    assert "Started by hand on contacts" in html
    assert 'data-testid="paused"' in html and "95 % of runs failed" in html
    assert "1 failed runs of" in html or ">1</a>" in html


def test_create_from_the_builder_returns_errors_keyed_by_step(org):
    client = signed_in(org, Role.OWNER)
    body = {**BODY, "steps": [{"id": "s1", "type": "http_request", "method": "POST", "url": "ftp://example.com"}]}
    response = client.post("/studio/new/", json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert "steps.s1.url" in response.json()["errors"]
    assert not Workflow.objects.filter(tenant=org).exists()


def test_enable_and_disable_from_the_list(org):
    workflow = make_workflow(org)
    client = signed_in(org, Role.ADMIN)
    assert client.post(f"/studio/{workflow.pk}/enabled/", {"enabled": "1"}).status_code == 302
    workflow.refresh_from_db()
    assert workflow.enabled
    client.post(f"/studio/{workflow.pk}/enabled/", {"enabled": "0"})
    workflow.refresh_from_db()
    assert not workflow.enabled


def test_rotating_the_secret_shows_the_new_one_once(org):
    workflow = make_workflow(org)
    old = workflow.secret
    client = signed_in(org, Role.OWNER)
    response = client.post(f"/studio/{workflow.pk}/rotate-secret/")
    workflow.refresh_from_db()
    assert workflow.secret != old
    assert 'data-testid="workflow-secret">whsec_' in client.get(f"/studio/{workflow.pk}/").content.decode()
    assert response["Location"].endswith("#trigger")


def test_delete(org):
    workflow = make_workflow(org)
    response = signed_in(org, Role.OWNER).post(f"/studio/{workflow.pk}/delete/")
    assert response.status_code == 302 and not Workflow.objects.filter(pk=workflow.pk).exists()


def test_test_run_shows_each_step_and_changes_nothing(org):
    contact = make_contact(org, first_name="Bea")
    client = signed_in(org, Role.OWNER)
    response = client.post(
        "/studio/test/", json.dumps({"definition": BODY, "record_id": str(contact.pk)}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    steps = response.json()["steps"]
    assert [s["step_id"] for s in steps] == ["s1", "s2"]
    assert "Call Bea" in json.dumps(steps)
    assert not Task.objects.filter(tenant=org).exists()
    assert not Run.objects.filter(tenant=org).exists()


def test_test_run_of_a_bad_body_answers_422(org):
    response = signed_in(org, Role.OWNER).post(
        "/studio/test/", json.dumps({"definition": {**BODY, "steps": []}}), content_type="application/json"
    )
    assert response.status_code == 422 and "steps" in response.json()["errors"]


@pytest.mark.parametrize("mode", ["failed_step", "start", "latest"])
def test_each_retry_makes_a_new_run_linked_to_the_failed_one(org, mode):
    workflow = make_workflow(org)
    run = failed_run(org, workflow)
    client = signed_in(org, Role.ADMIN)
    response = client.post(f"/studio/runs/{run.pk}/retry/", {"mode": mode})
    retry = Run.objects.get(retry_of=run)
    assert response["Location"] == f"/studio/runs/{retry.pk}/"
    assert retry.retry_mode == mode
    original = client.get(f"/studio/runs/{run.pk}/").content.decode()
    assert f"/studio/runs/{retry.pk}/" in original
    assert f"/studio/runs/{run.pk}/" in client.get(response["Location"]).content.decode()


def test_failed_run_page_offers_three_retries_and_shows_steps(org):
    workflow = make_workflow(org)
    run = failed_run(org, workflow)
    html = signed_in(org, Role.OWNER).get(f"/studio/runs/{run.pk}/").content.decode()
    for label in ("Retry the failed step", "Retry from the start", "Re-run on the latest version"):
        assert label in html
    assert "The tag could not be added" in html and "3 attempts" in html and "&quot;task_id&quot;" in html


def test_cancel_a_waiting_run(org):
    workflow = make_workflow(org)
    run = failed_run(org, workflow)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.WAITING)
    client = signed_in(org, Role.OWNER)
    assert "Cancel</button>" in client.get(f"/studio/runs/{run.pk}/").content.decode()
    client.post(f"/studio/runs/{run.pk}/cancel/")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_runs_filter_by_status(org):
    workflow = make_workflow(org)
    run = failed_run(org, workflow)
    client = signed_in(org, Role.AUDITOR)
    assert str(run.pk) in client.get("/studio/runs/?status=failed").content.decode()
    assert str(run.pk) not in client.get("/studio/runs/?status=succeeded").content.decode()
    assert str(run.pk) in client.get(f"/studio/{workflow.pk}/runs/").content.decode()


def test_restoring_an_old_version_publishes_it_again(org):
    workflow = make_workflow(org)
    client = signed_in(org, Role.OWNER)
    changed = {**BODY, "steps": BODY["steps"][:1]}
    patch = client.patch(f"/api/v1/workflows/{workflow.pk}", json.dumps(changed), content_type="application/json")
    assert patch.status_code == 200, patch.content
    first = WorkflowVersion.objects.get(workflow=workflow, number=1)
    client.post(f"/studio/versions/{first.pk}/restore/")
    workflow.refresh_from_db()
    assert workflow.version == 3 and len(workflow.definition["steps"]) == 2


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AUDITOR])
def test_readers_see_no_edit_controls_and_are_refused(org, role):
    workflow = make_workflow(org)
    run = failed_run(org, workflow)
    version = WorkflowVersion.objects.get(workflow=workflow, number=1)
    client = signed_in(org, role)
    builder = client.get(f"/studio/{workflow.pk}/").content.decode()
    assert "data-save" not in builder and '"readOnly": true' in builder
    assert "New workflow" not in client.get("/studio/").content.decode()
    assert "Retry the failed step" not in client.get(f"/studio/runs/{run.pk}/").content.decode()
    refused = [
        client.post("/studio/templates/", {"template": "vip_welcome"}),
        client.post("/studio/new/", json.dumps(BODY), content_type="application/json"),
        client.post("/studio/test/", json.dumps({"definition": BODY}), content_type="application/json"),
        client.post(f"/studio/{workflow.pk}/enabled/", {"enabled": "1"}),
        client.post(f"/studio/{workflow.pk}/rotate-secret/"),
        client.post(f"/studio/{workflow.pk}/delete/"),
        client.post(f"/studio/runs/{run.pk}/retry/", {"mode": "start"}),
        client.post(f"/studio/runs/{run.pk}/cancel/"),
        client.post(f"/studio/versions/{version.pk}/restore/"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    workflow.refresh_from_db()
    assert not workflow.enabled and Workflow.objects.filter(tenant=org).count() == 1


def test_builder_saves_every_field_of_a_template_through_the_api(org):
    """The builder PATCHes what it shows: an upsert step's fields survive the API's schema."""
    client = signed_in(org, Role.OWNER)
    client.post("/studio/templates/", {"template": "webhook_upsert_contact"})
    workflow = Workflow.objects.get(tenant=org)
    body = {**workflow.definition, "name": "Web form → contact"}
    response = client.patch(f"/api/v1/workflows/{workflow.pk}", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    workflow.refresh_from_db()
    assert workflow.definition["steps"][0]["email"] == "{{ trigger.body.email }}" and workflow.version == 2


def test_old_version_opens_read_only(org):
    workflow = make_workflow(org)
    version = WorkflowVersion.objects.get(workflow=workflow, number=1)
    html = signed_in(org, Role.OWNER).get(f"/studio/versions/{version.pk}/").content.decode()
    assert '"readOnly": true' in html and "Read only" in html


# --- manual trigger from the CRM contacts list ------------------------------------------------


def test_contacts_bulk_bar_runs_a_manual_workflow_on_the_selected_contacts(org):
    workflow = make_workflow(org, enabled=True)
    ada, bea = make_contact(org, first_name="Ada"), make_contact(org, first_name="Bea")
    client = signed_in(org, Role.ADMIN)
    page = client.get("/crm/").content.decode()
    assert 'value="run_workflow"' in page and workflow.name in page
    response = client.post(
        "/crm/contacts/bulk/",
        {"action": "run_workflow", "workflow_id": str(workflow.pk), "ids": [str(ada.pk), str(bea.pk)], "next": "/crm/"},
    )
    assert response.status_code == 302 and response["Location"] == "/crm/"
    assert sorted(Run.objects.filter(workflow=workflow).values_list("record_id", flat=True)) == sorted(
        [str(ada.pk), str(bea.pk)]
    )


def test_bulk_bar_offers_no_workflow_to_managers_or_when_none_is_manual(org):
    make_contact(org, first_name="Ada")
    assert 'value="run_workflow"' not in signed_in(org, Role.ADMIN).get("/crm/").content.decode()
    workflow = make_workflow(org, enabled=True)
    manager = signed_in(org, Role.MANAGER)
    assert 'value="run_workflow"' not in manager.get("/crm/").content.decode()
    contact = make_contact(org, first_name="Bea")
    response = manager.post(
        "/crm/contacts/bulk/", {"action": "run_workflow", "workflow_id": str(workflow.pk), "ids": [str(contact.pk)]}
    )
    assert response.status_code in (403, 404)
    assert not Run.objects.filter(workflow=workflow).exists()
