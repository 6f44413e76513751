"""The sessions page lists where the user is signed in; revoking one signs that browser out."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from octopushx.accounts.models import UserSession
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, make_member


def signed_in_client(email, agent="Browser") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(reverse("accounts:login"), {"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_sessions_page_lists_each_signed_in_browser(org):
    member = make_member(org, Role.AGENT)
    laptop = signed_in_client(member.user.email, "Laptop/1.0")
    signed_in_client(member.user.email, "Phone/2.0")
    response = laptop.get(reverse("accounts:sessions"))
    assert response.status_code == 200
    assert b"Laptop/1.0" in response.content and b"Phone/2.0" in response.content
    assert b"This device" in response.content


def test_sessions_page_hides_signed_out_sessions(org):
    member = make_member(org, Role.AGENT)
    laptop = signed_in_client(member.user.email, "Laptop/1.0")
    phone = signed_in_client(member.user.email, "Phone/2.0")
    phone.post(reverse("accounts:logout"))
    response = laptop.get(reverse("accounts:sessions"))
    assert b"Phone/2.0" not in response.content


def test_revoking_a_session_signs_that_browser_out(org):
    member = make_member(org, Role.AGENT)
    laptop = signed_in_client(member.user.email, "Laptop/1.0")
    phone = signed_in_client(member.user.email, "Phone/2.0")
    phone_session = UserSession.objects.get(user=member.user, user_agent="Phone/2.0")
    response = laptop.post(reverse("accounts:revoke_session", args=[phone_session.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:sessions")
    assert phone.get("/").status_code == 302  # sent to sign-in
    assert laptop.get("/").status_code == 200
    entry = AuditEntry.objects.get(tenant=org, action="session.revoked")
    assert entry.object_id == str(phone_session.pk)


def test_revoking_the_current_session_signs_out(org):
    member = make_member(org, Role.AGENT)
    laptop = signed_in_client(member.user.email)
    current = UserSession.objects.get(user=member.user)
    response = laptop.post(reverse("accounts:revoke_session", args=[current.pk]))
    assert response["Location"] == reverse("accounts:login")
    assert laptop.get("/").status_code == 302


def test_another_users_session_is_not_found(org):
    member = make_member(org, Role.AGENT)
    other = make_member(org, Role.MANAGER)
    laptop = signed_in_client(member.user.email)
    signed_in_client(other.user.email)
    others = UserSession.objects.get(user=other.user)
    response = laptop.post(reverse("accounts:revoke_session", args=[others.pk]))
    assert response.status_code == 404
    assert UserSession.objects.filter(pk=others.pk).exists()


def test_revoke_needs_post(org):
    member = make_member(org, Role.AGENT)
    laptop = signed_in_client(member.user.email)
    current = UserSession.objects.get(user=member.user)
    assert laptop.get(reverse("accounts:revoke_session", args=[current.pk])).status_code == 405


def test_sessions_show_the_client_address_behind_a_trusted_proxy(org, settings):
    settings.TRUST_PROXY = True
    member = make_member(org, Role.AGENT)
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.50, 10.0.0.1", REMOTE_ADDR="10.0.0.1")
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    assert UserSession.objects.get(user=member.user).ip == "203.0.113.50"


def test_forwarded_address_is_ignored_without_a_trusted_proxy(org):
    member = make_member(org, Role.AGENT)
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.50", REMOTE_ADDR="10.0.0.1")
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    assert UserSession.objects.get(user=member.user).ip == "10.0.0.1"
