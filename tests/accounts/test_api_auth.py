"""API authentication: ``Authorization: Bearer <token>``; the token's tenant scopes the call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from octopushx.accounts import services
from octopushx.accounts.models import ApiToken
from octopushx.core.context import Actor
from octopushx.tenancy import services as tenancy_services
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org


def me(client, authorization=None):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return client.get("/api/v1/me", **headers)


def test_me_returns_the_user_tenant_and_role(org, api_as):
    api = api_as(Role.MANAGER)
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == api.membership.user.email
    assert body["tenant"] == {"id": str(org.pk), "name": org.name, "kind": "customer"}
    assert body["role"] == "manager"
    assert body["token"] == "test"


def test_token_scopes_the_call_to_its_tenant(org, other_org):
    member = make_member(org, Role.AGENT, email="two-hats@example.test")
    make_member(other_org, Role.ADMIN, email="two-hats@example.test")
    _, secret = services.create_token(other_org, Actor.system("test"), member.user, name="other")
    from django.test import Client

    body = me(Client(), f"Bearer {secret}").json()
    assert body["tenant"]["id"] == str(other_org.pk) and body["role"] == "admin"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer nonsense",
        "Bearer opx_00000000_wrong",
        "Token abc",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_missing_or_wrong_token_gets_401(db, client, authorization):
    response = me(client, authorization)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Authentication required")
    assert response["WWW-Authenticate"] == "Bearer"


def test_right_prefix_wrong_secret_gets_401(org, api_as, client):
    api = api_as(Role.AGENT)
    assert me(client, f"Bearer opx_{api.token.prefix}_not-the-secret").status_code == 401


def test_expired_token_gets_401(org, api_as, client):
    api = api_as(Role.AGENT)
    ApiToken.objects.filter(pk=api.token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert me(client, f"Bearer {api.secret}").status_code == 401


def test_revoked_token_gets_401(org, api_as, client):
    api = api_as(Role.AGENT)
    services.revoke_token(api.token, Actor.system("test"))
    assert me(client, f"Bearer {api.secret}").status_code == 401


def test_token_of_a_removed_member_gets_401(org, api_as, client):
    api = api_as(Role.AGENT)
    owner = make_member(org, Role.OWNER)
    tenancy_services.remove_member(org, Actor(user=owner.user, role=Role.OWNER), api.membership)
    assert me(client, f"Bearer {api.secret}").status_code == 401


def test_token_whose_membership_vanished_gets_401(org, api_as, client):
    api = api_as(Role.AGENT)
    api.membership.delete()  # even without the service revoking the tokens
    assert me(client, f"Bearer {api.secret}").status_code == 401


def test_token_of_a_deactivated_user_gets_401(org, api_as, client):
    api = api_as(Role.AGENT)
    api.membership.user.is_active = False
    api.membership.user.save()
    assert me(client, f"Bearer {api.secret}").status_code == 401


def test_token_of_a_deleted_tenant_gets_401(db, client):
    tenant = make_org("Short-lived")
    api_member = make_member(tenant, Role.OWNER)
    _, secret = services.create_token(tenant, Actor.system("test"), api_member.user, name="t")
    tenancy_services.delete_tenant(tenant, Actor.system("test"))
    assert me(client, f"Bearer {secret}").status_code == 401


def test_signed_in_browser_reaches_the_api(org, web_as):
    client = web_as(Role.AGENT)
    response = client.get("/api/v1/me")
    assert response.status_code == 200 and response.json()["token"] is None
