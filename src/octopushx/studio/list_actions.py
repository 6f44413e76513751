"""Studio on the CRM lists' bulk bar: "Run a workflow…" starts an enabled manual-trigger workflow on
the selected records (autodiscovered by ``crm.list_actions``; the CRM never imports Studio)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from octopushx.core import entitlements
from octopushx.crm.list_actions import ListAction, register
from octopushx.studio import services
from octopushx.studio.models import Workflow


def _manual_workflows(tenant, object_type: str):
    found = []
    for workflow in Workflow.objects.for_tenant(tenant).filter(enabled=True, paused_at__isnull=True).order_by("name"):
        trigger = (workflow.definition or {}).get("trigger") or {}
        if trigger.get("type") == "manual" and (trigger.get("record_type") or "contact") == object_type:
            found.append(workflow)
    return found


def _choices(request, object_type: str) -> list[tuple[str, str]]:
    if not services.can_edit(request.membership) or not entitlements.allows(request.tenant, "studio"):
        return []
    return [(str(w.pk), w.name) for w in _manual_workflows(request.tenant, object_type)]


def _run(request, object_type: str, rows: list, back: str):
    if not services.can_edit(request.membership):
        raise PermissionDenied("Only owners and admins run workflows")
    entitlements.require(request.tenant, "studio")
    wanted = request.POST.get("workflow_id", "")
    workflow = next((w for w in _manual_workflows(request.tenant, object_type) if str(w.pk) == wanted), None)
    if workflow is None:
        messages.error(request, "Choose an enabled workflow that is started by hand.")
        return redirect(back)
    try:
        runs = services.start_manual(request.tenant, request.actor, workflow, [str(row.pk) for row in rows])
    except ValidationError as exc:
        text = " ".join(m for msgs in getattr(exc, "message_dict", {"": exc.messages}).values() for m in msgs)
        messages.error(request, f"“{workflow.name}” did not start: {text}")
        return redirect(back)
    messages.success(
        request,
        format_html(
            'Started “{}” on {} record{}. <a href="{}">Follow the runs</a>',
            workflow.name,
            len(runs),
            "" if len(runs) == 1 else "s",
            reverse("studio:workflow_runs", args=[workflow.pk]),
        ),
    )
    return redirect(back)


register(
    ListAction(
        key="run_workflow",
        label="Run a workflow…",
        object_types=("contact", "company", "deal"),
        field="workflow_id",
        field_label="Workflow to run",
        choices=_choices,
        handle=_run,
    )
)
