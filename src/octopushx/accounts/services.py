"""Accounts: API tokens, browser sessions and two-factor devices."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from octopushx.accounts.models import ApiToken, User, UserSession
from octopushx.core import audit
from octopushx.core.context import Actor, client_ip
from octopushx.tenancy.models import Membership, Organization

TOKEN_PREFIX = "opx"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_token(
    tenant: Organization, actor: Actor, user: User, *, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a personal token; the plaintext is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the token a name"]})
    if len(name) > 100:
        raise ValidationError({"name": ["At most 100 characters"]})
    if expires_at is not None and timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at)  # read in the platform's time zone (UTC)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future"]})
    if not Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ValidationError({"tenant": ["The user is not a member of this organisation"]})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    token = ApiToken.objects.create(
        tenant=tenant, user=user, name=name, prefix=prefix, secret_hash=_hash(plaintext), expires_at=expires_at
    )
    audit.record(
        tenant, actor, "token.created", obj=token, changes={"name": [None, name], "expires_at": [None, expires_at]}
    )
    return token, plaintext


def authenticate_token(plaintext: str) -> ApiToken | None:
    """The usable token for this plaintext, or None (missing, wrong, expired, revoked)."""
    parts = (plaintext or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.filter(prefix=parts[1]).select_related("user", "tenant").first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(plaintext.strip())):
        return None
    if not token.is_usable or not token.user.is_active or token.tenant.deleted_at is not None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def revoke_token(token: ApiToken, actor: Actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(token.tenant, actor, "token.revoked", obj=token, changes={"name": [token.name, token.name]})
    return token


def record_password_reset(user: User, actor: Actor) -> None:
    """A password set through the emailed reset link leaves an entry in each of the user's organisations."""
    for membership in Membership.objects.filter(user=user, tenant__deleted_at__isnull=True).select_related("tenant"):
        audit.record(membership.tenant, actor, "auth.password_reset", object_type="user", object_id=str(user.pk))


# --- sessions ------------------------------------------------------------------------------


def record_session(request, user: User) -> None:
    key = request.session.session_key
    if not key:
        request.session.save()
        key = request.session.session_key
    UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "ip": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "last_seen_at": timezone.now(),
        },
    )


def active_sessions(user: User) -> list[UserSession]:
    live = set(
        Session.objects.filter(
            session_key__in=UserSession.objects.filter(user=user).values("session_key"),
            expire_date__gt=timezone.now(),
        ).values_list("session_key", flat=True)
    )
    UserSession.objects.filter(user=user).exclude(session_key__in=live).delete()
    return list(UserSession.objects.filter(user=user))


@transaction.atomic
def revoke_session(session: UserSession, actor: Actor, tenant: Organization | None) -> None:
    Session.objects.filter(session_key=session.session_key).delete()
    if tenant is not None:
        audit.record(tenant, actor, "session.revoked", object_type="session", object_id=str(session.pk))
    session.delete()


# --- two-factor -----------------------------------------------------------------------------


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def has_2fa(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


UNVERIFIED_SESSION = (
    "Confirm this browser with a code from your authenticator app (Security & 2FA) before creating a token"
)


def token_creation_refused(user: User, tenant: Organization, *, verified: bool) -> str | None:
    """Why a browser session may not create an API token, or None.

    A token signs in without a second factor for months, so only a session that passed the
    second factor may create one whenever the user has one or the organisation requires it.
    """
    if not verified and (tenant.require_2fa or has_2fa(user)):
        return UNVERIFIED_SESSION
    return None


def verify_code(user: User, code: str) -> TOTPDevice | None:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


@transaction.atomic
def confirm_2fa(user: User, code: str, actor: Actor, tenants: list[Organization]) -> TOTPDevice:
    device = pending_device(user)
    cleaned = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(cleaned) != 6 or not device.verify_token(cleaned):
        raise ValidationError({"code": ["That code is not right. Check the time on your phone and try again."]})
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save()
    for tenant in tenants:
        audit.record(tenant, actor, "2fa.enabled", object_type="user", object_id=str(user.pk))
    return device


@transaction.atomic
def disable_2fa(user: User, actor: Actor, tenants: list[Organization]) -> None:
    blocking = [t.name for t in tenants if t.require_2fa]
    if blocking:
        raise ValidationError({"code": [f"Two-factor sign-in is mandatory in {', '.join(blocking)}"]})
    TOTPDevice.objects.filter(user=user).delete()
    for tenant in tenants:
        audit.record(tenant, actor, "2fa.disabled", object_type="user", object_id=str(user.pk))


def usable_tokens(tenant, user) -> QuerySet[ApiToken]:
    """The member's API tokens that are neither revoked nor expired."""
    return ApiToken.objects.filter(tenant=tenant, user=user, revoked_at__isnull=True).exclude(
        expires_at__lte=timezone.now()
    )


# --- profile ----------------------------------------------------------------------------------

PROFILE_FIELDS = ("full_name", "time_zone")


def zone_name(user: User, tenant: Organization | None) -> str:
    """The user's own time zone, else the organisation's, else UTC (always a valid IANA name)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    for name in (getattr(user, "time_zone", ""), getattr(tenant, "time_zone", "")):
        if name:
            try:
                ZoneInfo(name)
                return name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return "UTC"


def time_zone_names() -> list[str]:
    """Every IANA zone a person would pick (no ``Etc/`` or legacy aliases), sorted."""
    import zoneinfo

    return sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    ) + ["UTC"]


def update_profile(user: User, actor: Actor, tenants: list[Organization], data: dict) -> User:
    """Change the user's name and time zone; audited in each organisation the user belongs to."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    errors: dict[str, list[str]] = {}
    values: dict = {}
    for key in sorted(set(data) - set(PROFILE_FIELDS)):
        errors[key] = [f"Unknown field; a profile has: {', '.join(PROFILE_FIELDS)}"]
    if "full_name" in data:
        name = data["full_name"]
        if not isinstance(name, str) or len(name.strip()) > 200:
            errors["full_name"] = ["Text of at most 200 characters"]
        else:
            values["full_name"] = name.strip()
    if "time_zone" in data:
        zone = data["time_zone"]
        if zone in (None, ""):
            values["time_zone"] = ""  # the organisation's
        elif not isinstance(zone, str):
            errors["time_zone"] = ["A time zone name such as Europe/London, or empty for the organisation's"]
        else:
            try:
                ZoneInfo(zone.strip())
                values["time_zone"] = zone.strip()
            except (ZoneInfoNotFoundError, ValueError):
                errors["time_zone"] = ["Use a time zone name such as Europe/London or America/New_York"]
    if errors:
        raise ValidationError(errors)
    old = {key: getattr(user, key) for key in values}
    with transaction.atomic():
        for key, value in values.items():
            setattr(user, key, value)
        user.save(update_fields=list(values) or None)
        changes = audit.diff(old, {key: getattr(user, key) for key in values})
        if changes:
            for tenant in tenants:
                audit.record(tenant, actor, "user.profile_updated", object_type="user", object_id=str(user.pk), changes=changes)  # fmt: skip
    return user
