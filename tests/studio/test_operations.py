"""Schedules, fairness, privacy, pruning, pausing and suspension."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.crm.models import Task
from octopushx.shield.privacy.subjects import Found, Identity, sources
from octopushx.studio import engine, services, triggers
from octopushx.studio.models import Run, RunStatus, StepRun, WorkflowTrigger
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org
from tests.crm.conftest import make_contact
from tests.studio.conftest import make_workflow, run_all

pytestmark = pytest.mark.django_db

NOTE = {"name": "Note", "trigger": {"type": "event", "event": "contact.created"},
        "steps": [{"id": "n", "type": "create_note", "body": "Hi {{ contact.first_name }}"}]}  # fmt: skip


def test_schedule_fires_once_per_slot_for_each_member(org, studio_settings):
    agent = make_member(org, Role.AGENT)
    make_member(org, Role.MANAGER)
    from octopushx.crm import services as crm

    crm.create_task(org, Actor.system("t"), {"title": "Late", "assignee_id": str(agent.user.pk),
                                             "due_at": (timezone.now() - timedelta(days=2)).isoformat()})  # fmt: skip
    body = {"name": "Overdue", "trigger": {"type": "schedule", "cron": "0 9 * * *", "timezone": "Europe/London",
            "for_each": "member", "conditions": [{"field": "member.overdue_count", "op": "gt", "value": 0}]},
            "steps": [{"type": "send_email", "to": "record_owner", "subject": "{{ member.overdue_count }} overdue",
                       "body": "{% for t in member.overdue_tasks %}<li>{{ t }}</li>{% endfor %}"}]}  # fmt: skip
    workflow = make_workflow(org, body)
    trig = WorkflowTrigger.objects.get(workflow=workflow)
    assert trig.next_at > timezone.now()
    WorkflowTrigger.objects.filter(pk=trig.pk).update(next_at=timezone.now() - timedelta(minutes=1))
    assert triggers.fire_schedules() == 2  # one run per member…
    assert triggers.fire_schedules() == 0  # …and the slot fires once
    run_all()
    assert [m.to for m in mail.outbox] == [[agent.user.email]]  # only the member with overdue tasks
    assert "Late (due" in mail.outbox[0].alternatives[0][0]
    assert services.runs_for(org, workflow).count() == 1
    assert WorkflowTrigger.objects.get(pk=trig.pk).next_at > timezone.now()


def test_a_backlog_of_one_organisation_does_not_hold_back_another(org, studio_settings):
    busy = make_workflow(org, NOTE)
    contact = make_contact(org)
    Run.objects.bulk_create([
        Run(tenant=org, workflow=busy, version=1, dedupe_key=f"bulk:{i}", record_type="contact",
            record_id=str(contact.pk)) for i in range(300)
    ])  # fmt: skip
    other = make_org("Quiet Ltd")
    make_workflow(other, NOTE)
    make_contact(other, first_name="Solo")
    from octopushx.core import jobs

    jobs.drain()
    order = []
    original = engine.execute

    def spy(run):
        order.append(run.tenant_id)
        original(run)

    engine.execute = spy
    try:
        engine.tick(budget=60)
    finally:
        engine.execute = original
    first_other = order.index(other.pk)
    assert first_other <= engine.PER_ROUND, f"the other organisation waited behind {first_other} runs"
    assert Run.objects.filter(tenant=other, status=RunStatus.SUCCEEDED).count() == 1


def test_per_organisation_cap_on_running_runs(org, studio_settings):
    studio_settings.STUDIO_ORG_CONCURRENCY = 2
    workflow = make_workflow(org, NOTE)
    for i in range(3):
        Run.objects.create(tenant=org, workflow=workflow, version=1, dedupe_key=f"r{i}")
    assert engine._claim(org.pk) and engine._claim(org.pk)
    assert engine._claim(org.pk) is None


def test_suspended_organisation_runs_nothing(org, studio_settings):
    make_workflow(org, NOTE)
    make_contact(org)
    from octopushx.core import jobs

    jobs.drain()
    org.suspended_at = timezone.now()
    org.save()
    assert engine.tick(budget=5) == 0
    assert Run.objects.get().status == RunStatus.QUEUED


def test_privacy_access_and_erasure_include_runs(org, studio_settings):
    make_workflow(org, NOTE)
    contact = make_contact(org, first_name="Erin", last_name="Erased", email="erin@example.com")
    other = make_contact(org, first_name="Kept", email="kept@example.com")
    run_all()
    assert Run.objects.count() == 2
    found = Found()
    by_key = {s.key: s for s in sources()}
    found.items["contacts"] = by_key["contacts"].find(org, Identity(email="erin@example.com"), found)
    runs = by_key["workflow_runs"].find(org, Identity(email="erin@example.com"), found)
    assert len(runs) == 1 and Run.objects.get(pk=runs[0]).record_id == str(contact.pk)
    files = by_key["workflow_runs"].run_export(org, runs, found)
    assert b"Hi Erin" in files["workflow_runs.json"]
    assert by_key["workflow_runs"].run_erase(org, Actor.system("privacy"), runs, found) == 1
    assert not Run.objects.filter(record_id=str(contact.pk)).exists()
    assert not StepRun.objects.filter(input__icontains="Erin").exists()
    assert Run.objects.get().record_id == str(other.pk)


def test_failing_workflow_is_paused_and_admins_told(org, studio_settings):
    make_member(org, Role.ADMIN)
    body = {**NOTE, "steps": [{"id": "n", "type": "create_note", "body": "{{ contact.custom.never }}"}]}
    workflow = make_workflow(org, body)
    for i in range(services.PAUSE_MIN_RUNS):
        make_contact(org, email=f"p{i}@example.com")
    run_all()
    workflow.refresh_from_db()
    assert workflow.enabled is False and workflow.paused_at is not None
    assert "runs in the last 24 hours failed" in workflow.paused_reason
    assert any("Workflow paused" in m.subject for m in mail.outbox)
    assert not WorkflowTrigger.objects.filter(workflow=workflow).exists()


def test_prune_by_age_and_count_in_chunks(org, studio_settings):
    studio_settings.STUDIO_RUN_RETENTION_DAYS = 30
    studio_settings.STUDIO_RUN_MAX_PER_ORG = 5
    workflow = make_workflow(org, NOTE)
    old = timezone.now() - timedelta(days=40)
    rows = [Run(tenant=org, workflow=workflow, version=1, status="succeeded", admitted=True, dedupe_key=f"o{i}",
                created_at=old) for i in range(7)]  # fmt: skip
    rows += [Run(tenant=org, workflow=workflow, version=1, status="succeeded", admitted=True, dedupe_key=f"n{i}",
                 created_at=timezone.now() - timedelta(minutes=i)) for i in range(8)]  # fmt: skip
    rows.append(Run(tenant=org, workflow=workflow, version=1, status="waiting", admitted=True, dedupe_key="w",
                    created_at=old))  # fmt: skip
    Run.objects.bulk_create(rows)
    assert services.prune_runs(chunk=2) == 7 + 3
    assert Run.objects.filter(status="succeeded").count() == 5
    assert Run.objects.filter(status="waiting").exists()  # unfinished runs are never pruned


def test_every_change_is_audited_with_the_workflow_as_actor(org, studio_settings):
    from octopushx.core.models import AuditEntry

    workflow = make_workflow(
        org, {**NOTE, "steps": [{"type": "create_task", "title": "T", "assignee": "record_owner"}]}
    )
    make_contact(org)
    run_all()
    task = Task.objects.get()
    entry = AuditEntry.objects.get(tenant=org, action="task.created", object_id=str(task.pk))
    assert entry.actor_ref == f"w:{workflow.pk}"
    assert AuditEntry.objects.filter(tenant=org, action="workflow.created", object_id=str(workflow.pk)).exists()
