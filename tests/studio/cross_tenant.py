"""Factories for Studio's path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from octopushx.core.context import Actor
from octopushx.studio import services
from octopushx.studio.models import Run, RunStatus

BODY = {
    "name": "B workflow",
    "trigger": {"type": "manual", "record_type": "contact"},
    "steps": [{"type": "create_note", "body": "B note"}],
}


def _workflow(tenant, user):
    workflow, _secret = services.create_workflow(tenant, Actor(user=user, label_override="cross-tenant test"), BODY)
    return workflow


def _workflow_id(tenant, user):
    return _workflow(tenant, user).pk


def _run_id(tenant, user):
    workflow = _workflow(tenant, user)
    return Run.objects.create(
        tenant=tenant, workflow=workflow, version=1, status=RunStatus.FAILED, admitted=True, dedupe_key="b-run"
    ).pk


FACTORIES = {"workflow_id": _workflow_id, "run_id": _run_id}
