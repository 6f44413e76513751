"""Sign-in by email and password, sign-out, and the audit entries they leave."""

from __future__ import annotations

import os
import subprocess
import sys

from django.contrib.auth.hashers import check_password, identify_hasher
from django.urls import reverse

from octopushx.core import jobs
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, make_member


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"email": email, "password": password}, **extra)


def test_sign_in_with_email_and_password_lands_home(org, client):
    member = make_member(org, Role.AGENT)
    response = sign_in(client, member.user.email)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_sign_in_ignores_email_case(org, client):
    member = make_member(org, Role.AGENT)
    response = sign_in(client, member.user.email.upper())
    assert response.status_code == 302


def test_sign_in_follows_a_safe_next(org, client):
    member = make_member(org, Role.AGENT)
    response = client.post(
        reverse("accounts:login"),
        {"email": member.user.email, "password": PASSWORD, "next": "/settings/"},
    )
    assert response["Location"] == "/settings/"


def test_sign_in_ignores_a_next_on_another_site(org, client):
    member = make_member(org, Role.AGENT)
    response = client.post(
        reverse("accounts:login"),
        {"email": member.user.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_wrong_password_is_refused_with_a_message(org, client):
    member = make_member(org, Role.AGENT)
    response = sign_in(client, member.user.email, "not-the-password")
    assert response.status_code == 200
    assert b"do not match" in response.content
    assert "_auth_user_id" not in client.session


def test_unknown_email_gets_the_same_message(db, client):
    response = sign_in(client, "nobody@example.test", "whatever-password")
    assert b"do not match" in response.content


def test_malformed_form_shows_field_errors(db, client):
    response = client.post(reverse("accounts:login"), {"email": "not-an-email", "password": ""})
    assert response.status_code == 200
    assert b"field-error" in response.content
    assert "_auth_user_id" not in client.session


def test_user_without_membership_cannot_sign_in(db, client):
    from octopushx.accounts.models import User

    User.objects.create_user("lonely@example.test", PASSWORD)
    response = sign_in(client, "lonely@example.test")
    assert b"not a member of any organisation" in response.content
    assert "_auth_user_id" not in client.session


def test_sign_in_is_audited_with_ip_and_user_agent(org, client):
    member = make_member(org, Role.AGENT)
    sign_in(client, member.user.email, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="TestBrowser/1.0")
    entry = AuditEntry.objects.get(tenant=org, action="auth.sign_in")
    assert entry.actor_user == member.user
    assert entry.personal.ip == "203.0.113.7"
    assert entry.personal.user_agent == "TestBrowser/1.0"
    assert entry.personal.actor_label == member.user.email


def test_failed_sign_in_is_audited(org, client):
    member = make_member(org, Role.AGENT)
    sign_in(client, member.user.email, "wrong-password-1", REMOTE_ADDR="203.0.113.8")
    jobs.drain()  # written by a job, so that a known address answers as fast as an unknown one
    entry = AuditEntry.objects.get(tenant=org, action="auth.sign_in_failed")
    assert entry.object_id == str(member.user.pk)
    assert entry.personal.ip == "203.0.113.8"
    assert "wrong-password-1" not in str(entry.personal.changes)


def test_sign_out_ends_the_session_and_is_audited(org, client):
    member = make_member(org, Role.AGENT)
    sign_in(client, member.user.email)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(tenant=org, action="auth.sign_out").exists()


def test_sign_out_needs_post(org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get("/").status_code == 200


def test_pages_need_sign_in(db, client):
    response = client.get(reverse("tenancy:settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_argon2_hashes_passwords_outside_tests(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.PASSWORD_HASHERS[0])"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "octopushx.settings",
        "OCTOPUSHX_TESTING": "0",
        "OCTOPUSHX_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_user_password_is_stored_with_argon2(org, client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    member = make_member(org, Role.AGENT)
    encoded = member.user.password
    assert identify_hasher(encoded).algorithm == "argon2"
    assert encoded.startswith("argon2$argon2id$")
    assert PASSWORD not in encoded and check_password(PASSWORD, encoded)
    assert sign_in(client, member.user.email).status_code == 302
