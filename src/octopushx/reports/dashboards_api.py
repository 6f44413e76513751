"""Dashboards over the API: the ready ones by slug (``GET /api/v1/dashboards/{sales|activity|coaching|
compliance}``) and custom dashboards by id (``/dashboards``, ``/dashboards/{dashboard_id}``).

One route per ready dashboard (not a ``{slug}`` parameter): the slugs are fixed names, not objects of
a tenant. They are registered before ``/dashboards/{dashboard_id}``, so a ready slug never reaches it;
a malformed id there is the API's usual JSON 404.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.http import HttpResponse, JsonResponse
from ninja import Router, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.reports import dashboard_services as services
from octopushx.reports import dashboards
from octopushx.reports import services as report_services
from octopushx.tenancy.roles import Perm

router = Router(tags=["reports"])

PERIOD_HELP = (
    "`period`: this_week, last_week (from the organisation's first day of the week), this_month (default), last_month, this_quarter, last_30_days, last_90_days or this_year, in the "
    "organisation's time zone; numbers are compared with the period of the same length before. Each widget: "
    "key, title, view (number, bar, line, stacked_bar, pie, funnel, table), period, data (the report query's "
    "result shape) and drilldown (the list of the records it counts)."
)


def _route(slug: str, board: dashboards.Dashboard) -> None:
    who = (
        "Owners, admins and auditors only. " if board.perm == Perm.AUDIT else "Every role, scoped to what it may see. "
    )

    @router.get(
        f"/dashboards/{slug}",
        response={200: dict, 403: ErrorOut, 422: ErrorOut},
        summary=f"The ready {board.title.lower()} dashboard with each widget's data",
        description=who + PERIOD_HELP,
        operation_id=f"dashboard_{slug}",
    )
    def dashboard(request, period: str = dashboards.DEFAULT_PERIOD):
        require(request, Perm.READ)
        return JsonResponse(
            dashboards.build(request.tenant, request.membership, slug, period), encoder=NinjaJSONEncoder
        )


for _slug, _board in dashboards.DASHBOARDS.items():
    _route(_slug, _board)


# --- custom dashboards ------------------------------------------------------------------------

ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class DashboardWidgetIn(Schema):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    report_id: str | None = None
    widget: str | None = None
    size: Literal["sm", "md", "lg"] | None = None


class DashboardIn(Schema):
    model_config = ConfigDict(extra="allow")
    name: str | None = None
    description: str | None = None
    widgets: list[DashboardWidgetIn] | None = None
    roles: list[str] | None = None
    shared: bool | None = None


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, encoder=NinjaJSONEncoder)


def _body(request) -> Any:
    """The body as sent: the schemas document it, the service judges it field by field."""
    return json.loads(request.body or b"{}")


@router.get("/dashboards", summary="List custom dashboards", response={200: dict, **ERRORS})
def list_dashboards(request):
    """The caller's own dashboards and those shared with their role; ``ready`` lists the ready
    dashboards and ``ready_widgets`` the ready widgets the caller's role may add to one."""
    require(request, Perm.READ)
    items = [
        services.dashboard_out(d, request.membership)
        for d in services.dashboards_for(request.tenant, request.membership)
    ]
    ready = [{"slug": d.slug, "title": d.title} for d in dashboards.visible_dashboards(request.membership)]
    return _json({"items": items, "ready": ready, "ready_widgets": services.ready_widget_choices(request.membership)})


@router.post("/dashboards", summary="Create a custom dashboard", response={201: dict, **ERRORS})
def create_dashboard(request, payload: DashboardIn):
    """Personal (``shared`` false, the default) or shared with ``roles`` (every role when empty; sharing
    needs a manager, admin or owner). ``widgets``: ``[{"report_id": …} | {"widget": "sales.win_rate"}, each
    with "size": sm|md|lg]`` in display order."""
    dashboard = services.create_dashboard(request.tenant, request.actor, request.membership, _body(request))
    return _json(services.dashboard_out(dashboard, request.membership), status=201)


@router.get(
    "/dashboards/{dashboard_id}",
    summary="A custom dashboard with each widget's data",
    response={200: dict, **ERRORS},
    description=PERIOD_HELP,
)
def get_dashboard(request, dashboard_id: str, period: str = dashboards.DEFAULT_PERIOD):
    """The dashboard (name, sharing, widget list) and ``data``: ``dashboards.build`` for the caller, each
    widget's numbers those of the caller's role. A widget whose report was deleted, or whose field was
    removed, carries ``data.unavailable`` saying so."""
    require(request, Perm.READ)
    dashboard = services.get_dashboard(request.tenant, request.membership, dashboard_id)
    data = dashboards.build(request.tenant, request.membership, str(dashboard.pk), period)
    return _json({**services.dashboard_out(dashboard, request.membership), "data": data})


@router.patch("/dashboards/{dashboard_id}", summary="Change a custom dashboard", response={200: dict, **ERRORS})
def update_dashboard(request, dashboard_id: str, payload: DashboardIn):
    """Rename, share, or arrange: ``widgets`` is the whole list in its new order. Existing widgets are
    named by ``id`` (their size may change); entries without an ``id`` are added; those left out are removed."""
    dashboard = services.get_dashboard(request.tenant, request.membership, dashboard_id)
    dashboard = services.update_dashboard(request.tenant, request.actor, request.membership, dashboard, _body(request))
    return _json(services.dashboard_out(dashboard, request.membership))


@router.delete("/dashboards/{dashboard_id}", summary="Delete a custom dashboard", response={204: None, **ERRORS})
def delete_dashboard(request, dashboard_id: str):
    dashboard = services.get_dashboard(request.tenant, request.membership, dashboard_id)
    services.delete_dashboard(request.tenant, request.actor, request.membership, dashboard)
    return 204, None


@router.post(
    "/dashboards/{dashboard_id}/widgets",
    summary="Add a widget to a custom dashboard",
    response={201: dict, **ERRORS},
)
def add_widget(request, dashboard_id: str, payload: DashboardWidgetIn):
    """Adds a saved report (``report_id``) or a ready widget (``widget``: ``"sales.win_rate"``) at the end."""
    dashboard = services.get_dashboard(request.tenant, request.membership, dashboard_id)
    entry = services.add_widget(request.tenant, request.actor, request.membership, dashboard, _body(request))
    return _json({"widget": entry, "dashboard": services.dashboard_out(dashboard, request.membership)}, status=201)


@router.get(
    "/dashboards/{key}/pdf",
    response={200: None, 403: ErrorOut, 404: ErrorOut},
    summary="A dashboard as PDF, every widget drawn with its chart and numbers",
    description=(
        "`key`: a ready dashboard's slug (sales, activity, coaching, compliance) or a custom dashboard's id. "
        "The same numbers as `GET /dashboards/...` for the caller's role; the first page states the period, "
        "filters, whose view it is, the time zone and when it was generated. " + PERIOD_HELP.split(" Each")[0]
    ),
)
def dashboard_pdf(request, key: str, period: str = dashboards.DEFAULT_PERIOD):
    require(request, Perm.READ)
    filename, body = report_services.dashboard_pdf_file(request.tenant, request.actor, request.membership, key, period)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
