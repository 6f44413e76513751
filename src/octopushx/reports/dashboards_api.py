"""Ready dashboards over the API: ``GET /api/v1/dashboards/{sales|activity|coaching|compliance}``.

One route per dashboard (not a ``{slug}`` parameter): the slugs are fixed names, not objects of a
tenant, and literal paths stay clear of saved dashboards addressed by id.
"""

from __future__ import annotations

from django.http import JsonResponse
from ninja import Router
from ninja.responses import NinjaJSONEncoder

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.reports import dashboards
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
