"""API: the organisation, its members and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from octopushx.api.auth import require
from octopushx.tenancy import services
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm

router = Router(tags=["organisation"])


class OrganizationOut(Schema):
    id: UUID
    name: str
    kind: str
    brand_name: str
    brand_color: str
    default_region: str
    time_zone: str
    week_start: str
    require_2fa: bool


class OrganizationPatch(Schema):
    name: str | None = None
    brand_name: str | None = None
    brand_color: str | None = None
    default_region: str | None = None
    time_zone: str | None = None
    week_start: Literal["monday", "sunday", "saturday"] | None = None
    require_2fa: bool | None = None


@router.get("/organization", response=OrganizationOut)
def get_organization(request):
    return request.tenant


@router.patch("/organization", response=OrganizationOut)
def update_organization(request, data: OrganizationPatch):
    require(request, Perm.ADMIN)
    return services.update_profile(request.tenant, request.actor, **data.dict(exclude_unset=True))


class MemberOut(Schema):
    id: UUID
    email: str
    full_name: str
    role: str
    created_at: datetime

    @staticmethod
    def resolve_email(obj):
        return obj.user.email

    @staticmethod
    def resolve_full_name(obj):
        return obj.user.full_name


class RoleIn(Schema):
    role: str


class InvitationIn(Schema):
    email: str
    role: str


class InvitationOut(Schema):
    id: UUID
    email: str
    role: str
    expires_at: datetime


@router.get("/members", response=list[MemberOut])
def list_members(request):
    return list(Membership.objects.filter(tenant=request.tenant).select_related("user"))


@router.patch("/members/{member_id}", response=MemberOut)
def change_role(request, member_id: UUID, data: RoleIn):
    require(request, Perm.ADMIN)
    membership = get_object_or_404(Membership, pk=member_id, tenant=request.tenant)
    return services.change_role(request.tenant, request.actor, membership, data.role)


@router.delete("/members/{member_id}", response={204: None})
def remove_member(request, member_id: UUID):
    require(request, Perm.ADMIN)
    membership = get_object_or_404(Membership, pk=member_id, tenant=request.tenant)
    services.remove_member(request.tenant, request.actor, membership)
    return 204, None


@router.post("/invitations", response={201: InvitationOut})
def create_invitation(request, data: InvitationIn):
    require(request, Perm.ADMIN)
    invitation, _link = services.invite(request.tenant, request.actor, email=data.email, role=data.role)
    return 201, invitation


# --- support access for the organisation's reseller ------------------------------------------------


class SupportAccessIn(Schema):
    hours: int = 24


def _support_out(tenant) -> dict:
    from octopushx.tenancy import support

    reseller = support.reseller_of(tenant)
    grant = support.live_grant(tenant)
    return {
        "reseller": reseller.name if reseller else None,
        "granted": grant is not None,
        "expires_at": grant.expires_at.isoformat() if grant else None,
    }


@router.get("/organization/support-access", response=dict, summary="Whether the reseller may enter for support")
def get_support_access(request):
    require(request, Perm.ADMIN)
    return _support_out(request.tenant)


@router.post(
    "/organization/support-access", response=dict, summary="Grant the reseller support access for some hours (owners)"
)
def grant_support_access(request, data: SupportAccessIn):
    """``{"hours": 24}`` (1 to 720): the reseller's owners and admins may switch in until then; audited in both
    organisations. A direct customer (no reseller) gets 422."""
    from octopushx.tenancy import support

    require(request, Perm.OWNER)
    support.grant(request.tenant, request.actor, hours=data.hours)
    return _support_out(request.tenant)


@router.delete("/organization/support-access", response=dict, summary="Revoke support access at once (owners)")
def revoke_support_access(request):
    from octopushx.tenancy import support

    require(request, Perm.OWNER)
    support.revoke(request.tenant, request.actor)
    return _support_out(request.tenant)
