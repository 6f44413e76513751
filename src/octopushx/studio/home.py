"""Home panel from Octopush Studio: failed runs and paused workflows, for the people who fix them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from octopushx.core import entitlements
from octopushx.core.home import panel
from octopushx.studio import services
from octopushx.studio.models import RunStatus, Workflow


@panel("home/studio.html", order=40)
def workflow_trouble(request) -> dict | None:
    if not services.can_read(request.membership) or not entitlements.allows(request.tenant, "studio"):
        return None
    since = timezone.now() - timedelta(days=1)
    failed = services.runs_for(request.tenant, status=RunStatus.FAILED).filter(finished_at__gte=since)
    paused = list(Workflow.objects.for_tenant(request.tenant).filter(paused_at__isnull=False, enabled=False)[:5])
    count = failed.count()
    if not count and not paused:
        return None
    return {"failed_count": count, "failed": list(failed.order_by("-finished_at")[:5]), "paused": paused}
