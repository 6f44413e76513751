"""How Octopush Studio's audit entries read in Shield's trail; workflows by their name."""

from __future__ import annotations

from octopushx.core.audit_labels import labels, names
from octopushx.studio.models import Run, Workflow

labels(
    {
        "workflow.created": "Workflow created",
        "workflow.updated": "Workflow changed",
        "workflow.deleted": "Workflow deleted",
        "workflow.enabled": "Workflow turned on",
        "workflow.disabled": "Workflow turned off",
        "workflow.paused": "Workflow paused (its runs kept failing)",
        "workflow.secret_rotated": "Workflow signing secret rotated",
        "workflow.started": "Workflow started by hand",
        "workflow.http_request": "Workflow sent an HTTP request",
        "workflow.email_sent": "Workflow sent an email",
        "workflow_run.retried": "Workflow run retried",
        "workflow_run.cancelled": "Workflow run cancelled",
        "workflow_run.erased": "Workflow run erased",
    },
    object_types={"workflow": "Workflow", "run": "Workflow run"},
    fields={"reenrol": "Re-enrolment", "retry_of": "Retry of", "mode": "Retry"},
    system_actors={"studio": "Octopush Studio"},
)


@names("workflow")
def workflow_names(tenant, ids: set[str]) -> dict[str, str]:
    return {str(w.pk): w.name for w in Workflow.objects.filter(tenant=tenant, pk__in=ids)}


@names("run")
def run_names(tenant, ids: set[str]) -> dict[str, str]:
    runs = Run.objects.filter(tenant=tenant, pk__in=ids).select_related("workflow")
    return {str(r.pk): f"{r.workflow.name} run" for r in runs}
