"""Repeated failed sign-ins lock the account out for a while (django-axes), and are audited."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.urls import reverse

from octopushx.core import jobs
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, make_member


def attempt(client, email, password):
    return client.post(reverse("accounts:login"), {"email": email, "password": password})


def test_lockout_after_the_failure_limit(org, client, settings):
    member = make_member(org, Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, member.user.email, "wrong-password").status_code == 200
    response = attempt(client, member.user.email, "wrong-password")
    assert response.status_code == 429
    assert b"Too many" in response.content or b"locked" in response.content.lower()


def test_locked_out_user_cannot_sign_in_even_with_the_right_password(org, client, settings):
    member = make_member(org, Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, member.user.email, "wrong-password")
    response = attempt(client, member.user.email, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_every_failure_is_audited(org, client, settings):
    member = make_member(org, Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, member.user.email, "wrong-password")
    jobs.drain()  # the entries are written by a job (same answer time for unknown addresses)
    failures = AuditEntry.objects.filter(tenant=org, action="auth.sign_in_failed").count()
    assert failures >= settings.AXES_FAILURE_LIMIT


def test_the_lockout_itself_is_audited(org, client, settings):
    member = make_member(org, Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, member.user.email, "wrong-password")
    jobs.drain()
    assert not AuditEntry.objects.filter(tenant=org, action="auth.locked_out").exists()
    attempt(client, member.user.email, "wrong-password")
    jobs.drain()
    entry = AuditEntry.objects.get(tenant=org, action="auth.locked_out")
    assert entry.object_id == str(member.user.pk) and entry.personal.ip == "127.0.0.1"


def test_lockout_ends_after_the_cool_off(org, client, settings):
    member = make_member(org, Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, member.user.email, "wrong-password")
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    for access in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=access.pk).update(attempt_time=access.attempt_time - cool_off * 2)
    assert attempt(client, member.user.email, PASSWORD).status_code == 302


def test_lockout_is_per_account(org, client, settings):
    locked = make_member(org, Role.AGENT)
    other = make_member(org, Role.MANAGER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, locked.user.email, "wrong-password")
    assert attempt(client, other.user.email, PASSWORD).status_code == 302


def test_a_success_resets_the_failure_count(org, client, settings):
    member = make_member(org, Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, member.user.email, "wrong-password")
    assert attempt(client, member.user.email, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    assert attempt(client, member.user.email, "wrong-password").status_code == 200


def test_the_limit_follows_the_setting(org, client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    member = make_member(org, Role.AGENT)
    assert attempt(client, member.user.email, "wrong-password").status_code == 200
    assert attempt(client, member.user.email, "wrong-password").status_code == 429


def test_the_limit_and_lockout_time_come_from_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "octopushx.settings",
        "OCTOPUSHX_DATA_DIR": str(tmp_path),
        "OCTOPUSHX_LOGIN_FAILURE_LIMIT": "3",
        "OCTOPUSHX_LOGIN_LOCKOUT_MINUTES": "30",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "0.5"]
