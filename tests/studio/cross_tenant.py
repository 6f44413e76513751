"""Factories for Studio's path parameters, used by tests/test_cross_tenant.py and the page walks."""

from __future__ import annotations

import uuid

from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.studio import services
from octopushx.studio.models import Run, RunStatus, StepRun, StepStatus, WorkflowVersion

BODY = {
    "name": "Tenant workflow",
    "trigger": {"type": "manual", "record_type": "contact"},
    "steps": [
        {"id": "s1", "type": "create_task", "title": "Call {{ contact.first_name }}", "assignee": "record_owner"},
        {"id": "s2", "type": "add_tag", "tag": "called"},
    ],
}


def _workflow(tenant, user):
    actor = Actor(user=user, label_override="cross-tenant test")
    workflow, _secret = services.create_workflow(tenant, actor, {**BODY, "name": f"Workflow {uuid.uuid4().hex[:6]}"})
    return workflow


def _workflow_id(tenant, user):
    return _workflow(tenant, user).pk


def _version_id(tenant, user):
    return WorkflowVersion.objects.get(workflow=_workflow(tenant, user), number=1).pk


def failed_run(tenant, workflow, record_id: str = "") -> Run:
    """A run whose first step succeeded and whose second failed: every run page has something to show."""
    now = timezone.now()
    run = Run.objects.create(
        tenant=tenant,
        workflow=workflow,
        version=workflow.version,
        status=RunStatus.FAILED,
        admitted=True,
        trigger={"type": "manual", "by": "someone@example.test"},
        dedupe_key=f"test:{uuid.uuid4().hex}",
        record_type="contact" if record_id else "",
        record_id=record_id,
        started_at=now,
        finished_at=now,
        error="Step s2 failed: the tag could not be added",
    )
    StepRun.objects.create(
        tenant=tenant, run=run, step_id="s1", type="create_task", position=0, key=f"{run.pk}:s1",
        status=StepStatus.SUCCEEDED, attempts=1, input={"title": "Call Bea"}, output={"task_id": "t-1"},
        started_at=now, finished_at=now,
    )  # fmt: skip
    StepRun.objects.create(
        tenant=tenant, run=run, step_id="s2", type="add_tag", position=1, key=f"{run.pk}:s2",
        status=StepStatus.FAILED, attempts=3, input={"tag": "called"}, error="The tag could not be added",
        started_at=now, finished_at=now,
    )  # fmt: skip
    return run


def _run_id(tenant, user):
    return failed_run(tenant, _workflow(tenant, user)).pk


FACTORIES = {"workflow_id": _workflow_id, "version_id": _version_id, "run_id": _run_id}
