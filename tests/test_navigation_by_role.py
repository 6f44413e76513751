"""Every role sees in the navigation exactly what it may open, and Home offers only what it can do.

The walk starts at Home, follows every link of the main navigation and of each product's tabs, and
expects each to open (200); the pages a role's navigation leaves out answer it 403.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from octopushx.core.context import Actor
from octopushx.shield.privacy import services as privacy
from octopushx.shield.privacy.models import RequestSource
from octopushx.tenancy.roles import Role
from tests.conftest import make_member

NAV = re.compile(r"<nav[^>]*(?:sidenav|subnav)[^>]*>(.*?)</nav>", re.S)
HREF = re.compile(r'href="(/[^"#?]*)"')
SECTIONS = ["/", "/crm/", "/calls/", "/shield/audit/", "/settings/"]


def _nav_links(html: str) -> set[str]:
    return {href for block in NAV.findall(html) for href in HREF.findall(block)}


def _signed_in(org, role) -> Client:
    client = Client()
    client.force_login(make_member(org, role).user)
    return client


@pytest.mark.parametrize("role", list(Role))
def test_every_navigation_link_opens_for_the_role(org, role):
    client = _signed_in(org, role)
    seen, links = set(), set()
    for section in SECTIONS:
        response = client.get(section, follow=True)
        if response.status_code == 200:
            links |= _nav_links(response.content.decode())
    assert links, "no navigation found"
    for link in sorted(links - seen):
        response = client.get(link, follow=True)
        assert response.status_code == 200, f"{role} sees {link} in the navigation but gets {response.status_code}"


@pytest.mark.parametrize(
    ("role", "shown"),
    [(Role.OWNER, True), (Role.ADMIN, True), (Role.AUDITOR, True), (Role.MANAGER, False), (Role.AGENT, False)],
)
def test_privacy_requests_in_the_navigation_of_those_who_may_read_them(org, role, shown):
    html = _signed_in(org, role).get("/shield/audit/", follow=True).content.decode()
    assert ("/shield/privacy/" in "".join(NAV.findall(html))) is shown


def test_auditor_reads_privacy_requests_but_cannot_act(org):
    received = privacy.receive(
        org, Actor.system("test"), kind="erasure", source=RequestSource.STAFF, email="grace@example.test"
    )
    client = _signed_in(org, Role.AUDITOR)
    queue = client.get("/shield/privacy/")
    assert queue.status_code == 200 and "Record a request received another way" not in queue.content.decode()
    page = client.get(f"/shield/privacy/{received.pk}/")
    assert page.status_code == 200
    assert "Attest identity" not in page.content.decode() and "owners and admins act on them" in page.content.decode()
    assert client.post("/shield/privacy/", {"kind": "access", "email": "x@example.test"}).status_code == 403
    assert client.post(f"/shield/privacy/{received.pk}/verify/", {"reason": "seen id"}).status_code == 403
    received.refresh_from_db()
    assert received.state == "received"


def test_auditor_reads_privacy_requests_through_the_api(org, api_as):
    received = privacy.receive(
        org, Actor.system("test"), kind="access", source=RequestSource.STAFF, email="grace@example.test"
    )
    api = api_as(Role.AUDITOR)
    assert api.get("/api/v1/privacy/requests").status_code == 200
    assert api.get(f"/api/v1/privacy/requests/{received.pk}").status_code == 200
    assert api.get(f"/api/v1/privacy/requests/{received.pk}/preview").status_code == 200
    assert api.post(f"/api/v1/privacy/requests/{received.pk}/verify", {"reason": "seen id"}).status_code == 403
    assert api_as(Role.AGENT).get("/api/v1/privacy/requests").status_code == 403


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_home_offers_no_set_up_the_role_cannot_do(org, role):
    html = _signed_in(org, role).get("/").content.decode()
    assert "Connect your phone system" not in html
