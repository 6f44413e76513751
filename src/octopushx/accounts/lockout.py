"""The per-account sign-in lock: failures for one email from any address, with a growing delay.

django-axes locks an (email, address) pair after ``AXES_FAILURE_LIMIT`` failures. An attacker
with many addresses stays under that, so failures are also counted per email across all
addresses: from ``LOGIN_ACCOUNT_FAILURE_LIMIT`` on, each failure pauses sign-ins to the account
for 1 minute, doubling with every further failure up to ``LOGIN_ACCOUNT_MAX_DELAY_MINUTES``.
Attempts during a pause are refused unchecked (the right password too) and do not count. The
count starts again after a sign-in, a password reset, or a day without failures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from octopushx.accounts.models import AccountThrottle
from octopushx.core import jobs

WINDOW = timedelta(days=1)
MAX_ADDRESSES = 20


def normalise(email: str) -> str:
    return (email or "").strip().lower()[:254]


def delay_after(failures: int) -> timedelta | None:
    """How long sign-ins pause after this many failures in a row (None below the limit)."""
    limit = settings.LOGIN_ACCOUNT_FAILURE_LIMIT
    if limit <= 0 or failures < limit:
        return None
    minutes = min(2 ** min(failures - limit, 20), max(settings.LOGIN_ACCOUNT_MAX_DELAY_MINUTES, 1))
    return timedelta(minutes=minutes)


def locked_until(email: str) -> datetime | None:
    """When the account's pause ends, or None when sign-ins are open."""
    until = AccountThrottle.objects.filter(email=normalise(email)).values_list("locked_until", flat=True).first()
    return until if until is not None and until > timezone.now() else None


@transaction.atomic
def record_failure(email: str, ip: str | None) -> AccountThrottle:
    """Count a checked and wrong password (or second-factor code) for this email.

    Reaching the limit starts a pause and submits ``accounts.account_locked``, which tells the
    person and raises a security alert when the address belongs to an account (a job, so the
    answer takes as long for an address without one).
    """
    now = timezone.now()
    throttle, _ = AccountThrottle.objects.select_for_update().get_or_create(email=normalise(email))
    if now - throttle.last_failure_at > WINDOW:
        throttle.failures, throttle.addresses = 0, []
    throttle.failures += 1
    throttle.last_failure_at = now
    if ip and ip not in throttle.addresses and len(throttle.addresses) < MAX_ADDRESSES:
        throttle.addresses = [*throttle.addresses, ip]
    delay = delay_after(throttle.failures)
    throttle.locked_until = now + delay if delay else None
    throttle.save()
    if throttle.failures == settings.LOGIN_ACCOUNT_FAILURE_LIMIT:
        jobs.submit(
            "accounts.account_locked",
            payload={
                "email": throttle.email,
                "failures": throttle.failures,
                "addresses": throttle.addresses,
                "until": throttle.locked_until.isoformat(),
            },
        )
    return throttle


def clear(email: str) -> None:
    """The person proved who they are (signed in, reset the password): the count starts again."""
    AccountThrottle.objects.filter(email=normalise(email)).delete()
