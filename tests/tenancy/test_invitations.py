"""Invitations: invite by email, follow the emailed link, accept; stale links are invalid."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import Invitation, Membership
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, make_member, make_org

NEW_EMAIL = "newcomer@example.test"


def invite(api, email=NEW_EMAIL, role=Role.AGENT):
    return api.post("/api/v1/invitations", {"email": email, "role": role})


def emailed_path(django_capture_on_commit_callbacks, api, **kwargs) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(api, **kwargs)
    assert response.status_code == 201, response.content
    assert len(mail.outbox) == 1
    return re.search(r"https?://[^/\s]+(/invitations/\S+/)", mail.outbox[0].body).group(1)


def test_invitation_is_emailed_and_accepting_creates_the_membership(org, api_as, django_capture_on_commit_callbacks):
    api = api_as(Role.ADMIN)
    path = emailed_path(django_capture_on_commit_callbacks, api, role=Role.MANAGER)
    assert mail.outbox[0].to == [NEW_EMAIL]
    visitor = Client(REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Invitee/1.0")
    page = visitor.get(path)
    assert page.status_code == 200 and org.name.encode() in page.content
    response = visitor.post(path, {"full_name": "New Comer", "password": PASSWORD})
    assert response.status_code == 302
    membership = Membership.objects.get(tenant=org, user__email=NEW_EMAIL)
    assert membership.role == Role.MANAGER and membership.user.full_name == "New Comer"
    assert membership.user.check_password(PASSWORD)
    assert visitor.get("/api/v1/me").json()["tenant"]["id"] == str(org.pk)  # signed in, in org
    assert AuditEntry.objects.filter(tenant=org, action="invitation.created").exists()
    accepted = AuditEntry.objects.get(tenant=org, action="invitation.accepted", object_id=str(membership.pk))
    assert accepted.actor_user == membership.user
    assert (accepted.personal.ip, accepted.personal.user_agent) == ("192.0.2.44", "Invitee/1.0")


def test_the_link_is_not_stored(org, api_as, django_capture_on_commit_callbacks):
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    secret = path.split("/")[2]
    invitation = Invitation.objects.get(email=NEW_EMAIL)
    assert secret not in invitation.token_hash


def test_a_used_link_is_invalid(org, api_as, django_capture_on_commit_callbacks):
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    Client().post(path, {"password": PASSWORD})
    again = Client()
    assert again.get(path).status_code == 404
    assert again.post(path, {"password": "another-password-77"}).status_code == 404


def test_an_expired_link_is_invalid(org, api_as, django_capture_on_commit_callbacks):
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    visitor = Client()
    assert visitor.get(path).status_code == 404
    assert visitor.post(path, {"password": PASSWORD}).status_code == 404
    assert not Membership.objects.filter(user__email=NEW_EMAIL).exists()


def test_a_revoked_link_is_invalid(org, api_as, django_capture_on_commit_callbacks):
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    Invitation.objects.update(revoked_at=timezone.now())
    assert Client().get(path).status_code == 404


def test_a_made_up_link_is_invalid(db, client):
    assert client.get("/invitations/made-up-token/").status_code == 404


def test_a_weak_password_is_refused_and_nothing_is_created(org, api_as, django_capture_on_commit_callbacks):
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    response = Client().post(path, {"password": "short"})
    assert response.status_code == 200 and b"invitation-error" in response.content
    assert not Membership.objects.filter(user__email=NEW_EMAIL).exists()
    assert Invitation.objects.get(email=NEW_EMAIL).accepted_at is None


def test_an_existing_user_signed_in_accepts(org, other_org, api_as, django_capture_on_commit_callbacks):
    existing = make_member(other_org, Role.OWNER, email=NEW_EMAIL)
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    browser = Client()
    browser.force_login(existing.user)
    assert browser.post(path).status_code == 302
    assert Membership.objects.get(tenant=org, user=existing.user).role == Role.AGENT


def test_an_existing_user_must_sign_in_first(org, other_org, api_as, django_capture_on_commit_callbacks):
    existing = make_member(other_org, Role.OWNER, email=NEW_EMAIL)
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    response = Client().post(path, {"password": "taking-over-the-account-1"})
    assert b"Sign in as this user" in response.content
    existing.user.refresh_from_db()
    assert existing.user.check_password(PASSWORD)
    assert not Membership.objects.filter(tenant=org, user=existing.user).exists()


def test_someone_else_signed_in_cannot_accept(org, other_org, api_as, django_capture_on_commit_callbacks):
    stranger = make_member(other_org, Role.OWNER, email="stranger@example.test")
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    browser = Client()
    browser.force_login(stranger.user)
    response = browser.post(path)
    assert b"another address" in response.content
    assert not Membership.objects.filter(tenant=org, user=stranger.user).exists()


def test_invite_on_the_members_page(org, web_as, django_capture_on_commit_callbacks):
    client = web_as(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tenancy:invite"), {"email": NEW_EMAIL, "role": Role.AGENT})
    assert response.status_code == 302
    page = client.get(reverse("tenancy:members")).content.decode()
    assert "/invitations/" in page and NEW_EMAIL in page
    assert len(mail.outbox) == 1


def test_cannot_invite_above_own_role(org, api_as):
    response = invite(api_as(Role.ADMIN), role=Role.OWNER)
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_manager_cannot_invite(org, api_as):
    assert invite(api_as(Role.MANAGER)).status_code == 403


def test_invite_bad_input_is_422_and_creates_nothing(org, api_as):
    api = api_as(Role.OWNER)
    member = make_member(org, Role.AGENT)
    cases = [
        ({"email": "not-an-email", "role": "agent"}, "email"),
        ({"email": NEW_EMAIL, "role": "emperor"}, "role"),
        ({"email": member.user.email, "role": "agent"}, "email"),
        ({"role": "agent"}, "email"),
    ]
    for body, field in cases:
        response = api.post("/api/v1/invitations", body)
        assert response.status_code == 422, body
        assert field in response.json()["errors"], response.json()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_invitation_for_one_org_does_not_join_another(org, api_as, django_capture_on_commit_callbacks):
    third = make_org("Third")
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    Client().post(path, {"password": PASSWORD})
    assert not Membership.objects.filter(tenant=third).exists()


def test_accepting_emits_member_added(org, api_as, django_capture_on_commit_callbacks, monkeypatch):
    from octopushx.core import events
    from octopushx.core.models import Job

    monkeypatch.setitem(events.SUBSCRIBERS, "test.members", ("member.*", lambda event: None))
    path = emailed_path(django_capture_on_commit_callbacks, api_as(Role.ADMIN))
    Client().post(path, {"password": PASSWORD})
    membership = Membership.objects.get(tenant=org, user__email=NEW_EMAIL)
    delivered = [
        job.payload["event"]
        for job in Job.objects.filter(kind="event.deliver", tenant=org)
        if job.payload["subscriber"] == "test.members"
    ]
    mine = [e["name"] for e in delivered if e["payload"].get("membership_id") == str(membership.pk)]
    assert mine == ["member.added"]
