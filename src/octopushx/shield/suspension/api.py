"""API: suspend and reinstate an organisation (platform staff; resellers for their customers)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import Http404
from ninja import Router, Schema

from octopushx.api.auth import require
from octopushx.shield.suspension import services
from octopushx.tenancy.models import Organization
from octopushx.tenancy.roles import Perm

router = Router(tags=["suspension"])


class SuspendIn(Schema):
    reason: str
    note: str = ""


class ReinstateIn(Schema):
    note: str = ""


class SuspensionOut(Schema):
    id: UUID
    name: str
    suspended: bool
    suspended_at: datetime | None
    suspension_reason: str
    suspension_note: str

    @staticmethod
    def resolve_suspended(obj):
        return obj.suspended_at is not None


def _manageable(request, org_id: UUID) -> Organization:
    """Another tenant's organisation is a 404, exactly like a missing one."""
    org = Organization.objects.filter(pk=org_id, deleted_at__isnull=True).select_related("parent").first()
    if org is None or not services.can_suspend(request.user, org):
        raise Http404("No organisation with that id")
    return org


@router.post("/organizations/{org_id}/suspend", response=SuspensionOut, summary="Suspend an organisation")
def suspend(request, org_id: UUID, data: SuspendIn):
    require(request, Perm.ADMIN)
    org = _manageable(request, org_id)
    return services.suspend_tenant(org, request.actor, reason=data.reason, note=data.note)


@router.post("/organizations/{org_id}/reinstate", response=SuspensionOut, summary="Reinstate an organisation")
def reinstate(request, org_id: UUID, data: ReinstateIn | None = None):
    require(request, Perm.ADMIN)
    org = _manageable(request, org_id)
    return services.reinstate_tenant(org, request.actor, note=data.note if data else "")
