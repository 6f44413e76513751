"""``Idempotency-Key`` belongs to the caller (member, and token when one is used), not the tenant."""

from __future__ import annotations

from django.test import Client

from octopushx.accounts import services as account_services
from octopushx.core.context import Actor
from octopushx.crm.models import Contact, IdempotencyKey
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member

KEY = {"HTTP_IDEMPOTENCY_KEY": "order-1"}


def test_another_member_replaying_a_key_gets_their_own_request_not_the_first_response(api_as, org):
    first = api_as(Role.ADMIN).post("/api/v1/contacts", {"first_name": "Alice"}, **KEY)
    other = api_as(Role.AGENT).post("/api/v1/contacts", {"first_name": "Alice"}, **KEY)
    assert first.status_code == other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    assert Contact.objects.for_tenant(org).count() == 2


def test_a_replayed_key_never_answers_with_a_record_the_caller_cannot_see(api_as, org):
    api_as(Role.ADMIN).post("/api/v1/contacts", {"first_name": "Private"}, **KEY)
    agent = api_as(Role.AGENT)
    answer = agent.post("/api/v1/contacts", {"first_name": "Private"}, **KEY)
    assert answer.status_code == 201
    assert agent.get(f"/api/v1/contacts/{answer.json()['id']}").status_code == 200


def test_the_same_token_replaying_gets_the_first_response(api_as, org):
    api = api_as(Role.ADMIN)
    first = api.post("/api/v1/contacts", {"first_name": "Once"}, **KEY)
    again = api.post("/api/v1/contacts", {"first_name": "Once"}, **KEY)
    assert again.status_code == 201 and again.json() == first.json()
    assert Contact.objects.for_tenant(org).count() == 1


def test_two_tokens_of_one_member_keep_separate_keys(org):
    member = make_member(org, Role.ADMIN)
    one = ApiClient(member)
    _, secret = account_services.create_token(org, Actor.system("test"), member.user, name="second")
    two = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    a = one.post("/api/v1/contacts", {"first_name": "A"}, **KEY)
    b = two.post("/api/v1/contacts", {"first_name": "A"}, content_type="application/json", **KEY)
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


def test_the_browser_session_has_its_own_scope(org, api_as, client):
    member = make_member(org, Role.ADMIN, email="browser-admin@example.test")
    client.force_login(member.user)
    api_as(Role.ADMIN).post("/api/v1/contacts", {"first_name": "A"}, **KEY)
    first = client.post("/api/v1/contacts", {"first_name": "A"}, content_type="application/json", **KEY)
    again = client.post("/api/v1/contacts", {"first_name": "A"}, content_type="application/json", **KEY)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert IdempotencyKey.objects.filter(key="order-1").count() == 2
