"""Home panel from Octopush X: recent calls, and what waits for a person to review."""

from __future__ import annotations

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.urls import reverse

from octopushx.calls import services
from octopushx.calls.models import CallStatus, ReviewState
from octopushx.core.home import SetupCard, panel, setup_card
from octopushx.tenancy.roles import Perm, has_perm


@panel("home/calls.html", order=20)
def recent_calls(request) -> dict:
    calls = services.visible_calls(request.tenant, request.membership)
    counts = calls.aggregate(
        unreviewed=Count("pk", filter=Q(status=CallStatus.ANALYSED, review_state=ReviewState.UNREVIEWED)),
        failed=Count("pk", filter=Q(status=CallStatus.FAILED)),
        working=Count("pk", filter=Q(status__in=(CallStatus.QUEUED, CallStatus.PROCESSING, CallStatus.FETCHING))),
    )
    recent = calls.select_related("contact", "agent").order_by(Coalesce("started_at", "created_at").desc())[:5]
    return {"counts": counts, "calls": list(recent)}


@setup_card(order=10)
def phone_system(request) -> SetupCard | None:
    """Admins connect the organisation's phone system; nobody else can."""
    if not has_perm(request.membership.role, Perm.ADMIN):
        return None
    return SetupCard(
        "Phone system", "Connect your phone system: recordings arrive and are analysed.", reverse("calls:settings")
    )
