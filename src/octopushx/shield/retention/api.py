"""API: retention policies, legal holds and the dry-run preview (admins)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Router, Schema

from octopushx.api.auth import require
from octopushx.shield.retention import services
from octopushx.shield.retention.models import LegalHold
from octopushx.tenancy.roles import Perm

router = Router(tags=["retention"])


class RetentionPolicyOut(Schema):
    data_class: str
    label: str
    days: int | None
    keep: bool


class RetentionPolicyIn(Schema):
    data_class: str
    keep: bool = False
    days: int | None = None


class HoldIn(Schema):
    scope: str
    object_id: str = ""
    reason: str


class HoldOut(Schema):
    id: UUID
    scope: str
    object_id: str
    reason: str
    created_at: datetime
    released_at: datetime | None


class DueOut(Schema):
    data_class: str
    label: str
    days: int | None
    would_delete: int


class PreviewOut(Schema):
    tenant_held: bool
    items: list[DueOut]


def _policies(tenant) -> list[dict]:
    return [
        {"data_class": p.key, "label": p.label, "days": p.days, "keep": p.days is None}
        for p in services.effective_policies(tenant)
    ]


@router.get("/retention/policies", response=list[RetentionPolicyOut], summary="Retention per data class")
def list_policies(request):
    require(request, Perm.ADMIN)
    return _policies(request.tenant)


@router.post("/retention/policies", response=list[RetentionPolicyOut], summary="Set one data class's retention")
def set_policy(request, data: RetentionPolicyIn):
    require(request, Perm.ADMIN)
    services.set_policy(request.tenant, request.actor, data.data_class, keep=data.keep, days=data.days)
    return _policies(request.tenant)


@router.get("/retention/preview", response=PreviewOut, summary="What a purge would delete today")
def preview(request):
    require(request, Perm.ADMIN)
    due, holds = services.preview(request.tenant)
    items = [{"data_class": d.key, "label": d.label, "days": d.days, "would_delete": d.count} for d in due]
    return {"tenant_held": holds.tenant_wide, "items": items}


@router.get("/retention/holds", response=list[HoldOut], summary="Legal holds")
def list_holds(request):
    require(request, Perm.ADMIN)
    return list(LegalHold.objects.for_tenant(request.tenant))


@router.post("/retention/holds", response={201: HoldOut}, summary="Place a legal hold")
def place_hold(request, data: HoldIn):
    require(request, Perm.ADMIN)
    hold = services.place_hold(
        request.tenant, request.actor, scope=data.scope, object_id=data.object_id, reason=data.reason
    )
    return 201, hold


@router.post("/retention/holds/{hold_id}/release", response=HoldOut, summary="Release a legal hold")
def release_hold(request, hold_id: UUID):
    require(request, Perm.ADMIN)
    hold = LegalHold.objects.get_for_tenant(request.tenant, hold_id)
    return services.release_hold(request.tenant, request.actor, hold)
