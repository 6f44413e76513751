"""Personal API tokens: named, shown once, hashed at rest, expiring, revocable, last use kept."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from octopushx.accounts import services
from octopushx.accounts.models import ApiToken
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.conftest import make_member


def bearer(client, secret, path="/api/v1/me"):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")


def all_text_in_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    return " ".join(str(value) for row in rows for value in row)


def test_token_created_on_the_page_is_shown_once(org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)
    response = client.post(reverse("accounts:tokens"), {"name": "CI", "expires_in_days": "30"}, follow=True)
    # Post/redirect/get: reloading the page must not create a second token.
    assert response.redirect_chain == [(reverse("accounts:tokens"), 302)]
    assert response.status_code == 200
    token = ApiToken.objects.get(user=member.user, name="CI")
    secret = response.context["created"]
    assert secret.startswith(f"opx_{token.prefix}_")
    assert secret.encode() in response.content
    assert secret.encode() not in client.get(reverse("accounts:tokens")).content
    assert token.expires_at - timezone.now() > timedelta(days=29)


def test_token_without_a_name_is_refused(org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)
    response = client.post(reverse("accounts:tokens"), {"name": "", "expires_in_days": "30"})
    assert response.status_code == 200 and b"field-error" in response.content
    assert not ApiToken.objects.filter(user=member.user).exists()


def test_token_is_hashed_at_rest(org):
    member = make_member(org, Role.AGENT)
    token, secret = services.create_token(org, Actor.system("test"), member.user, name="CI")
    stored = all_text_in_database()
    assert secret not in stored
    assert secret.split("_", 2)[2] not in stored
    assert len(token.secret_hash) == 64


def test_token_creation_is_audited_without_the_secret(org):
    member = make_member(org, Role.AGENT)
    token, secret = services.create_token(org, Actor(user=member.user), member.user, name="CI")
    entry = AuditEntry.objects.get(tenant=org, action="token.created")
    assert entry.object_id == str(token.pk) and entry.actor_user == member.user
    assert secret not in str(entry.personal.changes)


def test_api_creates_a_token_and_shows_it_once(org, api_as):
    api = api_as(Role.AGENT)
    response = api.post("/api/v1/tokens", {"name": "script"})
    assert response.status_code == 201
    secret = response.json()["token"]
    assert bearer(api.client, secret).status_code == 200
    listed = api.get("/api/v1/tokens").json()
    assert {t["name"] for t in listed} == {"test", "script"}
    assert all("token" not in t and "secret_hash" not in t for t in listed)


def test_api_refuses_a_past_expiry(org, api_as):
    api = api_as(Role.AGENT)
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = api.post("/api/v1/tokens", {"name": "old", "expires_at": past})
    assert response.status_code == 422
    assert "expires_at" in response.json()["errors"]
    assert not ApiToken.objects.filter(name="old").exists()


def test_api_accepts_an_expiry_without_a_timezone(org, api_as):
    api = api_as(Role.AGENT)
    future = (timezone.now() + timedelta(days=3)).replace(tzinfo=None).isoformat()
    response = api.post("/api/v1/tokens", {"name": "naive", "expires_at": future})
    assert response.status_code == 201
    assert ApiToken.objects.get(name="naive").expires_at > timezone.now()


def test_api_refuses_a_blank_name(org, api_as):
    response = api_as(Role.AGENT).post("/api/v1/tokens", {"name": "  "})
    assert response.status_code == 422 and "name" in response.json()["errors"]


def test_api_refuses_a_malformed_body(org, api_as):
    response = api_as(Role.AGENT).post("/api/v1/tokens", {"expires_at": "not a date"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) >= {"name", "expires_at"}


def test_expired_token_is_refused(org, client):
    member = make_member(org, Role.AGENT)
    token, secret = services.create_token(
        org,
        Actor.system("test"),
        member.user,
        name="CI",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer(client, secret).status_code == 401
    token.refresh_from_db()
    assert token.state == "expired"


def test_revoked_token_is_refused_and_revocation_audited(org, api_as):
    api = api_as(Role.AGENT)
    _other, secret = services.create_token(org, Actor.system("test"), api.membership.user, name="other")
    other = ApiToken.objects.get(name="other")
    assert api.delete(f"/api/v1/tokens/{other.pk}").status_code == 204
    assert bearer(api.client, secret).status_code == 401
    other.refresh_from_db()
    assert other.state == "revoked"
    assert AuditEntry.objects.filter(tenant=org, action="token.revoked", object_id=str(other.pk)).exists()


def test_revoke_on_the_page(org, client):
    member = make_member(org, Role.AGENT)
    token, secret = services.create_token(org, Actor.system("test"), member.user, name="CI")
    client.force_login(member.user)
    response = client.post(reverse("accounts:revoke_token", args=[token.pk]))
    assert response.status_code == 302
    assert bearer(Client(), secret).status_code == 401


def test_someone_elses_token_cannot_be_revoked(org, api_as):
    api = api_as(Role.ADMIN)
    other = make_member(org, Role.AGENT)
    token, secret = services.create_token(org, Actor.system("test"), other.user, name="theirs")
    assert api.delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    assert bearer(api.client, secret).status_code == 200


def test_last_used_time_is_kept(org, client):
    member = make_member(org, Role.AGENT)
    token, secret = services.create_token(org, Actor.system("test"), member.user, name="CI")
    assert token.last_used_at is None
    bearer(client, secret)
    token.refresh_from_db()
    assert token.last_used_at is not None
    first = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first)
    bearer(client, secret)
    token.refresh_from_db()
    assert token.last_used_at > first
