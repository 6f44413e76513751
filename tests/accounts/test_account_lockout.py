"""The per-account lock: failures for one email from any number of addresses pause its sign-ins,
longer after each further failure; the person is told and Shield raises an alert."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from octopushx.accounts import lockout
from octopushx.accounts.models import AccountThrottle
from octopushx.core import jobs
from octopushx.core.models import AuditEntry
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.tenancy.roles import Role
from tests.accounts.test_two_factor import code, enrol
from tests.conftest import PASSWORD, make_member


def attempt(email, password, ip):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("accounts:login"), {"email": email, "password": password})
    return response, client


def spread_failures(email, count, addresses=4):
    """``count`` wrong passwords spread over ``addresses`` addresses, under the per-address limit."""
    for i in range(count):
        attempt(email, f"wrong-{i}", f"198.51.100.{i % addresses + 1}")


def test_failures_from_many_addresses_pause_the_account_even_for_the_right_password(org, settings):
    member = make_member(org, Role.AGENT)
    assert settings.AXES_FAILURE_LIMIT * 4 > 16  # each address stays under its own limit
    spread_failures(member.user.email, 16)
    response, client = attempt(member.user.email, PASSWORD, "203.0.113.99")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert int(response["Retry-After"]) > 0
    assert b"paused" in response.content


def test_the_pause_starts_at_the_limit_and_doubles_with_each_failure(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    settings.LOGIN_ACCOUNT_MAX_DELAY_MINUTES = 4
    member = make_member(org, Role.AGENT)
    email = member.user.email
    spread_failures(email, 2)
    assert lockout.locked_until(email) is None
    assert attempt(email, PASSWORD, "203.0.113.1")[0].status_code == 302  # below the limit: fine
    spread_failures(email, 3)
    pauses = []
    for _ in range(4):
        throttle = AccountThrottle.objects.get(email=email)
        pauses.append(round((throttle.locked_until - throttle.last_failure_at).total_seconds() / 60))
        # the pause ends; the next guess is checked, wrong, and pauses for longer
        AccountThrottle.objects.filter(pk=throttle.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
        assert attempt(email, "wrong-again", "198.51.100.77")[0].status_code == 429
    assert pauses == [1, 2, 4, 4]  # 1 minute, doubling, up to the maximum


def test_attempts_during_the_pause_are_not_checked_and_do_not_count(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    member = make_member(org, Role.AGENT)
    spread_failures(member.user.email, 3)
    for _ in range(5):
        response, _client = attempt(member.user.email, "wrong", "198.51.100.200")
        assert response.status_code == 429
    assert AccountThrottle.objects.get(email=member.user.email).failures == 3


def test_the_pause_is_per_account(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    paused = make_member(org, Role.AGENT)
    other = make_member(org, Role.MANAGER)
    spread_failures(paused.user.email, 3)
    assert attempt(other.user.email, PASSWORD, "198.51.100.1")[0].status_code == 302


def test_an_unknown_address_is_paused_the_same_way(db, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    spread_failures("nobody@example.test", 3)
    response, _client = attempt("nobody@example.test", "anything", "198.51.100.9")
    assert response.status_code == 429 and b"paused" in response.content
    jobs.drain()
    assert mail.outbox == []


def test_a_sign_in_starts_the_count_again(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    member = make_member(org, Role.AGENT)
    spread_failures(member.user.email, 2)
    assert attempt(member.user.email, PASSWORD, "203.0.113.1")[0].status_code == 302
    spread_failures(member.user.email, 2)
    assert lockout.locked_until(member.user.email) is None


def test_a_day_without_failures_starts_the_count_again(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    member = make_member(org, Role.AGENT)
    spread_failures(member.user.email, 2)
    AccountThrottle.objects.update(last_failure_at=timezone.now() - timedelta(days=2))
    spread_failures(member.user.email, 1)
    assert AccountThrottle.objects.get().failures == 1


def test_wrong_second_factor_codes_count_too(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    member = make_member(org, Role.AGENT)
    device = enrol(member.user)
    client = Client(REMOTE_ADDR="198.51.100.5")
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    wrong = f"{(int(code(device, 1)) + 1) % 1_000_000:06d}"
    statuses = [client.post(reverse("accounts:verify"), {"code": wrong}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.post(reverse("accounts:verify"), {"code": code(device, 1)})
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_the_person_is_told_and_shield_raises_an_alert(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 4
    auditor = make_member(org, Role.AUDITOR)
    member = make_member(org, Role.AGENT)
    spread_failures(member.user.email, 4)
    jobs.drain()
    notices = [m for m in mail.outbox if m.to == [member.user.email]]
    assert len(notices) == 1 and "paused" in notices[0].subject
    assert "4 failed sign-ins" in notices[0].body and "198.51.100.4" in notices[0].body
    assert "/accounts/password-reset/" in notices[0].body
    entry = AuditEntry.objects.get(tenant=org, action="auth.account_locked")
    assert entry.object_id == str(member.user.pk)
    alert = SecurityAlert.objects.get(tenant=org, kind="account_locked")
    assert alert.subject_user == member.user and alert.details["failures"] == 4
    assert any(m.to == [auditor.user.email] and "Security alert" in m.subject for m in mail.outbox)
    spread_failures(member.user.email, 2)  # the pause grows; no second notice for the same episode
    jobs.drain()
    assert len([m for m in mail.outbox if m.to == [member.user.email]]) == 1


def test_a_password_reset_ends_the_pause(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    member = make_member(org, Role.AGENT)
    spread_failures(member.user.email, 3)
    client = Client()
    client.post(reverse("accounts:password_reset"), {"email": member.user.email})
    jobs.drain()
    body = next(m for m in mail.outbox if "reset" in m.subject.lower()).body
    form = client.get(re.search(r"https?://[^/\s]+(/\S+)", body).group(1), follow=True)
    new_password = "brand-new-pass-2026"
    client.post(form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert lockout.locked_until(member.user.email) is None
    assert attempt(member.user.email, new_password, "198.51.100.1")[0].status_code == 302


def test_the_per_address_lock_page_sends_retry_after(org, settings):
    member = make_member(org, Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(member.user.email, "wrong", "198.51.100.1")
    response, _client = attempt(member.user.email, "wrong", "198.51.100.1")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == round(settings.AXES_COOLOFF_TIME * 3600)


def test_the_limits_come_from_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, settings.LOGIN_ACCOUNT_MAX_DELAY_MINUTES)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "octopushx.settings",
        "OCTOPUSHX_DATA_DIR": str(tmp_path),
        "OCTOPUSHX_LOGIN_ACCOUNT_FAILURE_LIMIT": "25",
        "OCTOPUSHX_LOGIN_ACCOUNT_MAX_DELAY_MINUTES": "120",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["25", "120"]
