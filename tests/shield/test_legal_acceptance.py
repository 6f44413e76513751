"""Accepting the current terms and AUP (and, for owners, the DPA): who, which version, when, IP."""

from __future__ import annotations

import pytest
from django.test import Client

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.legal import services
from octopushx.shield.legal.models import Acceptance
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.conftest import make_member


def publish(kind, body="text"):
    return services.publish(platform_org(), Actor.system("test"), kind=kind, title=kind, body=body)


@pytest.fixture
def documents(db):
    return {kind: publish(kind) for kind in ("terms", "aup", "dpa")}


def signed_in(membership, ip="203.0.113.9"):
    client = Client(REMOTE_ADDR=ip)
    client.force_login(membership.user)
    return client


def test_nothing_to_accept_without_published_documents(org):
    assert signed_in(make_member(org, Role.AGENT)).get("/").status_code == 200


def test_first_sign_in_is_sent_to_the_accept_page(org, documents):
    response = signed_in(make_member(org, Role.AGENT)).get("/settings/members/")
    assert response.status_code == 302
    assert response["Location"] == "/legal/accept/?next=%2Fsettings%2Fmembers%2F"


def test_accepting_records_who_which_version_when_and_ip(org, documents):
    membership = make_member(org, Role.AGENT)
    client = signed_in(membership)
    page = client.get("/legal/accept/?next=/settings/members/")
    assert page.status_code == 200 and b"terms" in page.content and b"on behalf of" not in page.content
    ids = [str(documents["terms"].pk), str(documents["aup"].pk)]
    response = client.post("/legal/accept/", {"accept": ids, "next": "/settings/members/"})
    assert response.status_code == 302 and response["Location"] == "/settings/members/"
    rows = Acceptance.objects.filter(user=membership.user)
    assert {(a.kind, a.version, a.ip) for a in rows} == {("terms", 1, "203.0.113.9"), ("aup", 1, "203.0.113.9")}
    assert all(a.tenant_id == org.pk and a.created_at for a in rows)
    assert client.get("/settings/members/").status_code == 200
    assert AuditEntry.objects.filter(tenant=org, action="legal.accepted").count() == 2


def test_ticking_only_some_documents_records_nothing(org, documents):
    membership = make_member(org, Role.AGENT)
    client = signed_in(membership)
    response = client.post("/legal/accept/", {"accept": [str(documents["terms"].pk)]})
    assert response.status_code == 200 and b"Tick each document" in response.content
    assert not Acceptance.objects.filter(user=membership.user).exists()


def test_a_new_version_must_be_accepted_again(org, documents):
    membership = make_member(org, Role.AGENT)
    client = signed_in(membership)
    client.post("/legal/accept/", {"accept": [str(documents["terms"].pk), str(documents["aup"].pk)]})
    assert client.get("/").status_code == 200
    new_terms = publish("terms", "version two")
    assert client.get("/").status_code == 302
    assert [d.pk for d in services.pending_for(membership.user, org, Role.AGENT)] == [new_terms.pk]


def test_owner_also_accepts_the_dpa_for_the_organisation(org, documents):
    owner = make_member(org, Role.OWNER)
    pending = services.pending_for(owner.user, org, Role.OWNER)
    assert [d.kind for d in pending] == ["terms", "aup", "dpa"]
    client = signed_in(owner)
    assert b"on behalf of" in client.get("/legal/accept/").content
    client.post("/legal/accept/", {"accept": [str(d.pk) for d in pending]})
    assert Acceptance.objects.filter(tenant=org, kind="dpa", user=owner.user).exists()


def test_one_owners_dpa_acceptance_covers_the_organisation(org, documents):
    first = make_member(org, Role.OWNER)
    second = make_member(org, Role.OWNER, email="second-owner@example.test")
    services.accept(org, Actor(user=first.user, role=Role.OWNER), [documents["dpa"]])
    assert [d.kind for d in services.pending_for(second.user, org, Role.OWNER)] == ["terms", "aup"]


def test_dpa_is_per_organisation(org, other_org, documents):
    owner = make_member(org, Role.OWNER)
    Membership.objects.create(tenant=other_org, user=owner.user, role=Role.OWNER)
    services.accept(org, Actor(user=owner.user, role=Role.OWNER), list(documents.values()))
    assert [d.kind for d in services.pending_for(owner.user, other_org, Role.OWNER)] == ["dpa"]


def test_only_an_owner_accepts_the_dpa(org, documents):
    admin = make_member(org, Role.ADMIN)
    with pytest.raises(Exception, match="owner"):
        services.accept(org, Actor(user=admin.user, role=Role.ADMIN), [documents["dpa"]])
    assert not Acceptance.objects.exists()


def test_the_api_is_not_redirected(api_as, documents):
    assert api_as(Role.AGENT).get("/api/v1/me").status_code == 200


def test_public_legal_pages_stay_reachable(org, documents):
    client = signed_in(make_member(org, Role.AGENT))
    assert client.get("/legal/terms/").status_code == 200


def test_accepted_users_are_not_redirected_from_the_accept_page(org, documents):
    membership = make_member(org, Role.AGENT)
    services.accept(org, Actor(user=membership.user), [documents["terms"], documents["aup"]])
    response = signed_in(membership).get("/legal/accept/?next=/settings/")
    assert response.status_code == 302 and response["Location"] == "/settings/"


def test_accept_page_refuses_an_offsite_next(org, documents):
    membership = make_member(org, Role.AGENT)
    services.accept(org, Actor(user=membership.user), [documents["terms"], documents["aup"]])
    response = signed_in(membership).get("/legal/accept/?next=https://evil.example/")
    assert response["Location"] == "/"


def test_acceptances_listed_for_admins(org, documents):
    agent = make_member(org, Role.AGENT)
    services.accept(org, Actor(user=agent.user, ip="198.51.100.4"), [documents["terms"]])
    admin = make_member(org, Role.ADMIN)
    services.accept(org, Actor(user=admin.user), [documents["terms"], documents["aup"]])
    content = signed_in(admin).get("/shield/legal/").content
    assert agent.user.email.encode() in content and b"198.51.100.4" in content
