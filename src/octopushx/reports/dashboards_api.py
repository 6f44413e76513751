"""Ready dashboards over the API: ``GET /api/v1/dashboards/{slug}`` with every widget's data."""

from __future__ import annotations

from django.http import JsonResponse
from ninja import Router
from ninja.responses import NinjaJSONEncoder

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.reports import dashboards
from octopushx.tenancy.roles import Perm

router = Router(tags=["reports"])


@router.get(
    "/dashboards/{slug}",
    response={200: dict, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="A ready dashboard (sales, activity, coaching, compliance) with each widget's data",
)
def dashboard(request, slug: str, period: str = dashboards.DEFAULT_PERIOD):
    """``period``: this_month, last_month, this_quarter, last_30_days, last_90_days or this_year, in the
    organisation's time zone; each number is compared with the period before. Compliance is for owners,
    admins and auditors."""
    require(request, Perm.READ)
    data = dashboards.build(request.tenant, request.membership, slug, period)
    return JsonResponse(data, encoder=NinjaJSONEncoder)
