"""Support access: a customer's owner grants its reseller time-limited entry for support.

Only while a grant is live may the reseller's owners and admins switch into the customer (they
work there as an admin); entering, granting and revoking are audited in both organisations, and
an expired or revoked grant ends a session inside at its next request.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.tenancy.models import Membership, Organization, OrgKind, SupportGrant
from octopushx.tenancy.roles import Perm, Role, has_perm

SESSION_FLAG = "support_tenant_id"  # set while a reseller admin works inside a customer
MAX_HOURS = 24 * 30
DEFAULT_HOURS = 24


def reseller_of(customer: Organization) -> Organization | None:
    parent = customer.parent if customer.parent_id else None
    return parent if parent is not None and parent.kind == OrgKind.RESELLER else None


def live_grant(customer: Organization) -> SupportGrant | None:
    return (
        SupportGrant.objects.filter(tenant=customer, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def _record_both(customer: Organization, reseller: Organization, actor: Actor, action: str, changes: dict) -> None:
    audit.record(customer, actor, action, obj=customer, changes=changes)
    audit.record(reseller, actor, action, obj=customer, changes=changes)


@transaction.atomic
def grant(customer: Organization, actor: Actor, *, hours: int = DEFAULT_HOURS) -> SupportGrant:
    """The customer's owner opens support access for ``hours`` (replacing a live grant)."""
    if actor.user is not None and not has_perm(actor.role, Perm.OWNER):
        raise PermissionDenied("Only the organisation's owners grant support access")
    reseller = reseller_of(customer)
    if reseller is None:
        raise ValidationError({"hours": ["Only an organisation that buys through a reseller grants it support access"]})
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise ValidationError({"hours": [f"A whole number of hours from 1 to {MAX_HOURS}"]})
    now = timezone.now()
    SupportGrant.objects.filter(tenant=customer, revoked_at__isnull=True).update(revoked_at=now)
    made = SupportGrant.objects.create(
        tenant=customer,
        reseller=reseller,
        granted_by=actor.user,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    _record_both(customer, reseller, actor, "support_access.granted",
                 {"expires_at": [None, made.expires_at.isoformat()], "reseller": [None, reseller.name]})  # fmt: skip
    return made


@transaction.atomic
def revoke(customer: Organization, actor: Actor) -> int:
    """End every live grant of the customer at once; returns how many ended."""
    if actor.user is not None and not has_perm(actor.role, Perm.OWNER):
        raise PermissionDenied("Only the organisation's owners revoke support access")
    ended = SupportGrant.objects.filter(tenant=customer, revoked_at__isnull=True, expires_at__gt=timezone.now()).update(
        revoked_at=timezone.now()
    )
    reseller = reseller_of(customer)
    if ended and reseller is not None:
        _record_both(customer, reseller, actor, "support_access.revoked", {"revoked": [False, True]})
    return ended


def can_enter(user, customer: Organization) -> bool:
    """The user is an owner or admin of the customer's reseller and the customer's grant is live."""
    reseller = reseller_of(customer)
    if reseller is None or customer.deleted_at is not None or live_grant(customer) is None:
        return False
    return Membership.objects.filter(user=user, tenant=reseller, role__in=[Role.OWNER, Role.ADMIN]).exists()


def support_membership(user, customer: Organization) -> Membership:
    """The (unsaved) membership a support session works with: an admin of the customer."""
    return Membership(tenant=customer, user=user, role=Role.ADMIN)


def enter(customer: Organization, actor: Actor) -> None:
    """Record that a reseller admin switched into the customer (both trails)."""
    grant_row = live_grant(customer)
    _record_both(customer, customer.parent, actor, "support_access.entered",
                 {"expires_at": [None, grant_row.expires_at.isoformat() if grant_row else None]})  # fmt: skip


def enterable(user) -> list[Organization]:
    """Customers the user may switch into for support right now."""
    resellers = Membership.objects.filter(
        user=user, role__in=[Role.OWNER, Role.ADMIN], tenant__kind=OrgKind.RESELLER
    ).values("tenant_id")
    live = SupportGrant.objects.filter(
        reseller__in=resellers, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).values("tenant_id")
    return list(
        Organization.objects.filter(pk__in=live, deleted_at__isnull=True, parent_id__in=resellers).order_by("name")
    )
