"""Account jobs: the records and emails that must not slow a sign-in or reset for known addresses.

A failed sign-in or a reset request answers in the same time whether or not the address has an
account, so everything that only happens for an account (audit entries, emails) runs here.
"""

from __future__ import annotations

from datetime import datetime

from django.core.mail import send_mail
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from octopushx.accounts import lockout, services
from octopushx.accounts.models import User
from octopushx.core import audit, jobs, links
from octopushx.core.context import Actor
from octopushx.core.models import Job
from octopushx.tenancy import branding
from octopushx.tenancy.models import Membership, Organization


def _memberships(user: User):
    return Membership.objects.filter(user=user, tenant__deleted_at__isnull=True).select_related("tenant")


def _user(email: str) -> User | None:
    return User.objects.filter(email=lockout.normalise(email)).first()


def _forget(job) -> None:
    """Drop the address and IP from a finished job's row: the queue is no place to keep them.

    A re-delivery after this finds an empty payload and does nothing.
    """
    Job.objects.filter(pk=job.pk).update(payload={})


def submit_sign_in_failure(request, email: str, action: str) -> None:
    """Queue the audit entry of a failed (``auth.sign_in_failed``) or locked (``auth.locked_out``) sign-in."""
    actor = Actor.from_request(request, user=None)
    jobs.submit(
        "accounts.sign_in_failure",
        payload={
            "email": lockout.normalise(email),
            "action": action,
            "ip": actor.ip,
            "user_agent": actor.user_agent,
        },
    )


@jobs.handler("accounts.sign_in_failure")
def record_sign_in_failure(job) -> dict:
    """Audit a failed or locked-out sign-in in each of the account's organisations (none if unknown)."""
    payload = job.payload
    if "email" not in payload:
        return {"skipped": "already done"}
    user = _user(payload["email"])
    if user is None:
        _forget(job)
        return {"audited": 0}
    prefix = "failed sign-in as" if payload["action"] == "auth.sign_in_failed" else "locked out:"
    actor = Actor(
        ip=payload.get("ip"),
        user_agent=payload.get("user_agent") or "",
        label_override=f"{prefix} {payload['email']}",
    )
    audited = 0
    # One transaction: a retried job either wrote every entry or none of them.
    with transaction.atomic():
        for membership in _memberships(user):
            audit.record(
                membership.tenant, actor, payload["action"], object_type="user", object_id=str(user.pk)
            )  # fmt: skip
            audited += 1
        _forget(job)
    return {"audited": audited}


@jobs.handler("accounts.account_locked")
def announce_account_lock(job) -> dict:
    """Tell the person their account's sign-ins are paused, and audit it (Shield raises an alert)."""
    payload = job.payload
    if "email" not in payload:
        return {"skipped": "already done"}
    user = _user(payload["email"])
    if user is None:
        _forget(job)
        return {"skipped": "no account has this address"}
    until = datetime.fromisoformat(payload["until"])
    addresses = payload.get("addresses") or []
    actor = Actor.system("sign-in protection")
    # The email goes out inside the transaction: if it fails, nothing is audited and the retry
    # starts afresh (Shield's alert for the entry is raised once per lock in any case).
    with transaction.atomic():
        for membership in _memberships(user):
            audit.record(
                membership.tenant,
                actor,
                "auth.account_locked",
                object_type="user",
                object_id=str(user.pk),
                changes={"failures": [None, payload["failures"]], "addresses": [None, addresses]},
            )
        if user.is_active:
            send_mail(
                "Sign-ins to your account are paused",
                f"There were {payload['failures']} failed sign-ins to {user.email} from "
                f"{len(addresses)} network address(es): {', '.join(addresses) or 'unknown'}.\n\n"
                f"To protect the account, sign-ins are paused until {until:%Y-%m-%d %H:%M} UTC, longer after "
                "each further failure.\n\n"
                "If this was you, wait and try again, or reset your password now (that also ends the pause): "
                f"{links.absolute_url('/accounts/password-reset/')}\n\n"
                "If it was not you, reset your password and turn on two-factor sign-in (Security & 2FA).\n",
                branding.for_user(user).from_email,
                [user.email],
            )
        _forget(job)
    return {"emailed": int(user.is_active)}


@jobs.handler("accounts.password_reset_email")
def send_password_reset_email(job) -> dict:
    """Send the reset link to the active accounts with this address (none for an unknown one)."""
    from octopushx.accounts.forms import PasswordResetForm

    if "email" not in job.payload:
        return {"skipped": "already done"}
    form = PasswordResetForm(data={"email": job.payload["email"]})
    sent = form.send_reset_emails(job.payload.get("base_url", "")) if form.is_valid() else 0
    _forget(job)
    return {"sent": sent}


@jobs.handler("accounts.two_factor_mandatory")
def announce_mandatory_two_factor(job) -> dict:
    """Tell the members without a second factor what the new policy means for them and their tokens."""
    tenant = Organization.objects.filter(pk=job.tenant_id, deleted_at__isnull=True).first()
    if tenant is None or not tenant.require_2fa:
        return {"skipped": "two-factor sign-in is no longer mandatory"}
    enrolled = TOTPDevice.objects.filter(confirmed=True).values("user_id")
    members = (
        Membership.objects.filter(tenant=tenant, user__is_active=True)
        .exclude(user_id__in=enrolled)
        .select_related("user")
    )
    sent = 0
    for membership in members:
        user = membership.user
        waiting = services.usable_tokens(tenant, user).count()
        token_line = (
            f"Your {waiting} API token(s) for {tenant.name} are refused (403) until then, and work "
            "again once it is on.\n\n"
            if waiting
            else ""
        )
        send_mail(
            f"[{tenant.brand}] Two-factor sign-in is now mandatory in {tenant.name}",
            f"{tenant.name} now requires two-factor sign-in. Your next sign-in asks you to set it up with "
            "an authenticator app; nothing else is reachable in the organisation until you have.\n\n"
            f"{token_line}"
            f"Set it up now: {links.absolute_url('/accounts/security/')}\n",
            tenant.from_email,
            [user.email],
        )
        sent += 1
    return {"emailed": sent}
