"""Every change leaves an audit entry: actor, IP, user agent, action, object and changed fields."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from octopushx.core import audit, jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, ApiClient, make_member

IP = "198.51.100.23"
AGENT = "AuditTest/3.1"


def api_client(org, role=Role.OWNER) -> ApiClient:
    api = ApiClient(make_member(org, role))
    api.client = Client(
        HTTP_AUTHORIZATION=api.client.defaults["HTTP_AUTHORIZATION"], REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT
    )
    return api


def last(org, action) -> AuditEntry:
    return AuditEntry.objects.filter(tenant=org, action=action).select_related("personal").latest("seq")


def assert_from_api(entry, api):
    assert entry.actor_user == api.membership.user
    assert entry.actor_token == api.token
    assert entry.personal.ip == IP and entry.personal.user_agent == AGENT
    assert entry.personal.actor_label == f"{api.membership.user.email} (token test)"


def test_member_added_by_invitation_and_service(org):
    member = make_member(org, Role.AGENT)
    entry = last(org, "member.added")
    assert entry.object_type == "membership" and entry.object_id == str(member.pk)
    assert entry.personal.changes == {"email": [None, member.user.email], "role": [None, "agent"]}


def test_role_change_names_actor_ip_and_fields(org):
    api = api_client(org)
    agent = make_member(org, Role.AGENT)
    api.patch(f"/api/v1/members/{agent.pk}", {"role": "manager"})
    entry = last(org, "member.role_changed")
    assert_from_api(entry, api)
    assert entry.object_id == str(agent.pk) and entry.personal.changes == {"role": ["agent", "manager"]}


def test_member_removed(org):
    api = api_client(org)
    agent = make_member(org, Role.AGENT)
    api.delete(f"/api/v1/members/{agent.pk}")
    entry = last(org, "member.removed")
    assert_from_api(entry, api)
    assert entry.object_id == str(agent.pk)


def test_token_created_and_revoked(org):
    api = api_client(org)
    created = api.post("/api/v1/tokens", {"name": "deploy"}).json()
    entry = last(org, "token.created")
    assert_from_api(entry, api)
    assert entry.object_id == created["id"] and entry.personal.changes["name"] == [None, "deploy"]
    assert created["token"] not in audit.canonical(entry.personal.changes)
    api.delete(f"/api/v1/tokens/{created['id']}")
    assert last(org, "token.revoked").object_id == created["id"]


def test_settings_change(org):
    api = api_client(org)
    api.patch("/api/v1/organization", {"default_region": "FR"})
    entry = last(org, "organization.updated")
    assert_from_api(entry, api)
    assert entry.personal.changes == {"default_region": ["GB", "FR"]}


def test_invitation_created(org):
    api = api_client(org)
    invitation = api.post("/api/v1/invitations", {"email": "new@example.test", "role": "auditor"}).json()
    entry = last(org, "invitation.created")
    assert_from_api(entry, api)
    assert entry.object_id == invitation["id"]


def test_sign_in_and_failure_carry_ip_and_user_agent(org):
    member = make_member(org, Role.AGENT)
    browser = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)
    browser.post(reverse("accounts:login"), {"email": member.user.email, "password": "wrong-password-x"})
    jobs.drain()  # a failed sign-in is audited by a job (same answer time for unknown addresses)
    failed = last(org, "auth.sign_in_failed")
    assert (failed.personal.ip, failed.personal.user_agent) == (IP, AGENT)
    assert failed.actor_user is None and member.user.email in failed.personal.actor_label
    browser.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    signed_in = last(org, "auth.sign_in")
    assert signed_in.actor_user == member.user and signed_in.personal.ip == IP


def test_export_is_audited_with_its_filters(org):
    member = make_member(org, Role.AUDITOR)
    browser = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)
    browser.force_login(member.user)
    response = browser.get(reverse("shield:audit_csv"), {"action": "member."})
    b"".join(response.streaming_content)
    entry = last(org, "audit.exported")
    assert entry.actor_user == member.user and entry.personal.ip == IP
    assert entry.personal.changes == {"filters": [None, {"action": "member."}]}


def test_secrets_in_changes_are_masked(org):
    audit.record(
        org,
        Actor.system("test"),
        "integration.updated",
        changes={"api_key": ["old-key", "new-key"], "webhook_secret": "s3cr3t", "url": ["a", "b"]},
    )
    changes = last(org, "integration.updated").personal.changes
    assert changes == {"api_key": [audit.MASK, audit.MASK], "webhook_secret": audit.MASK, "url": ["a", "b"]}


def test_entries_chain_and_verify_after_a_day_of_changes(org):
    api = api_client(org)
    agent = make_member(org, Role.AGENT)
    api.patch(f"/api/v1/members/{agent.pk}", {"role": "manager"})
    api.post("/api/v1/tokens", {"name": "x"})
    result = audit.verify(org)
    assert result.ok and result.checked == AuditEntry.objects.filter(tenant=org).count()
