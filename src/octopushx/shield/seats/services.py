"""Concurrent-session limits and seats.

Sessions: when a user signs in, their oldest browser sessions beyond the strictest limit of
their organisations are signed out. Seats: a membership or invitation beyond the
subscription's seats is refused (checked on every path that creates one, through signals).
"""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from octopushx.accounts.models import UserSession
from octopushx.core import audit, entitlements, events
from octopushx.core.context import Actor
from octopushx.shield.seats.models import PLAN_SEATS, Plan, SecurityPolicy, Subscription
from octopushx.tenancy.models import Invitation, Membership, Organization
from octopushx.tenancy.roles import Perm, has_perm

MAX_SESSIONS_CEILING = 50


# --- policy ------------------------------------------------------------------------------


def policy_of(tenant: Organization) -> SecurityPolicy:
    """The tenant's policy (unsaved defaults when it never changed one)."""
    return SecurityPolicy.objects.for_tenant(tenant).first() or SecurityPolicy(tenant=tenant)


@transaction.atomic
def update_policy(tenant: Organization, actor: Actor, *, max_sessions_per_user: int | None) -> SecurityPolicy:
    """Set the concurrent-session limit (None: unlimited)."""
    if actor.user is not None and not has_perm(actor.role, Perm.ADMIN):
        raise PermissionDenied("Only admins change the security policy")
    if max_sessions_per_user is not None and not 1 <= max_sessions_per_user <= MAX_SESSIONS_CEILING:
        raise ValidationError(
            {"max_sessions_per_user": [f"Between 1 and {MAX_SESSIONS_CEILING}, or empty for no limit"]}
        )
    policy = policy_of(tenant)
    old = policy.max_sessions_per_user
    policy.max_sessions_per_user = max_sessions_per_user
    policy.save()
    if old != max_sessions_per_user:
        audit.record(
            tenant,
            actor,
            "security.policy_changed",
            obj=policy,
            changes={"max_sessions_per_user": [old, max_sessions_per_user]},
        )
    return policy


def session_limit_for(user) -> int | None:
    """The strictest limit among the user's organisations."""
    tenant_ids = Membership.objects.filter(user=user).values("tenant_id")
    limits = SecurityPolicy.objects.filter(tenant_id__in=tenant_ids, max_sessions_per_user__isnull=False)
    values = [p.max_sessions_per_user for p in limits]
    return min(values) if values else None


def enforce_session_limit(user, current_key: str | None, ip: str | None = None) -> int:
    """Sign out the user's oldest live sessions beyond the limit; the current one stays."""
    limit = session_limit_for(user)
    if limit is None:
        return 0
    now = timezone.now()
    live = set(
        Session.objects.filter(
            session_key__in=UserSession.objects.filter(user=user).values("session_key"), expire_date__gt=now
        ).values_list("session_key", flat=True)
    )
    others = [
        s
        for s in UserSession.objects.filter(user=user).order_by("-created_at")
        if s.session_key != current_key and s.session_key in live
    ]
    evicted = others[max(limit - 1, 0) :]
    if not evicted:
        return 0
    keys = [s.session_key for s in evicted]
    with transaction.atomic():
        Session.objects.filter(session_key__in=keys).delete()
        UserSession.objects.filter(session_key__in=keys).delete()
        actor = Actor(user=user, ip=ip, label_override="")
        for membership in Membership.objects.filter(user=user).select_related("tenant"):
            audit.record(
                membership.tenant,
                actor,
                "session.evicted",
                object_type="user",
                object_id=str(user.pk),
                changes={"sessions_signed_out": [None, len(keys)], "limit": [None, limit]},
            )
    return len(keys)


# --- seats --------------------------------------------------------------------------------


def subscription_of(tenant: Organization) -> Subscription | None:
    return Subscription.objects.for_tenant(tenant).first()


def seats_used(tenant: Organization) -> int:
    members = Membership.objects.filter(tenant=tenant).count()
    invited = sum(1 for i in Invitation.objects.filter(tenant=tenant, accepted_at__isnull=True) if i.is_open)
    return members + invited


def check_seat_available(tenant: Organization, *, invitation_email: str | None = None) -> None:
    """Refuse a new member (or invitation) when every seat is taken.

    The cap comes from ``core.entitlements`` (the strictest of the billing plan's seats and the
    operator's seat cap below). Accepting an invitation uses the seat its invitation already
    held, so it is not counted twice.
    """
    cap = entitlements.seat_limit(tenant)
    if cap is None:
        return
    used = seats_used(tenant)
    if invitation_email is not None:
        holds = Invitation.objects.filter(tenant=tenant, email=invitation_email, accepted_at__isnull=True)
        if any(i.is_open for i in holds):
            used -= 1
    if used >= cap.limit:
        raise ValidationError(
            {
                "seats": [
                    f"All {cap.limit} seats of the {cap.label} are taken. "
                    f"Remove a member, revoke an invitation or {cap.remedy} to add someone."
                ]
            }
        )


class OperatorSeatCap:
    """The seat cap platform staff or a reseller set on this stub subscription, as an entitlement provider."""

    def allows(self, tenant: Organization, feature: str) -> bool | None:
        return None

    def refusal(self, tenant: Organization, feature: str) -> str:
        return ""

    def seat_limit(self, tenant: Organization) -> entitlements.SeatLimit | None:
        subscription = subscription_of(tenant)
        limit = subscription.seat_limit if subscription is not None else None
        if limit is None:
            return None
        return entitlements.SeatLimit(limit, f"{subscription.get_plan_display()} plan")


@transaction.atomic
def set_subscription(tenant: Organization, actor: Actor, *, plan: str, seats: int | None = None) -> Subscription:
    """Change the tenant's plan (platform staff or its reseller; the billing app will own this)."""
    errors: dict[str, list[str]] = {}
    if plan not in Plan.values:
        errors["plan"] = [f"Choose one of: {', '.join(Plan.values)}"]
    if seats is not None and not 1 <= seats <= 100_000:
        errors["seats"] = ["Between 1 and 100000, or empty for the plan's seats"]
    if errors:
        raise ValidationError(errors)
    subscription = subscription_of(tenant) or Subscription(tenant=tenant)
    old = {"plan": subscription.plan if subscription.pk else None, "seats": subscription.seats}
    subscription.plan, subscription.seats = plan, seats
    subscription.save()
    audit.record(
        tenant, actor, "subscription.changed", obj=subscription, changes=audit.diff(old, {"plan": plan, "seats": seats})
    )
    events.emit(tenant, "subscription.changed", {"subscription_id": str(subscription.pk), "plan": plan})
    return subscription


def seat_summary(tenant: Organization) -> dict:
    """The stub's plan with the seats that really apply: the strictest cap of ``core.entitlements``."""
    subscription = subscription_of(tenant)
    cap = entitlements.seat_limit(tenant)
    limit = cap.limit if cap is not None else None
    used = seats_used(tenant)
    if cap is not None:
        label = cap.label.removesuffix(" plan")
    else:
        label = subscription.get_plan_display() if subscription else "No plan (unmetered)"
    return {
        "plan": subscription.plan if subscription else None,
        "plan_label": label,
        "seats": limit,
        "used": used,
        "available": None if limit is None else max(limit - used, 0),
        "plan_seats": PLAN_SEATS,
    }
