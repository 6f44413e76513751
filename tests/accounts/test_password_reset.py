"""Password reset by email: ask, follow the emailed link, set a new password, sign in with it."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from octopushx.core import jobs
from octopushx.core.models import AuditEntry, Job
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, make_member

NEW_PASSWORD = "a-brand-new-passphrase-42"


def reset_link(client, email) -> str:
    response = client.post(reverse("accounts:password_reset"), {"email": email})
    assert response.status_code == 302
    jobs.drain()  # the email goes out from a job
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [email]
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_reset_email_link_sets_a_new_password(org, client):
    member = make_member(org, Role.AGENT)
    link = reset_link(client, member.user.email)
    form = client.get(link, follow=True)  # Django swaps the token for a session and redirects
    assert form.status_code == 200 and b"new_password1" in form.content
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_complete")
    member.user.refresh_from_db()
    assert member.user.check_password(NEW_PASSWORD)
    assert not member.user.check_password(PASSWORD)
    entry = AuditEntry.objects.get(tenant=org, action="auth.password_reset")
    assert entry.actor_user == member.user and entry.object_id == str(member.user.pk)
    signed_in = client.post(reverse("accounts:login"), {"email": member.user.email, "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_reset_link_works_once(org, client):
    member = make_member(org, Role.AGENT)
    link = reset_link(client, member.user.email)
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = client.get(link, follow=True)
    assert b"invalid or has already been used" in again.content


def test_reset_refuses_a_weak_password(org, client):
    member = make_member(org, Role.AGENT)
    link = reset_link(client, member.user.email)
    form = client.get(link, follow=True)
    response = client.post(form.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and b"field-error" in response.content
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)


def test_reset_for_an_unknown_email_sends_nothing_and_says_the_same(db, client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    jobs.drain()
    assert mail.outbox == []


def test_the_reset_page_only_queues_a_job_whatever_the_address(org, client):
    """Known or not, the page does the same work: it queues the email instead of sending it, so
    its answer time does not tell whether the address has an account."""
    member = make_member(org, Role.AGENT)
    for email in (member.user.email, "nobody@example.test"):
        response = client.post(reverse("accounts:password_reset"), {"email": email})
        assert response.status_code == 302
        assert mail.outbox == []
        job = Job.objects.filter(kind="accounts.password_reset_email").latest("created_at")
        assert job.payload == {"email": email, "base_url": "http://testserver"}
    jobs.drain()
    assert [m.to for m in mail.outbox] == [[member.user.email]]
    assert "http://testserver/accounts/password-reset/" in mail.outbox[0].body  # the address the request came to
    # Once sent, the queue keeps no trace of who asked.
    assert [j.payload for j in Job.objects.filter(kind="accounts.password_reset_email")] == [{}, {}]


def test_tampered_reset_link_is_invalid(org, client):
    member = make_member(org, Role.AGENT)
    link = reset_link(client, member.user.email)
    response = client.get(link[:-3] + "zzz/", follow=True)
    assert b"invalid or has already been used" in response.content


def test_reset_signs_out_other_browsers(org, client):
    from django.test import Client

    member = make_member(org, Role.AGENT)
    elsewhere = Client()
    elsewhere.force_login(member.user)
    link = reset_link(client, member.user.email)
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert elsewhere.get("/").status_code == 302


def test_a_first_owner_created_without_a_password_sets_one_by_reset(db, client):
    from octopushx.core.context import Actor
    from octopushx.tenancy import services as tenancy_services

    org = tenancy_services.create_organization(Actor.system("test"), name="Fresh", admin_email="first@example.test")
    owner = org.memberships.get().user
    assert not owner.has_usable_password()
    link = reset_link(client, "first@example.test")
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_a_deactivated_account_gets_no_reset_email(org, client):
    member = make_member(org, Role.AGENT)
    member.user.is_active = False
    member.user.save()
    client.post(reverse("accounts:password_reset"), {"email": member.user.email})
    jobs.drain()
    assert mail.outbox == []
