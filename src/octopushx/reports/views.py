"""The ready dashboards as pages: tabs, a period picker and a grid of widget cards."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from octopushx.reports import dashboards, presentation
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires


@requires(Perm.READ)
def dashboard(request, slug: str):
    if not dashboards.can_see(request.membership, slug):
        raise PermissionDenied("Compliance reports are for owners, admins and auditors")
    period = dashboards.resolve_period(request.tenant, request.GET.get("period"))
    data = dashboards.build(request.tenant, request.membership, slug, period)
    zone = dashboards.org_zone(request.tenant)
    as_of = timezone.now().astimezone(zone)
    cards = [presentation.card(widget, period, as_of) for widget in data["widgets"]]
    return render(
        request,
        "reports/dashboard.html",
        {
            "board": data,
            "slug": slug,
            "cards": cards,
            "charts": {card["chart_id"]: card["chart"] for card in cards if card.get("chart")},
            "tabs": [{"slug": d.slug, "title": d.title} for d in dashboards.visible_dashboards(request.membership)],
            "period": period,
            "previous": period.previous(),
            "periods": list(dashboards.PERIODS.items()),
            "as_of": as_of,
            "zone": str(zone),
        },
    )
