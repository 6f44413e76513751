"""Members and roles: list, change, remove; nobody grants above their role; an owner stays."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.urls import reverse

from octopushx.accounts import services as account_services
from octopushx.accounts.models import ApiToken
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role
from tests.conftest import make_member


def role_of(membership) -> str:
    return Membership.objects.get(pk=membership.pk).role


def test_members_list(org, api_as):
    api = api_as(Role.AUDITOR)
    agent = make_member(org, Role.AGENT)
    rows = api.get("/api/v1/members").json()
    assert {(r["email"], r["role"]) for r in rows} == {
        (api.membership.user.email, "auditor"),
        (agent.user.email, "agent"),
    }


def test_admin_changes_a_role_and_it_is_audited(org, api_as):
    api = api_as(Role.ADMIN)
    agent = make_member(org, Role.AGENT)
    response = api.patch(f"/api/v1/members/{agent.pk}", {"role": "manager"})
    assert response.status_code == 200 and response.json()["role"] == "manager"
    assert role_of(agent) == Role.MANAGER
    entry = AuditEntry.objects.get(tenant=org, action="member.role_changed")
    assert entry.object_id == str(agent.pk)
    assert entry.personal.changes == {"role": ["agent", "manager"]}
    assert entry.actor_user == api.membership.user and entry.actor_token == api.token


def test_admin_cannot_grant_owner(org, api_as):
    api = api_as(Role.ADMIN)
    agent = make_member(org, Role.AGENT)
    assert api.patch(f"/api/v1/members/{agent.pk}", {"role": "owner"}).status_code == 403
    assert role_of(agent) == Role.AGENT


def test_admin_cannot_demote_an_owner(org, api_as):
    api = api_as(Role.ADMIN)
    owner = make_member(org, Role.OWNER)
    make_member(org, Role.OWNER, email="second-owner@example.test")
    assert api.patch(f"/api/v1/members/{owner.pk}", {"role": "agent"}).status_code == 403
    assert api.delete(f"/api/v1/members/{owner.pk}").status_code == 403
    assert role_of(owner) == Role.OWNER


def test_owner_grants_owner(org, api_as):
    api = api_as(Role.OWNER)
    admin = make_member(org, Role.ADMIN)
    assert api.patch(f"/api/v1/members/{admin.pk}", {"role": "owner"}).status_code == 200
    assert role_of(admin) == Role.OWNER


def test_last_owner_cannot_be_demoted(org, api_as):
    api = api_as(Role.OWNER)
    response = api.patch(f"/api/v1/members/{api.membership.pk}", {"role": "admin"})
    assert response.status_code == 422 and "role" in response.json()["errors"]
    assert role_of(api.membership) == Role.OWNER


def test_last_owner_cannot_be_removed(org, api_as):
    api = api_as(Role.OWNER)
    assert api.delete(f"/api/v1/members/{api.membership.pk}").status_code == 422
    assert Membership.objects.filter(pk=api.membership.pk).exists()


def test_one_of_two_owners_can_step_down(org, api_as):
    api = api_as(Role.OWNER)
    make_member(org, Role.OWNER, email="second-owner@example.test")
    assert api.patch(f"/api/v1/members/{api.membership.pk}", {"role": "admin"}).status_code == 200


def test_removing_a_member_revokes_their_tokens_and_is_audited(org, api_as):
    api = api_as(Role.ADMIN)
    agent = make_member(org, Role.AGENT)
    token, _ = account_services.create_token(org, Actor.system("test"), agent.user, name="theirs")
    assert api.delete(f"/api/v1/members/{agent.pk}").status_code == 204
    assert not Membership.objects.filter(pk=agent.pk).exists()
    assert ApiToken.objects.get(pk=token.pk).state == "revoked"
    entry = AuditEntry.objects.get(tenant=org, action="member.removed")
    assert entry.personal.changes == {"email": [agent.user.email, None], "role": ["agent", None]}


def test_change_role_bad_input_is_422_and_changes_nothing(org, api_as):
    api = api_as(Role.OWNER)
    agent = make_member(org, Role.AGENT)
    for body in ({"role": "emperor"}, {}, {"role": None}, {"role": 3}):
        response = api.patch(f"/api/v1/members/{agent.pk}", body)
        assert response.status_code == 422, body
        assert "role" in response.json()["errors"]
    assert api.patch(f"/api/v1/members/{agent.pk}", "not json", content_type="application/json").status_code in (
        400,
        422,
    )
    assert role_of(agent) == Role.AGENT


def test_unknown_or_malformed_member_id(org, api_as):
    api = api_as(Role.OWNER)
    assert api.delete("/api/v1/members/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.delete("/api/v1/members/not-a-uuid").status_code in (404, 422)


def test_change_role_on_the_page(org, web_as):
    client = web_as(Role.ADMIN)
    agent = make_member(org, Role.AGENT)
    response = client.post(reverse("tenancy:change_role", args=[agent.pk]), {"role": "manager"})
    assert response.status_code == 302
    assert role_of(agent) == Role.MANAGER


def test_page_refusal_shows_a_message_and_changes_nothing(org, web_as):
    client = web_as(Role.ADMIN)
    agent = make_member(org, Role.AGENT)
    response = client.post(reverse("tenancy:change_role", args=[agent.pk]), {"role": "owner"})
    assert response.status_code == 302
    assert any("cannot" in str(m) for m in get_messages(response.wsgi_request))
    assert role_of(agent) == Role.AGENT


def test_remove_on_the_page(org, web_as):
    client = web_as(Role.ADMIN)
    agent = make_member(org, Role.AGENT)
    assert client.post(reverse("tenancy:remove_member", args=[agent.pk])).status_code == 302
    assert not Membership.objects.filter(pk=agent.pk).exists()


def test_members_page_shows_role_controls_to_admins_only(org, web_as, client):
    make_member(org, Role.AGENT)
    admin_page = web_as(Role.ADMIN).get(reverse("tenancy:members")).content.decode()
    assert "Send invitation" in admin_page and "/role/" in admin_page
    agent_page = web_as(Role.AUDITOR).get(reverse("tenancy:members")).content.decode()
    assert "Send invitation" not in agent_page and "/role/" not in agent_page
