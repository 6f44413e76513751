"""Concurrent-session limit (oldest signed out) and seats checked against the subscription."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from octopushx.accounts.models import UserSession
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.seats import services
from octopushx.tenancy import services as tenancy_services
from octopushx.tenancy.models import Invitation, Membership
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.conftest import PASSWORD, ApiClient, make_member

SYSTEM = Actor.system("test")


def sign_in(email, ip="198.51.100.1"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


# --- sessions ------------------------------------------------------------------------------


def test_oldest_session_is_signed_out_beyond_the_limit(org):
    services.update_policy(org, SYSTEM, max_sessions_per_user=2)
    user = make_member(org, Role.AGENT).user
    first, second = sign_in(user.email), sign_in(user.email)
    third = sign_in(user.email)
    assert UserSession.objects.filter(user=user).count() == 2
    assert first.get("/").status_code == 302  # back to the sign-in page
    assert second.get("/").status_code == 200 and third.get("/").status_code == 200
    assert AuditEntry.objects.filter(tenant=org, action="session.evicted").exists()


def test_without_a_limit_sessions_are_kept(org):
    user = make_member(org, Role.AGENT).user
    clients = [sign_in(user.email) for _ in range(3)]
    assert all(c.get("/").status_code == 200 for c in clients)


def test_strictest_limit_of_the_users_organisations_applies(org, other_org):
    membership = make_member(org, Role.AGENT)
    Membership.objects.create(tenant=other_org, user=membership.user, role=Role.AGENT)
    services.update_policy(org, SYSTEM, max_sessions_per_user=3)
    services.update_policy(other_org, SYSTEM, max_sessions_per_user=1)
    first = sign_in(membership.user.email)
    sign_in(membership.user.email)
    assert first.get("/").status_code == 302
    assert Session.objects.filter(session_key__in=UserSession.objects.values("session_key")).count() == 1


def test_policy_api_changes_the_limit(api_as):
    api = api_as(Role.ADMIN)
    response = api.patch("/api/v1/security/policy", {"max_sessions_per_user": 3})
    assert response.status_code == 200 and response.json() == {"max_sessions_per_user": 3}
    assert api.get("/api/v1/security/policy").json()["max_sessions_per_user"] == 3
    assert api.patch("/api/v1/security/policy", {"max_sessions_per_user": None}).json() == {
        "max_sessions_per_user": None
    }


@pytest.mark.parametrize("value", [0, -1, 51])
def test_policy_api_rejects_out_of_range_limits(api_as, org, value):
    response = api_as(Role.ADMIN).patch("/api/v1/security/policy", {"max_sessions_per_user": value})
    assert response.status_code == 422 and "max_sessions_per_user" in response.json()["errors"]
    assert services.policy_of(org).max_sessions_per_user is None


def test_policy_api_needs_an_admin(api_as):
    assert api_as(Role.MANAGER).patch("/api/v1/security/policy", {"max_sessions_per_user": 2}).status_code == 403


def test_settings_page_saves_the_limit(web_as, org):
    client = web_as(Role.OWNER)
    assert client.get("/shield/settings/").status_code == 200
    client.post("/shield/settings/", {"max_sessions_per_user": "4"})
    assert services.policy_of(org).max_sessions_per_user == 4
    client.post("/shield/settings/", {"max_sessions_per_user": "many"})
    assert services.policy_of(org).max_sessions_per_user == 4
    client.post("/shield/settings/", {"max_sessions_per_user": ""})
    assert services.policy_of(org).max_sessions_per_user is None


def test_settings_page_is_for_admins(web_as):
    assert web_as(Role.AGENT).get("/shield/settings/").status_code == 403


# --- seats ---------------------------------------------------------------------------------


def test_adding_a_member_beyond_the_seats_is_refused(org):
    services.set_subscription(org, SYSTEM, plan="trial", seats=2)
    make_member(org, Role.AGENT)
    make_member(org, Role.MANAGER)
    with pytest.raises(Exception) as exc:
        make_member(org, Role.ADMIN)
    assert "seats" in exc.value.message_dict
    assert "All 2 seats" in exc.value.message_dict["seats"][0]
    assert Membership.objects.filter(tenant=org).count() == 2


def test_no_subscription_means_no_seat_limit(org):
    for role in (Role.AGENT, Role.MANAGER, Role.ADMIN, Role.OWNER, Role.AUDITOR):
        make_member(org, role)
    assert Membership.objects.filter(tenant=org).count() == 5


def test_open_invitations_hold_a_seat(org):
    admin = make_member(org, Role.ADMIN)
    services.set_subscription(org, SYSTEM, plan="trial", seats=2)
    actor = Actor(user=admin.user, role=Role.ADMIN)
    tenancy_services.invite(org, actor, email="new@example.test", role=Role.AGENT)
    with pytest.raises(Exception) as exc:
        tenancy_services.invite(org, actor, email="another@example.test", role=Role.AGENT)
    assert "seats" in exc.value.message_dict
    assert Invitation.objects.filter(tenant=org).count() == 1


def test_accepting_an_invitation_uses_the_seat_it_held(org):
    admin = make_member(org, Role.ADMIN)
    services.set_subscription(org, SYSTEM, plan="trial", seats=2)
    invitation, _link = tenancy_services.invite(
        org, Actor(user=admin.user, role=Role.ADMIN), email="new@example.test", role=Role.AGENT
    )
    membership = tenancy_services.accept_invitation(invitation, password=PASSWORD)
    assert membership.tenant == org and services.seat_summary(org)["used"] == 2


def test_members_page_shows_the_refusal(web_as, org):
    client = web_as(Role.ADMIN)
    services.set_subscription(org, SYSTEM, plan="trial", seats=1)
    response = client.post("/settings/members/invite/", {"email": "x@example.test", "role": "agent"}, follow=True)
    assert b"seats of the Trial plan are taken" in response.content


def test_api_invitation_beyond_seats_is_422(api_as, org):
    api = api_as(Role.ADMIN)
    services.set_subscription(org, SYSTEM, plan="trial", seats=1)
    response = api.post("/api/v1/invitations", {"email": "x@example.test", "role": "agent"})
    assert response.status_code == 422 and "seats" in response.json()["errors"]


def test_plan_seats_apply_without_an_override(org):
    subscription = services.set_subscription(org, SYSTEM, plan="team")
    assert subscription.seat_limit == 25
    assert services.set_subscription(org, SYSTEM, plan="enterprise").seat_limit is None


def test_seats_api_reports_usage(api_as, org):
    api = api_as(Role.AGENT)
    services.set_subscription(org, SYSTEM, plan="trial")
    assert api.get("/api/v1/subscription").json() == {"plan": "trial", "seats": 5, "used": 1, "available": 4}


def test_platform_staff_set_a_plan(org):
    staff = ApiClient(make_member(platform_org(), Role.ADMIN))
    response = staff.put(f"/api/v1/organizations/{org.pk}/subscription", {"plan": "business", "seats": 40})
    assert response.status_code == 200 and response.json()["seats"] == 40
    assert AuditEntry.objects.filter(tenant=org, action="subscription.changed").exists()


def test_setting_an_unknown_plan_is_422(org):
    staff = ApiClient(make_member(platform_org(), Role.ADMIN))
    response = staff.put(f"/api/v1/organizations/{org.pk}/subscription", {"plan": "gold"})
    assert response.status_code == 422 and "plan" in response.json()["errors"]
    assert services.subscription_of(org) is None


def test_customer_cannot_set_its_own_plan(api_as, org):
    response = api_as(Role.OWNER).put(f"/api/v1/organizations/{org.pk}/subscription", {"plan": "enterprise"})
    assert response.status_code == 404
