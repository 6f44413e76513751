"""API: the session policy, the tenant's seats, and setting a customer's plan."""

from __future__ import annotations

from uuid import UUID

from ninja import Router, Schema

from octopushx.api.auth import require
from octopushx.shield.seats import services
from octopushx.shield.suspension.api import _manageable
from octopushx.tenancy.roles import Perm

router = Router(tags=["security policy"])


class SessionPolicyOut(Schema):
    max_sessions_per_user: int | None


class SessionPolicyIn(Schema):
    max_sessions_per_user: int | None


class SeatsOut(Schema):
    plan: str | None
    seats: int | None
    used: int
    available: int | None


class SubscriptionIn(Schema):
    plan: str
    seats: int | None = None


@router.get("/security/policy", response=SessionPolicyOut, summary="The organisation's session policy")
def get_policy(request):
    require(request, Perm.ADMIN)
    return services.policy_of(request.tenant)


@router.patch("/security/policy", response=SessionPolicyOut, summary="Change the session policy")
def update_policy(request, data: SessionPolicyIn):
    require(request, Perm.ADMIN)
    return services.update_policy(request.tenant, request.actor, max_sessions_per_user=data.max_sessions_per_user)


@router.get("/subscription", response=SeatsOut, summary="Plan and seats of the organisation")
def get_seats(request):
    return services.seat_summary(request.tenant)


@router.put(
    "/organizations/{org_id}/subscription",
    response=SeatsOut,
    summary="Set a customer's plan (platform staff, or its reseller)",
)
def set_subscription(request, org_id: UUID, data: SubscriptionIn):
    require(request, Perm.ADMIN)
    org = _manageable(request, org_id)
    services.set_subscription(org, request.actor, plan=data.plan, seats=data.seats)
    return services.seat_summary(org)
