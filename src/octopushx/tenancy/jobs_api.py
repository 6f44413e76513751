"""API: background jobs of the organisation (admins); beside the jobs page, above core, because it needs roles."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Router, Schema

from octopushx.api.auth import require
from octopushx.api.pagination import paginate
from octopushx.core import jobs
from octopushx.core.models import Job
from octopushx.tenancy.roles import Perm

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: UUID
    kind: str
    state: str
    attempts: int
    progress: float
    last_error: str
    created_at: datetime
    finished_at: datetime | None


class JobPage(Schema):
    items: list[JobOut]
    next: str | None


@router.get("/jobs", response=JobPage, summary="Background jobs (filter by state)")
def list_jobs(request, state: str | None = None, cursor: str | None = None, limit: int = 50):
    require(request, Perm.ADMIN)
    qs = Job.objects.for_tenant(request.tenant)
    if state:
        qs = qs.filter(state=state)
    items, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": items, "next": next_cursor}


@router.post("/jobs/{job_id}/retry", response=JobOut, summary="Retry a job that failed for good")
def retry_job(request, job_id: UUID):
    require(request, Perm.ADMIN)
    return jobs.retry(Job.objects.get_for_tenant(request.tenant, job_id), request.actor)
