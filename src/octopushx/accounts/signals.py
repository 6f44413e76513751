"""Sign-in, sign-out and failed sign-in leave audit entries in each of the user's organisations."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from octopushx.core import audit
from octopushx.core.context import Actor


def _tenants(user) -> list:
    from octopushx.tenancy.middleware import memberships_of

    return [m.tenant for m in memberships_of(user)]


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    from octopushx.accounts.services import record_session

    if request is None:
        return
    from octopushx.accounts.devices import describe

    record_session(request, user)
    from octopushx.accounts import lockout

    lockout.clear(user.email)  # signed in all the way: the per-account failure count starts again
    actor = Actor.from_request(request, user=user)
    device = describe(request.META.get("HTTP_USER_AGENT", ""))
    for tenant in _tenants(user):
        audit.record(
            tenant,
            actor,
            "auth.sign_in",
            object_type="user",
            object_id=str(user.pk),
            changes={"device": [None, device]},
        )


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is None or request is None:
        return
    actor = Actor.from_request(request, user=user)
    for tenant in _tenants(user):
        audit.record(tenant, actor, "auth.sign_out", object_type="user", object_id=str(user.pk))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    """Queue the audit entry: looking the account up and writing its entries here would make a
    wrong password for a known address answer measurably slower than for an unknown one."""
    if request is None:
        return
    from octopushx.accounts.tasks import submit_sign_in_failure

    submit_sign_in_failure(
        request, credentials.get("email") or credentials.get("username") or "", "auth.sign_in_failed"
    )


@receiver(user_locked_out)
def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    """Too many failures: the account is locked for a while (and each refused attempt during it)."""
    if request is None:
        return
    from octopushx.accounts.tasks import submit_sign_in_failure

    submit_sign_in_failure(request, username or "", "auth.locked_out")
