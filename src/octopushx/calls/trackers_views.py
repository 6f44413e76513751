"""Trackers pages: the list with recent hits, the create and edit form (phrases one per line, side,
active), the re-evaluation progress while the job runs, and deleting a tracker."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from octopushx.calls import services
from octopushx.calls.models import Tracker, TrackerSide
from octopushx.calls.services import trackers
from octopushx.core.models import JobState
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires

RUNNING = (JobState.QUEUED, JobState.RUNNING)


def _can_manage(request) -> bool:
    return has_perm(request.membership.role, trackers.MANAGE)


def _counted(request):
    return trackers.trackers_with_counts(request.tenant, services.visible_calls(request.tenant, request.membership))


def _progress(tracker: Tracker) -> dict[str, Any] | None:
    """The re-evaluation of the tracker's current revision as the page shows it."""
    job = trackers.evaluation_job(tracker)
    if job is None:
        return None
    return {
        "job": job,
        "running": job.state in RUNNING,
        "percent": round(job.progress * 100),
        "calls": (job.result or {}).get("calls"),
    }


def _form_data(post) -> dict[str, Any]:
    return {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "phrases": post.get("phrases", "").splitlines(),
        "side": post.get("side", TrackerSide.ANY),
        "is_active": post.get("is_active") == "on",
    }


def _form(request, tracker: Tracker | None, data: dict[str, Any] | None, errors: dict[str, list[str]], status=200):
    if data is None:
        data = trackers.tracker_snapshot(tracker) if tracker else {"side": TrackerSide.ANY, "is_active": True}
    counted = _counted(request).get(pk=tracker.pk) if tracker else None
    return render(
        request,
        "calls/trackers/form.html",
        {
            "tracker": counted,
            "data": {**data, "phrases_text": "\n".join(data.get("phrases") or [])},
            "errors": errors,
            "sides": TrackerSide.choices,
            "can_manage": _can_manage(request),
            "progress": _progress(tracker) if tracker else None,
            "max_phrase_length": trackers.MAX_PHRASE_LENGTH,
            "phrase_rows": min(max(len(data.get("phrases") or []) + 1, 6), 20),
        },
        status=status,
    )


@requires(Perm.READ)
def tracker_list(request):
    rows = list(_counted(request))
    for row in rows:
        row.progress = _progress(row)
    return render(
        request,
        "calls/trackers/list.html",
        {"trackers": rows, "can_manage": _can_manage(request), "sides": dict(TrackerSide.choices)},
    )


@requires(trackers.MANAGE)
def tracker_new(request):
    if request.method != "POST":
        return _form(request, None, None, {})
    data = _form_data(request.POST)
    try:
        tracker = trackers.create_tracker(request.tenant, request.actor, data)
    except ValidationError as exc:
        return _form(request, None, data, exc.message_dict, status=422)
    messages.success(request, f"Tracker “{tracker.name}” created. Past calls are being checked for its phrases.")
    return redirect("calls:tracker", tracker.pk)


@requires(Perm.READ)
def tracker_page(request, tracker_id):
    """The tracker's form (read-only below managers); a POST saves the change."""
    tracker = trackers.get_tracker(request.tenant, tracker_id)
    if request.method != "POST" and request.GET.get("part") == "progress":  # htmx polls it while the job runs
        return render(
            request,
            "calls/trackers/_progress.html",
            {"tracker": _counted(request).get(pk=tracker.pk), "progress": _progress(tracker)},
        )
    if request.method != "POST":
        return _form(request, tracker, None, {})
    if not _can_manage(request):
        raise PermissionDenied("Your role cannot change trackers")
    data = _form_data(request.POST)
    revision = tracker.revision
    try:
        tracker = trackers.update_tracker(request.tenant, request.actor, tracker, data)
    except ValidationError as exc:
        tracker.refresh_from_db()
        return _form(request, tracker, data, exc.message_dict, status=422)
    if tracker.revision != revision:
        messages.success(request, "Tracker saved. Past calls are being checked again.")
    else:
        messages.success(request, "Tracker saved.")
    return redirect("calls:tracker", tracker.pk)


@requires(trackers.MANAGE)
@require_POST
def tracker_delete(request, tracker_id):
    tracker = trackers.get_tracker(request.tenant, tracker_id)
    name = tracker.name
    trackers.delete_tracker(request.tenant, request.actor, tracker)
    messages.success(request, f"Tracker “{name}” deleted with its hits.")
    return redirect("calls:trackers")
