"""API: security alerts (owners, admins, auditors)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Router, Schema

from octopushx.api.auth import require
from octopushx.api.pagination import paginate
from octopushx.shield.monitoring import services
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.tenancy.roles import Perm

router = Router(tags=["security alerts"])


class AlertOut(Schema):
    id: UUID
    kind: str
    summary: str
    details: dict
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledgement_note: str


class AlertPage(Schema):
    items: list[AlertOut]
    next: str | None


class AcknowledgeIn(Schema):
    note: str


@router.get("/security/alerts", response=AlertPage, summary="Security alerts, newest first")
def list_alerts(request, open_only: bool = False, cursor: str | None = None, limit: int = 50):
    require(request, Perm.AUDIT)
    qs = SecurityAlert.objects.for_tenant(request.tenant)
    if open_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    items, next_cursor = paginate(qs.order_by("-created_at"), cursor=cursor, limit=limit, field="created_at")
    return {"items": items, "next": next_cursor}


@router.post("/security/alerts/{alert_id}/acknowledge", response=AlertOut, summary="Acknowledge an alert")
def acknowledge(request, alert_id: UUID, data: AcknowledgeIn):
    require(request, Perm.AUDIT)
    alert = SecurityAlert.objects.get_for_tenant(request.tenant, alert_id)
    return services.acknowledge(request.tenant, request.actor, alert, data.note)
