"""Studio's figures in ``/readyz``: runs that failed today, and how far behind the queue is."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from octopushx.core.views import readiness_detail
from octopushx.studio.models import Run, RunStatus


@readiness_detail("studio")
def studio_detail() -> dict:
    now = timezone.now()
    due = Run.objects.filter(status=RunStatus.QUEUED, run_after__lte=now)
    oldest = due.aggregate(first=Min("run_after"))["first"]
    return {
        "failed_runs_24h": Run.objects.filter(
            status=RunStatus.FAILED, finished_at__gte=now - timedelta(days=1)
        ).count(),
        "queued_runs": due.count(),
        "waiting_runs": Run.objects.filter(status=RunStatus.WAITING).count(),
        "oldest_queued_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0,
    }
