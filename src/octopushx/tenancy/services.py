"""Organisations, members, roles and invitations: the operations views, API and CLI share."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from octopushx.accounts.models import User
from octopushx.core import audit, events, jobs, keys
from octopushx.core.context import Actor
from octopushx.tenancy.models import Invitation, Membership, Organization, OrgKind
from octopushx.tenancy.roles import Perm, Role, can_grant, has_perm

INVITATION_DAYS = 7
PLATFORM_NAME = "OctopushX Platform"


def platform_org() -> Organization:
    org = Organization.objects.filter(kind=OrgKind.PLATFORM).order_by("created_at").first()
    if org is None:
        org = Organization.objects.create(kind=OrgKind.PLATFORM, name=PLATFORM_NAME, brand_name="OctopushX")
    return org


def _check_role(role: str) -> str:
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}; choose one of {', '.join(Role.values)}"]})
    return role


def get_or_create_user(email: str, password: str | None = None, full_name: str = "") -> tuple[User, bool]:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address"]})
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    if password is not None:
        try:
            validate_password(password, User(email=email))
        except ValidationError as exc:
            raise ValidationError({"password": list(exc.messages)})
    user = User.objects.create_user(email=email, password=password, full_name=full_name)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user, True


def can_manage_org(user: User, org: Organization) -> bool:
    """Platform admins manage every organisation; reseller admins their own customers."""
    admin_orgs = [
        m.tenant
        for m in Membership.objects.filter(user=user, role__in=[Role.OWNER, Role.ADMIN]).select_related("tenant")
    ]
    for admin_org in admin_orgs:
        if admin_org.kind == OrgKind.PLATFORM:
            return True
        if admin_org.kind == OrgKind.RESELLER and (org.pk == admin_org.pk or org.is_descendant_of(admin_org)):
            return True
    return False


def manageable_orgs(user: User) -> list[Organization]:
    """The organisations ``user`` manages (as ``can_manage_org``), in a few queries whatever their number.

    The tree is platform → reseller → customer, so a reseller's descendants are its children.
    """
    admin_of = Organization.objects.filter(memberships__user=user, memberships__role__in=[Role.OWNER, Role.ADMIN])
    live = Organization.objects.filter(deleted_at__isnull=True).exclude(kind=OrgKind.PLATFORM).select_related("parent")
    if admin_of.filter(kind=OrgKind.PLATFORM).exists():
        return list(live)
    resellers = admin_of.filter(kind=OrgKind.RESELLER).values("pk")
    return list(live.filter(Q(pk__in=resellers) | Q(parent__in=resellers)))


@transaction.atomic
def create_organization(
    actor: Actor,
    *,
    name: str,
    kind: str = OrgKind.CUSTOMER,
    parent: Organization | None = None,
    admin_email: str | None = None,
    admin_password: str | None = None,
) -> Organization:
    """Create a reseller or customer organisation, optionally with its first owner."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["A name is required"]})
    if kind not in (OrgKind.RESELLER, OrgKind.CUSTOMER):
        raise ValidationError({"kind": ["Choose reseller or customer"]})
    parent = parent or platform_org()
    if kind == OrgKind.RESELLER and parent.kind != OrgKind.PLATFORM:
        raise ValidationError({"parent": ["Resellers sit directly under the platform"]})
    if parent.kind == OrgKind.CUSTOMER:
        raise ValidationError({"parent": ["A customer organisation cannot have children"]})
    if actor.user is not None and not can_manage_org(actor.user, parent):
        raise PermissionDenied("You cannot create organisations under this parent")
    org = Organization.objects.create(name=name[:200], kind=kind, parent=parent)
    audit.record(org, actor, "organization.created", obj=org, changes={"name": [None, org.name], "kind": [None, kind]})
    audit.record(parent, actor, "organization.child_created", obj=org, changes={"name": [None, org.name]})
    if admin_email:
        add_member(org, actor, email=admin_email, role=Role.OWNER, password=admin_password, check=False)
    return org


@transaction.atomic
def add_member(
    tenant: Organization,
    actor: Actor,
    *,
    email: str,
    role: str,
    password: str | None = None,
    full_name: str = "",
    check: bool = True,
) -> Membership:
    _check_role(role)
    if check and not can_grant(actor.role or "", role):
        raise PermissionDenied("Your role cannot grant that role")
    user, _created = get_or_create_user(email, password, full_name)
    membership, created = Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": role})
    if not created:
        raise ValidationError({"email": [f"{user.email} is already a member"]})
    audit.record(
        tenant, actor, "member.added", obj=membership, changes={"email": [None, user.email], "role": [None, role]}
    )
    events.emit(tenant, "member.added", {"membership_id": str(membership.pk), "role": role})
    return membership


def _owners_left(tenant: Organization, excluding: Membership) -> int:
    return Membership.objects.filter(tenant=tenant, role=Role.OWNER).exclude(pk=excluding.pk).count()


@transaction.atomic
def change_role(tenant: Organization, actor: Actor, membership: Membership, role: str) -> Membership:
    _check_role(role)
    if not can_grant(actor.role or "", role) or not can_grant(actor.role or "", membership.role):
        raise PermissionDenied("Your role cannot make that change")
    if membership.role == Role.OWNER and role != Role.OWNER and _owners_left(tenant, membership) == 0:
        raise ValidationError({"role": ["An organisation needs at least one owner"]})
    old = membership.role
    if old == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(tenant, actor, "member.role_changed", obj=membership, changes={"role": [old, role]})
    events.emit(tenant, "member.role_changed", {"membership_id": str(membership.pk), "old": old, "new": role})
    return membership


@transaction.atomic
def remove_member(tenant: Organization, actor: Actor, membership: Membership) -> None:
    if not can_grant(actor.role or "", membership.role):
        raise PermissionDenied("Your role cannot remove this member")
    if membership.role == Role.OWNER and _owners_left(tenant, membership) == 0:
        raise ValidationError({"role": ["An organisation needs at least one owner"]})
    audit.record(
        tenant,
        actor,
        "member.removed",
        obj=membership,
        changes={"email": [membership.user.email, None], "role": [membership.role, None]},
    )
    from octopushx.accounts.models import ApiToken

    ApiToken.objects.filter(tenant=tenant, user=membership.user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    membership.delete()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite(tenant: Organization, actor: Actor, *, email: str, role: str) -> tuple[Invitation, str]:
    """Create an invitation and email its link; returns the invitation and the link."""
    _check_role(role)
    if not can_grant(actor.role or "", role):
        raise PermissionDenied("Your role cannot grant that role")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address"]})
    if Membership.objects.filter(tenant=tenant, user__email=email).exists():
        raise ValidationError({"email": [f"{email} is already a member"]})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        token_hash=_hash(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    from octopushx.tenancy import branding

    brand = branding.for_organization(tenant)
    link = branding.link_for(tenant, f"/invitations/{token}/")
    audit.record(
        tenant, actor, "invitation.created", obj=invitation, changes={"email": [None, email], "role": [None, role]}
    )
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to {tenant.name} on {brand.product_name}",
            f"{actor.label} invited you to join {tenant.name} on {brand.product_name} as {role}.\n\n"
            f"Accept within {INVITATION_DAYS} days: {link}\n"
            + (f"\nQuestions? {brand.support_email}\n" if brand.support_email else ""),
            brand.from_email,
            [email],
        )
    )
    return invitation, link


def find_invitation(token: str) -> Invitation | None:
    invitation = Invitation.objects.filter(token_hash=_hash(token or "")).select_related("tenant").first()
    return invitation if invitation is not None and invitation.is_open else None


@transaction.atomic
def accept_invitation(
    invitation: Invitation,
    *,
    password: str | None,
    full_name: str = "",
    user: User | None = None,
    origin: Actor | None = None,
) -> Membership:
    """Join the invitation's organisation (creating the account if needed); ``origin`` gives IP and user agent."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValidationError({"token": ["This invitation is no longer valid"]})
    if user is None:
        existing = User.objects.filter(email=invitation.email).first()
        if existing is not None and existing.has_usable_password():
            raise ValidationError({"email": ["Sign in as this user to accept the invitation"]})
        user, _ = get_or_create_user(invitation.email, None, full_name)
        try:
            validate_password(password or "", user)
        except ValidationError as exc:
            raise ValidationError({"password": list(exc.messages)})
        user.set_password(password)
        if full_name:
            user.full_name = full_name
        user.save()
    elif user.email != invitation.email:
        raise ValidationError({"email": ["This invitation was sent to another address"]})
    membership, created = Membership.objects.get_or_create(
        tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    actor = dataclasses.replace(origin or Actor(), user=user, role=membership.role)
    audit.record(
        invitation.tenant,
        actor,
        "invitation.accepted",
        obj=membership,
        changes={"email": [None, user.email], "role": [None, membership.role]},
    )
    if created:  # joined meanwhile through another invitation: nobody was added
        events.emit(invitation.tenant, "member.added", {"membership_id": str(membership.pk), "role": membership.role})
    return membership


def _clean_profile(fields: dict) -> dict:
    """Trimmed values; a colour must be ``#rrggbb`` and a region two letters (ISO 3166)."""
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    # The columns are not nullable: without this a PATCH with "brand_name": null reached the
    # database and failed there (500).
    errors = {key: ["Cannot be empty (null); leave the field out to keep it"] for key, v in fields.items() if v is None}
    if "default_region" in fields and isinstance(fields["default_region"], str):
        fields["default_region"] = fields["default_region"].upper()
        if not re.fullmatch(r"[A-Z]{2}", fields["default_region"]):
            errors["default_region"] = ["Use a two-letter country code, for example GB"]
    if "time_zone" in fields and isinstance(fields["time_zone"], str):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(fields["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = ["Use a time zone name such as Europe/London or America/New_York"]
    if "week_start" in fields and fields["week_start"] is not None:
        from octopushx.tenancy.models import WeekStart

        if fields["week_start"] not in WeekStart.values:
            errors["week_start"] = [f"One of: {', '.join(WeekStart.values)}"]
    color = fields.get("brand_color")
    if isinstance(color, str) and color and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        errors["brand_color"] = ["Use a colour like #0f766e"]
    if errors:
        raise ValidationError(errors)
    return fields


@transaction.atomic
def update_profile(tenant: Organization, actor: Actor, **fields) -> Organization:
    allowed = {"name", "brand_name", "brand_color", "default_region", "time_zone", "week_start", "require_2fa"}
    if "require_2fa" in fields and not has_perm(actor.role, Perm.OWNER):
        raise PermissionDenied("Only an owner can change the two-factor policy")
    fields = _clean_profile(fields)
    old = {k: getattr(tenant, k) for k in allowed if k in fields}
    for key, value in fields.items():
        if key in allowed:
            setattr(tenant, key, value)
    tenant.full_clean()
    tenant.save()
    changes = audit.diff(old, {k: getattr(tenant, k) for k in old})
    if changes:
        audit.record(tenant, actor, "organization.updated", obj=tenant, changes=changes)
    if changes.get("require_2fa") == [False, True]:
        # Members without a second factor are told, their API tokens stop working until they enrol.
        jobs.submit("accounts.two_factor_mandatory", tenant=tenant)
    return tenant


@transaction.atomic
def delete_tenant(tenant: Organization, actor: Actor, *, confirm: str | None = None) -> None:
    """Soft-delete the organisation and shred its data key: its encrypted files are gone for good.

    A signed-in person needs the owner role; ``confirm`` (from a form) must repeat the name.
    """
    if actor.user is not None and not has_perm(actor.role, Perm.OWNER):
        raise PermissionDenied("Only an owner can delete the organisation")
    if tenant.kind == OrgKind.PLATFORM:
        raise ValidationError({"tenant": ["The platform organisation cannot be deleted"]})
    if confirm is not None and confirm.strip() != tenant.name:
        raise ValidationError({"confirm": ["Type the organisation's name exactly to confirm"]})
    if tenant.children.filter(deleted_at__isnull=True).exists():
        raise ValidationError({"tenant": ["Delete or move its customer organisations first"]})
    tenant.deleted_at = timezone.now()
    tenant.save(update_fields=["deleted_at"])
    keys.shred(tenant)
    Membership.objects.filter(tenant=tenant).delete()
    audit.record(
        tenant.parent or tenant, actor, "organization.deleted", obj=tenant, changes={"name": [tenant.name, None]}
    )
