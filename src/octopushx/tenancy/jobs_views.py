"""The jobs page (Settings → Jobs): background work of the organisation, failures first, with retry.

It lives in tenancy, not core, because it is a members-only page that needs roles; core keeps the
queue itself."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from octopushx.core import jobs
from octopushx.core.models import Job, JobState
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires


@requires(Perm.ADMIN)
def job_list(request):
    state = request.GET.get("state", "")
    qs = Job.objects.for_tenant(request.tenant)
    if state in JobState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs.order_by("-created_at"), 50).get_page(request.GET.get("page"))
    counts = {s: Job.objects.for_tenant(request.tenant).filter(state=s).count() for s in JobState.values}
    return render(
        request,
        "core/jobs.html",
        {"page": page, "state": state, "counts": counts, "states": JobState.choices},
    )


@requires(Perm.ADMIN)
@require_POST
def retry(request, job_id):
    job = Job.objects.get_for_tenant(request.tenant, job_id)
    try:
        jobs.retry(job, request.actor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The job is queued again.")
    return redirect("jobs:list")
