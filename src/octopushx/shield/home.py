"""Home panel from Shield: open security alerts and privacy requests (owners, admins, auditors)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from octopushx.core.home import panel
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.shield.privacy.models import PrivacyRequest, RequestState
from octopushx.tenancy.roles import Perm, has_perm

OPEN_STATES = (RequestState.RECEIVED, RequestState.VERIFIED, RequestState.IN_PROGRESS)


@panel("home/shield.html", order=40)
def compliance(request) -> dict | None:
    role = request.membership.role if request.membership else None
    sees_alerts = sees_requests = has_perm(role, Perm.AUDIT)
    if not (sees_alerts or sees_requests):
        return None
    context: dict = {"sees_alerts": sees_alerts, "sees_requests": sees_requests}
    if sees_alerts:
        alerts = SecurityAlert.objects.for_tenant(request.tenant).filter(acknowledged_at__isnull=True)
        context["alerts"] = list(alerts.order_by("-created_at")[:3])
        context["alert_count"] = alerts.count()
    if sees_requests:
        requests = PrivacyRequest.objects.for_tenant(request.tenant).filter(state__in=OPEN_STATES)
        context["requests"] = requests.aggregate(
            open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=timezone.now()))
        )
    return context
