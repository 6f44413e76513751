"""API of scheduled reports: ``/report-schedules`` (list, create) and ``/report-schedules/{id}``.

A schedule emails a dashboard (``dashboard``: a ready slug or a custom dashboard's id) or a saved
report (``report_id``) as PDF or CSV to members (``recipient_ids``: their user ids), daily,
weekly (``weekday``) or monthly (``day_of_month``) at ``time`` (``HH:MM``) in each recipient's own
time zone (their profile's, else the organisation's). Each copy is rendered for its recipient's
role. Bad input is 422 naming the field; an agent may schedule to themselves only (403); another
organisation's schedule, or one the caller neither owns nor receives, is 404.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.http import JsonResponse
from ninja import Router, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict, Field

from octopushx.api.errors import ErrorOut
from octopushx.api.pagination import paginate
from octopushx.reports import schedules

router = Router(tags=["reports"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ScheduleIn(Schema):
    model_config = ConfigDict(extra="allow")
    name: str | None = None
    dashboard: str | None = Field(None, description="A ready dashboard's slug or a custom dashboard's id")
    report_id: str | None = Field(None, description="A saved report's id (instead of a dashboard)")
    period: str | None = Field(None, description="For dashboards: this_month (default), last_month, …")
    format: Literal["pdf", "csv"] | None = None
    frequency: Literal["daily", "weekly", "monthly"] | None = None
    weekday: Any = Field(None, description="Weekly: 0 (Monday) to 6 (Sunday), or the day's name")
    day_of_month: int | None = Field(None, description="Monthly: 1 to 31; a shorter month sends on its last day")
    time: str | None = Field(None, description="HH:MM, in each recipient's time zone")
    recipient_ids: list[str] | None = Field(None, description="Members' user ids")
    enabled: bool | None = None


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, encoder=NinjaJSONEncoder)


def _body(request) -> dict:
    return json.loads(request.body or b"{}")


@router.get("/report-schedules", summary="List scheduled reports", response={200: dict, **ERRORS})
def list_schedules(request, cursor: str | None = None, limit: int = 50):
    """Admins and owners see every schedule; others the ones they created or receive."""
    rows, next_cursor = paginate(
        schedules.visible_schedules(request.tenant, request.membership), cursor=cursor, limit=limit
    )
    return _json({"items": [schedules.schedule_out(s, request.membership) for s in rows], "next": next_cursor})


@router.post("/report-schedules", summary="Schedule a report", response={201: dict, **ERRORS})
def create_schedule(request, payload: ScheduleIn):
    schedule = schedules.create_schedule(request.tenant, request.actor, request.membership, _body(request))
    return _json(schedules.schedule_out(schedule, request.membership), status=201)


@router.get("/report-schedules/{schedule_id}", summary="Get a scheduled report", response={200: dict, **ERRORS})
def get_schedule(request, schedule_id: str):
    schedule = schedules.get_schedule(request.tenant, request.membership, schedule_id)
    return _json(schedules.schedule_out(schedule, request.membership))


@router.patch("/report-schedules/{schedule_id}", summary="Change a scheduled report", response={200: dict, **ERRORS})
def update_schedule(request, schedule_id: str, payload: ScheduleIn):
    schedule = schedules.get_schedule(request.tenant, request.membership, schedule_id)
    schedule = schedules.update_schedule(request.tenant, request.actor, request.membership, schedule, _body(request))
    return _json(schedules.schedule_out(schedule, request.membership))


@router.delete("/report-schedules/{schedule_id}", summary="Delete a scheduled report", response={204: None, **ERRORS})
def delete_schedule(request, schedule_id: str):
    schedule = schedules.get_schedule(request.tenant, request.membership, schedule_id)
    schedules.delete_schedule(request.tenant, request.actor, request.membership, schedule)
    return 204, None
