"""API of trackers: ``/trackers`` (list, create) and ``/trackers/{tracker_id}`` (read, change, delete).

A tracker is a named set of words and phrases (simple variants match too: plurals, -ed, -ing,
case, curly apostrophes, flexible spacing) limited to one side of the call or not. Anyone who may
read calls reads trackers; owners, admins and managers change them. Creating a tracker, or changing
its phrases, side or active state, re-evaluates the organisation's past calls in a background job
whose id and progress the answer carries (``reevaluation``). A call's hits are in its answer
(``GET /calls/{id}``) as ``insights.trackers``. Bad input is 422 naming the field; nothing is saved.
"""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from pydantic import Field

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.api.pagination import paginate
from octopushx.calls.models import Tracker
from octopushx.calls.services import trackers as service
from octopushx.calls.services import visible_calls
from octopushx.tenancy.roles import Perm

router = Router(tags=["calls"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class TrackerIn(Schema):
    name: str | None = Field(None, description="Unique in the organisation, at most 120 characters")
    description: str | None = Field(None, description="What the tracker is for (optional)")
    phrases: list[str] | None = Field(
        None, description=f"Words and phrases, at least one; each at most {service.MAX_PHRASE_LENGTH} characters"
    )
    side: str | None = Field(None, description="any (default), agent or customer")
    is_active: bool | None = Field(None, description="Inactive trackers match nothing (their hits are removed)")


class TrackerJobResultOut(Schema):
    """What a finished re-evaluation did (empty while it runs)."""

    tracker_id: str | None = None
    revision: int | None = None
    calls: int | None = Field(None, description="Analysed calls evaluated")
    hits: int | None = Field(None, description="Hits found")
    skipped: str | None = Field(None, description="Why it did nothing (deleted, superseded)")
    stopped: str | None = Field(None, description="Why it stopped early")


class TrackerJobOut(Schema):
    id: str
    state: str
    progress: float = Field(description="0 to 1")
    result: TrackerJobResultOut


class TrackerOut(Schema):
    id: str
    name: str
    description: str
    phrases: list[str]
    side: str
    is_active: bool
    revision: int = Field(description="Raised by every change to what the tracker matches")
    hits_30d: int = Field(description="Hits in the calls of the last 30 days you may see")
    calls_30d: int = Field(description="Calls of the last 30 days you may see with at least one hit")
    reevaluation: TrackerJobOut | None = Field(description="The job re-evaluating past calls for this revision, if any")
    created_at: datetime
    updated_at: datetime


class TrackerListOut(Schema):
    items: list[TrackerOut]
    next: str | None


def _counted(request):
    return service.trackers_with_counts(request.tenant, visible_calls(request.tenant, request.membership))


def tracker_out(tracker: Tracker, request=None) -> TrackerOut:
    job = service.evaluation_job(tracker)
    if not hasattr(tracker, "recent_hits"):
        tracker = _counted(request).get(pk=tracker.pk)
    return TrackerOut(
        id=str(tracker.pk),
        name=tracker.name,
        description=tracker.description,
        phrases=list(tracker.phrases),
        side=tracker.side,
        is_active=tracker.is_active,
        revision=tracker.revision,
        hits_30d=tracker.recent_hits,
        calls_30d=tracker.recent_calls,
        reevaluation=(
            TrackerJobOut(id=str(job.pk), state=job.state, progress=job.progress, result=job.result or {})
            if job
            else None
        ),
        created_at=tracker.created_at,
        updated_at=tracker.updated_at,
    )


@router.get("/trackers", response={200: TrackerListOut, **ERRORS}, summary="List trackers")
def list_trackers(request, cursor: str | None = None, limit: int = 100):
    """By name, with each tracker's hits over the last 30 days."""
    require(request, Perm.READ)
    rows, next_cursor = paginate(_counted(request), cursor=cursor, limit=limit, field="name", descending=False)
    return TrackerListOut(items=[tracker_out(t) for t in rows], next=next_cursor)


@router.post("/trackers", response={201: TrackerOut, **ERRORS}, summary="Create a tracker")
def create_tracker(request, payload: TrackerIn):
    require(request, service.MANAGE)
    tracker = service.create_tracker(request.tenant, request.actor, payload.dict(exclude_unset=True))
    return 201, tracker_out(tracker, request)


@router.get("/trackers/{tracker_id}", response={200: TrackerOut, **ERRORS}, summary="One tracker")
def get_tracker(request, tracker_id: str):
    require(request, Perm.READ)
    return tracker_out(service.get_tracker(request.tenant, tracker_id), request)


@router.patch("/trackers/{tracker_id}", response={200: TrackerOut, **ERRORS}, summary="Change a tracker")
def update_tracker(request, tracker_id: str, payload: TrackerIn):
    """Only the fields given change; a change to phrases, side or is_active re-evaluates past calls."""
    require(request, service.MANAGE)
    tracker = service.get_tracker(request.tenant, tracker_id)
    tracker = service.update_tracker(request.tenant, request.actor, tracker, payload.dict(exclude_unset=True))
    return tracker_out(tracker, request)


@router.delete("/trackers/{tracker_id}", response={204: None, **ERRORS}, summary="Delete a tracker and its hits")
def delete_tracker(request, tracker_id: str):
    require(request, service.MANAGE)
    service.delete_tracker(request.tenant, request.actor, service.get_tracker(request.tenant, tracker_id))
    return 204, None
