"""The tenant switcher: a user with several memberships works in one organisation at a time."""

from __future__ import annotations

import uuid

from django.urls import reverse

from octopushx.tenancy.middleware import SESSION_KEY
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org

EMAIL = "two-hats@example.test"


def two_hat_client(client, org, other_org):
    member = make_member(org, Role.AGENT, email=EMAIL)
    make_member(other_org, Role.ADMIN, email=EMAIL)
    client.force_login(member.user)
    return client


def current(client) -> dict:
    return client.get("/api/v1/me").json()


def test_switch_to_another_own_membership(org, other_org, client):
    two_hat_client(client, org, other_org)
    response = client.post(reverse("tenancy:switch"), {"tenant": str(other_org.pk)})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(other_org.pk)
    me = current(client)
    assert me["tenant"]["id"] == str(other_org.pk) and me["role"] == "admin"
    client.post(reverse("tenancy:switch"), {"tenant": str(org.pk)})
    me = current(client)
    assert me["tenant"]["id"] == str(org.pk) and me["role"] == "agent"


def test_switcher_lists_every_membership(org, other_org, client):
    two_hat_client(client, org, other_org)
    page = client.get("/").content.decode()
    assert "tenant-switch" in page and org.name in page and other_org.name in page


def test_switch_to_an_organisation_one_is_not_in_is_404(org, other_org, client):
    member = make_member(org, Role.OWNER)
    client.force_login(member.user)
    response = client.post(reverse("tenancy:switch"), {"tenant": str(other_org.pk)})
    assert response.status_code == 404
    assert current(client)["tenant"]["id"] == str(org.pk)


def test_switch_with_a_malformed_or_unknown_id_is_404(org, client):
    member = make_member(org, Role.OWNER)
    client.force_login(member.user)
    for value in ("", "not-a-uuid", str(uuid.uuid4())):
        assert client.post(reverse("tenancy:switch"), {"tenant": value}).status_code == 404


def test_switch_to_a_deleted_organisation_is_404(org, client):
    from octopushx.core.context import Actor
    from octopushx.tenancy import services

    gone = make_org("Gone")
    member = make_member(org, Role.AGENT, email=EMAIL)
    make_member(gone, Role.OWNER, email=EMAIL)
    services.delete_tenant(gone, Actor.system("test"))
    client.force_login(member.user)
    assert client.post(reverse("tenancy:switch"), {"tenant": str(gone.pk)}).status_code == 404


def test_switch_needs_post_and_sign_in(org, client):
    assert client.post(reverse("tenancy:switch"), {"tenant": str(org.pk)}).status_code == 302
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)
    assert client.get(reverse("tenancy:switch")).status_code == 405


def test_a_stale_session_tenant_falls_back_to_a_membership(org, other_org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)
    session = client.session
    session[SESSION_KEY] = str(other_org.pk)  # e.g. the membership was removed meanwhile
    session.save()
    assert current(client)["tenant"]["id"] == str(org.pk)
