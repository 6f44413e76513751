"""Ready dashboards over the API: ``GET /api/v1/dashboards/{sales|activity|coaching|compliance}``.

One route per dashboard (not a ``{slug}`` parameter): the slugs are fixed names, not objects of a
tenant, and literal paths stay clear of saved dashboards addressed by id.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from ninja import Router
from ninja.responses import NinjaJSONEncoder

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.reports import dashboards, services
from octopushx.tenancy.roles import Perm

router = Router(tags=["reports"])

PERIOD_HELP = (
    "`period`: this_month (default), last_month, this_quarter, last_30_days, last_90_days or this_year, in the "
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
    filename, body = services.dashboard_pdf_file(request.tenant, request.actor, request.membership, key, period)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
